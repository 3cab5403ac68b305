// simdnet for Node: everything in the browser entry, plus files (model save/load, IDX, the bundled digits).

export * from './index.js';
export { loadBundledMnist, loadBundledDigits } from './data/mnist-bundled.js';
export { loadIdxMnist, parseIdx, readIdxFile } from './data/idx.js';
export { saveModel, loadModel, writeFileAtomic } from './node/files.js';
export { digitGridPng, digitPng, readDigitPng, lossChartSvg } from './node/pictures.js';
