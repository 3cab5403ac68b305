// The training worker: holds the digits, the backend and the model, and runs the library's own `fit` loop.
// `fit` awaits onBatch, so every few batches we yield to the event loop (a setTimeout(0)), which is when
// pause / stop / inspect messages get handled; pause simply keeps that promise pending.
// The wasm backend runs its kernels on threads here (Atomics.wait, which they need, is allowed in a worker and not
// on a page's main thread): its pool's workers are nested workers of this one, over one shared memory.

import {
  applyNoise, BUNDLED_TRAIN_COUNT, createBackend, DATA_SPLIT_SEED, decodeDigits, deserializeModel, evaluate, fit, IMAGE_SHAPE, IMAGE_WIDTH, noisyTestInputs,
  Rng, serializeModel, SimdnetError, exportOnnx, importOnnx, splitDigits, type Backend, type BackendName, type EpochMetrics, type FitSet, type NoiseOptions,
  type Sequential,
} from '../src/index.js';
import { describeLayers } from '../src/models.js';
import { createRun } from '../src/training/run.js';
import { noiseOf, type BackendInfo, type FromWorker, type Grid, type ToWorker, type TrainConfig } from './protocol.js';

const PX = IMAGE_WIDTH;
/** Yield to the event loop at least this often while training (ms). */
const YIELD_MS = 25;
const FIRST_LOSSES = 32;
/** Post progress at most this often (ms): each post makes the page lay out and paint, and on a machine with few
 *  cores that takes a core from the kernel threads, which then wait for each other at every kernel. */
const REPORT_MS = 100;

let train: FitSet | undefined;
let test: FitSet | undefined;
let testLabels: Uint8Array;
/** One test digit per class, 0..9. */
let gridRows: number[] = [];

const backends = new Map<string, { promise: Promise<Backend>; backend?: Backend }>();
let model: Sequential | undefined;
let modelConfig: TrainConfig | undefined;
let running = false;
let loading = false;
let paused = false;
let stopRequested = false;
let resume: (() => void) | undefined;

const post = (msg: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(msg, transfer);

/** The backend of these settings: created on first use and kept while it is in use (a model is rebuilt on it for
 *  each run); `retire` disposes the ones a new model no longer needs. threads 0 = the library's default. */
function backend(name: BackendName, build: TrainConfig['wasmBuild'] = 'auto', threads = 0): Promise<Backend> {
  const key = name === 'js' ? 'js' : `wasm:${build}:${threads}`;
  let entry = backends.get(key);
  if (!entry) {
    const promise = createBackend(name, { ...(build === 'auto' ? {} : { variant: build }), ...(threads > 0 ? { threads } : {}) });
    const e: { promise: Promise<Backend>; backend?: Backend } = { promise };
    backends.set(key, (entry = e));
    promise.then((b) => (e.backend = b), () => backends.delete(key)); // a failure is reported by the caller; try again next time
  }
  return entry.promise;
}

/** Disposes every backend but `keep` (their threads stop): call it once the model on them is gone. */
function retire(keep: Backend): void {
  for (const [key, e] of backends)
    if (e.backend && e.backend !== keep) {
      backends.delete(key);
      e.backend.dispose();
    }
}

function info(b: Backend, threads: number): BackendInfo {
  const asked = b.name === 'js' ? 1 : threads > 0 ? threads : Math.max(1, navigator.hardwareConcurrency || 1);
  return { variant: b.variant, threads: b.threads, asked, threadsNote: b.threadsNote, crossOriginIsolated: self.crossOriginIsolated === true };
}

async function init(dataUrl: string, wasmBuild: TrainConfig['wasmBuild'], threads: number): Promise<void> {
  const res = await fetch(dataUrl);
  if (!res.ok) throw new Error(`could not fetch the digits from ${dataUrl}: HTTP ${res.status}`);
  let bytes = new Uint8Array(await res.arrayBuffer());
  // gunzip unless the server already did (Content-Encoding: gzip hands us the SDMN bytes themselves)
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
  const { images, labels } = decodeDigits(bytes);
  const split = splitDigits(images, labels, DATA_SPLIT_SEED, BUNDLED_TRAIN_COUNT);
  train = { x: split.train.images, y: split.train.images };
  test = { x: split.test.images, y: split.test.images };
  testLabels = split.test.labels;
  gridRows = Array.from({ length: 10 }, (_, d) => testLabels.indexOf(d));
  // the wasm backend of the form's settings, so the page can say what a run will get (build, threads, or why not)
  let ready: BackendInfo;
  try {
    ready = info(await backend('wasm', wasmBuild, threads), threads);
  } catch (e) {
    ready = { variant: `unavailable: ${(e as Error).message}`, threads: 0, asked: threads, crossOriginIsolated: self.crossOriginIsolated === true };
  }
  const wasm = wasmBuild === 'auto' || ready.variant.startsWith('unavailable') ? ready.variant : '';
  post({ type: 'ready', trainCount: split.train.count, testCount: split.test.count, labels: testLabels, wasm, info: ready });
}

/** The first `n` training digits (all when n is 0 or ≥ 8000). */
function trainSubset(n: number): FitSet {
  if (!n || n >= train!.x.length / PX) return train!;
  const x = train!.x.subarray(0, n * PX);
  return { x, y: x };
}

function rows(src: Float32Array, indices: number[]): Float32Array {
  const out = new Float32Array(indices.length * PX);
  indices.forEach((r, i) => out.set(src.subarray(r * PX, (r + 1) * PX), i * PX));
  return out;
}

function predict(m: Sequential, x: Float32Array): Float32Array {
  return evaluate(m, { x, y: x }, { loss: 'mse' }).predictions;
}

function grid(m: Sequential, noisyTest: Float32Array): Grid {
  const noisy = rows(noisyTest, gridRows);
  return { clean: rows(test!.x, gridRows), noisy, denoised: predict(m, noisy) };
}

/** A model in a few words: "784 → 32 → 784" for a dense one, else its input shape and layers ("1×28×28 → conv 1→32
 *  3×3, relu, …, conv 32→1 3×3, sigmoid"). */
function shapeText(m: Sequential): string {
  if (m.shapes.every((s) => s.length === 1)) return [m.inputWidth, ...m.spec().layers.flatMap((l) => (l.type === 'linear' ? [l.out] : []))].join(' → ');
  return `${m.inputShape.join('×')} → ${describeLayers(m.spec())}`;
}

function scores(m: Sequential, config: TrainConfig, noisyTest: Float32Array, epoch: number): EpochMetrics {
  const { predictions: _, ...s } = evaluate(m, { x: noisyTest, y: test!.y }, { loss: config.loss, batchSize: 250 });
  return { epoch, trainLoss: NaN, seconds: 0, ...s };
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

async function start(config: TrainConfig): Promise<void> {
  if (running) throw new Error('already training');
  if (loading) throw new Error('a model is being loaded; try again in a moment');
  running = true;
  paused = false;
  stopRequested = false;
  try {
    const b = await backend(config.backend, config.wasmBuild, config.threads);
    model?.dispose();
    model = undefined;
    // the model, optimizer, schedule, callbacks and sets of these settings, built as `simdnet train` builds them
    const run = createRun(config, b, { train: trainSubset(config.trainCount).x, test: test!.x }, 'start');
    model = run.model;
    modelConfig = config;
    retire(b);

    const firstLosses: number[] = [];
    let trainSeconds = 0; // fit's own step times: pauses, posts and evaluation excluded
    let samples = 0;
    let lastYield = performance.now();
    let lastReport = -Infinity;
    let running: [number, number][] = [];
    let lossSum = 0;
    let lossCount = 0;
    let noisyTest: Float32Array = new Float32Array(0);
    const rate = () => (trainSeconds > 0 ? samples / trainSeconds : 0);
    const m = model;

    let history: Awaited<ReturnType<typeof fit>>;
    try {
      history = await fit(m, run.data, {
        ...run.fit,
        callbacks: [
          {
            // the test inputs fit drew (with the model's backend): the page's scores are fit's
            onTrainBegin: (ctx) => {
              noisyTest = ctx.testInputs!;
              noisyCache = { key: noiseKey(noiseOf(config), config.seed), backend: b, x: noisyTest };
              post({ type: 'started', variant: b.variant, info: info(b, config.threads), params: m.paramCount, summary: m.summary(), shape: shapeText(m), baseline: scores(m, config, noisyTest, 0), grid: grid(m, noisyTest) });
            },
          },
          ...run.fit.callbacks,
        ],
        onBatch: async ({ epoch, batch, batches, loss, rows, seconds }) => {
          trainSeconds += seconds;
          samples += rows;
          if (firstLosses.length < FIRST_LOSSES) firstLosses.push(loss);
          lossSum += loss;
          lossCount++;
          const t = performance.now();
          if (lossCount >= config.reportEvery || batch === batches - 1) {
            running.push([epoch + (batch + 1) / batches, lossSum / lossCount]);
            if (t - lastReport >= REPORT_MS || batch === batches - 1) {
              lastReport = t;
              post({ type: 'progress', progress: { epoch, batch: batch + 1, batches, runningLoss: lossSum / lossCount, running, samplesPerSec: rate(), firstLosses } });
              running = [];
            }
            lossSum = lossCount = 0;
          }
          if (t - lastYield > YIELD_MS || paused || stopRequested) {
            await tick();
            while (paused && !stopRequested) await new Promise<void>((r) => (resume = r));
            lastYield = performance.now();
          }
          return !stopRequested;
        },
        onEpoch: (metrics) => post({ type: 'epoch', metrics, grid: grid(m, noisyTest), samplesPerSec: rate() }),
      });
    } finally {
      run.optimizer.dispose();
    }
    // early stopping with restoreBest leaves the best epoch's weights: say what the kept model scores
    const kept = history.stopped?.reason ? scores(m, config, noisyTest, history.epochs.length) : undefined;
    post({ type: 'done', stopped: history.stopped !== undefined && !history.stopped.reason, reason: history.stopped?.reason, kept, grid: kept && grid(m, noisyTest), samplesPerSec: rate() });
  } finally {
    running = false;
    paused = false;
  }
}

const noiseKey = (noise: NoiseOptions, seed: number) => `${noise.kind}:${noise.factor}:${seed}`;

let noisyCache: { key: string; backend: Backend | undefined; x: Float32Array } | undefined;
/** The noisy test inputs for these settings: the same pixels the test metrics of a run with them use (the noise
 *  kernel of `b`, the model's backend, draws them, as in fit; with no model yet, the library's js twin). */
function noisyTestSet(noise: NoiseOptions, seed: number, b = model?.backend): Float32Array {
  const key = noiseKey(noise, seed);
  if (noisyCache?.key !== key || noisyCache.backend !== b) noisyCache = { key, backend: b, x: noisyTestInputs(test!, noise, seed, { width: PX, backend: b }) };
  return noisyCache.x;
}

function inspect(index: number, noise: NoiseOptions, seed: number): void {
  const i = Math.max(0, Math.min(testLabels.length - 1, index | 0));
  const clean = rows(test!.x, [i]);
  const noisy = rows(noisyTestSet(noise, seed), [i]);
  const denoised = model ? predict(model, noisy) : new Float32Array(PX);
  post({ type: 'inspected', index: i, label: testLabels[i], clean, noisy, denoised });
}

function denoise(id: number, pixels: Float32Array, noise: NoiseOptions): void {
  const noisy = new Float32Array(PX);
  applyNoise(noisy, pixels, noise.kind, noise.factor, new Rng(id));
  post({ type: 'denoised', id, noisy, denoised: model ? predict(model, noisy) : new Float32Array(PX) });
}

async function load(bytes: Uint8Array, name: string, config: TrainConfig): Promise<void> {
  if (running) throw new Error('stop training before loading a model');
  if (loading) throw new Error('a model is being loaded; try again in a moment');
  loading = true;
  let b: Backend;
  try {
    b = await backend(config.backend, config.wasmBuild, config.threads);
  } finally {
    loading = false;
  }
  // an .onnx file (PyTorch, Keras via tf2onnx, or this page's own export) or a .simdnet model file
  const loaded = /\.onnx$/i.test(name) ? importOnnx(bytes, { backend: b, name }) : deserializeModel(bytes, b, name).model;
  // a dense autoencoder (784 in and out) or a conv one (images of 1×28×28 in and out)
  const image = (shape: readonly number[]) => (shape.length === 1 ? shape[0] === PX : shape.join() === IMAGE_SHAPE.join());
  if (!image(loaded.inputShape) || !image(loaded.outputShape)) {
    loaded.dispose();
    throw new SimdnetError(`${name}: expected a ${PX} → ${PX} or ${IMAGE_SHAPE.join('×')} → ${IMAGE_SHAPE.join('×')} autoencoder, got ${loaded.inputShape.join('×')} → ${loaded.outputShape.join('×')}`, 'E_SHAPE');
  }
  model?.dispose();
  model = loaded;
  modelConfig = config;
  retire(b);
  const noisy = noisyTestSet(noiseOf(config), config.seed);
  post({ type: 'loaded', name, variant: b.variant, info: info(b, config.threads), params: loaded.paramCount, summary: loaded.summary(), shape: shapeText(loaded), metrics: scores(loaded, config, noisy, 0), grid: grid(loaded, noisy) });
}

function download(format?: 'onnx'): void {
  if (!model || !modelConfig) throw new Error('no model yet: train one or load one first');
  const { model: kind = 'dense', hidden, activation, channels, loss, optimizer, lr, batchSize, noise, noiseFactor, seed } = modelConfig;
  const layers = kind === 'conv' ? { model: kind, channels } : { hidden, activation };
  const meta = { source: 'simdnet web demo', ...layers, loss, optimizer, lr, batchSize, noise, noiseFactor, seed };
  const bytes = format === 'onnx' ? exportOnnx(model, { meta }) : serializeModel(model, meta);
  post({ type: 'model', bytes, format }, [bytes.buffer]);
}

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  try {
    switch (msg.type) {
      case 'init':
        return await init(msg.dataUrl, msg.wasmBuild, msg.threads);
      case 'start':
        return await start(msg.config);
      case 'pause':
        if (!running) return;
        paused = true;
        return post({ type: 'state', state: 'paused', grid: model && noisyCache ? grid(model, noisyCache.x) : undefined });
      case 'resume':
        if (running && paused) (paused = false), resume?.(), post({ type: 'state', state: 'training' });
        return;
      case 'stop':
        stopRequested = true;
        resume?.();
        return;
      case 'inspect':
        return inspect(msg.index, msg.noise, msg.seed);
      case 'denoise':
        return denoise(msg.id, msg.pixels, msg.noise);
      case 'download':
        return download(msg.format);
      case 'load':
        return await load(msg.bytes, msg.name, msg.config);
    }
  } catch (err) {
    post({ type: 'error', message: (err as Error).message ?? String(err) });
  }
};
