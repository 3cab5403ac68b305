// Runs one suite in this process and writes its result as JSON to the file named by argv[3]; options come as
// JSON in argv[2]. run.js starts it as `node --experimental-wasm-relaxed-simd bench/child.js …` to measure
// the relaxed-SIMD build (Node 20 validates relaxed SIMD only behind that flag) beside the SIMD build.

import { writeFile } from 'node:fs/promises';
import { runSuite } from './suite.js';

const [options, outFile] = process.argv.slice(2);
const o = JSON.parse(options);
const result = await runSuite({ ...o, log: (line) => process.stderr.write(`  [relaxed proc] ${line}\n`) });
await writeFile(outFile, JSON.stringify({ ...result, execArgv: process.execArgv }));
