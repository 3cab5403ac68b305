#!/usr/bin/env node
// Writes the `mnist` package's 10,000 digits in the compact "SDMN" form (src/data/mnist-binary.ts) for the
// browser, which decodes it and splits it with the same seed as Node.
// Usage: node scripts/pack-mnist.mjs [out-file]   (default build/mnist-digits.sdmn; needs `npm run build:ts`)

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? resolve(root, 'build/mnist-digits.sdmn'));

let data;
try {
  data = await import(pathToFileURL(resolve(root, 'dist/data/node.js')).href);
} catch (e) {
  console.error(`pack-mnist: cannot load dist/data/node.js (${e.message}); run \`npm run build:ts\` first`);
  process.exit(1);
}

const { images, labels } = data.loadBundledDigits();
const bytes = data.packDigits(images, labels);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, bytes);
console.log(`pack-mnist: wrote ${labels.length} digits, ${bytes.length} bytes → ${out}`);
