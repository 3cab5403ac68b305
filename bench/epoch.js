// The reference training epoch, whole: simdnet's fit (784-128-784 ReLU/sigmoid, BCE, Adam lr 1e-3, batch 64, the
// 8,000 bundled training digits, gaussian noise 0.3 fresh every epoch, no test set) at 1 thread and at every core,
// beside the same number of training steps alone (what the pipeline — shuffle, gather, noise — adds), and two
// peers: numpy + OpenBLAS (numpy-peer.js, 1 and every-core OpenBLAS threads) and tfjs-layers model.fit on
// tfjs-backend-wasm (tfjs-fit.js).
//
// Rounds: each round runs one epoch of every engine, one after the other, so a load drift hits all of them alike;
// round 0 is the warm-up (JIT, first touch, tfjs's first fit) and counts for no median. Ratios are medians of the
// per-round ratios, but simdnet over tfjs is the ratio of the two medians (one tfjs epoch lasts ~20 simdnet ones). An epoch's seconds: simdnet — fit's history (shuffle + gather/noise + every step); numpy —
// the script's time.perf_counter of noise + shuffle + steps (the second epoch of a 2-epoch run each round; the
// first one of a Python process also warms up); tfjs — tf.randomNormal noise + model.fit.
// Steps alone: ⌈rows/64⌉ steps of the step bench (steps.js: one fixed batch, forward, loss, backward, update) on
// the same backend, half right before and half right after that backend's epoch in the same round.

import os from 'node:os';
import { fit } from '../dist/training/fit.js';
import { autoencoder } from '../dist/models.js';
import { createOptimizer } from '../dist/optimizers.js';
import { REFERENCE_STEP } from '../dist/cli/step-bench.js';
import { median } from './harness.js';
import { wasmEngine } from './engines.js';
import { initialWeights } from './steps.js';
import { numpyEpoch, numpyUnavailable } from './numpy-peer.js';
import { tfjsFitSession } from './tfjs-fit.js';
import { threadCounts } from './scaling.js';

const B = 64;

/**
 * @param {object} o
 * @param {number} [o.rounds]       measured rounds after the warm-up round (default 9; quick 2)
 * @param {number} [o.tfjsEpochs]   tfjs epochs, in rounds 0 … tfjsEpochs−1 (default 3; quick 0: skipped)
 * @param {boolean} [o.numpy]       run the numpy peer (default true; skipped with a note when numpy is missing)
 * @param {number[]} [o.threads]    simdnet thread counts (default 1 and every core)
 * @param {number[]} [o.numpyThreads] OpenBLAS threads (default the same)
 * @param {number} [o.rows]         use the first `rows` digits (tests; the peers always use all 8,000)
 * @param {string} [o.variant]      simdnet wasm build (default simd)
 */
export async function runEpochs(o = {}) {
  const log = o.log ?? (() => {});
  const quick = !!o.quick;
  const rounds = 1 + (o.rounds ?? (quick ? 2 : 9));
  const tfjsEpochs = o.tfjsEpochs ?? (quick ? 0 : 3);
  const all = threadCounts();
  const counts = o.threads ?? [...new Set([1, all[all.length - 1]])];
  const numpyThreads = o.numpyThreads ?? counts;
  const variant = o.variant ?? 'simd';

  const { loadBundledMnist } = await import('../dist/node.js');
  let x = loadBundledMnist().train.images;
  if (o.rows) x = x.slice(0, o.rows * 784);
  const rows = x.length / 784;
  const steps = Math.ceil(rows / B);

  const notes = [];
  let numpyOn = o.numpy ?? true;
  if (numpyOn) {
    const why = await numpyUnavailable();
    if (why) {
      notes.push(why);
      log(why);
      numpyOn = false;
    }
  }

  // simdnet: per thread count a backend, the fit model and its optimizer, and a step-bench step beside them
  const c = REFERENCE_STEP;
  const weights = await initialWeights(c);
  const sim = [];
  let tfjs = null;
  try {
    for (const t of counts) {
      const engine = await wasmEngine(variant, t);
      const be = engine.backend;
      const model = autoencoder(be, { hidden: [128], seed: 1 });
      const optimizer = createOptimizer('adam', { lr: 1e-3 });
      const step = engine.step(c, x.subarray(0, B * 784), weights);
      sim.push({ t, engine, model, optimizer, step, threads: be.threads, threadsNote: be.threadsNote, fit: [], stepsAlone: [], loss: [] });
    }
    if (tfjsEpochs > 0) tfjs = await tfjsFitSession({ backend: 'wasm' });

    const numpy = Object.fromEntries(numpyThreads.map((t) => [t, { epochSeconds: [], runs: [] }]));
    const tf = { epochSeconds: [], fitSeconds: [], loss: [], round: [] };
    const now = () => performance.now();
    const loadavg = []; // the 1-minute load average after each round
    for (let r = 0; r < rounds; r++) {
      const line = [];
      for (const s of sim) {
        // the steps alone sandwich the epoch (half before, half after), so a drift during the round hits both
        const half = steps >> 1;
        let t0 = now();
        for (let i = 0; i < half; i++) s.step.run();
        let alone = now() - t0;
        const h = await fit(s.model, { train: { x, y: x } }, { epochs: 1, batchSize: B, loss: 'bce', optimizer: s.optimizer, seed: r, noise: { kind: 'gaussian', factor: 0.3 } });
        s.fit.push(h.epochs[0].seconds);
        s.loss.push(h.epochs[0].trainLoss);
        t0 = now();
        for (let i = half; i < steps; i++) s.step.run();
        alone += now() - t0;
        s.stepsAlone.push(alone / 1000);
        line.push(`simdnet×${s.t} ${s.fit[r].toFixed(3)} s (steps ${s.stepsAlone[r].toFixed(3)} s)`);
      }
      if (numpyOn) {
        for (const t of numpyThreads) {
          const res = await numpyEpoch({ epochs: 2, threads: t, log });
          numpy[t].epochSeconds.push(res.epochSeconds[res.epochSeconds.length - 1]);
          numpy[t].runs.push({ epochSeconds: res.epochSeconds, finalLoss: res.finalLoss });
          numpy[t].info ??= { numpy: res.numpy, blas: res.blas, threads: res.threads, threadsSource: res.threadsSource, coretype: res.coretype };
          line.push(`numpy×${t} ${numpy[t].epochSeconds[r].toFixed(3)} s`);
        }
      }
      if (tfjs && r < tfjsEpochs) {
        const e = await tfjs.epoch();
        tf.epochSeconds.push(e.epochSeconds);
        tf.fitSeconds.push(e.fitSeconds);
        tf.loss.push(e.loss);
        tf.round.push(r);
        line.push(`tfjs-wasm fit ${e.epochSeconds.toFixed(3)} s`);
      }
      loadavg.push(os.loadavg()[0]);
      log(`epoch round ${r}${r === 0 ? ' (warm-up)' : ''}: ${line.join('  ')}  (load ${loadavg[r].toFixed(2)})`);
    }

    // ---- figures and paired ratios (rounds 1 …) ----------------------------------------------------------------
    const after = (xs) => xs.slice(1);
    const perRound = (f) => median(Array.from({ length: rounds - 1 }, (_, i) => f(i + 1)).filter(Number.isFinite));
    const top = sim[sim.length - 1];
    const simdnet = Object.fromEntries(sim.map((s) => [s.t, {
      threads: s.threads, threadsNote: s.threadsNote,
      epochSeconds: s.fit, stepsAloneSeconds: s.stepsAlone, trainLoss: s.loss,
      medianAfterFirst: median(after(s.fit)), stepsAloneMedian: median(after(s.stepsAlone)),
      fitOverSteps: perRound((i) => s.fit[i] / s.stepsAlone[i]),
    }]));
    const np = numpyOn ? Object.fromEntries(numpyThreads.map((t) => [t, { ...numpy[t].info, threadsRequested: t, epochSeconds: numpy[t].epochSeconds, runs: numpy[t].runs, medianAfterFirst: median(after(numpy[t].epochSeconds)) }])) : null;
    const tfOut = tfjs ? { ...tfjs.result(), round: tf.round, medianAfterFirst: median(after(tf.epochSeconds)) } : null;
    const ratios = {
      threads: perRound((i) => sim[0].fit[i] / top.fit[i]),
      fitOverSteps: Object.fromEntries(sim.map((s) => [s.t, simdnet[s.t].fitOverSteps])),
      overNumpy: np ? Object.fromEntries(numpyThreads.map((t) => [t, perRound((i) => numpy[t].epochSeconds[i] / top.fit[i])])) : null,
      overNumpyBest: np ? perRound((i) => Math.min(...numpyThreads.map((t) => numpy[t].epochSeconds[i])) / top.fit[i]) : NaN,
      // tfjs: its median over simdnet's (an epoch of tfjs spans 20 of simdnet's, so a round pairs little; and
      // with 2 measured tfjs epochs a per-round median would be the mean of two)
      overTfjs: tfOut ? median(after(tf.epochSeconds)) / median(after(top.fit)) : NaN,
      overTfjsPaired: tfOut ? median(tf.round.map((r, j) => (r >= 1 ? tf.epochSeconds[j] / top.fit[r] : NaN)).filter(Number.isFinite)) : NaN,
      oneThreadOverNumpyOneThread: np && numpy[1] ? perRound((i) => numpy[1].epochSeconds[i] / sim[0].fit[i]) : NaN,
    };
    return {
      model: '784-128-784 relu/sigmoid, bce, adam lr 1e-3, batch 64, gaussian 0.3 fresh per epoch',
      build: variant, rows, steps, rounds, warmupRounds: 1, loadavg, threads: counts, numpyThreads: numpyOn ? numpyThreads : [], notes,
      simdnet, numpy: np, tfjs: tfOut, ratios,
    };
  } finally {
    for (const s of sim) {
      s.step.dispose();
      s.optimizer.dispose();
      s.model.dispose();
      s.engine.dispose();
    }
    tfjs?.dispose();
  }
}
