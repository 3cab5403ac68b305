// The vocabulary of training, shared by fit, its callbacks, checkpoints and the CLI (as tfjs-layers' logs.ts and
// base_callbacks.ts): the sets fit takes, its options, what it reports per batch and per epoch, the progress a
// checkpoint saves, and the callback interface. Types only, so any training file can import it without a cycle.

import type { NoiseKind } from '../data/noise.js';
import type { LossName } from '../losses.js';
import type { Sequential } from '../model.js';
import type { Optimizer, OptimizerName } from '../optimizers.js';
import type { Schedule } from './schedules.js';

/** Inputs x (count × model.inputWidth) and targets y (count × model.outputWidth). */
export interface FitSet {
  x: Float32Array;
  y: Float32Array;
}

export interface NoiseOptions {
  kind: NoiseKind;
  factor: number;
  /** New noise every epoch (default true); false draws it once. */
  fresh?: boolean;
}

export interface BatchInfo {
  /** 0-based epoch and batch; `batches` per epoch. */
  epoch: number;
  batch: number;
  batches: number;
  /** The batch's loss (before its update), its rows (the last batch may be partial), the learning rate of its
   *  step, and the seconds it took (gather and step: callbacks, yields and checkpoints excluded). */
  loss: number;
  rows: number;
  lr: number;
  seconds: number;
}

/** Extra metrics: accuracy (argmax, for one-hot targets) on train, validation and test; mse and psnr on train. */
export type MetricName = 'accuracy' | 'mse' | 'psnr';

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  testLoss: number;
  testMse: number;
  /** PSNR of the noisy test input and of the model's output against the clean target (image tasks only). */
  psnrNoisy?: number;
  psnrDenoised?: number;
  /** Argmax accuracy on the test set (cross-entropy, or metrics: ['accuracy']). */
  testAccuracy?: number;
  /** With metrics: on the training batches as trained (so with their noise and Dropout). */
  trainAccuracy?: number;
  trainMse?: number;
  trainPsnr?: number;
  /** With validationSplit: the held-out part of the training set (its noise drawn once, like the test set's). */
  valLoss?: number;
  valMse?: number;
  valPsnr?: number;
  valAccuracy?: number;
  /** The learning rate of the epoch's last step. */
  lr?: number;
  /** Training time of this epoch: the sum of its batches' seconds. */
  seconds: number;
}

export interface FitOptions {
  epochs: number;
  batchSize?: number;
  loss?: LossName;
  optimizer?: Optimizer | OptimizerName;
  /** A constant rate (for an optimizer by name), or a schedule (epoch, step, run) → rate called before every step
   *  (stepDecay, exponentialDecay, cosineDecay, or your own). */
  lr?: number | Schedule;
  /** Seeds shuffling, the validation split and noise (default 0). */
  seed?: number;
  /** Shuffle the training rows every epoch (default true). */
  shuffle?: boolean;
  /** Hold out this fraction of the training rows (seeded, before any shuffling) and report val* metrics. */
  validationSplit?: number;
  /** Corrupts the inputs (x) of every set; targets stay clean. */
  noise?: NoiseOptions | null;
  metrics?: MetricName[];
  callbacks?: Callback[];
  /** When fit hands the event loop a turn (a setTimeout(0)): 'batch', 'epoch', every N milliseconds, 'never', or
   *  'auto' (the default): every 25 ms on a browser page's main thread, which would freeze otherwise, else never. */
  yieldEvery?: 'auto' | 'batch' | 'epoch' | 'never' | number;
  /** Continue a run from a checkpoint's progress (the model and optimizer must hold the checkpoint's state).
   *  Shuffling and noise of an epoch depend only on the seed and the epoch, so nothing else is needed. */
  resume?: Progress;
  /** Calls onCheckpoint every this many batches (and at each epoch's end); 0 = only at epoch ends. */
  checkpointEvery?: number;
  /** Called between steps with the progress so far: save the model and optimizer with it to resume later. */
  onCheckpoint?: (progress: Progress) => void | Promise<void>;
  /** Called after each batch; return false (or a promise of it) to stop training (a callback's onBatchEnd). */
  onBatch?: (info: BatchInfo) => void | boolean | Promise<void | boolean>;
  /** Called after each epoch with its metrics; return false to stop (a callback's onEpochEnd). */
  onEpoch?: (metrics: EpochMetrics) => void | boolean | Promise<void | boolean>;
}

/** Where a run stands between two steps: everything a checkpoint needs besides model and optimizer state. */
export interface Progress {
  /** The epoch under way (0-based) and the next batch to run in it. */
  epoch: number;
  batch: number;
  /** Running sums of the epoch under way (for its train loss) and its training time so far. */
  lossSum: number;
  seen: number;
  seconds: number;
  /** Metrics of the finished epochs. */
  epochs: EpochMetrics[];
  /** The divergence watch: the run's first batch loss and the smoothed batch loss so far (absent before the
   *  first batch, and in checkpoints of older versions). */
  firstLoss?: number;
  smoothLoss?: number;
  /** The largest |weight| when the run started (the watch's yardstick for weights growing without bound). */
  startWeight?: number;
  /** What the batches were cut from (absent in checkpoints of older versions): a resume with another
   *  batch size, seed, validation split or training set would not continue the same run, so fit refuses it. */
  run?: { rows: number; batchSize: number; seed: number; validationRows?: number };
  /** The epoch under way's sums for the train metrics (correct rows, squared error). */
  metricSums?: { correct: number; squaredError: number };
  /** The state of each callback that has one (null for those without), in the order of options.callbacks. */
  callbacks?: (CallbackState | null)[];
  /** Set when a callback stopped the run: a resume of it trains no further. */
  stopped?: { epoch: number; batch: number; reason?: string };
}

export interface History {
  epochs: EpochMetrics[];
  /** Set when a callback (or onBatch / onEpoch) stopped training: the next epoch and batch that would have run. */
  stopped?: { epoch: number; batch: number; reason?: string };
  /** The inputs of the test set as evaluated (with the run's noise): what the model's test scores are of. */
  testInputs?: Float32Array;
}

/** What a callback sees of the run. */
export interface TrainingContext {
  readonly model: Sequential;
  readonly optimizer: Optimizer;
  /** Epochs of the whole run and batches per epoch. */
  readonly epochs: number;
  readonly batches: number;
  /** The test inputs as evaluated, with the run's noise (undefined without a test set). */
  readonly testInputs?: Float32Array;
  /** Multiplies the learning rate of every step (the constant or the schedule's); reduceLROnPlateau lowers it. */
  lrScale: number;
  /** Why the run stops, set by a callback that stops it (History.stopped.reason). */
  stopReason?: string;
}

/** Return false (or a promise of it) to stop training. */
export type Stop = void | boolean | Promise<void | boolean>;

/** A callback's saved state: JSON values, and a weight copy when it keeps one (in checkpoints, a block). */
export interface CallbackState {
  values: Record<string, number | string | null>;
  weights?: Float32Array;
}

export interface Callback {
  onTrainBegin?(ctx: TrainingContext): Stop;
  /** `epoch` is 0-based: the epoch about to run. */
  onEpochBegin?(epoch: number, ctx: TrainingContext): Stop;
  /** After a step: returning false stops with no further step. */
  onBatchEnd?(info: BatchInfo, ctx: TrainingContext): Stop;
  /** After an epoch's evaluation; `metrics.epoch` is 1-based (the epochs done). */
  onEpochEnd?(metrics: EpochMetrics, ctx: TrainingContext): Stop;
  /** After the last epoch or a stop (not after an error). */
  onTrainEnd?(history: History, ctx: TrainingContext): void | Promise<void>;
  saveState?(): CallbackState;
  loadState?(state: CallbackState, ctx: TrainingContext): void;
}
