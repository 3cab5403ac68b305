// `--data bundled|DIR`: the mnist package's 10,000 digits (fixed 8,000/2,000 split, data seed 0, so every
// run is scored on the same test digits) or a folder of MNIST IDX files (60,000/10,000).

import type { DataSplit } from '../data/dataset.js';
import { loadIdxMnist } from '../data/idx.js';
import { loadBundledMnist } from '../data/mnist-bundled.js';
import { DATA_SPLIT_SEED } from '../shared.js';

export { DATA_SPLIT_SEED };

export function loadData(source: string): DataSplit {
  return source === 'bundled' ? loadBundledMnist({ seed: DATA_SPLIT_SEED }) : loadIdxMnist(source);
}
