// The Node data API: everything browser-safe plus the loaders that read files (node:fs, node:zlib).

export * from './index.js';
export * from './mnist-bundled.js';
export * from './idx.js';
