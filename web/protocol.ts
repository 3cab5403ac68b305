// The messages between the page (main.ts) and the training worker (worker.ts). Images travel as Float32Array
// rows of 784 pixels in 0..1.

import type { BackendName, EpochMetrics, NoiseOptions, WasmVariant } from '../src/index.js';
import type { TrainConfig as RunConfig } from '../src/training/run.js';

/** A run's settings (src/training/run.ts: the CLI's too, and the one place a run is built from them) and where
 *  the demo runs it. The form fills in every optional setting: 0 means none (a weight decay of 0 included). */
export interface TrainConfig extends RunConfig {
  activation: 'relu' | 'tanh' | 'sigmoid';
  backend: BackendName;
  /** Which .wasm build: 'auto' takes the best the browser runs (the feature probe), or force one. */
  wasmBuild: 'auto' | WasmVariant;
  /** Kernel threads of the wasm backend, this worker included: 0 = auto (every core, the library's default). */
  threads: number;
  /** Train on the first N digits of the 8,000 (all when 0); the 2,000 test digits are always all used. */
  trainCount: number;
  /** Post the running train loss every this many batches. */
  reportEvery: number;
}

/** The noise of a config, as the inspect and denoise messages carry it. */
export const noiseOf = (c: TrainConfig): NoiseOptions => ({ kind: c.noise, factor: c.noiseFactor });

/** Ten test digits, one per class: clean, noisy (the test noise) and the model's output. */
export interface Grid {
  clean: Float32Array;
  noisy: Float32Array;
  denoised: Float32Array;
}

/** What a backend runs: the build, its threads, and why fewer threads run than were asked for. */
export interface BackendInfo {
  /** 'js', a wasm build, or `unavailable: <reason>`. */
  variant: string;
  threads: number;
  /** Threads asked for (the auto count resolved: navigator.hardwareConcurrency). */
  asked: number;
  threadsNote?: string;
  /** The worker's own crossOriginIsolated (SharedArrayBuffer, hence threads, needs it). */
  crossOriginIsolated: boolean;
}

export type ToWorker =
  /** Load the digits and create the wasm backend of these settings (so the page can say what will run). */
  | { type: 'init'; dataUrl: string; wasmBuild: TrainConfig['wasmBuild']; threads: number }
  | { type: 'start'; config: TrainConfig }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  /** Denoise test digit `index` with the given noise (noisy input drawn from `seed`). */
  | { type: 'inspect'; index: number; noise: NoiseOptions; seed: number }
  /** Add noise to any 784-pixel image (the drawing pad) and denoise it. */
  | { type: 'denoise'; id: number; pixels: Float32Array; noise: NoiseOptions }
  /** The current model as a file: .simdnet (default) or .onnx. */
  | { type: 'download'; format?: 'onnx' }
  | { type: 'load'; bytes: Uint8Array; name: string; config: TrainConfig };

export interface Progress {
  epoch: number;
  batch: number;
  batches: number;
  /** Mean train loss of the batches since the last report. */
  runningLoss: number;
  /** The running train loss every `reportEvery` batches since the last post: [epochs elapsed, loss]. */
  running: [number, number][];
  /** Training throughput since the run started, evaluation and pauses excluded. */
  samplesPerSec: number;
  /** The loss of each of the first batches of the run (for the wasm-vs-Node parity test). */
  firstLosses: number[];
}

export type FromWorker =
  /** `wasm` is the build the feature probe picked, or why there is none. */
  | { type: 'ready'; trainCount: number; testCount: number; labels: Uint8Array; wasm: string; info: BackendInfo }
  /** `summary` is model.summary(): the layer table; `shape`, the model in a few words ("784 → 128 → 784", or the
   *  input shape and layers of a conv model). */
  | { type: 'started'; variant: string; info: BackendInfo; params: number; summary: string; shape: string; baseline: EpochMetrics; grid: Grid }
  | { type: 'progress'; progress: Progress }
  | { type: 'epoch'; metrics: EpochMetrics; grid: Grid; samplesPerSec: number }
  /** Paused comes with the grid of the model as it is at that moment. */
  | { type: 'state'; state: 'paused' | 'training'; grid?: Grid }
  /** stopped: by the Stop button; reason: why a callback (early stopping) ended the run, with the scores and grid
   *  of the weights it kept. */
  | { type: 'done'; stopped: boolean; reason?: string; kept?: EpochMetrics; grid?: Grid; samplesPerSec: number }
  | { type: 'inspected'; index: number; label: number; clean: Float32Array; noisy: Float32Array; denoised: Float32Array }
  | { type: 'denoised'; id: number; noisy: Float32Array; denoised: Float32Array }
  | { type: 'model'; bytes: Uint8Array<ArrayBuffer>; format?: 'onnx' }
  | { type: 'loaded'; name: string; variant: string; info: BackendInfo; params: number; summary: string; shape: string; metrics: EpochMetrics; grid: Grid }
  | { type: 'error'; message: string };
