// The demo's Vite config: root is web/ and the digits file is copied to public/ before anything is served. The
// worker keeps Vite's default format (iife): the library needs no setting here (test/consumers.test.ts builds
// apps with none).
//
// Both servers (`npm run demo`, `vite preview web`) send COOP + COEP, which make the page cross-origin isolated:
// only then does it have SharedArrayBuffer, which the wasm backend's kernel threads need. Everything the page
// loads (the worker, the digits) is same-origin, so `require-corp` blocks nothing. Without the headers
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
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: { host: '127.0.0.1', headers: CROSS_ORIGIN_ISOLATION },
  preview: { headers: CROSS_ORIGIN_ISOLATION },
});
