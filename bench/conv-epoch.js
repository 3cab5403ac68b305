// The conv training epoch, side by side: simdnet `fit` (1 thread and every core) against PyTorch CPU (Debian
// python3-torch, the same thread counts) on the same architecture and digits, and tfjs-layers on
// tfjs-backend-cpu on a few hundred digits (tfjs-backend-wasm cannot train a conv net: tfjs#8474).
//
// export async function convEpochBench({ rounds = 2, models = MODELS, tfjsSamples = 64, log } = {})
//   → { models: [{ name, spec, mflopsPerSample, rounds: [{ simdnet1, simdnetN, torch1, torchN }], median…, ratios }],
//       tfjs: { name, samplesPerSecond, … }, threads }
//   Each round runs one epoch of every engine one after the other (round-robin), so a load from other processes
//   slows both sides of a ratio. PyTorch's epoch is its second of two in one process (the first warms oneDNN up).
//
// Directly: node bench/conv-epoch.js [--rounds 2] [--quick]

import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { median } from './harness.js';
import { tfjsConvSamplesPerSecond, torchConvEpochs, torchUnavailable } from './conv-peers.js';

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

/** Forward multiply-adds ×2 per sample of a spec's conv and linear layers (what GFLOP/s figures count). */
export function forwardFlops(spec) {
  let [C, H, W] = spec.inputShape;
  let flops = 0;
  for (const s of spec.layers) {
    if (s.type === 'conv2d') {
      const p = s.padding === 'same' ? null : s.padding;
      const OH = p ? Math.floor((H + p[0] + p[2] - s.kernel[0]) / s.stride[0]) + 1 : Math.ceil(H / s.stride[0]);
      const OW = p ? Math.floor((W + p[1] + p[3] - s.kernel[1]) / s.stride[1]) + 1 : Math.ceil(W / s.stride[1]);
      flops += 2 * s.out * OH * OW * s.in * s.kernel[0] * s.kernel[1];
      [C, H, W] = [s.out, OH, OW];
    } else if (s.type === 'conv-transpose2d') {
      flops += 2 * s.in * H * W * s.out * s.kernel[0] * s.kernel[1];
      H = (H - 1) * s.stride[0] - s.padding[0] - s.padding[2] + s.kernel[0] + s.outputPadding[0];
      W = (W - 1) * s.stride[1] - s.padding[1] - s.padding[3] + s.kernel[1] + s.outputPadding[1];
      C = s.out;
    } else if (s.type === 'maxpool2d' || s.type === 'avgpool2d') {
      H = Math.floor((H + s.padding[0] + s.padding[2] - s.kernel[0]) / s.stride[0]) + 1;
      W = Math.floor((W + s.padding[1] + s.padding[3] - s.kernel[1]) / s.stride[1]) + 1;
    } else if (s.type === 'upsample2d') {
      H *= s.scale[0];
      W *= s.scale[1];
    } else if (s.type === 'linear') {
      flops += 2 * s.in * s.out;
    }
  }
  return flops;
}

/** One simdnet epoch of `spec` on `images` (noise 0.3, BCE, Adam 1e-3, batch 64), seconds of training. */
async function simdnetEpoch(lib, backend, spec, images) {
  const model = lib.Sequential.fromSpec(spec, { backend, seed: 0 });
  try {
    const h = await lib.fit(model, { train: { x: images, y: images } }, { epochs: 1, batchSize: 64, loss: 'bce', optimizer: 'adam', lr: 1e-3, noise: { kind: 'gaussian', factor: 0.3 } });
    return h.epochs ? h.epochs[0].seconds : h.history?.seconds?.[0] ?? h[0]?.seconds;
  } finally {
    model.dispose();
  }
}

/** See the comment at the top of this file. */
export async function convEpochBench({ rounds = 2, models, tfjsSamples = 64, samples = 0, log = () => {} } = {}) {
  const lib = await import('../dist/node.js');
  const all = lib.loadBundledMnist().train.images;
  const images = samples ? all.subarray(0, samples * 784) : all;
  const T = os.availableParallelism?.() ?? os.cpus().length;
  const list = models ?? [{ name: 'denoiser (--preset conv)', spec: lib.convAutoencoderSpec ? lib.convAutoencoderSpec() : null }, { name: 'Keras example', spec: KERAS_EXAMPLE }].filter((m) => m.spec);
  const be1 = await lib.createBackend('wasm', { threads: 1 });
  const beN = await lib.createBackend('wasm', { threads: T });
  const why = await torchUnavailable();
  if (why) log(`conv-epoch: no PyTorch peer: ${why}`);
  const out = [];
  try {
    for (const { name, spec } of list) {
      const rs = [];
      for (let r = 0; r < rounds; r++) {
        const round = {};
        round.simdnet1 = await simdnetEpoch(lib, be1, spec, images);
        round.simdnetN = await simdnetEpoch(lib, beN, spec, images);
        if (!why) {
          round.torch1 = (await torchConvEpochs({ spec, images, epochs: 2, threads: 1, samples })).epochSeconds[1];
          round.torchN = (await torchConvEpochs({ spec, images, epochs: 2, threads: T, samples })).epochSeconds[1];
        }
        log(`${name} round ${r + 1}: ${Object.entries(round).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ')}`);
        rs.push(round);
      }
      const med = (k) => (rs[0][k] === undefined ? undefined : median(rs.map((x) => x[k])));
      const ratio = (a, b) => (rs[0][a] === undefined || rs[0][b] === undefined ? undefined : median(rs.map((x) => x[b] / x[a])));
      out.push({
        name, mflopsPerSample: forwardFlops(spec) / 1e6, rounds: rs,
        medianSeconds: { simdnet1: med('simdnet1'), simdnetN: med('simdnetN'), torch1: med('torch1'), torchN: med('torchN') },
        // speed of simdnet relative to PyTorch (> 1: simdnet is faster), per-round ratios' median
        speedVsTorch: { threads1: ratio('simdnet1', 'torch1'), threadsN: ratio('simdnetN', 'torchN') },
      });
    }
    let tfjs = null;
    const keras = list.find((m) => m.spec === KERAS_EXAMPLE) ?? { spec: KERAS_EXAMPLE };
    if (tfjsSamples > 0) {
      tfjs = await tfjsConvSamplesPerSecond({ spec: keras.spec, images, samples: tfjsSamples });
      const k = out.find((m) => m.spec === KERAS_EXAMPLE || m.name === 'Keras example');
      if (k) tfjs.simdnetSpeedup = (images.length / 784) / k.medianSeconds.simdnetN / tfjs.samplesPerSecond;
      log(`tfjs-layers on tfjs-backend-cpu, Keras example: ${tfjs.samplesPerSecond.toFixed(2)} samples/s${tfjs.simdnetSpeedup ? `; simdnet (${T} threads) ${tfjs.simdnetSpeedup.toFixed(0)}× faster` : ''}`);
    }
    return { models: out, tfjs, threads: T, samples: images.length / 784 };
  } finally {
    be1.dispose();
    beN.dispose();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const value = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
  const quick = args.includes('--quick');
  const r = await convEpochBench({ rounds: Number(value('--rounds', quick ? 1 : 2)), samples: quick ? 512 : 0, tfjsSamples: quick ? 16 : 64, log: console.log });
  console.log(JSON.stringify(r));
}
