// The Keras-level fit API (issue 11), each part against an independent reference:
//
//   * options: an unknown key is refused with the nearest known name (E_OPTION), a value of the wrong kind names
//     the key, the expected and the actual;
//   * validationSplit: the two parts partition the training rows (checked row by row against the original), are
//     the same for a seed and differ for another; valLoss is the float64 BCE of predict() on the held-out rows;
//   * trainStep: one SGD step of Linear + MSE equals the float64 gradient step written out here;
//   * callbacks: the order of the hooks, and a stop from each hook runs exactly the steps before it (the
//     optimizer's step count says how many ran);
//   * earlyStopping / reduceLROnPlateau on a scripted metric sequence: the epoch of the stop, the restored weights,
//     the rate after each reduction; schedules against their closed forms, and fit steps at the schedule's rates;
//   * metrics: train MSE of a one-batch epoch is the float64 MSE of predict() with the weights before the step;
//     test accuracy is the argmax agreement computed here;
//   * yieldEvery: 'batch' lets a timer run between steps, 'never' does not (ordering, not timing);
//   * model.summary() and String(model): layers, shapes and a parameter total counted here;
//   * simdnet train: --preset best fills what no flag gives, --validation-split / --early-stopping / --lr-schedule
//     reach metrics.json, bad values are one line and exit 2.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { createJsBackend } from '../src/backend/js.js';
import { createWasmBackend } from '../src/backend/wasm.js';
import { oneHot } from '../src/data/dataset.js';
import { loadBundledMnist } from '../src/data/mnist-bundled.js';
import { SimdnetError } from '../src/errors.js';
import { Linear, ReLU, Sigmoid, Softmax } from '../src/layers/index.js';
import { Sequential } from '../src/model.js';
import { autoencoder } from '../src/models.js';
import { createOptimizer } from '../src/optimizers.js';
import { Rng } from '../src/random.js';
import { fit } from '../src/training/fit.js';
import { noisyTestInputs, splitValidation } from '../src/training/sets.js';
import type { BatchInfo, EpochMetrics } from '../src/training/types.js';
import { earlyStopping, reduceLROnPlateau } from '../src/training/callbacks.js';
import type { TrainingContext } from '../src/training/types.js';
import { cosineDecay, exponentialDecay, stepDecay } from '../src/training/schedules.js';
import { trainStep } from '../src/training/step.js';
import { errorOf } from './support/backends.js';
import { loss64 } from './support/reference.js';

let data: ReturnType<typeof loadBundledMnist>;
let wasm: Backend;
beforeAll(async () => {
  data = loadBundledMnist();
  wasm = await createWasmBackend();
});

const digits = (n: number) => data.train.images.subarray(0, n * 784);


describe('fit options', () => {
  it('an unknown option is refused with a did-you-mean, E_OPTION; so is a value of the wrong kind', async () => {
    const model = autoencoder(wasm, { hidden: [4] });
    const x = digits(8);
    const err = async (o: object) => {
      try {
        await fit(model, { train: { x, y: x } }, { epochs: 1, ...o });
      } catch (e) {
        expect(e).toBeInstanceOf(SimdnetError);
        expect((e as SimdnetError).code).toBe('E_OPTION');
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    const before = model.getWeights();
    expect(await err({ validationSplt: 0.1 })).toMatch(/^fit: unknown option "validationSplt" \(did you mean "validationSplit"\?\)/);
    expect(await err({ callback: [] })).toMatch(/did you mean "callbacks"/);
    expect(await err({ verbose: 1 })).toMatch(/^fit: unknown option "verbose"; known options: epochs, batchSize/);
    expect(await err({ validationSplit: '0.1' })).toBe('fit: validationSplit must be a fraction in [0, 1), got "0.1"');
    expect(await err({ validationSplit: 1 })).toMatch(/validationSplit must be a fraction in \[0, 1\), got 1/);
    expect(await err({ callbacks: {} })).toMatch(/callbacks must be a list of callbacks.*got an object/);
    expect(await err({ metrics: ['f1'] })).toMatch(/metrics must be a list of accuracy, mse, psnr/);
    expect(await err({ yieldEvery: 'often' })).toMatch(/yieldEvery must be one of auto, batch, epoch, never or a number/);
    expect(await err({ lr: 0.1, optimizer: createOptimizer('sgd') })).toMatch(/lr 0\.1 is given with an optimizer object/);
    expect(await err({ lr: () => NaN })).toMatch(/the lr schedule gave NaN at epoch 1, step 0/);
    expect(await err({ validationSplit: 0.01 })).toMatch(/validationSplit 0\.01 of 8 rows leaves 0 for validation/);
    expect(model.getWeights()).toEqual(before); // refused before any step
    model.dispose();
  });
});

describe('one fit at a time per model (issue 19)', () => {
  const tiny = () => new Sequential([new Linear(784, 8), new ReLU(), new Linear(8, 784), new Sigmoid()], { backend: wasm, seed: 4 });
  const train = () => ({ train: { x: digits(64), y: digits(64) } });

  it('a second fit while one runs is refused naming the model (E_LOCKED); the first trains as if alone', async () => {
    const alone = tiny();
    const straight = await fit(alone, train(), { epochs: 2, batchSize: 16, yieldEvery: 'batch' });
    for (const second of ['at once', 'from a batch callback'] as const) {
      const model = tiny();
      let refused: unknown;
      const tryAgain = () => fit(model, train(), { epochs: 1, batchSize: 16 }).then(() => undefined, (e) => (refused = e));
      let again: Promise<unknown> | undefined;
      const first = fit(model, train(), { epochs: 2, batchSize: 16, yieldEvery: 'batch', onBatch: (b) => { if (second !== 'at once' && b.batch === 1 && !again) again = tryAgain(); } });
      if (second === 'at once') again = tryAgain();
      const [h] = await Promise.all([first, again]);
      await again;
      expect(refused, second).toBeInstanceOf(SimdnetError);
      expect((refused as SimdnetError).code).toBe('E_LOCKED');
      expect((refused as Error).message).toBe(`fit: ${model} is already being trained by another fit() call; await it before starting another`);
      expect(h.epochs.map((e) => e.trainLoss)).toEqual(straight.epochs.map((e) => e.trainLoss));
      expect(model.getWeights()).toEqual(alone.getWeights());
      // released after it ends, and after a fit that failed
      await expect(fit(model, { train: { x: new Float32Array(784).fill(NaN), y: digits(1) } }, { epochs: 1 })).rejects.toThrow(/train\.x: value NaN/);
      await fit(model, train(), { epochs: 1, batchSize: 64 });
      model.dispose();
    }
    alone.dispose();
  });

  it('setWeights and dispose from outside a running fit are refused; from its callbacks they are allowed', async () => {
    const model = tiny();
    const w0 = model.getWeights();
    const outside: string[] = [];
    let fromCallback = 0;
    await fit(model, train(), {
      epochs: 1, batchSize: 16, yieldEvery: 'batch',
      onBatch: (b) => {
        if (b.batch === 0) {
          setTimeout(() => {
            for (const [name, f] of [['setWeights', () => model.setWeights(w0)], ['dispose', () => model.dispose()]] as const) {
              try {
                f();
              } catch (e) {
                expect((e as SimdnetError).code).toBe('E_LOCKED');
                outside.push((e as Error).message);
              }
            }
          }, 0);
        }
        if (b.batch === 2) {
          model.setWeights(model.getWeights()); // a callback's own change
          fromCallback++;
        }
      },
    });
    expect(outside).toEqual(['setWeights', 'dispose'].map((w) => `${w}: ${model} is being trained by a fit() call; await it first (or call ${w} from one of its callbacks)`));
    expect(fromCallback).toBe(1);
    expect(model.disposed).toBe(false);
    model.setWeights(w0); // free again after the fit
    model.dispose();
  });
});

describe('validationSplit', () => {
  it('partitions the training rows, seeded; valLoss is the float64 BCE of predict() on the held-out rows', async () => {
    const rows = 50;
    const x = digits(rows);
    const { train, validation } = splitValidation({ x, y: x }, 0.2, 3, 784, 784);
    expect(validation.x.length / 784).toBe(10);
    expect(train.x.length / 784).toBe(40);
    expect(train.y).toBe(train.x); // an autoencoder's targets stay its inputs
    // every row of the original is in exactly one part, and each part keeps the original order
    const key = (a: Float32Array, r: number) => Array.from(a.subarray(r * 784, r * 784 + 784)).join(',');
    const original = Array.from({ length: rows }, (_, r) => key(x, r));
    const parts = [train.x, validation.x].map((p) => Array.from({ length: p.length / 784 }, (_, r) => original.indexOf(key(p, r))));
    expect([...parts[0], ...parts[1]].sort((a, b) => a - b)).toEqual(original.map((_, i) => original.indexOf(original[i])).sort((a, b) => a - b));
    for (const p of parts) expect([...p].sort((a, b) => a - b)).toEqual(p);
    expect(splitValidation({ x, y: x }, 0.2, 3, 784, 784).validation.x).toEqual(validation.x);
    expect(splitValidation({ x, y: x }, 0.2, 4, 784, 784).validation.x).not.toEqual(validation.x);

    const model = autoencoder(wasm, { hidden: [16], seed: 1 });
    const h = await fit(model, { train: { x, y: x } }, { epochs: 2, batchSize: 16, loss: 'bce', validationSplit: 0.2, seed: 3 });
    const last = h.epochs[1];
    expect(last.valLoss!).toBeCloseTo(loss64('bce', model.predict(validation.x), validation.x, validation.x.length / 784), 5);
    expect(last.valMse).toBeGreaterThan(0);
    expect(last.valPsnr).toBeCloseTo(10 * Math.log10(1 / last.valMse!), 10);
    expect(Number.isNaN(last.testLoss)).toBe(true); // no test set given
    model.dispose();
  });
});

describe('trainStep', () => {
  it('one SGD step of Linear(3, 2) + MSE equals the float64 gradient step', async () => {
    for (const backend of [await createJsBackend(), wasm]) {
      const model = new Sequential([new Linear(3, 2)], { backend, seed: 5 });
      const rng = new Rng(9);
      const x = Float32Array.from({ length: 12 }, () => rng.uniform(-1, 1));
      const y = Float32Array.from({ length: 8 }, () => rng.uniform(-1, 1));
      const w0 = model.getWeights(); // W (3×2) then b (2)
      const lr = 0.1;
      // L = mean over 4×2 of (xW + b − y)²; dL/dz = 2(z − y)/8
      const expected = Array.from(w0, Number);
      let loss = 0;
      for (let r = 0; r < 4; r++)
        for (let j = 0; j < 2; j++) {
          let z = w0[6 + j];
          for (let i = 0; i < 3; i++) z += x[r * 3 + i] * w0[i * 2 + j];
          const dz = (2 * (z - y[r * 2 + j])) / 8;
          loss += (z - y[r * 2 + j]) ** 2 / 8;
          for (let i = 0; i < 3; i++) expected[i * 2 + j] -= lr * dz * x[r * 3 + i];
          expected[6 + j] -= lr * dz;
        }
      const opt = createOptimizer('sgd', { lr });
      expect(trainStep(model, { x, y }, 'mse', opt)).toBeCloseTo(loss, 6);
      const w1 = model.getWeights();
      for (let i = 0; i < 8; i++) expect(w1[i]).toBeCloseTo(expected[i], 6);
      opt.dispose();
      model.dispose();
    }
  });
});

describe('callbacks', () => {
  const x = () => digits(40);
  const run = async (stopAt: (hook: string, n: number) => boolean) => {
    const model = autoencoder(wasm, { hidden: [8], seed: 2 });
    const opt = createOptimizer('adam');
    const calls: string[] = [];
    const count: Record<string, number> = {};
    const hook = (name: string) => () => {
      count[name] = (count[name] ?? 0) + 1;
      calls.push(name);
      return !stopAt(name, count[name]);
    };
    const h = await fit(model, { train: { x: x(), y: x() } }, {
      epochs: 3, batchSize: 10, optimizer: opt, loss: 'bce',
      callbacks: [{ onTrainBegin: hook('trainBegin'), onEpochBegin: hook('epochBegin'), onBatchEnd: hook('batchEnd'), onEpochEnd: hook('epochEnd'), onTrainEnd: () => void calls.push('trainEnd') }],
    });
    const steps = opt.saveState().step;
    opt.dispose();
    model.dispose();
    return { calls, steps, stopped: h.stopped, epochs: h.epochs.length };
  };

  it('run in order: trainBegin, then per epoch epochBegin, 4 × batchEnd, epochEnd; trainEnd last', async () => {
    const { calls, steps, stopped } = await run(() => false);
    const epoch = ['epochBegin', 'batchEnd', 'batchEnd', 'batchEnd', 'batchEnd', 'epochEnd'];
    expect(calls).toEqual(['trainBegin', ...epoch, ...epoch, ...epoch, 'trainEnd']);
    expect(steps).toBe(12);
    expect(stopped).toBeUndefined();
  });

  it('returning false stops: from onBatchEnd with no further step, from onEpochEnd after that epoch, from the begin hooks before any', async () => {
    const batch = await run((h, n) => h === 'batchEnd' && n === 6);
    expect(batch.steps).toBe(6);
    expect(batch.stopped).toEqual({ epoch: 1, batch: 2 });
    expect(batch.calls.at(-1)).toBe('batchEnd'); // no epochEnd, no trainEnd after a stop inside an epoch
    const epoch = await run((h, n) => h === 'epochEnd' && n === 2);
    expect([epoch.steps, epoch.epochs, epoch.stopped]).toEqual([8, 2, { epoch: 2, batch: 0 }]);
    expect(epoch.calls.at(-1)).toBe('trainEnd');
    const begin = await run((h, n) => h === 'epochBegin' && n === 2);
    expect([begin.steps, begin.stopped]).toEqual([4, { epoch: 1, batch: 0 }]);
    const none = await run((h) => h === 'trainBegin');
    expect([none.steps, none.epochs]).toEqual([0, 0]);
  });

  it("onBatch's and onEpoch's false stop too; BatchInfo has rows, lr and seconds", async () => {
    const model = autoencoder(wasm, { hidden: [8], seed: 2 });
    const opt = createOptimizer('adam', { lr: 0.002 });
    const infos: BatchInfo[] = [];
    const x = digits(25);
    const h = await fit(model, { train: { x, y: x } }, { epochs: 5, batchSize: 10, optimizer: opt, onBatch: (b) => void infos.push(b), onEpoch: (m) => m.epoch < 2 });
    expect(h.epochs.length).toBe(2);
    expect(infos.map((b) => b.rows)).toEqual([10, 10, 5, 10, 10, 5]);
    expect(infos.every((b) => b.lr === 0.002 && b.seconds >= 0)).toBe(true);
    expect(opt.saveState().step).toBe(6);
    opt.dispose();
    model.dispose();
  });
});

/** A context for a callback driven by hand: weights are plain arrays. */
function fakeContext(lr = 1): TrainingContext & { weights: Float32Array } {
  const ctx = {
    weights: new Float32Array([0]),
    model: { getWeights: () => ctx.weights.slice(), setWeights: (w: Float32Array) => void (ctx.weights = w.slice()) },
    optimizer: { lr },
    epochs: 10,
    batches: 1,
    lrScale: 1,
  };
  return ctx as unknown as TrainingContext & { weights: Float32Array };
}
const epochOf = (epoch: number, valLoss: number): EpochMetrics => ({ epoch, trainLoss: 1, testLoss: NaN, testMse: NaN, valLoss, seconds: 0 });

describe('earlyStopping and reduceLROnPlateau on a scripted sequence', () => {
  it('earlyStopping: stops when valLoss has not improved by minDelta for patience epochs; restoreBest puts back the best epoch', async () => {
    const losses = [1, 0.8, 0.79, 0.85, 0.81, 0.9, 0.7];
    const ctx = fakeContext();
    const cb = earlyStopping({ patience: 3, minDelta: 0.02, restoreBest: true });
    let stoppedAt = 0;
    for (let e = 0; e < losses.length && !stoppedAt; e++) {
      ctx.weights = new Float32Array([e + 1]); // the weights "of epoch e + 1"
      if ((await cb.onEpochEnd!(epochOf(e + 1, losses[e]), ctx)) === false) stoppedAt = e + 1;
    }
    // 0.8 at epoch 2 is the last improvement by more than 0.02 (0.79 is not): epochs 3, 4, 5 wait → stop at 5
    expect(stoppedAt).toBe(5);
    expect(ctx.stopReason).toMatch(/valLoss did not improve by more than 0\.02 for 3 epochs \(best 0\.8 at epoch 2\)/);
    await cb.onTrainEnd!({ epochs: [] }, ctx);
    expect(Array.from(ctx.weights)).toEqual([2]);
  });

  it('earlyStopping monitors a higher-is-better metric the right way, and refuses a missing one', async () => {
    const ctx = fakeContext();
    const cb = earlyStopping({ monitor: 'valAccuracy', patience: 1 });
    const m = (epoch: number, valAccuracy: number) => ({ ...epochOf(epoch, 1), valAccuracy });
    expect(await cb.onEpochEnd!(m(1, 0.5), ctx)).toBe(true);
    expect(await cb.onEpochEnd!(m(2, 0.6), ctx)).toBe(true);
    expect(await cb.onEpochEnd!(m(3, 0.55), ctx)).toBe(false);
    expect(await errorOf(() => earlyStopping({ monitor: 'testAccuracy' }).onEpochEnd!(epochOf(1, 1), ctx))).toMatch(/monitor "testAccuracy" is not in this run's metrics \(it has epoch, trainLoss, valLoss, seconds\)/);
    expect(await errorOf(() => earlyStopping({ patience: -1 }))).toMatch(/patience: expected an integer ≥ 0, got -1/);
  });

  it('reduceLROnPlateau: halves the scale after `patience` epochs without improvement, then waits `cooldown`', async () => {
    const ctx = fakeContext(0.01);
    const cb = reduceLROnPlateau({ patience: 2, factor: 0.5, cooldown: 1 });
    const scales: number[] = [];
    for (const [e, v] of [1, 1, 1, 1, 1, 1, 1].entries()) {
      await cb.onEpochEnd!(epochOf(e + 1, v), ctx);
      scales.push(ctx.lrScale);
      (ctx.optimizer as { lr: number }).lr = 0.01 * ctx.lrScale; // as fit applies it before the next step
    }
    // epoch 1 sets the best; 2, 3 wait → halve at 3; 4 cools down; 5, 6 wait → halve at 6; 7 cools down
    expect(scales).toEqual([1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]);
    const floor = reduceLROnPlateau({ patience: 0, factor: 0.1, minLr: 0.004 });
    const c2 = fakeContext(0.01);
    await floor.onEpochEnd!(epochOf(1, 1), c2);
    await floor.onEpochEnd!(epochOf(2, 1), c2);
    expect(c2.lrScale).toBeCloseTo(0.4, 12); // 0.01 × 0.1 is below minLr 0.004: stops there
  });
});

describe('schedules', () => {
  const run = { epochs: 10, batches: 20 };
  it('match their closed forms', () => {
    const cos = cosineDecay({ lr: 0.01, minLr: 0.001, warmupEpochs: 1 });
    expect(cos(0, 0, run)).toBeCloseTo(0.01 / 20, 15); // warm-up: lr·(step + 1)/20
    expect(cos(0, 9, run)).toBeCloseTo(0.01 / 2, 15);
    expect(cos(1, 20, run)).toBeCloseTo(0.01, 15); // the top of the cosine
    expect(cos(9, 199, run)).toBeCloseTo(0.001, 15); // the last step: minLr
    expect(cos(5, 20 + 179 / 2, run)).toBeCloseTo(0.0055, 12); // half-way down: the mean
    const step = stepDecay({ lr: 0.1, every: 3, factor: 0.5 });
    expect([0, 2, 3, 5, 6, 9].map((e) => step(e, e * 20, run))).toEqual([0.1, 0.1, 0.05, 0.05, 0.025, 0.0125]);
    const exp = exponentialDecay({ lr: 0.1, decay: 0.9 });
    expect(exp(2, 50, run)).toBeCloseTo(0.1 * 0.9 ** 2.5, 15);
    expect(() => cosineDecay({ lr: 0.01, minLr: 0.1 })).toThrow(/minLr 0\.1 is above lr 0\.01/);
  });

  it("fit steps at the schedule's rate times reduceLROnPlateau's scale", async () => {
    const model = autoencoder(wasm, { hidden: [8], seed: 2 });
    const x = digits(30);
    const lrs: number[] = [];
    const schedule = (epoch: number, step: number) => 0.001 * (1 + step);
    const h = await fit(model, { train: { x, y: x } }, {
      epochs: 4, batchSize: 10, lr: schedule, validationSplit: 0.1, loss: 'bce', onBatch: (b) => void lrs.push(b.lr),
      callbacks: [{ onEpochEnd: (_m, ctx) => void (ctx.lrScale = 0.5) }],
    });
    // 27 training rows: 3 batches; the scale applies from epoch 2 on
    expect(lrs).toEqual(Array.from({ length: 12 }, (_, s) => 0.001 * (1 + s) * (s < 3 ? 1 : 0.5)));
    expect(h.epochs.map((m) => m.lr)).toEqual([lrs[2], lrs[5], lrs[8], lrs[11]]);
    model.dispose();
  });
});

describe('metrics', () => {
  it("train MSE of a one-batch epoch is predict()'s float64 MSE before the step; test accuracy is the argmax agreement", async () => {
    const model = new Sequential([new Linear(784, 16, { init: 'heNormal' }), new ReLU(), new Linear(16, 10), new Softmax()], { backend: wasm, seed: 4 });
    const x = digits(64);
    const y = oneHot(data.train.labels.subarray(0, 64));
    const tx = data.test.images.subarray(0, 100 * 784);
    const ty = oneHot(data.test.labels.subarray(0, 100));
    const before = model.predict(x);
    let se = 0;
    for (let i = 0; i < before.length; i++) se += (before[i] - y[i]) ** 2;
    const h = await fit(model, { train: { x, y }, test: { x: tx, y: ty } }, { epochs: 1, batchSize: 64, loss: 'crossentropy', metrics: ['accuracy', 'mse', 'psnr'], shuffle: false });
    const m = h.epochs[0];
    expect(m.trainMse!).toBeCloseTo(se / before.length, 7);
    expect(m.trainPsnr!).toBeCloseTo(10 * Math.log10(1 / m.trainMse!), 10);
    const argmax = (a: Float32Array, r: number) => a.subarray(r * 10, r * 10 + 10).reduce((b, v, j, row) => (v > row[b] ? j : b), 0);
    const right = (p: Float32Array, t: Float32Array, n: number) => Array.from({ length: n }, (_, r) => argmax(p, r) === argmax(t, r)).filter(Boolean).length / n;
    expect(m.trainAccuracy).toBe(right(before, y, 64));
    expect(m.testAccuracy).toBe(right(model.predict(tx), ty, 100));
    model.dispose();
  });

  it('fit returns the noisy test inputs it evaluated: those noisyTestInputs draws', async () => {
    const model = autoencoder(wasm, { hidden: [8] });
    const x = digits(20);
    const tx = data.test.images.subarray(0, 30 * 784);
    const noise = { kind: 'gaussian' as const, factor: 0.3 };
    const h = await fit(model, { train: { x, y: x }, test: { x: tx, y: tx } }, { epochs: 1, noise, seed: 6 });
    expect(h.testInputs).toEqual(noisyTestInputs({ x: tx, y: tx }, noise, 6, { width: 784, backend: wasm }));
    expect(h.testInputs).not.toEqual(tx);
    model.dispose();
  });
});

describe('yieldEvery', () => {
  it("'batch' lets a pending timer run after the first step; 'never' keeps it waiting until fit resolves", async () => {
    const x = digits(40);
    for (const [mode, firedAfter] of [['batch', 1], ['never', 4]] as const) {
      const model = autoencoder(wasm, { hidden: [4] });
      let batches = 0;
      let seenByTimer = -1;
      setTimeout(() => (seenByTimer = batches), 0);
      await fit(model, { train: { x, y: x } }, { epochs: 1, batchSize: 10, yieldEvery: mode, onBatch: () => void batches++ });
      await new Promise((r) => setTimeout(r, 0));
      expect(seenByTimer, mode).toBe(firedAfter);
      model.dispose();
    }
  });
});

describe('summary', () => {
  it('a table of layers, output shapes and parameters, with the total; String(model) in one line', () => {
    const model = new Sequential([new Linear(784, 128), new ReLU(), new Linear(128, 784), new Sigmoid()], { backend: wasm });
    const total = 784 * 128 + 128 + 128 * 784 + 784;
    const lines = model.summary().split('\n');
    expect(lines[0]).toMatch(/^layer\s+output shape\s+params$/);
    expect(lines.find((l) => l.startsWith('0 Linear(784, 128)'))).toMatch(/\(B, 128\)\s+100,480$/);
    expect(lines.find((l) => l.startsWith('1 ReLU'))).toMatch(/\(B, 128\)\s+0$/);
    expect(lines.find((l) => l.startsWith('2 Linear(128, 784)'))).toMatch(/\(B, 784\)\s+101,136$/);
    expect(lines.at(-1)).toBe(`total ${total.toLocaleString('en-US')} parameters (0.8 MiB of float32)`);
    expect(String(model)).toBe('Sequential(784 → Linear(784, 128) → ReLU → Linear(128, 784) → Sigmoid; 201,616 params)');
    model.dispose();
    expect(`${model}`).toMatch(/disposed\)$/);
  });
});

describe('simdnet train: the training-loop flags', () => {
  const CLI = resolve(__dirname, '../dist/cli/main.js');
  const dir = mkdtempSync(join(tmpdir(), 'simdnet-fitapi-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const train = (...args: string[]) => spawnSync(process.execPath, [CLI, 'train', '--threads', '1', ...args], { encoding: 'utf8', timeout: 120_000 });

  it('--preset best with --epochs and --hidden given: the preset fills the rest; the summary is printed first', () => {
    const out = join(dir, 'preset');
    const r = train('--preset', 'best', '--epochs', '2', '--hidden', '16', '--validation-split', '0.25', '--early-stopping', '1', '--out', out);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('simdnet:'))).toEqual([]);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/784-16-784 .* adam lr 0\.006, batch 128, .*cosine lr schedule, validation split 0\.25, early stopping after 1 epochs on validation loss/);
    expect(lines[1]).toMatch(/^layer\s+output shape\s+params$/);
    expect(r.stdout).toMatch(/total 25,888 parameters/); // 784·16 + 16 + 16·784 + 784
    expect(lines.filter((l) => /^epoch \d\/2 .* val \d\.\d{4} {2}test/.test(l))).toHaveLength(2);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.config).toMatchObject({ batchSize: 128, lr: 0.006, lrSchedule: 'cosine', epochs: 2, hidden: [16], validationSplit: 0.25, earlyStopping: 1 });
    expect(metrics.trainCount).toBe(8000);
    // cosine over 2 epochs of 47 batches (6,000 rows): the last step is at lr/100
    expect(metrics.epochs[1].lr).toBeCloseTo(0.00006, 12);
    expect(metrics.final.testLoss).toBeGreaterThan(0);
  });

  it('--dropout P puts a Dropout after each hidden layer, and a resumed run ends on the straight run\'s bytes', () => {
    // no schedule here: a cosine's rates depend on --epochs, so a run of 1 epoch resumed to 2 follows another curve
    const flags = ['--epochs', '2', '--hidden', '16,8', '--dropout', '0.2', '--validation-split', '0.1', '--early-stopping', '5'];
    const straight = join(dir, 'drop-straight');
    const r = train(...flags, '--out', straight);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/dropout 0\.2/);
    expect(r.stdout.match(/Dropout\(0\.2\)/g)).toHaveLength(2);
    const split = join(dir, 'drop-split');
    expect(train(...flags.map((f) => (f === '2' ? '1' : f)), '--out', split).status).toBe(0);
    const resumed = spawnSync(process.execPath, [CLI, 'train', '--resume', split, '--epochs', '2', '--threads', '1'], { encoding: 'utf8', timeout: 120_000 });
    expect(resumed.stderr.split('\n').filter((l) => l.startsWith('simdnet:'))).toEqual([]);
    expect(resumed.status).toBe(0);
    expect(readFileSync(join(split, 'model.simdnet')).equals(readFileSync(join(straight, 'model.simdnet')))).toBe(true);
  });

  it('bad values are one line and exit 2', () => {
    for (const [args, message] of [
      [['--validation-split', '1'], /--validation-split.*a fraction from 0 up to, not including, 1.*'1'/],
      [['--lr-schedule', 'linear'], /--lr-schedule.*'linear'.*cosine/],
      [['--early-stopping', '-1'], /--early-stopping.*patience/],
      [['--preset', 'fast'], /--preset.*'fast'.*best/],
      [['--optimizer', 'lion'], /--optimizer.*'lion'.*adamw/],
      [['--dropout', '1'], /--dropout.*a dropout rate.*'1'/],
      // in range, but too small for the data: refused before the run is built, naming the flag
      [['--validation-split', '1e-9'], /^simdnet: --validation-split 1e-9 of 8000 rows leaves 0 for validation and 8000 for training; each needs at least one$/m],
    ] as const) {
      const r = train(...args, '--out', join(dir, 'bad'));
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});
