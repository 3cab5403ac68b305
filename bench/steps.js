// Whole training steps (forward, loss, backward, optimizer update), samples/s, for the two reference
// autoencoders; every engine starts from the same weights (the simdnet model's seeded init) and the same batch.

import { DEEP_STEP, REFERENCE_STEP } from '../dist/cli/step-bench.js';
import { autoencoder } from '../dist/models.js';
import { createJsBackend } from '../dist/backend/index.js';
import { measureMany } from './harness.js';
import { randomArray } from './engines.js';

export const STEP_CASES = [REFERENCE_STEP, DEEP_STEP];

/** The initial weights every engine uses: simdnet's seeded init (seed 1), read once through the js backend;
 *  per Linear layer, its tensors by name ({ W: {shape, values}, b: … }, as the model's ParamLayout declares). */
export async function initialWeights(c) {
  const be = await createJsBackend();
  const model = autoencoder(be, { hidden: c.hidden, seed: 1 });
  const linears = model.layers.flatMap((l, i) => (l.params.length ? [Object.fromEntries(model.getWeights(i).map((t) => [t.name, t]))] : []));
  model.dispose();
  return linears;
}

export async function runSteps(engines, cases, opts, log) {
  const out = [];
  for (const c of cases) {
    const data = randomArray(c.batchSize * 784, 2, 0, 1); // pixels in [0, 1); the target is the input
    const weights = await initialWeights(c);
    const firstLoss = {};
    const fns = {};
    const preps = engines.map((e) => {
      const s = e.step(c, data, weights);
      firstLoss[e.id] = s.run(); // the loss at the shared initial weights: a check that the models agree
      fns[e.id] = s.run;
      return s;
    });
    // steps allocate on their first calls and run a dozen kernels each: warm up longer
    const r = measureMany(fns, { ...opts, warmupCalls: 10, warmupMs: opts.warmupMs * 2 });
    preps.forEach((s) => s.dispose());
    const samplesPerSec = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, c.batchSize / v.seconds]));
    const perRound = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.perRound]));
    out.push({ name: c.name, hidden: c.hidden, batchSize: c.batchSize, loss: c.loss, optimizer: c.optimizer, samplesPerSec, firstLoss, perRound });
    log(`step ${c.name.padEnd(34)} ${Object.entries(samplesPerSec).map(([k, v]) => `${k} ${Math.round(v)}`).join('  ')}`);
  }
  return out;
}
