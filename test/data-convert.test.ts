// number[][] and brain.js-style {input, output}[] in predict and fit: converted once (src/data/convert.ts) to the
// same Float32Array rows, so the results are the same bits as with Float32Arrays; ragged rows and non-numbers
// are refused naming the row and column.

import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../src/backend/js.js';
import { SimdnetError } from '../src/errors.js';
import { Linear, Sigmoid } from '../src/layers/index.js';
import { Sequential } from '../src/model.js';
import { Rng } from '../src/random.js';
import { fit } from '../src/training/fit.js';
import { errorOf } from './support/backends.js';

const be = await createJsBackend();
const net = () => new Sequential([new Linear(3, 2), new Sigmoid()], { backend: be, seed: 1 });
const rng = new Rng(4);
const X = Array.from({ length: 10 }, () => [rng.next(), rng.next(), rng.next()]);
const Y = X.map(([a, b, c]) => [a * b, Math.max(b, c)]);
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('number[][] and {input, output}[]', () => {
  it('predict(number[][]) gives the bits of predict(Float32Array)', () => {
    const m = net();
    expect(bits(m.predict(X))).toEqual(bits(m.predict(Float32Array.from(X.flat()))));
    m.dispose();
  });

  it('fit on pairs, on {x, y} of number[][], and on Float32Arrays trains to the same bits (test sets too)', async () => {
    const run = async (data: Parameters<typeof fit>[1]) => {
      const m = net();
      const h = await fit(m, data, { epochs: 2, batchSize: 4, optimizer: 'adam', loss: 'mse', seed: 3 });
      const w = m.getWeights();
      m.dispose();
      return { w: bits(w), losses: h.epochs.map((e) => [e.trainLoss, e.testLoss]) };
    };
    const pairs = X.map((input, i) => ({ input, output: Y[i] }));
    const flat = { x: Float32Array.from(X.flat()), y: Float32Array.from(Y.flat()) };
    const want = await run({ train: flat, test: flat });
    expect(await run({ train: pairs, test: pairs })).toEqual(want);
    expect(await run({ train: { x: X, y: Y }, test: { x: X, y: Y } })).toEqual(want);
    const trainOnly = await run({ train: flat });
    expect(await run(pairs)).toEqual(trainOnly); // the pairs alone: the training set
  });

  it('ragged rows, non-numbers and malformed pairs are refused naming row and column', async () => {
    const m = net();
    const fails = async (f: () => unknown) => {
      try {
        await f();
      } catch (e) {
        expect(e).toBeInstanceOf(SimdnetError);
        return `${(e as SimdnetError).code} ${(e as Error).message}`;
      }
      throw new Error('nothing thrown');
    };
    expect(await fails(() => m.predict([[1, 2, 3], [1, 2]]))).toBe("E_SHAPE predict: row 1 has 2 values, expected 3 (the model's input width)");
    expect(await fails(() => m.predict([[1, 2, 3], [1, '2' as unknown as number, 3]]))).toBe("E_INVALID predict: row 1, column 1 is '2', expected a finite number");
    expect(await fails(() => m.predict([[1, 2, NaN]]))).toBe('E_INVALID predict: row 0, column 2 is NaN, expected a finite number');
    expect(await fails(() => m.predict([[1, 2, 3], 7 as unknown as number[]]))).toBe('E_INVALID predict: row 1 is 7, expected an array of 3 numbers');
    const opts = { epochs: 1 };
    expect(await fails(() => fit(m, [{ input: [1, 2, 3], output: [1] }], opts))).toBe("E_SHAPE train output: row 0 has 1 values, expected 2 (the model's output width)");
    expect(await fails(() => fit(m, [{ input: [1, 2, 3] } as never], opts))).toBe('E_INVALID train: item 0 is an object, expected {input, output}');
    expect(await fails(() => fit(m, { train: { x: X, y: Y }, test: { x: [[1, 2]], y: [[1, 2]] } }, opts))).toBe("E_SHAPE test.x: row 0 has 2 values, expected 3 (the model's input width)");
    // Float32Arrays keep their own checks
    expect(await errorOf(() => fit(m, { train: { x: new Float32Array(4), y: new Float32Array(2) } }, opts))).toMatch(/train\.x: expected a positive multiple of the model's input width 3/);
    m.dispose();
  });
});
