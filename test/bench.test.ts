// Smoke test of the benchmark harness (npm run bench): a quick run on tiny shapes must produce a well-formed
// result object and tables — the engine tables, thread scaling (a tiny conv step too), the reference epoch (a few
// hundred digits, no peers: numpy and tfjs fit take seconds), the conv epoch (64 digits of a tiny conv net beside
// PyTorch and tfjs-cpu on 4) and the noise kernel. No timing assertions: the figures depend on the
// machine and its load.

import { describe, expect, it } from 'vitest';
// plain ESM JS, run as is by `node bench/run.js`
import { runBench } from '../bench/bench.js';
import { layer as convLayer } from '../bench/conv.js';
import { convEpochBench } from '../bench/conv-epoch.js';
import { torchUnavailable } from '../bench/conv-peers.js';
import { convEpochTable, markdown } from '../bench/report.js';
import { convAutoencoderSpec } from '../src/models.js';

const positive = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x > 0;
const TINY_CONV = convAutoencoderSpec({ channels: [4] });

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
      // 1 and 2 threads whatever the machine; 64×128×784 is big enough to be split across them
      scaling: {
        threads: [1, 2],
        shapes: [gemm(64, 128, 784, 0, 0, 'NN')],
        steps: [{ name: 'tiny 784-8-784 b64', hidden: [8], batchSize: 64, loss: 'bce', optimizer: 'adam' }, { name: 'tiny conv 1-4-1 b8', spec: TINY_CONV, batchSize: 8, loss: 'bce', optimizer: 'adam' }],
      },
      noise: { rows: 256, kinds: ['gaussian', 'mask'] },
      conv: { threads: [1, 2], batch: 2, layers: [convLayer('conv 3→8 3×3 12×10', 3, 12, 10, 8, 3, 1, 1), convLayer('convT 8→3 3×3 s2 6×5', 8, 6, 5, 3, 3, 2, 1, true, 1)] },
      epoch: { rows: 256, rounds: 1, numpy: false, tfjsEpochs: 0, threads: [1, 2] },
      // 64 digits of a 1-4-1 conv net: simdnet at 1 and 2 threads, PyTorch (one Python start-up), tfjs-cpu on 4 digits
      convEpoch: { samples: 64, rounds: 1, threads: [1, 2], tfjsSamples: 4, models: [{ name: 'tiny conv 1-4-1', spec: TINY_CONV, batchSize: 32, tfjs: true }] },
      inference: { rows: [1, 8], widths: [16], threads: 2, rounds: 2, calls: () => 2 },
      log: () => {},
    });

    expect(r.schema).toBe('simdnet-bench/2');
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
    // thread scaling: the SIMD build here, the relaxed build in its process; speedups over 1 thread, 1 at 1
    expect(r.threadScaling.map((b: { build: string }) => b.build)).toEqual(['simd', 'relaxed-simd']);
    for (const b of r.threadScaling) {
      expect(b.threads).toEqual([1, 2]);
      expect(b.actualThreads[2]).toBe(2);
      for (const e of [...b.gemm, ...b.steps]) {
        expect(e.speedup[1]).toBe(1);
        expect(positive(e.speedup[2])).toBe(true);
      }
      for (const g of b.gemm) for (const t of [1, 2]) expect(positive(g.gflops[t])).toBe(true);
      // bit-identical kernels: the same first loss at 1 and 2 threads (the conv step's too)
      for (const st of b.steps) expect(st.firstLoss[2]).toBe(st.firstLoss[1]);
      expect(b.steps.map((st: { name: string }) => st.name)).toEqual(['tiny 784-8-784 b64', 'tiny conv 1-4-1 b8']);
      for (const st of b.steps) expect(st.efficiency[2]).toBeCloseTo(st.speedup[2] / 2, 12);
    }
    expect(positive(r.summary.threadSpeedup.simd.steps['tiny 784-8-784 b64'][2])).toBe(true);

    // the conv kernels beside the square GEMM, in each process: every pass at 1 and 2 threads
    expect(r.conv.map((c: { variant: string }) => c.variant)).toEqual(['simd', 'relaxed-simd']);
    for (const c of r.conv) {
      expect(c.rows.length).toBe(2 * 3 * 2);
      for (const row of c.rows) expect(positive(row.gflops) && positive(row.vsGemm) && positive(row.speedup), `${row.layer} ${row.pass} ×${row.threads}`).toBe(true);
    }

    // the epoch table: fit at 1 and 2 threads beside its steps alone, no peers
    const ep = r.epoch;
    expect(ep.error).toBeUndefined();
    expect(ep.rows).toBe(256);
    expect(ep.steps).toBe(4);
    for (const t of [1, 2]) {
      expect(ep.simdnet[t].epochSeconds).toHaveLength(2);
      expect(positive(ep.simdnet[t].medianAfterFirst)).toBe(true);
      expect(positive(ep.simdnet[t].fitOverSteps)).toBe(true);
      for (const l of ep.simdnet[t].trainLoss) expect(positive(l)).toBe(true);
    }
    expect(positive(ep.ratios.threads)).toBe(true);
    expect(ep.numpy).toBeNull();
    expect(ep.tfjs).toBeNull();

    // the conv epoch: on the build the reference epoch ran, simdnet at 1 and 2 threads beside PyTorch and tfjs-cpu
    const ce = r.convEpoch;
    expect(ce.error).toBeUndefined();
    expect(ce.build).toBe(ep.build);
    expect(ce.samples).toBe(64);
    const m = ce.models[0];
    for (const t of [1, 2]) expect(positive(m.median.simdnet[t]), `simdnet ×${t}`).toBe(true);
    expect(positive(m.threadSpeedup)).toBe(true);
    if (await torchUnavailable()) {
      expect(ce.notes.join(' ')).toMatch(/no PyTorch peer/);
      expect(m.overTorch).toBeNull();
    } else {
      expect(m.torch).toMatch(/^\d+\.\d+/);
      for (const t of [1, 2]) expect(positive(m.median.torch[t]) && positive(m.overTorch[t]), `PyTorch ×${t}`).toBe(true);
    }
    expect(m.tfjs.samples).toBe(4);
    expect(positive(m.tfjs.samplesPerSecond) && positive(m.tfjs.overTfjs)).toBe(true);

    // the noise kernel at 1 and 2 threads beside applyNoise, on both builds
    expect(r.noise.map((n: { kind: string; build: string }) => `${n.kind} ${n.build}`)).toEqual(['gaussian simd', 'mask simd', 'gaussian relaxed-simd', 'mask relaxed-simd']);
    for (const n of r.noise) {
      for (const k of ['wasm×1', 'wasm×2', 'applyNoise']) expect(positive(n.valuesPerSec[k]), `${n.kind} ${k}`).toBe(true);
      expect(positive(n.ratios['wasm×2/wasm×1'])).toBe(true);
    }

    // inference: predict beside both onnxruntimes on 784-16-784, and beside its GEMMs at the largest row count
    const inf = r.inference;
    expect(inf.error).toBeUndefined();
    expect(inf.notes).toEqual([]);
    expect(inf.cases.map((c: { model: string; rows: number }) => `${c.model} ${c.rows}`)).toEqual(['784-16-784 1', '784-16-784 8']);
    for (const c of inf.cases) {
      for (const e of ['simdnet', 'onnxruntime-web', 'onnxruntime-node']) expect(positive(c.us[e]), `${c.rows} rows ${e}`).toBe(true);
      expect(positive(c.overOrtWeb)).toBe(true);
      // the same model in three engines: the same outputs within float32 rounding
      for (const d of Object.values(c.maxAbsDiff) as number[]) expect(d).toBeLessThan(1e-5);
    }
    expect(inf.cases[0].ofGemm).toBeNull();
    expect(positive(inf.cases[1].ofGemm)).toBe(true);

    expect(JSON.parse(JSON.stringify(r)).gemm.length).toBe(2);
    const md = markdown(r);
    expect(md).toContain('| M×N×K |');
    expect(md).toContain('**Thread scaling**');
    expect(md).toContain('**Reference epoch**');
    expect(md).toContain('**Noise**');
    expect(md).toContain('**Inference**');
    expect(md).toContain('**Conv training epoch**');
    expect(md).toContain(`| tiny conv 1-4-1 | 32 |`);
    expect(md).toContain(`(${{ simd: 'SIMD', 'relaxed-simd': 'relaxed-SIMD' }[ce.build as string]} build`);
    expect(md).toMatch(/\| step tiny conv 1-4-1 b8 \| samples\/s \|/);
  }, 120_000);

  it('the conv epoch without PyTorch: the table says so instead of failing', async () => {
    const r = await convEpochBench({ samples: 32, rounds: 1, threads: [1], tfjsSamples: 0, python: '/nonexistent/python3', models: [{ name: 'tiny conv 1-4-1', spec: TINY_CONV, batchSize: 16 }] });
    expect(r.notes).toEqual([expect.stringMatching(/^no PyTorch peer: \/nonexistent\/python3 cannot import torch/)]);
    expect(r.models[0].overTorch).toBeNull();
    expect(positive(r.models[0].median.simdnet[1])).toBe(true);
    const md = convEpochTable(r).join('\n');
    expect(md).toMatch(/\| tiny conv 1-4-1 \| 16 \| [\d.]+ \| [\d.]+ s \| 1\.00× \| – \| – \| – \| – \|/);
    expect(md).toContain('no PyTorch peer: /nonexistent/python3 cannot import torch');
  }, 30_000);
});
