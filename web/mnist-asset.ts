// Build step: packs the `mnist` package's 10,000 digits into web/public/mnist-10k.sdmn.gz: the SDMN form of
// src/data/mnist-binary.ts (7.9 MB), gzipped (1.6 MB) so the transfer is small on any static host, compressing
// or not; the worker gunzips it (DecompressionStream), decodes it and splits it with seed 0 exactly as Node
// does. A Vite plugin, so `npm run demo`, `npm run build:web` and the browser test all run it with no other
// step; it rewrites the file only when it is missing or older than its sources.

import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { loadBundledDigits } from '../src/data/mnist-bundled.js';
import { packDigits } from '../src/data/mnist-binary.js';

export const DIGITS_FILE = 'mnist-10k.sdmn.gz';

/** Writes `<publicDir>/mnist-10k.sdmn.gz` unless it is up to date; returns its path. */
export function packMnistAsset(publicDir: string): string {
  const out = join(publicDir, DIGITS_FILE);
  const sources = [
    createRequire(import.meta.url).resolve('mnist'),
    fileURLToPath(new URL('../src/data/mnist-binary.ts', import.meta.url)),
  ];
  const newest = Math.max(...sources.map((f) => (existsSync(f) ? statSync(f).mtimeMs : 0)));
  if (existsSync(out) && statSync(out).mtimeMs >= newest) return out;
  const { images, labels } = loadBundledDigits();
  mkdirSync(dirname(out), { recursive: true });
  // write then rename, so a concurrent build or server never reads half a file
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, gzipSync(packDigits(images, labels), { level: 9 }));
  renameSync(tmp, out);
  return out;
}

export function mnistAsset(): Plugin {
  return {
    name: 'simdnet:mnist-asset',
    configResolved(config) {
      packMnistAsset(config.publicDir);
    },
  };
}
