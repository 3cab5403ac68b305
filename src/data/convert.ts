// Host data in the shapes people bring, converted once to the flat Float32Array rows the library runs on:
// a Float32Array as is, number[][] (one array per row, Keras/tfjs style), and brain.js-style {input, output}[].
// Ragged rows and values that are not finite numbers are refused here, naming the row and the column.

import { SimdnetError } from '../errors.js';

/** Rows for predict, or for one side of a training set. */
export type Rows = Float32Array | readonly ArrayLike<number>[];
/** One example, as brain.js takes them. */
export interface Pair {
  input: ArrayLike<number>;
  output: ArrayLike<number>;
}
/** A training or test set: {x, y} of rows, or a list of {input, output} pairs. */
export type SetInput = { x: Rows; y: Rows } | readonly Pair[];
/** What fit takes: {train, test?} of sets, or the training set alone as {input, output} pairs. */
export type FitInput = { train: SetInput; test?: SetInput } | readonly Pair[];

/** `rows` as one Float32Array of rows × width values. Anything but an array (a Float32Array, or what the caller's
 *  own checks will name) is returned as it is. */
export function toMatrix(rows: Rows, width: number, what: string, side: 'input' | 'output' = 'input'): Float32Array {
  if (!Array.isArray(rows)) return rows as Float32Array;
  if (rows.length > 0 && typeof rows[0] !== 'object')
    throw new SimdnetError(`${what}: expected a Float32Array (rows × width values) or an array of rows (number[][]), got a flat array of ${rows.length} ${typeof rows[0]}s`, 'E_INVALID');
  const out = new Float32Array(rows.length * width);
  rows.forEach((row, r) => {
    if (row == null || typeof row !== 'object' || typeof (row as ArrayLike<number>).length !== 'number')
      throw new SimdnetError(`${what}: row ${r} is ${describe(row)}, expected an array of ${width} numbers`, 'E_INVALID');
    if (row.length !== width) throw new SimdnetError(`${what}: row ${r} has ${row.length} values, expected ${width} (the model's ${side} width)`, 'E_SHAPE');
    for (let j = 0; j < width; j++) {
      const v = row[j];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new SimdnetError(`${what}: row ${r}, column ${j} is ${describe(v)}, expected a finite number`, 'E_INVALID');
      out[r * width + j] = v;
    }
  });
  return out;
}

/** A set as {x, y} Float32Arrays: {x, y} of rows converted, or pairs split into inputs and outputs. */
export function toSet(set: SetInput, inWidth: number, outWidth: number, what: string): { x: Float32Array; y: Float32Array } {
  if (Array.isArray(set)) {
    set.forEach((p, i) => {
      if (p === null || typeof p !== 'object' || !('input' in p) || !('output' in p)) throw new SimdnetError(`${what}: item ${i} is ${describe(p)}, expected {input, output}`, 'E_INVALID');
    });
    const pairs = set as readonly Pair[];
    return { x: toMatrix(pairs.map((p) => p.input), inWidth, `${what} input`), y: toMatrix(pairs.map((p) => p.output), outWidth, `${what} output`, 'output') };
  }
  const { x, y } = (set ?? {}) as { x: Rows; y: Rows };
  const isRows = (v: unknown) => v instanceof Float32Array || Array.isArray(v);
  if (!isRows(x) || !isRows(y)) return set as never; // fit's own checks name what is wrong
  return { x: toMatrix(x, inWidth, `${what}.x`), y: toMatrix(y, outWidth, `${what}.y`, 'output') };
}

/** fit's data as {train, test?} of Float32Arrays. */
export function toFitData(data: FitInput, inWidth: number, outWidth: number): { train: { x: Float32Array; y: Float32Array }; test?: { x: Float32Array; y: Float32Array } } {
  if (Array.isArray(data)) return { train: toSet(data, inWidth, outWidth, 'train') };
  if (data === null || typeof data !== 'object') throw new SimdnetError(`fit: expected data as {train: {x, y}, test?: {x, y}} or [{input, output}, …], got ${describe(data)}`, 'E_INVALID');
  const { train, test } = data as { train: SetInput; test?: SetInput };
  // anything else (missing train, other shapes) goes through as it is, for fit's own checks to name
  if (train == null || typeof train !== 'object') return data as never;
  return { train: toSet(train, inWidth, outWidth, 'train'), ...(test != null ? { test: toSet(test, inWidth, outWidth, 'test') } : {}) };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return `'${v.length > 20 ? `${v.slice(0, 20)}…` : v}'`;
  if (typeof v === 'object') return 'an object';
  return String(v);
}
