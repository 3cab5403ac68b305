// TensorFlow.js peer of simdnet's reference training epoch: the same model trained with tfjs-layers'
// model.fit, as a tfjs user would write it, on tfjs-backend-wasm (single-threaded, its SIMD build, as in
// engines.js) or tfjs-backend-cpu.
//
//   tf.sequential: dense 784 → 128 relu, dense 128 → 784 sigmoid (glorotUniform kernels, zero biases: the
//   layers' defaults); loss 'binaryCrossentropy' (tfjs-layers: p clipped to [1e-7, 1 − 1e-7], mean over all
//   elements); tf.train.adam(0.001, 0.9, 0.999, 1e-7). Per epoch: fresh noise x̃ = clip(x + 0.3·N(0,1), 0, 1)
//   (tf.randomNormal) on the 8,000 bundled training digits, clean targets, then
//   model.fit(x̃, x, { epochs: 1, batchSize: 64, shuffle: true }) — tfjs shuffles, the last batch is partial.
//
// export async function tfjsFitEpoch({ epochs = 3, backend = 'wasm', seed = 0, log } = {})
//   → { epochSeconds: number[],      // per epoch: noise + model.fit (what numpy_peer.py times too)
//       fitSeconds: number[],        // per epoch: model.fit alone
//       firstEpochSeconds, medianSeconds, medianAfterFirst,   // of epochSeconds (the first epoch also warms up)
//       losses: number[],            // fit's epoch loss (mean over the batches, as tfjs-layers reports it)
//       backend, tfjs: version, samples, batchSize }
//   `backend` is 'wasm' | 'cpu'; `log` (optional) gets one line per epoch. Needs dist/ (npm run build) for
//   the digits. tfjs has one global backend: this sets it and leaves it set.
//
// export async function tfjsFitSession({ backend, seed, log }) → { epoch(), result(), dispose() }: the same
//   model, one epoch per call (bench/epoch.js interleaves it with the other engines).
//
// Directly: node bench/tfjs-fit.js [--epochs 3] [--backend wasm|cpu]   (prints each epoch, then a JSON line)

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadTfjsCore } from './engines.js';
import { median } from './harness.js';

const D = 784, H = 128, BATCH = 64, NOISE = 0.3;

/** tfjs-core (with both backends, single-threaded wasm: engines.js) and tfjs-layers, loaded once. */
async function loadTf() {
  const tf = await loadTfjsCore();
  const layers = await import('@tensorflow/tfjs-layers');
  return { tf, layers };
}

/** See the comment at the top of this file. */
export async function tfjsFitEpoch({ epochs = 3, backend = 'wasm', seed = 0, log } = {}) {
  const session = await tfjsFitSession({ backend, seed, log });
  try {
    for (let e = 0; e < epochs; e++) await session.epoch();
  } finally {
    session.dispose();
  }
  return session.result();
}

/**
 * The same, one epoch at a time (so a benchmark can interleave it with other engines):
 *   const s = await tfjsFitSession({ backend, seed, log });  await s.epoch() → { epochSeconds, fitSeconds, loss }
 *   s.result() → what tfjsFitEpoch returns (over the epochs run so far);  s.dispose()
 * Every epoch() makes sure tfjs's global backend is this session's before it runs.
 */
export async function tfjsFitSession({ backend = 'wasm', seed = 0, log } = {}) {
  if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`tfjs-fit: backend must be 'wasm' or 'cpu', not '${backend}'`);
  const { tf, layers } = await loadTf();
  const warn = console.warn;
  console.warn = () => {}; // tfjs's platform notes on init
  try {
    if (!(await tf.setBackend(backend))) throw new Error(`tfjs-fit: tfjs backend '${backend}' failed to initialise`);
    await tf.ready();
    if (backend === 'cpu') tf.backend().firstUse = false; // its "install tfjs-node" banner
  } finally {
    console.warn = warn;
  }

  const { loadBundledMnist } = await import('../dist/node.js');
  const { images } = (await loadBundledMnist()).train;
  const n = images.length / D;

  const model = layers.sequential({
    layers: [
      layers.layers.dense({ inputShape: [D], units: H, activation: 'relu' }),
      layers.layers.dense({ units: D, activation: 'sigmoid' }),
    ],
  });
  const optimizer = tf.train.adam(0.001, 0.9, 0.999, 1e-7);
  model.compile({ optimizer, loss: 'binaryCrossentropy' });

  const y = tf.tensor2d(images, [n, D]);
  const epochSeconds = [], fitSeconds = [], losses = [];
  let disposed = false;
  return {
    async epoch() {
      if (disposed) throw new Error('tfjs-fit: the session was disposed');
      if (tf.getBackend() !== backend) tf.setBackend(backend);
      const e = epochSeconds.length;
      const t0 = performance.now();
      const x = tf.tidy(() => tf.clipByValue(tf.add(y, tf.mul(tf.randomNormal([n, D], 0, 1, 'float32', seed + e), NOISE)), 0, 1));
      const t1 = performance.now();
      let h;
      try {
        h = await model.fit(x, y, { epochs: 1, batchSize: BATCH, shuffle: true, verbose: 0 });
      } finally {
        x.dispose();
      }
      const t2 = performance.now();
      epochSeconds.push((t2 - t0) / 1000);
      fitSeconds.push((t2 - t1) / 1000);
      losses.push(h.history.loss[0]);
      log?.(`tfjs-${backend} epoch ${e + 1}: ${epochSeconds[e].toFixed(3)} s (fit ${fitSeconds[e].toFixed(3)} s), loss ${losses[e].toFixed(5)}`);
      return { epochSeconds: epochSeconds[e], fitSeconds: fitSeconds[e], loss: losses[e] };
    },
    result: () => ({
      epochSeconds: [...epochSeconds],
      fitSeconds: [...fitSeconds],
      firstEpochSeconds: epochSeconds[0],
      medianSeconds: median(epochSeconds),
      medianAfterFirst: median(epochSeconds.slice(1)),
      losses: [...losses],
      backend,
      tfjs: tf.version_core,
      samples: n,
      batchSize: BATCH,
    }),
    dispose() {
      if (disposed) return;
      disposed = true;
      y.dispose();
      model.dispose(); // not the optimizer: the model owns only optimizers it made from a name
      optimizer.dispose();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const value = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const epochs = Number(value('--epochs', 3));
  const backend = value('--backend', 'wasm');
  const r = await tfjsFitEpoch({ epochs, backend, log: console.log });
  const after = epochs > 1 ? `, median after the first ${r.medianAfterFirst.toFixed(3)} s` : '';
  console.log(`tfjs-${backend} model.fit: first epoch ${r.firstEpochSeconds.toFixed(3)} s, median ${r.medianSeconds.toFixed(3)} s${after}`);
  console.log(JSON.stringify(r));
}
