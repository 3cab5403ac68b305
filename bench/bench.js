// The whole benchmark: this process runs the stock-Node engines (wasm SIMD and scalar, js, tfjs-wasm,
// tfjs-cpu; simdnet on one thread), the SIMD build's thread scaling and noise kernel, then the epoch table (epoch.js:
// simdnet fit vs numpy and tfjs fit) and the conv epoch table (conv-epoch.js: simdnet fit vs PyTorch CPU and
// tfjs-layers on tfjs-cpu), both on the build `simdnet train` runs (relaxed SIMD where it can); a child with
// --experimental-wasm-relaxed-simd runs relaxed-SIMD beside SIMD, and the relaxed build's thread scaling and noise
// kernel. The results merge into one object (schema below, written by writeResults as bench/results/latest.json).

import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runnableEngines } from './engines.js';
import { summarize } from './report.js';
import { runSuite } from './suite.js';
import { runEpochs } from './epoch.js';
import { runInference } from './inference.js';
import { convEpochBench } from './conv-epoch.js';
import { enableRelaxedSimd } from '../dist/cli/runtime.js';
import { availableWasmVariants } from '../dist/backend/wasm.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';
const RELAXED_PAIR = ['wasm-relaxed', 'wasm-simd'];

/**
 * @param {object} o  quick, engines (main-process ids; default: all runnable but relaxed), relaxed (default
 *   true: measure relaxed-SIMD, in a flagged child unless this runtime already runs it), shapes, elementwise,
 *   steps, harness, scaling, noise (suite overrides, for tests; scaling/noise false to skip), epoch (epoch.js options,
 *   false to skip), convEpoch (conv-epoch.js options, false to skip; --quick: 256 digits, one round, no tfjs),
 *   inference (inference.js options, false to skip), log
 */
export async function runBench(o = {}) {
  const log = o.log ?? ((line) => process.stderr.write(`${line}\n`));
  const quick = !!o.quick;
  const started = new Date();
  const load0 = os.loadavg();
  const runnable = runnableEngines();
  const inProcessRelaxed = runnable.includes('wasm-relaxed');
  const wantRelaxed = o.relaxed ?? true;
  const engines = (o.engines ?? runnable).filter((id) => id !== 'wasm-relaxed' || inProcessRelaxed);
  const overrides = { quick, shapes: o.shapes, elementwise: o.elementwise, steps: o.steps, harness: o.harness, scaling: o.scaling, noise: o.noise, conv: o.conv };
  const relaxedOverrides = { ...overrides, scaling: o.scaling === false ? false : { ...(o.scaling || {}), variant: 'relaxed-simd' } };
  const loads = { start: load0 };

  // Relaxed first (a child, or this process when it runs relaxed SIMD already), then the stock engines.
  let relaxed = null;
  if (wantRelaxed) {
    if (inProcessRelaxed) {
      log('relaxed SIMD: this runtime runs it without a flag; measuring it in this process');
      relaxed = { ...(await runSuite({ ...relaxedOverrides, engines: RELAXED_PAIR, limits: ['simd', 'relaxed'], log })), execArgv: process.execArgv };
    } else {
      log(`relaxed SIMD: measuring in a child process (node ${RELAXED_FLAG})`);
      relaxed = await runChild(relaxedOverrides, log).catch((e) => ({ error: e.message }));
      if (relaxed.error) log(`relaxed SIMD: skipped (${relaxed.error})`);
    }
  }
  if (relaxed) loads.afterRelaxed = os.loadavg();
  log('stock Node: ' + engines.join(', '));
  const main = await runSuite({ ...overrides, scaling: o.scaling === false ? false : { ...(o.scaling || {}), variant: 'simd' }, engines: engines.filter((id) => id !== 'wasm-relaxed'), limits: ['simd'], log });
  loads.afterMain = os.loadavg();
  let inference = null;
  if (o.inference !== false) {
    log('inference table: simdnet predict, onnxruntime-web, onnxruntime-node, round-robin');
    const t = performance.now();
    inference = await runInference({ quick, ...(o.inference || {}), log }).catch((e) => ({ error: e.stack ?? e.message }));
    if (inference.error) log(`inference table: failed (${inference.error})`);
    main.phases.inference = (performance.now() - t) / 1000;
  }
  let epoch = null, convEpoch = null;
  // the epoch tables run the build `simdnet train` runs: it switches relaxed SIMD on for itself (src/cli/runtime.ts),
  // so this process does the same now that the stock-Node tables are done (they name their builds; none changes)
  if ((o.epoch !== false || o.convEpoch !== false) && wantRelaxed) enableRelaxedSimd();
  const variant = availableWasmVariants().find((v) => v !== 'scalar') ?? 'simd';
  if (o.epoch !== false) {
    log(`epoch table (${variant} build, as simdnet train runs it): simdnet fit, numpy, tfjs fit, round by round`);
    const t = performance.now();
    epoch = await runEpochs({ quick, variant, ...(o.epoch || {}), log }).catch((e) => ({ error: e.stack ?? e.message }));
    if (epoch.error) log(`epoch table: failed (${epoch.error})`);
    main.phases.epoch = (performance.now() - t) / 1000;
  }
  if (o.convEpoch !== false) {
    log(`conv epoch table (${variant} build): simdnet fit, PyTorch CPU, tfjs-layers on tfjs-cpu, round by round`);
    const t = performance.now();
    const quickOpts = quick ? { samples: 256, rounds: 1, tfjsSamples: 0 } : {};
    convEpoch = await convEpochBench({ variant, ...quickOpts, ...(o.convEpoch || {}), log }).catch((e) => ({ error: e.stack ?? e.message }));
    if (convEpoch.error) log(`conv epoch table: failed (${convEpoch.error})`);
    else convEpoch.models = convEpoch.models.map(({ spec, ...m }) => ({ ...m, layers: spec.layers.length }));
    main.phases.convEpoch = (performance.now() - t) / 1000;
  }
  loads.end = os.loadavg();

  const result = {
    schema: 'simdnet-bench/2',
    date: started.toISOString(),
    quick,
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      availableParallelism: os.availableParallelism?.() ?? os.cpus().length,
      platform: `${os.platform()} ${os.arch()}`,
      loadavg: loads,
    },
    runtime: { node: process.version, v8: process.versions.v8 },
    packages: packageVersions(),
    git: gitCommit(),
    processes: {
      main: { execArgv: process.execArgv, engines: main.engines, harness: main.harness, seconds: main.seconds, phases: main.phases },
      relaxed: relaxed && !relaxed.error ? { execArgv: relaxed.execArgv, engines: relaxed.engines, harness: relaxed.harness, seconds: relaxed.seconds, phases: relaxed.phases } : relaxed,
    },
    ...merge(main, relaxed && !relaxed.error ? relaxed : null),
    threadScaling: [main.threads, relaxed && !relaxed.error ? relaxed.threads : null].filter(Boolean),
    noise: [...main.noise, ...(relaxed && !relaxed.error ? relaxed.noise ?? [] : [])],
    conv: [main.conv, relaxed && !relaxed.error ? relaxed.conv : null].filter(Boolean),
    epoch,
    convEpoch,
    inference,
  };
  result.summary = summarize(result);
  return result;
}

/** The child: same suite overrides, relaxed + simd engines, both limit builds; its JSON comes back in a file,
 *  its progress lines (stderr) go to `log`. */
function runChild(overrides, log) {
  const out = path.join(os.tmpdir(), `simdnet-bench-relaxed-${process.pid}-${Date.now()}.json`);
  const args = [RELAXED_FLAG, fileURLToPath(new URL('./child.js', import.meta.url)),
    JSON.stringify({ ...overrides, engines: RELAXED_PAIR, limits: ['simd', 'relaxed'] }), out];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'pipe'] });
    let partial = '';
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      for (const line of lines) log(line);
    });
    child.on('error', reject);
    child.on('close', async (code, signal) => {
      if (partial) log(partial);
      try {
        if (code !== 0) throw new Error(`the child exited with ${signal ?? `code ${code}`}`);
        resolve(JSON.parse(await readFile(out, 'utf8')));
      } catch (e) {
        reject(e);
      } finally {
        await rm(out, { force: true });
      }
    });
  });
}

/**
 * One list per suite. Each entry's figures by engine id come from the main process; `relaxedProc` holds the
 * child's figures (wasm-relaxed and its own wasm-simd, and its limits), and wasm-relaxed is copied up beside
 * the others for the tables. Ratios against relaxed use only relaxedProc (same process, same minutes).
 */
function merge(main, rel) {
  const join = (list, relList, metric, key) => list.map((e) => {
    const r = relList?.find((x) => x[key] === e[key]);
    if (!r) return e;
    const { [metric]: m, limit, limitFlops, perRound } = r;
    return { ...e, [metric]: { 'wasm-relaxed': m['wasm-relaxed'], ...e[metric] }, relaxedProc: { [metric]: m, limit, limitFlops, perRound } };
  });
  return {
    limit: { ...main.limit, ...(rel ? { relaxed: rel.limit.relaxed, 'simd (relaxed proc)': rel.limit.simd } : {}) },
    gemm: join(main.gemm, rel?.gemm, 'gflops', 'id'),
    elementwise: join(main.elementwise, rel?.elementwise, 'gbps', 'name'),
    steps: join(main.steps, rel?.steps, 'samplesPerSec', 'name'),
  };
}

function packageVersions() {
  const v = (name) => {
    try {
      const p = path.join(ROOT, name === 'simdnet' ? '' : `node_modules/${name}`, 'package.json');
      return JSON.parse(readFileSync(p, 'utf8')).version;
    } catch {
      return null;
    }
  };
  const names = ['simdnet', 'assemblyscript', 'benny', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu', 'onnxruntime-web', 'onnxruntime-node'];
  return Object.fromEntries(names.map((n) => [n, v(n)]));
}

function gitCommit() {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'assembly', 'asconfig.json'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return { commit, kernelsDirty: dirty };
  } catch {
    return null;
  }
}

/** Writes the result atomically (a temp file in the same directory, then rename). */
export async function writeResults(result, file = path.join(ROOT, 'bench/results/latest.json')) {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(result, null, 2) + '\n');
  await rename(tmp, file);
  return file;
}
