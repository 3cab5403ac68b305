// Backend parity and determinism.
//
//   * wasm (each build this runtime runs) and js train the 784→32 relu→784 sigmoid autoencoder the same way:
//     20 Adam steps from one seed on a fixed stream of noisy bundled digits give the same loss curve within
//     LOSS_RTOL = 1e-5 relative per step, and the same final weights within WEIGHT_ATOL = 1e-5 (observed:
//     ~1e-7 for both; the backends differ only in f32 summation order and the wasm exp approximation).
//   * The same seed on the same backend twice gives bit-identical weights (fit with shuffling and noise).
//   (Each optimizer against float64: test/optimizers.test.ts.)

import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { applyNoise } from '../src/data/noise.js';
import { loadBundledMnist } from '../src/data/mnist-bundled.js';
import { autoencoder } from '../src/models.js';
import { createOptimizer } from '../src/optimizers.js';
import { Rng } from '../src/random.js';
import { fit } from '../src/training/fit.js';
import { backendCases } from './support/backends.js';

const LOSS_RTOL = 1e-5;
const WEIGHT_ATOL = 1e-5;
const STEPS = 20;
const BATCH = 32;
const SEED = 7;

const cases = backendCases();
const jsCase = cases.find((c) => c.label === 'js')!;
const wasmCases = cases.filter((c) => c.label !== 'js');

// A fixed batch stream: STEPS·BATCH digits picked by a seeded generator, each with its own gaussian noise.
let clean: Float32Array;
let noisy: Float32Array;
let digits: ReturnType<typeof loadBundledMnist>;
beforeAll(() => {
  digits = loadBundledMnist();
  const rng = new Rng(99);
  const n = STEPS * BATCH;
  clean = new Float32Array(n * 784);
  for (let i = 0; i < n; i++) clean.set(digits.train.images.subarray(rng.int(digits.train.count) * 784).subarray(0, 784), i * 784);
  noisy = new Float32Array(clean.length);
  applyNoise(noisy, clean, 'gaussian', 0.3, rng);
});

/** 20 Adam steps (bce) of the autoencoder; returns each step's loss and the final weights. */
function trainSteps(be: Backend): { losses: number[]; initial: Float32Array; weights: Float32Array } {
  const model = autoencoder(be, { hidden: [32], seed: SEED });
  const initial = model.getWeights();
  const opt = createOptimizer('adam', { lr: 1e-3 });
  const losses: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    be.write(model.input(BATCH), noisy, s * BATCH * 784);
    be.write(model.target(BATCH), clean, s * BATCH * 784);
    model.zeroGrad();
    model.forward(BATCH);
    losses.push(model.loss(BATCH, 'bce', true));
    opt.step(model);
  }
  const weights = model.getWeights();
  opt.dispose();
  model.dispose();
  return { losses, initial, weights };
}

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('wasm and js give the same 20-step Adam loss curve on the autoencoder', () => {
  let reference: ReturnType<typeof trainSteps>;
  beforeAll(async () => {
    reference = trainSteps(await jsCase.make());
  });

  it('the js run itself learns (the curve is worth comparing)', () => {
    expect(reference.losses).toHaveLength(STEPS);
    expect(reference.losses[0]).toBeGreaterThan(0.6); // ≈ ln 2 at init: outputs ≈ 0.5
    expect(reference.losses[STEPS - 1]).toBeLessThan(reference.losses[0] - 0.1);
  });

  it.each(wasmCases)('$label matches js within the stated tolerance', async ({ make }) => {
    const run = trainSteps(await make());
    expect(bitsEqual(run.initial, reference.initial), 'initialisation is host-side and must be identical').toBe(true);
    for (let s = 0; s < STEPS; s++) {
      const rel = Math.abs(run.losses[s] - reference.losses[s]) / reference.losses[s];
      expect(rel, `step ${s}: wasm ${run.losses[s]} vs js ${reference.losses[s]}`).toBeLessThanOrEqual(LOSS_RTOL);
    }
    let worst = 0;
    for (let i = 0; i < run.weights.length; i++) worst = Math.max(worst, Math.abs(run.weights[i] - reference.weights[i]));
    expect(worst).toBeLessThanOrEqual(WEIGHT_ATOL);
    // the weights did move, so the comparison is not of two untouched initialisations
    expect(bitsEqual(run.weights, run.initial)).toBe(false);
  });
});

describe.each(cases)('determinism on the $label backend', ({ make }) => {
  /** One epoch of fit (seeded shuffle and fresh noise) on 640 digits. */
  async function fitOnce(be: Backend, seed: number): Promise<Float32Array> {
    const model = autoencoder(be, { hidden: [32], seed });
    const x = digits.train.images.subarray(0, 640 * 784);
    await fit(model, { train: { x, y: x } }, { epochs: 1, batchSize: 64, loss: 'bce', optimizer: 'adam', seed, noise: { kind: 'gaussian', factor: 0.3 } });
    const w = model.getWeights();
    model.dispose();
    return w;
  }

  it('the same seed twice gives bit-identical weights; another seed does not', async () => {
    const be = await make();
    const a = await fitOnce(be, 3);
    const b = await fitOnce(await make(), 3); // a fresh backend instance too
    const c = await fitOnce(be, 3); // and the same instance, after other allocations
    expect(bitsEqual(a, b)).toBe(true);
    expect(bitsEqual(a, c)).toBe(true);
    expect(bitsEqual(a, await fitOnce(be, 4))).toBe(false);
  });
});
