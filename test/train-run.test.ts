// One training run from its settings (src/training/run.ts), what `simdnet train` and the web demo's worker both
// build their runs with: the settings checked once, naming the setting; the model they describe; the form's zeros
// meaning none. And the bug two copies of this code once made: the worker passed weightDecay only when > 0, so a demo
// AdamW run with weight decay 0 trained with the default 0.01. AdamW's update is w·(1 − lr·λ) and then Adam's step,
// so with λ = 0 it must give Adam's bits exactly; with the default 0.01 it must not.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { createWasmBackend } from '../src/backend/wasm.js';
import { loadBundledMnist } from '../src/data/mnist-bundled.js';
import { describeLayers } from '../src/models.js';
import { fit } from '../src/training/fit.js';
import { checkTrainConfig, createRun, runModelSpec, type TrainConfig } from '../src/training/run.js';
import { simdnetErrorOf } from './support/backends.js';

const BASE: TrainConfig = { epochs: 1, batchSize: 50, lr: 0.01, optimizer: 'adamw', hidden: [16], activation: 'relu', loss: 'bce', noise: 'gaussian', noiseFactor: 0.3, seed: 4 };
/** As the demo's form gives it: every setting filled in, 0 meaning none. */
const FORM: TrainConfig = { ...BASE, validationSplit: 0, earlyStopping: 0, lrSchedule: 'constant', weightDecay: 0, dropout: 0 };

let be: Backend;
let images: { train: Float32Array; test: Float32Array };
beforeAll(async () => {
  be = await createWasmBackend({ threads: 1 });
  const data = loadBundledMnist({ seed: 0 });
  images = { train: data.train.images.subarray(0, 500 * 784), test: data.test.images.subarray(0, 100 * 784) };
});
afterAll(() => be.dispose());

/** The weights after training a run of `config` (as the worker does: fit with the run's data and options). */
async function trained(config: TrainConfig): Promise<Float32Array> {
  const run = createRun(config, be, images, 'test');
  await fit(run.model, run.data, run.fit);
  const w = run.model.getWeights();
  run.optimizer.dispose();
  run.model.dispose();
  return w;
}
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('a run from its settings', () => {
  it('AdamW with weight decay 0 trains without decay (the bits of Adam); without a weight decay, the default 0.01 (not those bits)', async () => {
    const run = createRun(FORM, be, images, 'test');
    expect(run.optimizer.name).toBe('adamw');
    expect(run.optimizer.options.weightDecay).toBe(0);
    run.optimizer.dispose();
    run.model.dispose();
    const adam = bits(await trained({ ...FORM, optimizer: 'adam' }));
    expect(bits(await trained(FORM))).toEqual(adam);
    const defaults = createRun(BASE, be, images, 'test');
    expect(defaults.optimizer.options.weightDecay).toBe(0.01);
    defaults.optimizer.dispose();
    defaults.model.dispose();
    expect(bits(await trained(BASE))).not.toEqual(adam);
  });

  it("the form's zeros mean none: no validation split, no callbacks, a constant rate; the noise as fit takes it", () => {
    const run = createRun(FORM, be, images, 'test');
    expect(run.fit).toMatchObject({ epochs: 1, batchSize: 50, loss: 'bce', seed: 4, noise: { kind: 'gaussian', factor: 0.3 }, callbacks: [] });
    expect(run.fit.validationSplit).toBeUndefined();
    expect(run.fit.lr).toBeUndefined(); // the optimizer's own rate, 0.01
    expect(run.optimizer.lr).toBe(0.01);
    expect(run.data.train.y).toBe(run.data.train.x); // an autoencoder: the clean images are the targets
    expect(run.data.test.x.length).toBe(100 * 784);
    run.optimizer.dispose();
    run.model.dispose();
  });

  it('builds the model the settings describe (Dropout included), a schedule and early stopping from their names', () => {
    const config: TrainConfig = { ...FORM, hidden: [24, 12], activation: 'tanh', dropout: 0.2, lrSchedule: 'cosine', earlyStopping: 2, validationSplit: 0.1 };
    const run = createRun(config, be, images, 'test');
    expect(describeLayers(run.model.spec())).toBe('linear 784→24, tanh, dropout 0.2, linear 24→12, tanh, dropout 0.2, linear 12→784, sigmoid');
    expect(describeLayers(runModelSpec(config))).toBe(describeLayers(run.model.spec()));
    expect(typeof run.fit.lr).toBe('function');
    expect(run.fit.callbacks).toHaveLength(1);
    expect(run.fit.validationSplit).toBe(0.1);
    run.optimizer.dispose();
    run.model.dispose();
  });

  it('refuses a bad setting naming it, the expected and the actual, before anything is built', async () => {
    const cases: [Partial<Record<keyof TrainConfig, unknown>>, string][] = [
      [{ weightDecay: -1 }, 'start: config.weightDecay: expected a number ≥ 0, got -1'],
      [{ lr: 0 }, 'start: config.lr: expected a number > 0, got 0'],
      [{ hidden: [] }, 'start: config.hidden: expected a list of positive layer sizes, got []'],
      [{ optimizer: 'nadam' }, 'start: config.optimizer: expected one of sgd, momentum, adam, adamw, rmsprop, got "nadam"'],
      [{ loss: 'crossentropy' }, 'start: config.loss: expected one of bce, mse, got "crossentropy"'],
      [{ dropout: 1 }, 'start: config.dropout: expected a rate in [0, 1), got 1'],
      [{ epochs: 1.5 }, 'start: config.epochs: expected an integer from 1 up, got 1.5'],
      [{ lrSchedule: 'linear' }, 'start: config.lrSchedule: expected one of constant, cosine, step, plateau, got "linear"'],
    ];
    const live = be.liveAllocations;
    for (const [change, message] of cases) {
      const e = await simdnetErrorOf(() => createRun({ ...FORM, ...change } as TrainConfig, be, images, 'start'));
      expect(e.message).toBe(message);
      expect(e.code).toBe('E_OPTION');
    }
    expect(be.liveAllocations).toBe(live);
    expect((await simdnetErrorOf(() => checkTrainConfig(null, 'x.simdnet', 'E_FILE_CORRUPT'))).code).toBe('E_FILE_CORRUPT');
  });
});
