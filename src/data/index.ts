// The browser-safe data API: the Dataset type, the packed digits and their seeded split, noise models.
// Node-only loaders (the bundled `mnist` package, IDX files) are in ./node.ts.

export * from './dataset.js';
export * from './mnist-binary.js';
export * from './noise.js';
export * from './convert.js';
