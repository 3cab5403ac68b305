// The conv training epoch, side by side: simdnet `fit` at 1 thread and every core against PyTorch CPU (Debian
// python3-torch, the same thread counts) on the same architecture, digits, loss and optimizer, and tfjs-layers on
// tfjs-backend-cpu on a few dozen digits (tfjs-backend-wasm cannot train a conv net: tfjs#8474). Two models: the
// `--preset conv` denoiser (runModelSpec(CONV_PRESET): the bench follows the preset when it changes) at the preset's
// batch size, and the Keras denoising example (pooling and transposed convs) at batch 64. `npm run bench` runs it
// (bench.js, after the reference epoch, on the build `simdnet train` runs); report.js draws its table.
//
// export async function convEpochBench({ variant, threads, rounds, models, samples, tfjsSamples, torch, python, log })
//   (variant: the wasm build, default the best this runtime runs; threads: default 1 and every core; models: default
//   convEpochModels(); samples: the first N training digits, 0 all 8,000; tfjsSamples: 0 skips tfjs; torch: false
//   skips PyTorch, python: its interpreter, default /usr/bin/python3: without torch, the notes say so)
//   → { build, threads, rounds, samples, notes, loadavg, models: [{ name, role, batchSize, mflopsPerSample, params,
//       seconds: { simdnet: { [t]: [per round] }, torch: { [t]: […] } }, median: { simdnet: { [t] }, torch: { [t] } },
//       overTorch: { [t] }, threadSpeedup, torchNote, tfjs: { samplesPerSecond, samples, seconds, tfjs, overTfjs } }] }
//   Round r runs one epoch of every engine, one after the other: simdnet at each thread count, then one Python
//   process training PyTorch at each thread count (a fresh model each: 8 untimed warm-up steps, then the epoch).
//   A load from other processes that slows a round slows both sides of its ratios. Ratios are medians of per-round
//   ratios; over tfjs (one run, after the rounds): simdnet's samples/s at every core from its median epoch over tfjs's.
//
// Directly (after npm run build): node bench/conv-epoch.js [--rounds 2] [--quick] [--no-relaxed] [--samples N]
//   [--tfjs-samples N]: prints the Markdown table (report.js) and the JSON. Like `simdnet train` and `npm run bench`,
//   it runs the relaxed-SIMD build where this Node can (turning Node 20's flag on for itself); --no-relaxed: SIMD.

import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { median } from './harness.js';
import { tfjsConvSamplesPerSecond, torchConvEpochs, torchUnavailable } from './conv-peers.js';
import { threadCounts } from './scaling.js';

/** PyTorch's untimed steps before its epoch at each thread count (oneDNN makes its primitives on first use). */
export const TORCH_WARMUP_BATCHES = 8;

/** The Keras denoising example (conv 3×3 32 → maxpool → conv 32 → maxpool → convTranspose s2 32 ×2 → conv 1 sigmoid). */
export const KERAS_EXAMPLE = {
  inputWidth: 784,
  inputShape: [1, 28, 28],
  layers: [
    { type: 'conv2d', in: 1, out: 32, kernel: [3, 3], stride: [1, 1], padding: [1, 1, 1, 1], bias: true }, { type: 'relu' },
    { type: 'maxpool2d', kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0] },
    { type: 'conv2d', in: 32, out: 32, kernel: [3, 3], stride: [1, 1], padding: [1, 1, 1, 1], bias: true }, { type: 'relu' },
    { type: 'maxpool2d', kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0] },
    { type: 'conv-transpose2d', in: 32, out: 32, kernel: [3, 3], stride: [2, 2], padding: [1, 1, 1, 1], outputPadding: [1, 1], bias: true }, { type: 'relu' },
    { type: 'conv-transpose2d', in: 32, out: 32, kernel: [3, 3], stride: [2, 2], padding: [1, 1, 1, 1], outputPadding: [1, 1], bias: true }, { type: 'relu' },
    { type: 'conv2d', in: 32, out: 1, kernel: [3, 3], stride: [1, 1], padding: [1, 1, 1, 1], bias: true }, { type: 'sigmoid' },
  ],
};

/** Forward multiply-adds ×2 per sample of a spec's conv, transposed-conv and linear layers (what GFLOP/s count),
 *  along the spec's own shape chain (specChain: every layer type, whatever the preset becomes). */
export async function forwardFlops(spec) {
  const { specChain } = await import('../dist/model-spec.js');
  const { layers, shapes } = specChain(spec);
  let flops = 0;
  layers.forEach((l, i) => {
    const [inS, outS] = [shapes[i], shapes[i + 1]];
    const k = l.kernel ? l.kernel[0] * l.kernel[1] : 0;
    if (l.type === 'conv2d') flops += 2 * outS[0] * outS[1] * outS[2] * inS[0] * k;
    else if (l.type === 'conv-transpose2d') flops += 2 * inS[0] * inS[1] * inS[2] * outS[0] * k;
    else if (l.type === 'linear') flops += 2 * l.inputs * l.outputs;
  });
  return flops;
}

/** The two models of the table: the `--preset conv` denoiser as `simdnet train --preset conv` builds it, and the
 *  Keras example (the one tfjs-layers also trains). */
export async function convEpochModels() {
  const { CONV_PRESET } = await import('../dist/training/recipes.js');
  const { runModelSpec } = await import('../dist/training/run.js');
  const preset = JSON.parse(JSON.stringify(CONV_PRESET)); // its lists are read-only
  return [
    { name: 'denoiser (--preset conv)', role: 'preset', spec: runModelSpec({ hidden: [], activation: 'relu', ...preset }), batchSize: preset.batchSize },
    { name: 'Keras denoising example', role: 'keras', spec: KERAS_EXAMPLE, batchSize: 64, tfjs: true },
  ];
}

/** One simdnet epoch of `spec` (noise 0.3, BCE, Adam 1e-3): fit's own seconds (shuffle, gather + noise, steps). */
async function simdnetEpoch(lib, backend, spec, images, batchSize, seed) {
  const model = lib.Sequential.fromSpec(spec, { backend, seed: 0 });
  try {
    const h = await lib.fit(model, { train: { x: images, y: images } }, { epochs: 1, batchSize, loss: 'bce', optimizer: 'adam', lr: 1e-3, seed, noise: { kind: 'gaussian', factor: 0.3 } });
    return h.epochs[0].seconds;
  } finally {
    model.dispose();
  }
}

/** See the comment at the top of this file. */
export async function convEpochBench({ variant, threads, rounds = 2, models, samples = 0, tfjsSamples = 64, torch = true, python, log = () => {} } = {}) {
  const lib = await import('../dist/node.js');
  const { availableWasmVariants, createWasmBackend } = await import('../dist/backend/wasm.js');
  const build = variant ?? availableWasmVariants().find((v) => v !== 'scalar') ?? 'scalar';
  const all = lib.loadBundledMnist().train.images;
  const images = samples ? all.subarray(0, samples * 784) : all;
  const rows = images.length / 784;
  const counts = threads ?? [...new Set([1, threadCounts().at(-1)])];
  const list = models ?? (await convEpochModels());
  const notes = [];
  const why = torch ? await torchUnavailable(python) : 'not asked for';
  if (why) {
    notes.push(`no PyTorch peer: ${why}`);
    log(`conv epoch: no PyTorch peer: ${why}`);
  }
  const backends = {};
  const loadavg = [];
  const out = [];
  try {
    for (const t of counts) backends[t] = await createWasmBackend({ variant: build, threads: t });
    for (const m of list) {
      const { spec, batchSize = 64 } = m;
      const chain = (await import('../dist/model-spec.js')).specChain(spec);
      const seconds = { simdnet: Object.fromEntries(counts.map((t) => [t, []])), torch: Object.fromEntries(counts.map((t) => [t, []])) };
      let torchNote = null, torchVersion = null;
      for (let r = 0; r < rounds; r++) {
        const line = [];
        for (const t of counts) {
          seconds.simdnet[t].push(await simdnetEpoch(lib, backends[t], spec, images, batchSize, r));
          line.push(`simdnet×${t} ${seconds.simdnet[t][r].toFixed(2)} s`);
        }
        if (!why && !torchNote) {
          try {
            const res = await torchConvEpochs({ spec, images, epochs: 1, warmupBatches: TORCH_WARMUP_BATCHES, threads: counts, batchSize, python });
            torchVersion = res.torch;
            for (const t of counts) {
              seconds.torch[t].push(res.runs[t].epochSeconds.at(-1));
              line.push(`torch×${t} ${seconds.torch[t][r].toFixed(2)} s`);
            }
          } catch (e) {
            torchNote = `PyTorch could not train ${m.name}: ${e.message.split('\n')[0]}`;
            notes.push(torchNote);
          }
        }
        loadavg.push(os.loadavg()[0]);
        log(`conv epoch ${m.name} round ${r + 1}/${rounds}: ${line.join('  ')}  (load ${loadavg.at(-1).toFixed(2)})`);
      }
      const hasTorch = counts.every((t) => seconds.torch[t].length === rounds);
      const perRound = (f) => median(Array.from({ length: rounds }, (_, i) => f(i)));
      const medianOf = (o) => Object.fromEntries(counts.map((t) => [t, o[t].length ? median(o[t]) : NaN]));
      const top = counts.at(-1);
      const entry = {
        name: m.name, role: m.role ?? null, batchSize, spec, params: chain.layout.total, mflopsPerSample: (await forwardFlops(spec)) / 1e6,
        seconds, median: { simdnet: medianOf(seconds.simdnet), torch: medianOf(seconds.torch) },
        // simdnet's speed over PyTorch's at the same thread count (> 1: simdnet is faster), paired by round
        overTorch: hasTorch ? Object.fromEntries(counts.map((t) => [t, perRound((i) => seconds.torch[t][i] / seconds.simdnet[t][i])])) : null,
        threadSpeedup: perRound((i) => seconds.simdnet[counts[0]][i] / seconds.simdnet[top][i]),
        torch: torchVersion, torchNote, tfjs: null,
      };
      if (m.tfjs && tfjsSamples > 0) {
        try {
          const tf = await tfjsConvSamplesPerSecond({ spec, images, samples: tfjsSamples, batchSize });
          const simdnetRate = rows / entry.median.simdnet[top];
          entry.tfjs = { ...tf, overTfjs: simdnetRate / tf.samplesPerSecond };
          log(`conv epoch ${m.name}: tfjs-layers on tfjs-backend-cpu ${tf.samplesPerSecond.toFixed(2)} samples/s over ${tf.samples}; simdnet ×${top} ${entry.tfjs.overTfjs.toFixed(0)}× faster`);
        } catch (e) {
          notes.push(`tfjs-layers could not train ${m.name}: ${e.message.split('\n')[0]}`);
        }
      }
      out.push(entry);
    }
    return { build, threads: counts, actualThreads: Object.fromEntries(counts.map((t) => [t, backends[t].threads])), rounds, samples: rows, tfjsSamples, notes, loadavg, models: out };
  } finally {
    for (const be of Object.values(backends)) be.dispose();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const value = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
  const quick = args.includes('--quick');
  if (!args.includes('--no-relaxed')) (await import('../dist/cli/runtime.js')).enableRelaxedSimd();
  const { convEpochTable } = await import('./report.js');
  const started = new Date();
  const r = await convEpochBench({
    rounds: Number(value('--rounds', quick ? 1 : 2)),
    samples: Number(value('--samples', quick ? 512 : 0)),
    tfjsSamples: Number(value('--tfjs-samples', quick ? 8 : 64)),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(convEpochTable(r).join('\n'));
  console.log(`\n${started.toISOString()}, ${os.cpus()[0]?.model}, Node ${process.version}`);
  console.log(JSON.stringify({ ...r, models: r.models.map(({ spec, ...m }) => m) }));
}
