// Inference: simdnet `predict` beside onnxruntime-web (its wasm build, in Node) and onnxruntime-node (native), on the
// same model (784-H-784 ReLU/sigmoid, exported with exportOnnx) and the same bundled test digits, at the same thread
// count; and, at the largest row count, beside simdnet's own GEMM kernels alone on those shapes and those inputs
// (x·W1, then ·W2 on the model's ReLU outputs: what predict does minus the copies, the checks, the bias and the
// activations), so the table says what the calls around the kernels cost.
//
// simdnet leaves out the inputs that are 0 (a digit's blank pixels, ReLU's zeros: assembly/gemm.ts ZERO_SKIP);
// `inputs: 'noise'` runs uniform noise in (0, 1) instead, which has none: the worst case for that.
//
// Round-robin: each round runs `calls` calls of every engine, one after the other, and keeps each engine's median
// call; figures are medians over the rounds, ratios medians of the per-round ratios (a load from other processes
// that slows a round slows every engine in it). The one-row 784-512-784 case also reports the spread of its
// rounds' medians (the issue's stability target: within 1.5×).
//
// Each engine's calls start once the process is idle again (settle): onnxruntime-web's pool keeps a core spinning
// for 50-75 ms after its last call (process CPU time, measured), which on 2 cores leaves the next engine's second
// thread without one — whichever engine ran next would be timed on one core.

import os from 'node:os';
import { ACT } from '../dist/backend/backend.js';
import { createWasmBackend } from '../dist/backend/wasm.js';
import { Linear, ReLU, Sigmoid } from '../dist/layers/index.js';
import { Sequential } from '../dist/model.js';
import { exportOnnx } from '../dist/onnx/export.js';
import { median } from './harness.js';

export const INFERENCE_ROWS = [1, 8, 64, 256, 2000];
export const INFERENCE_WIDTHS = [128, 512, 1024];

/** Waits (20 ms at a time, 1 s at most) until the process used under 2 ms of CPU in 20 ms: other engines' threads
 *  have stopped spinning. */
async function settle() {
  for (let i = 0; i < 50; i++) {
    const c0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 20));
    const c = process.cpuUsage(c0);
    if (c.user + c.system < 2000) return;
  }
}

/** The peers that load here: { name: { version, session(bytes, threads) → run(x, rows) } }, and why others did not. */
async function peers(threads) {
  const out = {};
  const notes = [];
  const load = async (name, open) => {
    try {
      out[name] = await open();
    } catch (e) {
      notes.push(`${name}: not run (${String(e?.message ?? e).split('\n')[0]})`);
    }
  };
  await load('onnxruntime-web', async () => {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = threads;
    ort.env.logLevel = 'error';
    const { version } = ort.env.versions?.web ? { version: ort.env.versions.web } : { version: ort.env.versions?.common };
    return {
      version,
      session: async (bytes) => {
        const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
        const [input] = s.inputNames;
        const [output] = s.outputNames;
        return async (x, rows) => (await s.run({ [input]: new ort.Tensor('float32', x, [rows, 784]) }))[output].data;
      },
    };
  });
  await load('onnxruntime-node', async () => {
    const ort = (await import('onnxruntime-node')).default;
    return {
      version: ort.env.versions?.node ?? ort.env.versions?.common,
      session: async (bytes) => {
        const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1 });
        const [input] = s.inputNames;
        const [output] = s.outputNames;
        return async (x, rows) => (await s.run({ [input]: new ort.Tensor('float32', x, [rows, 784]) }))[output].data;
      },
    };
  });
  return { peers: out, notes };
}

/**
 * @param {object} o
 * @param {boolean} [o.quick]   fewer rounds and calls
 * @param {number[]} [o.rows]   rows per call (default 1, 8, 64, 256, 2,000)
 * @param {number[]} [o.widths] hidden widths H of 784-H-784 (default 128, 512, 1,024)
 * @param {number} [o.threads]  threads of every engine (default every core)
 * @param {number} [o.rounds]   rounds (default 7; quick 2)
 * @param {(rows: number) => number} [o.calls] calls per engine per round (default 200 for ≤ 8 rows … 15 for 2,000)
 * @param {string} [o.variant]  simdnet wasm build (default simd: what stock Node runs)
 * @param {'digits' | 'noise'} [o.inputs] the bundled test digits (default), or uniform noise in (0, 1) (no zeros)
 */
export async function runInference(o = {}) {
  const log = o.log ?? (() => {});
  const quick = !!o.quick;
  const rowsList = o.rows ?? INFERENCE_ROWS;
  const widths = o.widths ?? INFERENCE_WIDTHS;
  const threads = o.threads ?? (os.availableParallelism?.() ?? os.cpus().length);
  const rounds = o.rounds ?? (quick ? 2 : 7);
  const calls = o.calls ?? ((rows) => (quick ? 5 : rows <= 8 ? 200 : rows <= 64 ? 60 : rows <= 256 ? 30 : 15));
  const variant = o.variant ?? 'simd';

  const { loadBundledMnist } = await import('../dist/node.js');
  const inputs = o.inputs ?? 'digits';
  if (inputs !== 'digits' && inputs !== 'noise') throw new Error(`inference bench: inputs must be 'digits' or 'noise', got ${JSON.stringify(inputs)}`);
  const digits = inputs === 'noise' ? noise(2000 * 784) : loadBundledMnist().test.images; // 2,000 rows
  const backend = await createWasmBackend({ variant, threads });
  const { peers: ort, notes } = await peers(threads);
  const cases = [];
  for (const H of widths) {
    const model = new Sequential([new Linear(784, H), new ReLU(), new Linear(H, 784), new Sigmoid()], { backend, seed: 1 });
    const bytes = exportOnnx(model);
    const sessions = {};
    for (const [name, p] of Object.entries(ort)) sessions[name] = await p.session(bytes);
    // the GEMM kernels alone at the largest row count: x·W1 (rows×H×784) then h·W2 (rows×784×H)
    const maxRows = Math.max(...rowsList);
    for (const rows of rowsList) {
      const x = digits.subarray(0, rows * 784).slice();
      const engines = { simdnet: async () => model.predict(x) };
      for (const [name, run] of Object.entries(sessions)) engines[name] = () => run(x, rows);
      let gemm;
      if (rows === maxRows) {
        gemm = gemmPair(backend, model, x, rows);
        engines['GEMM kernels'] = async () => gemm.run();
      }
      // agreement: simdnet against each peer, largest |difference|
      const mine = model.predict(x);
      const agree = {};
      for (const [name, run] of Object.entries(sessions)) {
        const theirs = await run(x, rows);
        let d = 0;
        for (let i = 0; i < mine.length; i++) d = Math.max(d, Math.abs(mine[i] - theirs[i]));
        agree[name] = d;
      }
      const n = calls(rows);
      for (const f of Object.values(engines)) for (let i = 0; i < Math.min(n, 10); i++) await f(); // warm-up
      const perRound = Object.fromEntries(Object.keys(engines).map((k) => [k, []]));
      for (let r = 0; r < rounds; r++) {
        for (const [name, f] of Object.entries(engines)) {
          await settle();
          const t = [];
          for (let i = 0; i < n; i++) {
            const t0 = performance.now();
            await f();
            t.push(performance.now() - t0);
          }
          perRound[name].push(median(t) * 1000); // µs
        }
      }
      gemm?.dispose();
      const us = Object.fromEntries(Object.entries(perRound).map(([k, v]) => [k, median(v)]));
      const ratio = (a, b) => median(perRound[a].map((v, i) => perRound[b][i] / v)); // b's time over a's: a is faster by
      const entry = {
        width: H, rows, model: `784-${H}-784`, calls: n, rounds, us, perRound, maxAbsDiff: agree,
        overOrtWeb: perRound['onnxruntime-web'] ? ratio('simdnet', 'onnxruntime-web') : null,
        overOrtNode: perRound['onnxruntime-node'] ? ratio('simdnet', 'onnxruntime-node') : null,
        ofGemm: perRound['GEMM kernels'] ? ratio('simdnet', 'GEMM kernels') : null,
        flops: 2 * rows * 784 * H * 2,
      };
      if (gemm) entry.gemmGflops = entry.flops / us['GEMM kernels'] / 1e3;
      entry.spread = Math.max(...perRound.simdnet) / Math.min(...perRound.simdnet);
      cases.push(entry);
      log(`inference 784-${H}-784 × ${rows}: simdnet ${us.simdnet.toFixed(0)} µs` +
        Object.keys(sessions).map((k) => `, ${k} ${us[k].toFixed(0)} µs`).join('') + (gemm ? `, GEMM kernels ${us['GEMM kernels'].toFixed(0)} µs` : ''));
    }
    model.dispose();
  }
  backend.dispose();
  return {
    threads, variant, build: backend.variant, rounds, inputs,
    versions: Object.fromEntries(Object.entries(ort).map(([k, p]) => [k, p.version])),
    notes, cases,
  };
}

/** Uniform noise in (0, 1): n floats with no zero (a fixed seed). */
function noise(n) {
  const a = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    a[i] = (s + 1) / 4294967297;
  }
  return a;
}

/** The model's two GEMMs alone on predict's inputs (x, and the model's ReLU outputs for it: the same zeros), the
 *  batch already in memory. */
function gemmPair(backend, model, x, rows) {
  const H = model.widths[1];
  const tx = backend.alloc(rows, 784), h = backend.alloc(rows, H), hOut = backend.alloc(rows, H), y = backend.alloc(rows, 784);
  backend.write(tx, x);
  const base = model.params.ptr;
  const w1 = base + 4 * model.layout.slot(0, 'W').offset;
  const b1 = base + 4 * model.layout.slot(0, 'b').offset;
  const w2 = base + 4 * model.layout.slot(2, 'W').offset;
  const k = backend.kernels;
  k.linear_act_forward(h.ptr, tx.ptr, w1, b1, rows, 784, H, ACT.relu);
  return {
    run() {
      k.gemm(hOut.ptr, tx.ptr, w1, rows, H, 784, 0, 0, 0);
      k.gemm(y.ptr, h.ptr, w2, rows, 784, H, 0, 0, 0);
    },
    dispose() {
      for (const t of [tx, h, hOut, y]) backend.free(t);
    },
  };
}

// `node bench/inference.js [--rounds N] [--rows 1,8] [--widths 512] [--inputs noise]`: this table alone, or some of its cases (npm run
// bench runs it all with everything else)
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const { inferenceTable } = await import('./report.js');
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const list = (name) => arg(name)?.split(',').map(Number);
  const rounds = arg('--rounds') === undefined ? undefined : Number(arg('--rounds'));
  const r = await runInference({ rounds, rows: list('--rows'), widths: list('--widths'), inputs: arg('--inputs'), log: (line) => process.stderr.write(`${line}\n`) });
  console.log(inferenceTable(r).join('\n'));
  process.exit(0);
}
