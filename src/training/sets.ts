// The sets fit works on, apart from its loop: the checks on a set, the seeded validation split, and the noisy
// copies of the inputs that are drawn once (the test set's and the validation part's).

import type { Backend } from '../backend/backend.js';
import { gatherNoiseJs } from '../backend/noise-js.js';
import { TEST_NOISE_STREAM, noiseDraw, noisyCopy } from '../data/batches.js';
import { SimdnetError, check } from '../errors.js';
import { Rng } from '../random.js';
import type { FitSet, NoiseOptions } from './types.js';

/** The validation rows' noise stream (drawn once, like the test set's). */
export const VALIDATION_NOISE_STREAM = 0x7a11da7e;
/** Seeds the validation split, apart from every epoch's shuffle. */
const SPLIT_STREAM = 0x5b117;

/** Noise for the test inputs (rows of `width` values): drawn once from the seed (its own stream), the same every
 *  epoch so PSNR compares across epochs. With a backend, by its kernel (what fit evaluates on: pass the model's
 *  backend); without, by the js twin (equal within float tolerance). */
export function noisyTestInputs(test: FitSet, noise: NoiseOptions | null | undefined, seed: number, at: { width: number; backend?: Backend }): Float32Array {
  return noisyInputs(test, noise, seed, TEST_NOISE_STREAM, at);
}

export function noisyInputs(set: FitSet, noise: NoiseOptions | null | undefined, seed: number, stream: number, at: { width: number; backend?: Backend }): Float32Array {
  if (!noise) return set.x;
  const { width, backend } = at;
  check(Number.isInteger(width) && width > 0 && set.x.length % width === 0, () => `noisyTestInputs: expected rows of a positive width, got width ${width} for ${set.x.length} values`, 'E_SHAPE');
  const draw = noiseDraw(noise.kind, noise.factor, seed, stream);
  if (backend) return noisyCopy(backend, set.x, width, draw);
  const n = set.x.length;
  const heap = new Float32Array(2 * n);
  heap.set(set.x);
  gatherNoiseJs(heap, new Int32Array(heap.buffer), 4 * n, 0, 0, 0, n / width, width, draw.code, draw.factor, draw.k0, draw.k1);
  return heap.slice(n);
}

/** Splits `set` into training and validation rows: a seeded pick of round(fraction × rows) rows, each part in
 *  its original order (the epochs shuffle the training part). */
export function splitValidation(set: FitSet, fraction: number, seed: number, inW: number, outW: number): { train: FitSet; validation: FitSet } {
  const rows = set.x.length / inW;
  const problem = validationSplitProblem(rows, fraction);
  check(problem === undefined, () => `fit: validationSplit ${problem}`, 'E_OPTION');
  const nVal = validationRows(rows, fraction);
  const order = new Int32Array(rows).map((_, i) => i);
  new Rng(Math.imul(seed >>> 0, 0x9e3779b1) ^ SPLIT_STREAM).shuffle(order);
  const held = new Uint8Array(rows);
  for (let i = 0; i < nVal; i++) held[order[i]] = 1;
  const take = (a: Float32Array, w: number, want: number, n: number) => {
    const out = new Float32Array(n * w);
    for (let r = 0, k = 0; r < rows; r++) if (held[r] === want) out.set(a.subarray(r * w, (r + 1) * w), w * k++);
    return out;
  };
  const part = (want: number, n: number): FitSet => {
    const x = take(set.x, inW, want, n);
    return { x, y: set.y === set.x ? x : take(set.y, outW, want, n) }; // an autoencoder's targets stay its inputs
  };
  return { train: part(0, rows - nVal), validation: part(1, nVal) };
}

/** How many of `rows` a validation split of `fraction` holds out. */
export function validationRows(rows: number, fraction: number): number {
  return Math.round(fraction * rows);
}

/** Why a validation split of `fraction` cannot cut `rows` rows (each part needs one), or undefined when it can. */
export function validationSplitProblem(rows: number, fraction: number): string | undefined {
  const nVal = validationRows(rows, fraction);
  return nVal >= 1 && nVal < rows ? undefined : `${fraction} of ${rows} rows leaves ${nVal} for validation and ${rows - nVal} for training; each needs at least one`;
}

export function checkSet(name: string, set: FitSet, inW: number, outW: number): void {
  check(set?.x instanceof Float32Array && set?.y instanceof Float32Array, `${name}: expected {x, y} as Float32Arrays`);
  check(set.x.length > 0 && set.x.length % inW === 0, () => `${name}.x: expected a positive multiple of the model's input width ${inW}, got ${set.x.length} values`);
  const rows = set.x.length / inW;
  check(set.y.length === rows * outW, () => `${name}.y: expected ${rows} rows × ${outW} (the model's output width) = ${rows * outW} values, got ${set.y.length}`);
  // a NaN in the data would otherwise show up as "training diverged" and blame the learning rate
  for (const [key, a, w] of [['x', set.x, inW], ['y', set.y, outW]] as const) {
    for (let i = 0; i < a.length; i++)
      if (!Number.isFinite(a[i])) throw new SimdnetError(`${name}.${key}: value ${a[i]} at row ${Math.floor(i / w)}, column ${i % w}; the data must be finite numbers`);
  }
}
