// Per-kernel suites: GEMM (GFLOP/s, own harness: calls of 0.1–2000 ms) and the elementwise kernels
// (GB/s, benny: sub-millisecond calls are what benchmark.js is made for).

import b from 'benny';
import { measureMany } from './harness.js';

const TRANS = ['NN', 'TN', 'NT', 'TT'];
const tcase = (ta, tb) => TRANS[ta + 2 * tb];

/** C(M,N) = op(A)(M,K)·op(B)(K,N): one shape, named after the layer it comes from. */
export function shape(origin, M, N, K, ta = 0, tb = 0) {
  return { id: `${M}x${N}x${K} ${tcase(ta, tb)}`, origin, M, N, K, ta, tb, trans: tcase(ta, tb), flops: 2 * M * N * K };
}

/** A dense layer x(B,IN)·W(IN,OUT): its forward, dW = xᵀ·dz (TN) and dx = dz·Wᵀ (NT). */
function layerShapes(name, B, IN, OUT) {
  return [
    shape(`${name} forward x·W`, B, OUT, IN),
    shape(`${name} dW = xᵀ·dz`, IN, OUT, B, 1, 0),
    shape(`${name} dx = dz·Wᵀ`, B, IN, OUT, 0, 1),
  ];
}

export function gemmShapes({ quick = false } = {}) {
  const square = (n) => [0, 1].flatMap((tb) => [0, 1].map((ta) => shape(`${n}³`, n, n, n, ta, tb)));
  return [
    ...layerShapes('ref 784→128 (B 64)', 64, 784, 128),
    ...layerShapes('ref 128→784 (B 64)', 64, 128, 784),
    ...layerShapes('deep 784→256 (B 128)', 128, 784, 256),
    ...layerShapes('deep 256→784 (B 128)', 128, 256, 784),
    ...square(256),
    ...(quick ? [] : [...square(512), ...square(1024)]),
  ];
}

/** Elementwise kernels: bytes moved per call (f32 arrays read + written) for GB/s. */
export function elementwiseKernels() {
  const act = (name, arrays) => ({ name, rows: 64, cols: 784, n: 64 * 784, bytes: arrays * 4 * 64 * 784 });
  return [
    act('relu_forward', 2), act('relu_backward', 3),
    act('sigmoid_forward', 2), act('sigmoid_backward', 3),
    act('tanh_forward', 2), act('tanh_backward', 3),
    act('softmax_forward', 2), act('softmax_backward', 3),
    // w, m, v, g read; w, m, v written
    { name: 'adam_update', rows: 1, cols: 100_000, n: 100_000, bytes: 7 * 4 * 100_000 },
  ];
}

/** Slow engines (scalar, js, tfjs-cpu: ~1–7 GFLOP/s) skip 1024³: seconds per call, and 512³ tells the same. */
function skip(engine, s) {
  return engine.slow && s.flops > 1e9;
}

/**
 * Every GEMM shape on every engine, timed round-robin together with the limit loop(s), so each shape's
 * fraction of the ceiling compares figures taken in the same seconds, under the same load.
 */
export function runGemm(engines, shapes, limits, opts, log) {
  const out = [];
  for (const s of shapes) {
    const fns = {};
    const preps = [];
    for (const [k, l] of Object.entries(limits)) fns[`limit:${k}`] = l.run;
    for (const e of engines) {
      if (skip(e.meta, s)) continue;
      const g = e.gemm(s);
      preps.push(g);
      fns[e.id] = g.run;
    }
    const r = measureMany(fns, opts);
    preps.forEach((g) => g.dispose());
    const gflops = {};
    const limit = {};
    const perRound = {}; // seconds per call, round by round (for ratios paired by round, see report.js)
    for (const [k, v] of Object.entries(r)) {
      if (k.startsWith('limit:')) limit[k.slice(6)] = limits[k.slice(6)].flops / v.seconds / 1e9;
      else gflops[k] = s.flops / v.seconds / 1e9;
      perRound[k] = v.perRound;
    }
    const limitFlops = Object.fromEntries(Object.entries(limits).map(([k, l]) => [k, l.flops]));
    out.push({ ...s, gflops, limit, limitFlops, perRound });
    log(`gemm ${s.id.padEnd(18)} ${fmtRow(gflops)}  | limit ${fmtRow(limit)}`);
  }
  return out;
}

/** Each elementwise kernel as a benny suite with one case per engine. */
export async function runElementwise(engines, kernels, { quick }, log) {
  const cases = quick ? { minSamples: 2, maxTime: 0.05, delay: 0 } : { minSamples: 5, maxTime: 0.25, delay: 0 };
  const out = [];
  engines = engines.filter((e) => !e.meta.noElementwise);
  for (const kdef of kernels) {
    const preps = engines.map((e) => e.elementwise(kdef));
    const logFn = console.log;
    console.log = () => {}; // benny's "Running suite" line; we print our own
    let summary;
    try {
      summary = await b.suite(`${kdef.name} n=${kdef.n}`, b.configure({ cases }),
        ...engines.map((e, i) => b.add(e.id, () => preps[i].run)));
    } finally {
      console.log = logFn;
      preps.forEach((p) => p.dispose());
    }
    const gbps = {};
    for (const r of summary.results) gbps[r.name] = (r.ops * kdef.bytes) / 1e9;
    out.push({ ...kdef, gbps });
    log(`${kdef.name.padEnd(24)} ${fmtRow(gbps)}`);
  }
  return out;
}

function fmtRow(obj) {
  return Object.entries(obj).map(([k, v]) => `${k} ${v.toFixed(2)}`).join('  ');
}
