// One process's share of the benchmark: the limit loop, GEMM, elementwise kernels and training steps on the
// engines it can run. run.js calls it in-process (stock Node: SIMD, scalar, js, tfjs) and in a child with
// --experimental-wasm-relaxed-simd (relaxed-SIMD beside SIMD, so their ratio comes from one process). The engine
// tables run simdnet on one thread; then the thread-scaling and noise-kernel suites run one build (SIMD here,
// relaxed in the child) at 1 … every core.

import { FULL, QUICK, measureMany, median } from './harness.js';
import { createEngine } from './engines.js';
import { elementwiseKernels, gemmShapes, runElementwise, runGemm } from './kernels.js';
import { buildLimit, loadLimit } from './limit.js';
import { STEP_CASES, runSteps } from './steps.js';
import { runScaling, scalingEngines } from './scaling.js';
import { runNoise } from './noise.js';
import { runConv } from './conv.js';

/** Scaling and noise take more rounds than the engine tables: their ratios are the figures that matter. */
const SCALING_FULL = { ...FULL, rounds: 11, maxMs: 2500 };

/**
 * @param {object} o
 * @param {string[]} o.engines      engine ids (engines.js ENGINES)
 * @param {string[]} [o.limits]     limit builds to measure: 'simd', 'relaxed'
 * @param {boolean} [o.quick]
 * @param {object[]} [o.shapes]     GEMM shapes (default: gemmShapes({quick}))
 * @param {object[]} [o.elementwise] elementwise kernels (default: all); [] to skip
 * @param {object[]} [o.steps]      training-step cases (default: both models); [] to skip
 * @param {object|false} [o.scaling] thread scaling: { variant (wasm build, default simd), threads (counts, default
 *   1 … every core), shapes, steps } (scaling.js); false to skip
 * @param {object|false} [o.noise]  the noise kernel on the scaling backends: { rows, kinds } (noise.js); false to skip
 * @param {object|false} [o.conv]   the conv kernels at the denoiser's shapes beside the square GEMM, 1 and 2 threads, on
 *   the scaling build: { threads, layers, batch } (conv.js); false to skip
 * @param {(line: string) => void} [o.log]
 */
export async function runSuite(o) {
  const quick = !!o.quick;
  const opts = o.harness ?? (quick ? QUICK : FULL);
  const log = o.log ?? (() => {});
  const engines = [];
  for (const id of o.engines) engines.push(await createEngine(id));

  await buildLimit();
  const limits = {};
  for (const t of o.limits ?? ['simd']) {
    const f = await loadLimit(t);
    if (f) limits[t] = f;
  }

  const t0 = performance.now();
  const phases = {};
  const timed = async (name, f) => {
    const t = performance.now();
    const r = await f();
    phases[name] = (performance.now() - t) / 1000;
    return r;
  };
  const gemm = await timed('gemm', () => runGemm(engines, o.shapes ?? gemmShapes({ quick }), limits, opts, log));
  const elementwise = await timed('elementwise', () => runElementwise(engines, o.elementwise ?? elementwiseKernels(), { quick }, log));
  const steps = await timed('steps', () => runSteps(engines, o.steps ?? STEP_CASES, opts, log));
  for (const e of engines) e.dispose();
  let threads = null, noise = [], conv = null;
  if (o.scaling !== false || o.noise !== false) {
    const sc = o.scaling || {};
    const set = await scalingEngines(sc.variant ?? 'simd', sc.threads);
    const sopts = o.harness ?? (quick ? QUICK : SCALING_FULL);
    try {
      if (o.scaling !== false) threads = await timed('threads', () => runScaling(set, { shapes: sc.shapes, steps: sc.steps, opts: sopts, log }));
      if (o.noise !== false) noise = await timed('noise', () => runNoise(set, { ...(o.noise || {}), opts: sopts, log }));
    } finally {
      set.dispose();
    }
  }
  if (o.conv !== false) {
    const variant = (o.scaling || {}).variant ?? 'simd';
    conv = await timed('conv', () => runConv({ variant, ...(o.conv || {}), quick, opts: o.harness ?? (quick ? QUICK : SCALING_FULL), log }));
  }
  for (const l of Object.values(limits)) if (!l.check()) throw new Error('bench: the limit loop diverged');
  // the ceiling: the best of the per-shape limit figures (each a median, taken beside that shape's GEMMs).
  // Load from other processes only ever lowers the loop's throughput, so the best is the truest ceiling.
  const alone = gemm.length === 0 ? measureMany(Object.fromEntries(Object.entries(limits).map(([k, l]) => [k, l.run])), opts) : {};
  const limit = Object.fromEntries(Object.keys(limits).map((k) => {
    const xs = gemm.length ? gemm.map((g) => g.limit[k]) : [limits[k].flops / alone[k].seconds / 1e9];
    return [k, { gflops: Math.max(...xs), median: median(xs), min: Math.min(...xs), samples: xs.length }];
  }));
  for (const [k, v] of Object.entries(limit)) log(`limit ${k}: ${v.gflops.toFixed(1)} GFLOP/s (best of ${v.samples}; median ${v.median.toFixed(1)}, min ${v.min.toFixed(1)})`);
  return { engines: o.engines, harness: opts, limit, gemm, elementwise, steps, threads, noise, conv, seconds: (performance.now() - t0) / 1000, phases };
}
