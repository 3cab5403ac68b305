// Puts the packed digits into the demo's public folder: a copy of build/mnist-10k.sdmn.gz, the compact "SDMN" form
// of src/data/mnist-binary.ts (7.9 MB) gzipped (1.6 MB, small on any static host, compressing or not), which
// `npm run build` writes (scripts/pack-mnist.mjs) and Node's loader reads too; the worker gunzips it
// (DecompressionStream), decodes it and splits it with seed 0 exactly as Node does. A Vite plugin, so
// `npm run demo`, `npm run build:web` and the browser test all run it with no other step; it copies the file
// only when it is missing or older than the build's.

import { copyFileSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Plugin } from 'vite';
import { BUNDLED_DIGITS_FILE } from '../src/data/mnist-bundled.js';

export const DIGITS_FILE = 'mnist-10k.sdmn.gz';

/** Copies the packed digits to `<publicDir>/mnist-10k.sdmn.gz` unless it is up to date; returns its path. */
export function packMnistAsset(publicDir: string): string {
  const out = join(publicDir, DIGITS_FILE);
  if (!existsSync(BUNDLED_DIGITS_FILE)) throw new Error(`web demo: ${BUNDLED_DIGITS_FILE} is missing; run \`npm run build\` first`);
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(BUNDLED_DIGITS_FILE).mtimeMs) return out;
  mkdirSync(dirname(out), { recursive: true });
  // copy then rename, so a concurrent build or server never reads half a file
  const tmp = `${out}.${process.pid}.tmp`;
  copyFileSync(BUNDLED_DIGITS_FILE, tmp);
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
