// Smoke test of the benchmark harness (npm run bench): a quick run on tiny shapes must produce a well-formed
// result object and tables. No timing assertions: the figures depend on the machine and its load.

import { describe, expect, it } from 'vitest';
// plain ESM JS, run as is by `node bench/run.js`
import { runBench } from '../bench/bench.js';
import { markdown } from '../bench/report.js';

const positive = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x > 0;

describe('npm run bench (quick harness, tiny shapes)', () => {
  it('produces a well-formed result object', async () => {
    const gemm = (M: number, N: number, K: number, ta: number, tb: number, trans: string) =>
      ({ id: `${M}x${N}x${K} ${trans}`, origin: 'test', M, N, K, ta, tb, trans, flops: 2 * M * N * K });
    const engines = ['wasm-simd', 'js', 'tfjs-cpu'];
    const r = await runBench({
      quick: true,
      relaxed: true, // in this process when it runs relaxed SIMD (vitest passes the flag), else in a flagged child
      engines,
      harness: { warmupMs: 1, warmupCalls: 1, sampleMs: 1, rounds: 2, maxMs: 5 },
      shapes: [gemm(16, 24, 8, 0, 0, 'NN'), gemm(16, 24, 8, 1, 1, 'TT')],
      elementwise: [{ name: 'relu_forward', rows: 4, cols: 16, n: 64, bytes: 2 * 4 * 64 }],
      steps: [{ name: 'tiny 784-8-784', hidden: [8], batchSize: 4, loss: 'bce', optimizer: 'adam' }],
      log: () => {},
    });

    expect(r.schema).toBe('simdnet-bench/1');
    expect(typeof r.machine.cpu).toBe('string');
    expect(r.runtime.node).toBe(process.version);
    expect(r.packages['@tensorflow/tfjs-core']).toMatch(/^\d+\.\d+\.\d+/);
    expect(positive(r.limit.simd.gflops)).toBe(true);

    expect(r.gemm.map((g: { trans: string }) => g.trans)).toEqual(['NN', 'TT']);
    for (const g of r.gemm) for (const id of engines) expect(positive(g.gflops[id]), `${g.id} ${id}`).toBe(true);
    expect(Object.keys(r.elementwise[0].gbps).sort()).toEqual([...engines, 'wasm-relaxed'].sort());
    for (const id of engines) expect(positive(r.elementwise[0].gbps[id])).toBe(true);

    const step = r.steps[0];
    for (const id of engines) expect(positive(step.samplesPerSec[id])).toBe(true);
    // same weights and batch on every engine: the same first loss
    const losses = Object.values(step.firstLoss) as number[];
    for (const l of losses) expect(l).toBeCloseTo(losses[0], 4);

    // relaxed SIMD beside SIMD in its own process, merged into the same entries
    expect(r.processes.relaxed?.error).toBeUndefined();
    for (const g of r.gemm) expect(positive(g.gflops['wasm-relaxed'])).toBe(true);
    expect(positive(r.limit.relaxed.gflops)).toBe(true);
    expect(positive(r.summary.relaxedOverSimd.gemm.all)).toBe(true);
    expect(positive(r.summary.fractionOfLimit.relaxed.all)).toBe(true);

    expect(positive(r.summary.wasmOverJs.gemm.all)).toBe(true);
    expect(positive(r.summary.fractionOfLimit.simd.NN)).toBe(true);
    expect(JSON.parse(JSON.stringify(r)).gemm.length).toBe(2);
    expect(markdown(r)).toContain('| M×N×K |');
  }, 20_000);
});
