// Sequential.predict / predictInto (issue 19): against a float64 reference on every backend; the same bits for a row
// whatever the batch it is in (up to PACKED_ROWS rows run on the packed copy of the weights, more the GEMM) and
// whatever the thread count; the packed copy follows every change of the weights; predictInto fills the caller's
// array and allocates nothing after its first call; the batch size comes from the memory budget.

import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { availableWasmVariants, createWasmBackend } from '../src/backend/wasm.js';
import { Dropout, Linear, ReLU, Sigmoid, Softmax, Tanh, type Layer } from '../src/layers/index.js';
import { PREDICT_BYTES, predictBytes, predictRows } from '../src/memory.js';
import { Sequential } from '../src/model.js';
import { Rng } from '../src/random.js';
import { createOptimizer } from '../src/optimizers.js';
import { fit } from '../src/training/fit.js';
import { backendCases, simdnetErrorOf } from './support/backends.js';

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
const firstDiff = (a: Float32Array, b: Float32Array) => bits(a).findIndex((v, i) => v !== bits(b)[i]);

const IN = 37;
/** relu, sigmoid, tanh, softmax, a Dropout (the identity at inference), a Linear with no activation */
const layers = (): Layer[] => [new Linear(IN, 70), new ReLU(), new Dropout(0.3), new Linear(70, 45), new Tanh(), new Linear(45, 33), new Linear(33, 21), new Sigmoid(), new Linear(21, 9), new Softmax()];

/** The model's function in float64, from its weights: plain loops, nothing shared with the kernels. */
function reference(model: Sequential, x: Float32Array): Float64Array {
  let a = Float64Array.from(x);
  let width = model.inputWidth;
  const rows = x.length / width;
  model.layers.forEach((layer, i) => {
    const spec = layer.spec();
    if (spec.type === 'linear') {
      const [{ values: W }, { values: b }] = model.getWeights(i);
      const out = new Float64Array(rows * spec.out);
      for (let r = 0; r < rows; r++)
        for (let j = 0; j < spec.out; j++) {
          let s = b[j];
          for (let k = 0; k < spec.in; k++) s += a[r * spec.in + k] * W[k * spec.out + j];
          out[r * spec.out + j] = s;
        }
      a = out;
      width = spec.out;
    } else if (spec.type === 'relu') a = a.map((v) => Math.max(v, 0));
    else if (spec.type === 'tanh') a = a.map(Math.tanh);
    else if (spec.type === 'sigmoid') a = a.map((v) => 1 / (1 + Math.exp(-v)));
    else if (spec.type === 'softmax') {
      for (let r = 0; r < rows; r++) {
        const row = a.subarray(r * width, (r + 1) * width);
        const m = Math.max(...row);
        const e = row.map((v) => Math.exp(v - m));
        const sum = e.reduce((p, q) => p + q, 0);
        row.set(e.map((v) => v / sum));
      }
    }
  });
  return a;
}

const inputs = (rows: number, seed: number) => {
  const rng = new Rng(seed);
  return Float32Array.from({ length: rows * IN }, () => rng.uniform(-2, 2));
};

describe.each(backendCases())('predict on the $label backend', ({ make }) => {
  it('matches a float64 reference for 1, 2, 3, 4, 5, 8, 13 and 300 rows', async () => {
    const backend = await make();
    const model = new Sequential(layers(), { backend, seed: 5 });
    for (const rows of [1, 2, 3, 4, 5, 8, 13, 300]) {
      const x = inputs(rows, rows);
      const y = model.predict(x);
      const ref = reference(model, x);
      let worst = 0;
      for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - ref[i]));
      expect(worst, `${rows} rows`).toBeLessThan(2e-5);
    }
    model.dispose();
  });

  it('packs its copy of the weights again after setWeights, a fit step and an optimizer step (never a stale copy)', async () => {
    // 3 rows: at most PACKED_ROWS, so each predict runs on the packed copy; the reference reads getWeights, so a
    // predict on stale packed weights gives the old model's outputs and fails
    const backend = await make();
    const model = new Sequential(layers(), { backend, seed: 7 });
    const x = inputs(3, 11);
    let last = model.predict(x);
    const fresh = (after: string) => {
      const y = model.predict(x);
      const ref = reference(model, x);
      let worst = 0;
      for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - ref[i]));
      expect(worst, after).toBeLessThan(2e-5);
      expect(firstDiff(y, last), `${after}: the outputs changed`).not.toBe(-1);
      last = y;
    };
    model.setWeights(model.getWeights().map((v) => -0.9 * v));
    fresh('after setWeights(all)');
    const [w0] = model.getWeights(3);
    model.setWeights(3, [{ name: 'W', values: w0.values.map((v) => v + 0.25) }]);
    fresh('after setWeights(layer)');
    const rng = new Rng(3);
    const y = Float32Array.from({ length: 16 * 9 }, () => rng.next());
    await fit(model, { train: { x: inputs(16, 12), y } }, { epochs: 1, batchSize: 16, loss: 'mse', optimizer: 'sgd', lr: 0.5 });
    fresh('after a fit step');
    const sgd = createOptimizer('sgd', { lr: 0.5 });
    sgd.step(model); // the fit's gradients are still there
    fresh('after an optimizer step alone');
    model.dispose();
  });

  it('predictInto fills the caller\'s array, allocates nothing after the first call, and refuses a wrong one', async () => {
    const backend = await make();
    const model = new Sequential(layers(), { backend, seed: 6 });
    const x = inputs(50, 1);
    const out = new Float32Array(50 * 9).fill(NaN);
    expect(model.predictInto(out, x)).toBe(out);
    expect(out).toEqual(model.predict(x));
    model.predictInto(out.subarray(0, 9), x.subarray(0, IN)); // the first batch of ≤ PACKED_ROWS rows packs the weights
    const live = backend.liveAllocations;
    const bytes = backend.memory.buffer.byteLength;
    for (const rows of [50, 1, 7, 50]) model.predictInto(out.subarray(0, rows * 9), x.subarray(0, rows * IN));
    expect(backend.liveAllocations).toBe(live);
    expect(backend.memory.buffer.byteLength).toBe(bytes);
    for (const wrong of [new Float32Array(50 * 9 - 1), new Float32Array(51 * 9), new Float64Array(50 * 9), null]) {
      const e = await simdnetErrorOf(() => model.predictInto(wrong as Float32Array, x));
      expect(e.code).toBe('E_SHAPE');
      expect(e.message).toMatch(/^predictInto: expected out as a Float32Array of 50 rows × 9 = 450 values, got /);
    }
    // dispose gives predict's buffers back too
    const before = backend.liveAllocations;
    model.dispose();
    expect(backend.liveAllocations).toBeLessThan(before);
  });
});

describe.each(availableWasmVariants().filter((v) => v !== 'scalar'))('%s build: a row gets the same bits in any batch, with any thread count', (variant) => {
  it('784-512-784 and the mixed stack: each row of a 300-row predict = that row alone = batches of 1, 3, 4, 7, 64; threads 1, 2, 3', async () => {
    const cases: [string, () => Layer[], number][] = [
      ['784-512-784', () => [new Linear(784, 512), new ReLU(), new Linear(512, 784), new Sigmoid()], 784],
      ['mixed', layers, IN],
    ];
    const backends: Backend[] = await Promise.all([1, 2, 3].map((threads) => createWasmBackend({ variant, threads })));
    for (const [name, stack, width] of cases) {
      const rng = new Rng(9);
      const x = Float32Array.from({ length: 300 * width }, () => rng.uniform(0, 1));
      let first: Float32Array | undefined;
      for (const backend of backends) {
        const model = new Sequential(stack(), { backend, seed: 8 });
        const all = model.predict(x);
        first ??= all;
        expect(firstDiff(all, first), `${name}, ${backend.threads} threads vs 1`).toBe(-1);
        for (const batch of [1, 3, 4, 7, 64]) expect(firstDiff(model.predict(x, batch), all), `${name}, batches of ${batch}, ${backend.threads} threads`).toBe(-1);
        const outW = model.outputWidth;
        for (const r of [0, 1, 150, 299]) {
          const alone = model.predict(x.subarray(r * width, (r + 1) * width));
          expect(firstDiff(alone, all.subarray(r * outW, (r + 1) * outW)), `${name}, row ${r} alone, ${backend.threads} threads`).toBe(-1);
        }
        model.dispose();
      }
    }
    for (const b of backends) b.dispose();
  });
});

describe('predict batch size', () => {
  it('is what PREDICT_BYTES of two activation buffers hold (half of what is left when less), at least one row', async () => {
    const backend = await createWasmBackend({ threads: 1 });
    const model = new Sequential([new Linear(784, 1024), new ReLU(), new Linear(1024, 784)], { backend });
    expect(predictBytes(model, 1)).toBe(2 * 4 * 1024);
    expect(predictBytes(model, 10)).toBe(10 * 2 * 4 * 1024);
    expect(predictRows(model, 2 ** 32)).toBe(Math.floor(PREDICT_BYTES / (8 * 1024)));
    expect(predictRows(model, 2 ** 20)).toBe(64); // 1 MiB left: half of it
    expect(predictRows(model, 100)).toBe(1);
    const small = new Sequential([new Linear(784, 128), new ReLU(), new Linear(128, 784)], { backend });
    expect(predictRows(small, 2 ** 32)).toBeGreaterThanOrEqual(2000); // the bench's largest call is one batch
  });
});
