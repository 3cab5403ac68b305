// Peers of simdnet's conv training epoch, each given the simdnet model's own spec ({inputShape, layers}) so that
// every engine trains one architecture:
//
// export async function torchConvEpochs({ spec, images, epochs = 2, threads = [1], batchSize = 64, lr = 1e-3, samples = 0,
//                                         warmupBatches = 0, python })
//   → null when `/usr/bin/python3 -c 'import torch'` (or `python`'s) fails (torchUnavailable(python) says why), else
//     { torch, samples, runs: { [threads]: { epochSeconds, losses } } }: one Python process (one torch import) trains a
//     fresh model of the same seed at each thread count in turn (bench/conv_peer.py --threads 1,2): `warmupBatches`
//     untimed steps, then `epochs` timed epochs.
//   Debian's python3-torch (1.13, CPU, oneDNN convolutions with native AVX-512 where the CPU has it).
//
// export async function tfjsConvSamplesPerSecond({ spec, images, samples = 256, batchSize = 64 })
//   → { samplesPerSecond, seconds, samples, tfjs, backend: 'cpu' }: tfjs-layers model.fit on tfjs-backend-cpu
//   (tfjs-backend-wasm cannot train a conv net: Conv2DBackpropFilter is not registered for it, tfjs#8474), one
//   epoch of `samples` noisy digits after a warm-up step on 4 of them. tfjs-layers is channels-last: with one input channel
//   NCHW and NHWC rows are the same bytes.
//
// export function tfjsLayersFor(layers, spec) → tfjs-layers layers for the spec (throws for what has no equivalent)

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTfjsCore } from './engines.js';

const SCRIPT = fileURLToPath(new URL('./conv_peer.py', import.meta.url));
const PYTHON = '/usr/bin/python3';

function run(file, args) {
  return new Promise((resolve) => execFile(file, args, { maxBuffer: 16 << 20 }, (error, stdout, stderr) => resolve({ error, stdout, stderr })));
}

const torchChecked = new Map();
/** null when torch imports in `python` (default /usr/bin/python3), else why not. */
export async function torchUnavailable(python = PYTHON) {
  if (!torchChecked.has(python)) {
    torchChecked.set(python, run(python, ['-c', 'import torch']).then(({ error, stderr }) => (error ? `${python} cannot import torch (${String(stderr).trim().split('\n').pop() || error.message})` : null)));
  }
  return torchChecked.get(python);
}

/** See the comment at the top of this file. */
export async function torchConvEpochs({ spec, images, epochs = 2, threads = [1], batchSize = 64, lr = 1e-3, samples = 0, warmupBatches = 0, python = PYTHON }) {
  const counts = [threads].flat();
  if (await torchUnavailable(python)) return null;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'simdnet-conv-peer-'));
  try {
    const model = path.join(dir, 'model.json'), train = path.join(dir, 'train.f32');
    await writeFile(model, JSON.stringify(spec));
    await writeFile(train, new Uint8Array(images.buffer, images.byteOffset, images.byteLength));
    const args = [SCRIPT, model, train, '--epochs', String(epochs), '--threads', counts.join(','), '--batch', String(batchSize), '--lr', String(lr), '--samples', String(samples), '--warmup-batches', String(warmupBatches)];
    const { error, stdout, stderr } = await run(python, args);
    if (error) throw new Error(`conv_peer.py failed: ${String(stderr).trim().split('\n').pop() || error.message}`);
    const out = JSON.parse(stdout.trim().split('\n').pop());
    const runs = out.runs ?? [out];
    return { torch: out.torch, samples: out.samples, runs: Object.fromEntries(runs.map((r, i) => [counts[i], { threads: r.threads, epochSeconds: r.epochSeconds, losses: r.losses }])) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const pair = (v) => (Array.isArray(v) ? v : [v, v]);

/** tfjs-layers layers for a simdnet spec: 'same' or symmetric "keep the size" pads map to padding 'same'. */
export function tfjsLayersFor(L, spec) {
  const [C, H, W] = spec.inputShape;
  const out = [];
  let first = true;
  const input = () => (first ? ((first = false), { inputShape: [H, W, C] }) : {});
  for (const s of spec.layers) {
    const samePads = (k, st) => s.padding === 'same' || (st[0] === 1 && st[1] === 1 && s.padding.every((p, i) => p === (k[i % 2] - 1) / 2));
    switch (s.type) {
      case 'conv2d': {
        const same = samePads(s.kernel, s.stride);
        if (!same && s.padding.some((p) => p !== 0)) throw new Error(`tfjs peer: conv2d pads ${s.padding} have no tfjs padding`);
        out.push(L.conv2d({ ...input(), filters: s.out, kernelSize: s.kernel, strides: s.stride, padding: same ? 'same' : 'valid', useBias: s.bias !== false }));
        break;
      }
      case 'conv-transpose2d': {
        // Keras 'same' for stride s: output H·s, PyTorch's (k=3, s=2, p=1, output_padding=1)
        const keep = s.stride.every((st, i) => s.padding[i] === (s.kernel[i] - 1) / 2 && s.outputPadding[i] === st - 1);
        if (!keep) throw new Error('tfjs peer: conv-transpose2d pads other than Keras "same" have no tfjs padding');
        out.push(L.conv2dTranspose({ ...input(), filters: s.out, kernelSize: s.kernel, strides: s.stride, padding: 'same', useBias: s.bias !== false }));
        break;
      }
      case 'maxpool2d':
        out.push(L.maxPooling2d({ ...input(), poolSize: s.kernel, strides: s.stride, padding: 'valid' }));
        break;
      case 'avgpool2d':
        out.push(L.averagePooling2d({ ...input(), poolSize: s.kernel, strides: s.stride, padding: 'valid' }));
        break;
      case 'upsample2d':
        out.push(L.upSampling2d({ ...input(), size: pair(s.scale) }));
        break;
      case 'relu': case 'sigmoid': case 'tanh': case 'softmax':
        out.push(L.activation({ ...input(), activation: s.type }));
        break;
      case 'flatten':
        out.push(L.flatten(input()));
        break;
      case 'linear':
        out.push(L.dense({ ...input(), units: s.out }));
        break;
      default:
        throw new Error(`tfjs peer: layer type '${s.type}' has no equivalent here`);
    }
  }
  return out;
}

/** See the comment at the top of this file. */
export async function tfjsConvSamplesPerSecond({ spec, images, samples = 256, batchSize = 64 }) {
  const tf = await loadTfjsCore();
  const L = (await import('@tensorflow/tfjs-layers')).layers;
  const { sequential } = await import('@tensorflow/tfjs-layers');
  const warn = console.warn;
  console.warn = () => {};
  try {
    if (!(await tf.setBackend('cpu'))) throw new Error('tfjs peer: the cpu backend failed to initialise');
    await tf.ready();
    tf.backend().firstUse = false;
  } finally {
    console.warn = warn;
  }
  const [C, H, W] = spec.inputShape;
  const width = C * H * W;
  const model = sequential({ layers: tfjsLayersFor(L, spec) });
  model.compile({ optimizer: tf.train.adam(0.001, 0.9, 0.999, 1e-7), loss: 'binaryCrossentropy' });
  const n = Math.min(samples, images.length / width);
  const y = tf.tensor4d(images.subarray(0, n * width), [n, H, W, C]);
  const x = tf.tidy(() => tf.clipByValue(tf.add(y, tf.mul(tf.randomNormal([n, H, W, C], 0, 1, 'float32', 0), 0.3)), 0, 1));
  try {
    // warm-up (kernel set-up, first-call JIT) on a few samples: a whole batch would cost as much as what is timed
    const w = Math.min(n, 4);
    await model.fit(tf.slice(x, 0, w), tf.slice(y, 0, w), { epochs: 1, batchSize: w, verbose: 0 });
    const t0 = performance.now();
    await model.fit(x, y, { epochs: 1, batchSize, shuffle: true, verbose: 0 });
    const seconds = (performance.now() - t0) / 1000;
    return { samplesPerSecond: n / seconds, seconds, samples: n, tfjs: tf.version_core, backend: 'cpu' };
  } finally {
    x.dispose();
    y.dispose();
    model.dispose();
  }
}
