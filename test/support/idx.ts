// The one IDX writer (LeCun's MNIST layout: a big-endian header of magic, count and, for images, rows and
// cols; then one byte a pixel or a label), for the tests of the IDX reader, the fuzzers and the CLI's --data.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const IDX_IMAGES_MAGIC = 0x803;
export const IDX_LABELS_MAGIC = 0x801;

/** An IDX images file of `pixels`; the header's fields may be set to lie (count, shape, magic) for error tests. */
export function idxImages(pixels: Uint8Array, header: { count?: number; rows?: number; cols?: number; magic?: number } = {}): Uint8Array {
  const { rows = 28, cols = 28 } = header;
  return idxFile(pixels, [header.magic ?? IDX_IMAGES_MAGIC, header.count ?? pixels.length / (rows * cols), rows, cols]);
}

/** An IDX labels file of `labels`; the header's count and magic may be set to lie. */
export function idxLabels(labels: Uint8Array, header: { count?: number; magic?: number } = {}): Uint8Array {
  return idxFile(labels, [header.magic ?? IDX_LABELS_MAGIC, header.count ?? labels.length]);
}

function idxFile(body: Uint8Array, fields: number[]): Uint8Array {
  const b = new Uint8Array(4 * fields.length + body.length);
  const v = new DataView(b.buffer);
  fields.forEach((f, i) => v.setUint32(4 * i, f));
  b.set(body, 4 * fields.length);
  return b;
}

export interface IdxSet {
  /** 28×28 images, one byte a pixel (or floats in [0, 1], rounded to bytes), and one label each. */
  images: Uint8Array | Float32Array;
  labels: Uint8Array;
}

/** Writes an MNIST folder: train-{images,labels}-idx?-ubyte and t10k-…; `gz` gzips each file, `dotted` spells
 *  them `.idx3-ubyte` (both spellings are MNIST's in the wild). Returns the folder. */
export function writeIdxFolder(dir: string, sets: { train: IdxSet; test: IdxSet }, opts: { gz?: boolean; dotted?: boolean } = {}): string {
  mkdirSync(dir, { recursive: true });
  const put = (base: string, bytes: Uint8Array) => {
    const name = (opts.dotted ? base.replace(/-(idx\d-ubyte)$/, '.$1') : base) + (opts.gz ? '.gz' : '');
    writeFileSync(join(dir, name), opts.gz ? gzipSync(bytes) : bytes);
  };
  for (const [prefix, set] of [['train', sets.train], ['t10k', sets.test]] as const) {
    const pixels = set.images instanceof Float32Array ? Uint8Array.from(set.images, (v) => Math.round(v * 255)) : set.images;
    put(`${prefix}-images-idx3-ubyte`, idxImages(pixels, { count: set.labels.length }));
    put(`${prefix}-labels-idx1-ubyte`, idxLabels(set.labels));
  }
  return dir;
}
