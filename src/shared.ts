// The facts the Node side (CLI, data source) and the web demo share, owned here so they cannot drift apart.

export { IMAGE_WIDTH } from './data/dataset.js';
export { WASM_VARIANTS } from './backend/wasm.js';

/** Seeds the bundled digits' train/test split: every run, in Node and in the browser, scores the same test digits. */
export const DATA_SPLIT_SEED = 0;

/** Bundled digits in the training part (of 10,000); the rest are the test part. */
export const BUNDLED_TRAIN_COUNT = 8000;
