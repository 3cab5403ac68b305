// The demo's Vite config: root is web/, the worker is an ES module (it imports the library, which loads its
// .wasm through `new URL(…, import.meta.url)`), and the digits file is packed before anything is served.

import { defineConfig } from 'vite';
import { mnistAsset } from './mnist-asset.js';

export default defineConfig({
  root: __dirname,
  base: './',
  plugins: [mnistAsset()],
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: { host: '127.0.0.1' },
});
