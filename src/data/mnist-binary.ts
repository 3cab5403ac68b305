// The bundled digits in a compact binary form (the package ships them so: build/mnist-10k.sdmn.gz, written by
// scripts/pack-mnist.mjs), and the seeded train/test split, which Node's loader and the browser both use, so both
// runtimes see the same data by construction. Browser-safe (no Node imports).
//
// Format "SDMN" (all of it little-endian):
//   bytes 0..3   magic "SDMN"
//   bytes 4..7   count, uint32
//   count×784    pixels, uint8 = round(v·255), row-major 28×28, images in the Node order
//                (class 0's digits, then class 1's, ...)
//   count        labels, uint8 0..9
// The mnist package stores p/255 rounded to 3 decimals, so round(v·255) recovers the original byte exactly
// and this form loses nothing; every reader dequantises through the one `dequantize` table.

import { check } from '../errors.js';
import { MAX_SEED, Rng } from '../random.js';
import { IMAGE_WIDTH, NUM_CLASSES, makeDataset, type DataSplit } from './dataset.js';

const MAGIC = [0x53, 0x44, 0x4d, 0x4e]; // "SDMN"
const HEADER_BYTES = 8;

/** byte → float in 0..1; one table so every path produces the identical Float32 values. */
const BYTE_TO_FLOAT = (() => {
  const t = new Float32Array(256);
  for (let i = 0; i < 256; i++) t[i] = i / 255;
  return t;
})();

/** uint8 pixels → Float32 in 0..1 (p/255). */
export function dequantize(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = BYTE_TO_FLOAT[pixels[i]];
  return out;
}

/** Packs images (count×784 in 0..1) and labels into the "SDMN" form described above. */
export function packDigits(images: Float32Array, labels: Uint8Array): Uint8Array {
  const count = labels.length;
  makeDataset(images, labels); // checks the sizes agree
  const bytes = new Uint8Array(HEADER_BYTES + count * IMAGE_WIDTH + count);
  bytes.set(MAGIC, 0);
  new DataView(bytes.buffer).setUint32(4, count, true);
  const pixels = bytes.subarray(HEADER_BYTES, HEADER_BYTES + count * IMAGE_WIDTH);
  for (let i = 0; i < images.length; i++) {
    const v = images[i];
    check(v >= 0 && v <= 1, () => `packDigits: pixel ${i} is ${v}, expected a value in [0, 1]`);
    pixels[i] = Math.round(v * 255);
  }
  for (let i = 0; i < count; i++) {
    check(labels[i] < NUM_CLASSES, () => `packDigits: label ${labels[i]} at index ${i} is out of range 0..9`);
  }
  bytes.set(labels, HEADER_BYTES + count * IMAGE_WIDTH);
  return bytes;
}

/** Reads the "SDMN" form back: images as 0..1 floats, labels copied out of `bytes`. */
export function decodeDigits(bytes: Uint8Array): { images: Float32Array; labels: Uint8Array } {
  check(
    bytes.length >= HEADER_BYTES,
    () => `mnist digits: truncated: expected at least the ${HEADER_BYTES}-byte header, got ${bytes.length} bytes`,
  );
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  check(
    MAGIC.every((b, i) => bytes[i] === b),
    () => `mnist digits: bad magic: expected "SDMN", got ${JSON.stringify(magic)}`,
  );
  const count = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  const expected = HEADER_BYTES + count * (IMAGE_WIDTH + 1);
  check(
    bytes.length === expected,
    () => `mnist digits: header says ${count} images (${expected} bytes) but the data has ${bytes.length} bytes`,
  );
  const pixelEnd = HEADER_BYTES + count * IMAGE_WIDTH;
  const labels = bytes.slice(pixelEnd, pixelEnd + count);
  for (let i = 0; i < count; i++) {
    check(labels[i] < NUM_CLASSES, () => `mnist digits: label ${labels[i]} at index ${i} is out of range 0..9`);
  }
  return { images: dequantize(bytes.subarray(HEADER_BYTES, pixelEnd)), labels };
}

/**
 * The seeded train/test split: shuffles the indices 0..count-1 with `new Rng(seed)` (Fisher–Yates), the first
 * `trainCount` go to train, the rest to test, each in shuffled order. It depends on nothing but the seed and
 * the input order, and copies the rows, so the inputs are never aliased.
 */
export function splitDigits(images: Float32Array, labels: Uint8Array, seed: number, trainCount: number): DataSplit {
  const count = labels.length;
  makeDataset(images, labels);
  check(
    Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED,
    `split: seed must be an integer in 0..${MAX_SEED}, got ${seed}`,
  );
  check(
    Number.isInteger(trainCount) && trainCount >= 1 && trainCount < count,
    `split: trainCount must be an integer in 1..${count - 1} (of ${count} images), got ${trainCount}`,
  );
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  new Rng(seed).shuffle(order);
  const take = (from: number, to: number) => {
    const n = to - from;
    const outImages = new Float32Array(n * IMAGE_WIDTH);
    const outLabels = new Uint8Array(n);
    for (let r = 0; r < n; r++) {
      const src = order[from + r];
      outImages.set(images.subarray(src * IMAGE_WIDTH, (src + 1) * IMAGE_WIDTH), r * IMAGE_WIDTH);
      outLabels[r] = labels[src];
    }
    return makeDataset(outImages, outLabels);
  };
  return { train: take(0, trainCount), test: take(trainCount, count) };
}
