// The shape every data source hands to training: flat 28×28 images in 0..1 plus their digit labels.
// Browser-safe (no Node imports).

import { check } from '../errors.js';

/** Pixels per image: 28×28, row-major. */
export const IMAGE_WIDTH = 784;
/** Digit classes 0..9. */
export const NUM_CLASSES = 10;

/** `count` images of 28×28 pixels, row-major, one row of `images` per image. */
export interface Dataset {
  /** count×784 pixel values in [0, 1]. */
  images: Float32Array;
  /** count labels in 0..9. */
  labels: Uint8Array;
  count: number;
  width: 784;
}

export interface DataSplit {
  train: Dataset;
  test: Dataset;
}

/** Wraps images and labels as a Dataset after checking that their sizes agree. */
export function makeDataset(images: Float32Array, labels: Uint8Array): Dataset {
  const count = labels.length;
  check(
    images.length === count * IMAGE_WIDTH,
    () => `dataset: images have ${images.length} values, expected ${count} labels × ${IMAGE_WIDTH} = ${count * IMAGE_WIDTH}`,
  );
  return { images, labels, count, width: IMAGE_WIDTH };
}

/** One-hot rows: out[i·classes + labels[i]] = 1, everything else 0. */
export function oneHot(labels: Uint8Array, classes = NUM_CLASSES): Float32Array {
  check(
    Number.isInteger(classes) && classes > 0,
    `oneHot: classes must be a positive integer, got ${classes}`,
  );
  const out = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    check(y < classes, () => `oneHot: label ${y} at index ${i} is out of range 0..${classes - 1}`);
    out[i * classes + y] = 1;
  }
  return out;
}
