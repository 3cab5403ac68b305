// Thread scaling: the same GEMM shapes and training steps (the two dense reference steps and the conv denoiser's) on
// one wasm build at 1, 2, … up to the core count kernel threads, timed round-robin (one sample of every thread count
// per round), so each speedup over one thread is paired round by round and a load from other processes that slows a
// round slows both sides of its ratio. Efficiency = speedup / threads.
//
// One backend per thread count (createWasmBackend({ variant, threads })); threads = 1 is the plain build
// (build/simdnet.<variant>.wasm, no workers), more threads the -threads build with its worker pool: the speedup
// is what a user gets from `threads`, the shared-memory build's own cost included.

import os from 'node:os';
import { measureMany, pairedRatio } from './harness.js';
import { randomArray, wasmEngine } from './engines.js';
import { shape } from './kernels.js';
import { STEP_CASES, initialWeights } from './steps.js';
import { CONV_PRESET } from '../dist/training/recipes.js';
import { runModelSpec } from '../dist/training/run.js';

/** The GEMM shapes of the scaling table: 512³ and the reference model's layers (784→128→784, batch 64). */
export const SCALING_SHAPES = [
  shape('512³', 512, 512, 512),
  shape('ref 784→128 forward x·W', 64, 128, 784),
  shape('ref 784→128 dW = xᵀ·dz', 784, 128, 64, 1, 0),
  shape('ref 784→128 dx = dz·Wᵀ', 64, 784, 128, 0, 1),
  shape('ref 128→784 forward x·W', 64, 784, 128),
];

/** The conv denoiser's training step as `--preset conv` builds it (follows the preset), at the preset's batch size. */
export const CONV_STEP = (() => {
  const preset = JSON.parse(JSON.stringify(CONV_PRESET));
  const spec = runModelSpec({ hidden: [], activation: 'relu', ...preset });
  return { name: `conv denoiser (--preset conv) bce adam b${preset.batchSize}`, spec, batchSize: preset.batchSize, loss: 'bce', optimizer: 'adam' };
})();

/** The training steps of the scaling table: both dense reference steps and the conv denoiser's. */
export const SCALING_STEPS = [...STEP_CASES, CONV_STEP];

/** 1, 2, … up to the cores this process may use. */
export function threadCounts(max = os.availableParallelism?.() ?? os.cpus().length) {
  return Array.from({ length: Math.max(1, max) }, (_, i) => i + 1);
}

/** One wasm engine per thread count: { counts, engines: { [t]: engine }, notes, dispose() }. */
export async function scalingEngines(variant, counts = threadCounts()) {
  const engines = {};
  const notes = {};
  try {
    for (const t of counts) {
      engines[t] = await wasmEngine(variant, t);
      const be = engines[t].backend;
      if (be.threads !== t) notes[t] = `asked for ${t} threads, ${be.threads} run${be.threadsNote ? `: ${be.threadsNote}` : ''}`;
    }
  } catch (e) {
    for (const en of Object.values(engines)) en.dispose();
    throw e;
  }
  return { variant, counts, engines, notes, dispose: () => Object.values(engines).forEach((e) => e.dispose()) };
}

/** Speedup of thread count t over 1, paired round by round: the median of the per-round ratios. */
function speedups(r, counts) {
  return Object.fromEntries(counts.filter((t) => r[t] && r[1]).map((t) => [t, pairedRatio(r[t].perRound, r[1].perRound)]));
}

/**
 * @param {object} set     scalingEngines(…)
 * @param {object} o       shapes (default SCALING_SHAPES), steps (default STEP_CASES), opts (harness), log
 * @returns {{ build, threads, notes, gemm: object[], steps: object[] }}
 */
export async function runScaling(set, { shapes = SCALING_SHAPES, steps = SCALING_STEPS, opts, log = () => {} }) {
  const { counts, engines, variant } = set;
  const key = (t) => String(t);
  const gemm = [];
  const loadavg = { start: os.loadavg() };
  for (const s of shapes) {
    const preps = {};
    const fns = {};
    for (const t of counts) {
      preps[t] = engines[t].gemm(s);
      fns[key(t)] = preps[t].run;
    }
    const r = measureMany(fns, opts);
    Object.values(preps).forEach((p) => p.dispose());
    const gflops = Object.fromEntries(counts.map((t) => [t, s.flops / r[key(t)].seconds / 1e9]));
    const perRound = Object.fromEntries(counts.map((t) => [t, r[key(t)].perRound]));
    const speedup = speedups(Object.fromEntries(counts.map((t) => [t, r[key(t)]])), counts);
    gemm.push({ ...s, build: variant, gflops, speedup, perRound });
    log(`threads ${variant} gemm ${s.id.padEnd(16)} ${counts.map((t) => `${t}: ${gflops[t].toFixed(1)} GFLOP/s ×${speedup[t].toFixed(2)}`).join('  ')}`);
  }
  const stepOut = [];
  for (const c of steps) {
    const data = randomArray(c.batchSize * 784, 2, 0, 1);
    const weights = c.spec ? null : await initialWeights(c); // (simdnet's own seeded init either way)
    const preps = {};
    const fns = {};
    const firstLoss = {};
    for (const t of counts) {
      preps[t] = engines[t].step(c, data, weights);
      firstLoss[t] = preps[t].run();
      fns[key(t)] = preps[t].run;
    }
    const r = measureMany(fns, { ...opts, warmupCalls: 10, warmupMs: opts.warmupMs * 2 });
    Object.values(preps).forEach((p) => p.dispose());
    const samplesPerSec = Object.fromEntries(counts.map((t) => [t, c.batchSize / r[key(t)].seconds]));
    const perRound = Object.fromEntries(counts.map((t) => [t, r[key(t)].perRound]));
    const speedup = speedups(Object.fromEntries(counts.map((t) => [t, r[key(t)]])), counts);
    const efficiency = Object.fromEntries(Object.entries(speedup).map(([t, x]) => [t, x / Number(t)]));
    stepOut.push({ name: c.name, hidden: c.hidden, ...(c.spec && { layers: c.spec.layers.length }), batchSize: c.batchSize, loss: c.loss, optimizer: c.optimizer, build: variant, samplesPerSec, speedup, efficiency, firstLoss, perRound });
    log(`threads ${variant} step ${c.name.padEnd(32)} ${counts.map((t) => `${t}: ${Math.round(samplesPerSec[t])}/s ×${speedup[t].toFixed(2)}`).join('  ')}`);
  }
  loadavg.end = os.loadavg();
  return { build: variant, loadavg, threads: counts, actualThreads: Object.fromEntries(counts.map((t) => [t, engines[t].backend.threads])), notes: set.notes, gemm, steps: stepOut };
}
