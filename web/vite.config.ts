// The demo's Vite config: root is web/, the worker is an ES module (it imports the library, which loads its
// .wasm through `new URL(…, import.meta.url)`), and the digits file is packed before anything is served.
//
// Both servers (`npm run demo`, `vite preview web`) send COOP + COEP, which make the page cross-origin isolated:
// only then does it have SharedArrayBuffer, which the wasm backend's kernel threads need. Everything the page
// loads (the worker, the .wasm, the digits) is same-origin, so `require-corp` blocks nothing. Without the headers
// the demo still runs, on one thread, and the page says why.

import { defineConfig } from 'vite';
import { mnistAsset } from './mnist-asset.js';

/** The two headers of cross-origin isolation (web/README.md shows them for other hosts). */
export const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: __dirname,
  base: './',
  plugins: [mnistAsset()],
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: { host: '127.0.0.1', headers: CROSS_ORIGIN_ISOLATION },
  preview: { headers: CROSS_ORIGIN_ISOLATION },
});
