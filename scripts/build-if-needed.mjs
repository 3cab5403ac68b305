#!/usr/bin/env node
// `prestart` / `predemo`: builds (npm run build) when a fresh clone has not yet, so `npm install && npm start`
// works without a `prepare` script (which npm would run, and warn about, for every user installing the package
// from a tarball or git). Rebuild by hand after changing the sources: `npm run build`.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outputs = ['dist/cli/main.js', 'dist/node.js', 'build/embedded/kernels.js', 'build/mnist-10k.sdmn.gz'];
const missing = outputs.filter((f) => !existsSync(join(root, f)));
if (missing.length > 0) {
  console.error(`simdnet: not built yet (no ${missing.join(', ')}): npm run build`);
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  process.exit(r.status ?? 1);
}
