#!/usr/bin/env node
// `npm run bench [-- --quick] [--no-relaxed] [--no-conv-epoch] [--out FILE] [--no-readme]`: builds (npm script), runs every
// suite, writes bench/results/latest.json atomically (a --quick run: $TMPDIR/simdnet-bench/quick.json, never the
// committed file), prints the Markdown tables, and (full runs only) puts them into bench/README.md between the
// bench:results markers. `--render` redoes the tables from a result file.

import { existsSync } from 'node:fs';
import os from 'node:os';
import { readFile, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
/** Where a --quick run goes unless --out says otherwise: a temp path, so smoke runs never touch results/latest.json. */
const QUICK_FILE = path.join(os.tmpdir(), 'simdnet-bench', 'quick.json');
const known = ['--quick', '--no-relaxed', '--no-conv-epoch', '--no-readme', '--out', '--render', '--help'];
const unknown = args.filter((a, i) => a.startsWith('--') && !known.includes(a) && args[i - 1] !== '--out');
if (unknown.length || flag('--help')) {
  if (unknown.length) console.error(`bench: unknown option ${unknown.join(' ')}`);
  console.error('usage: npm run bench [-- --quick] [--no-relaxed] [--no-conv-epoch] [--no-readme] [--out FILE]\n' +
    '       node bench/run.js --render [--quick] [--out FILE]   (tables again from a result file, default results/latest.json;\n' +
    '       --quick: the last quick run\'s file)\n' +
    `A --quick run writes ${QUICK_FILE} (not results/latest.json) unless --out says otherwise.`);
  process.exit(unknown.length ? 2 : 0);
}
if (!existsSync(fileURLToPath(new URL('../dist/backend/index.js', import.meta.url)))) {
  console.error('bench: dist/ is missing; run `npm run build` (npm run bench does it first)');
  process.exit(2);
}

const { runBench, writeResults } = await import('./bench.js');
const { markdown } = await import('./report.js');

const out = value('--out');
const outFile = out ? path.resolve(out) : flag('--quick') ? QUICK_FILE : undefined;
let result, file;
if (flag('--render')) {
  file = outFile ?? fileURLToPath(new URL('./results/latest.json', import.meta.url));
  result = JSON.parse(await readFile(file, 'utf8'));
} else {
  result = await runBench({ quick: flag('--quick'), relaxed: !flag('--no-relaxed'), ...(flag('--no-conv-epoch') && { convEpoch: false }) });
  file = await writeResults(result, outFile);
}
const md = markdown(result);
console.log(`\n${md}\n\n${flag('--render') ? 'from' : 'wrote'} ${file}`);

if (!result.quick && !flag('--no-readme') && (!out || flag('--render'))) {
  const readme = fileURLToPath(new URL('./README.md', import.meta.url));
  const START = '<!-- bench:results:start -->', END = '<!-- bench:results:end -->';
  const text = await readFile(readme, 'utf8').catch(() => '');
  const i = text.indexOf(START), j = text.indexOf(END);
  if (i >= 0 && j > i) {
    const tmp = `${readme}.${process.pid}.tmp`;
    await writeFile(tmp, `${text.slice(0, i + START.length)}\n${md}\n${text.slice(j)}`);
    await rename(tmp, readme);
    console.log(`updated ${readme}`);
  } else console.error(`bench: ${readme} has no ${START} … ${END} markers; table not written there`);
}
