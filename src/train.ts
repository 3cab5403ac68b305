// The fit loop: seeded shuffling, mini-batches (the last one partial), optional input noise (fresh each epoch),
// per-batch and per-epoch callbacks, and the metrics of each epoch (loss, MSE, PSNR, accuracy).

import type { Backend } from './backend/backend.js';
import { gatherNoiseJs } from './backend/noise-js.js';
import { toFitData, type FitInput } from './data/convert.js';
import { DeviceSet, TEST_NOISE_STREAM, noiseDraw, noisyCopy } from './data/batches.js';
import type { NoiseKind } from './data/noise.js';
import { SimdnetError, check } from './errors.js';
import { getLoss, type LossName } from './losses.js';
import { accuracy, meanSquaredError, psnr } from './metrics.js';
import type { Sequential } from './model.js';
import { createOptimizer, type Optimizer, type OptimizerName } from './optimizers.js';
import { Rng } from './random.js';

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
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
}

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  testLoss: number;
  testMse: number;
  /** PSNR of the noisy test input and of the model's output against the clean target (image tasks only). */
  psnrNoisy?: number;
  psnrDenoised?: number;
  /** Argmax accuracy on the test set (cross-entropy only). */
  testAccuracy?: number;
  /** Training time of this epoch (evaluation excluded). */
  seconds: number;
}

export interface FitOptions {
  epochs: number;
  batchSize?: number;
  loss?: LossName;
  optimizer?: Optimizer | OptimizerName;
  lr?: number;
  /** Seeds shuffling and noise (default 0). */
  seed?: number;
  /** Corrupts the inputs (x) of both sets; targets stay clean. */
  noise?: NoiseOptions | null;
  /** Continue a run from a checkpoint's progress (the model and optimizer must hold the checkpoint's state).
   *  Shuffling and noise of an epoch depend only on the seed and the epoch, so nothing else is needed. */
  resume?: Progress;
  /** Calls onCheckpoint every this many batches (and at each epoch's end); 0 = only at epoch ends. */
  checkpointEvery?: number;
  /** Called between steps with the progress so far: save the model and optimizer with it to resume later. */
  onCheckpoint?: (progress: Progress) => void | Promise<void>;
  /** Called after each batch; return false (or a promise of it) to stop training. */
  onBatch?: (info: BatchInfo) => void | boolean | Promise<void | boolean>;
  /** Called after each epoch with its metrics. */
  onEpoch?: (metrics: EpochMetrics) => void | Promise<void>;
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
  /** What the batches were cut from (absent in checkpoints of older versions): a resume with another
   *  batch size, seed or training set would not continue the same run, so fit refuses it. */
  run?: { rows: number; batchSize: number; seed: number };
}

/** Training counts as diverged when a loss or a weight is not finite, or, for losses with a chance level
 *  (BCE, cross-entropy), when the smoothed batch loss (an exponential moving average over about 10 batches)
 *  exceeds this many times the larger of the chance level and the run's first batch loss. Bounded losses need
 *  the second test: SGD at lr 1e6 with BCE saturates the sigmoid and never yields a NaN. The chance level keeps
 *  the watch quiet when fine-tuning a trained model, whose first batch loss may be tiny and noisy. */
export const DIVERGENCE_FACTOR = 2;
const SMOOTHING = 0.1;

export interface History {
  epochs: EpochMetrics[];
  /** Set when training stopped because onBatch returned false. */
  stopped?: { epoch: number; batch: number };
}

/** The random generator for one epoch's shuffle and noise: depends on the seed and the epoch only, so a
 *  run can resume at any epoch boundary (or mid-epoch, by replaying the permutation) without saved state. */
export function epochRng(seed: number, epoch: number): Rng {
  return new Rng(Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b));
}

/** Noise for the test inputs (rows of `width` values): drawn once from the seed (its own stream), the same every
 *  epoch so PSNR compares across epochs. With a backend, by its kernel (what fit evaluates on: pass the model's
 *  backend); without, by the js twin (equal within float tolerance). */
export function noisyTestInputs(test: FitSet, noise: NoiseOptions | null | undefined, seed: number, at: { width: number; backend?: Backend }): Float32Array {
  if (!noise) return test.x;
  const { width, backend } = at;
  check(Number.isInteger(width) && width > 0 && test.x.length % width === 0, () => `noisyTestInputs: expected rows of a positive width, got width ${width} for ${test.x.length} values`);
  const draw = noiseDraw(noise.kind, noise.factor, seed, TEST_NOISE_STREAM);
  if (backend) return noisyCopy(backend, test.x, width, draw);
  const n = test.x.length;
  const heap = new Float32Array(2 * n);
  heap.set(test.x);
  gatherNoiseJs(heap, new Int32Array(heap.buffer), 4 * n, 0, 0, 0, n / width, width, draw.code, draw.factor, draw.k0, draw.k1);
  return heap.slice(n);
}

export async function fit(model: Sequential, input: FitInput, options: FitOptions): Promise<History> {
  const data = toFitData(input, model.inputWidth, model.outputWidth); // number[][] and {input, output}[] too
  check(data != null && typeof data === 'object', 'fit: expected data as {train: {x, y}, test?: {x, y}}');
  check(options != null && typeof options === 'object', 'fit: expected options with at least {epochs}');
  const { train, test } = data;
  const batchSize = options.batchSize ?? 64;
  const seed = options.seed ?? 0;
  const loss = getLoss(options.loss ?? 'mse');
  const inW = model.inputWidth;
  const outW = model.outputWidth;
  check(Number.isInteger(options.epochs) && options.epochs >= 0, `fit: epochs must be a non-negative integer, got ${options.epochs}`);
  check(Number.isInteger(batchSize) && batchSize > 0, `fit: batchSize must be a positive integer, got ${batchSize}`);
  checkSet('train', train, inW, outW);
  if (test) checkSet('test', test, inW, outW);
  const count = train.x.length / inW;
  const B = Math.min(batchSize, count);
  const batches = Math.ceil(count / B);
  const given = options.optimizer;
  check(given === undefined || typeof given === 'string' || (typeof given === 'object' && given !== null && typeof (given as Optimizer).step === 'function'),
    () => `fit: optimizer must be a name (sgd, momentum, adam) or an optimizer from createOptimizer(), got ${given === null ? 'null' : typeof given === 'object' ? 'an object without step()' : String(given)}`);
  const ownOptimizer = typeof options.optimizer !== 'object';
  const optimizer = typeof options.optimizer === 'object' ? options.optimizer : createOptimizer(options.optimizer ?? 'adam', { lr: options.lr });

  const testInputs = test ? noisyTestInputs(test, options.noise, seed, { width: inW, backend: model.backend }) : undefined;
  const noise = options.noise;
  if (noise) noiseDraw(noise.kind, noise.factor, seed, 0); // checks the options before anything is allocated
  const order = new Int32Array(count);
  const history: History = { epochs: [] };
  const backend = model.backend;
  const lastPartial = count - (batches - 1) * B;

  const resume = options.resume;
  const run = { rows: count, batchSize: B, seed };
  if (resume) {
    check(Number.isInteger(resume.epoch) && resume.epoch >= 0 && Number.isInteger(resume.batch) && resume.batch >= 0 && resume.batch < batches && Array.isArray(resume.epochs),
      () => `fit: resume: expected progress at epoch ≥ 0 and batch 0..${batches - 1}, got epoch ${resume.epoch}, batch ${resume.batch}`);
    for (const key of ['rows', 'batchSize', 'seed'] as const)
      check(resume.run === undefined || resume.run[key] === run[key], () => `fit: resume: the run was made with ${key} ${resume.run![key]}, this fit has ${run[key]}; it would not continue the same run`);
    history.epochs.push(...resume.epochs);
  }
  const every = options.checkpointEvery ?? 0;
  check(Number.isInteger(every) && every >= 0, `fit: checkpointEvery must be an integer ≥ 0, got ${every}`);
  // the divergence watch (part of the progress, so a resumed run watches exactly as the straight run)
  const chance = loss.chance ? loss.chance(outW) : Infinity; // no chance level: only non-finite values count
  let firstLoss = resume?.firstLoss ?? NaN;
  let smoothLoss = resume?.smoothLoss ?? NaN;
  const progress = (epoch: number, batch: number, lossSum: number, seen: number, seconds: number): Progress => {
    const p: Progress = { epoch, batch, lossSum, seen, seconds, epochs: [...history.epochs], run };
    if (!Number.isNaN(firstLoss)) Object.assign(p, { firstLoss, smoothLoss });
    return p;
  };

  // the training set in the backend's memory, once per fit
  const set = new DeviceSet(backend, train.x, train.y, inW, outW);
  try {
    for (let epoch = resume?.epoch ?? 0; epoch < options.epochs; epoch++) {
      const resuming = resume !== undefined && epoch === resume.epoch;
      let started = now() - (resuming ? resume.seconds * 1000 : 0);
      const rng = epochRng(seed, epoch);
      for (let i = 0; i < count; i++) order[i] = i;
      rng.shuffle(order);
      set.setOrder(order);
      // a fresh corruption per epoch (stream epoch + 1), or one for the whole run (stream 0)
      const draw = noise ? noiseDraw(noise.kind, noise.factor, seed, noise.fresh === false ? 0 : epoch + 1) : null;
      let lossSum = resuming ? resume.lossSum : 0;
      let seen = resuming ? resume.seen : 0;
      for (let b = resuming ? resume.batch : 0; b < batches; b++) {
        const rows = b === batches - 1 ? lastPartial : B;
        set.gather(model.input(rows), model.target(rows), b * B, rows, draw);
        model.zeroGrad();
        model.forward(rows);
        const value = model.loss(rows, loss, true);
        if (!Number.isFinite(value)) throw divergence(epoch, b, value, optimizer.lr);
        if (Number.isNaN(firstLoss)) firstLoss = smoothLoss = value;
        else smoothLoss += SMOOTHING * (value - smoothLoss);
        if (smoothLoss > DIVERGENCE_FACTOR * Math.max(firstLoss, chance))
          throw divergence(epoch, b, value, optimizer.lr, `the smoothed loss rose to ${smoothLoss.toPrecision(4)}, more than ${DIVERGENCE_FACTOR}× its starting value ${firstLoss.toPrecision(4)} and the chance level ${chance.toPrecision(4)}`);
        optimizer.step(model);
        lossSum += value * rows;
        seen += rows;
        if (options.onBatch) {
          const goOn = await options.onBatch({ epoch, batch: b, batches, loss: value });
          if (goOn === false) {
            history.stopped = { epoch, batch: b + 1 };
            return history;
          }
        }
        if (options.onCheckpoint && every > 0 && (b + 1) % every === 0 && b + 1 < batches) {
          if (!model.weightsFinite()) throw divergence(epoch, b, NaN, optimizer.lr);
          const paused = now();
          await options.onCheckpoint(progress(epoch, b + 1, lossSum, seen, (paused - started) / 1000));
          started += now() - paused; // checkpoint writing is not training time
        }
      }
      if (!model.weightsFinite()) throw divergence(epoch, batches - 1, NaN, optimizer.lr);
      const seconds = (now() - started) / 1000;
      const metrics: EpochMetrics = { epoch: epoch + 1, trainLoss: seen ? lossSum / seen : NaN, testLoss: NaN, testMse: NaN, seconds };
      if (test && testInputs) {
        const { predictions: _, ...scores } = evaluate(model, { x: testInputs, y: test.y }, { loss: loss.name, batchSize: B });
        Object.assign(metrics, scores);
      }
      metrics.seconds = seconds;
      history.epochs.push(metrics);
      await options.onEpoch?.(metrics);
      if (options.onCheckpoint) await options.onCheckpoint(progress(epoch + 1, 0, 0, 0, 0));
    }
  } finally {
    set.dispose();
    if (ownOptimizer) optimizer.dispose(); // its state blocks: nobody else can reach them
  }
  return history;
}

export interface Evaluation {
  testLoss: number;
  testMse: number;
  psnrNoisy?: number;
  psnrDenoised?: number;
  testAccuracy?: number;
}

/** Loss and metrics of the model on a set, and its predictions. For an image task (input width = output
 *  width) the PSNR of the input x against the target y is that of the noisy input. */
export function evaluate(model: Sequential, set: FitSet, options: { loss: LossName; batchSize?: number }): Evaluation & { predictions: Float32Array } {
  const inW = model.inputWidth;
  const outW = model.outputWidth;
  checkSet('evaluate', set, inW, outW);
  const count = set.x.length / inW;
  const B = Math.min(options.batchSize ?? 256, count);
  const predictions = new Float32Array(count * outW);
  const backend = model.backend;
  let lossSum = 0;
  for (let start = 0; start < count; start += B) {
    const rows = Math.min(B, count - start);
    backend.write(model.input(rows), set.x, start * inW);
    backend.write(model.target(rows), set.y, start * outW);
    const out = model.forwardFinite(rows, start, 'evaluate');
    lossSum += model.loss(rows, options.loss, false) * rows;
    predictions.set(backend.read(out).subarray(0, rows * outW), start * outW);
  }
  const testMse = meanSquaredError(predictions, set.y);
  const result: Evaluation & { predictions: Float32Array } = { testLoss: lossSum / count, testMse, predictions };
  if (inW === outW) {
    result.psnrNoisy = psnr(meanSquaredError(set.x, set.y));
    result.psnrDenoised = psnr(testMse);
  }
  if (options.loss === 'crossentropy') result.testAccuracy = accuracy(predictions, set.y, outW);
  return result;
}

function checkSet(name: string, set: FitSet, inW: number, outW: number): void {
  check(set?.x instanceof Float32Array && set?.y instanceof Float32Array, `${name}: expected {x, y} as Float32Arrays`);
  check(set.x.length > 0 && set.x.length % inW === 0, () => `${name}.x: expected a positive multiple of the model's input width ${inW}, got ${set.x.length} values`);
  const rows = set.x.length / inW;
  check(set.y.length === rows * outW, () => `${name}.y: expected ${rows} rows × ${outW} (the model's output width) = ${rows * outW} values, got ${set.y.length}`);
  // a NaN in the data would otherwise show up as "training diverged" and blame the learning rate
  for (const [key, a, w] of [['x', set.x, inW], ['y', set.y, outW]] as const) {
    for (let i = 0; i < a.length; i++)
      if (!Number.isFinite(a[i])) throw new SimdnetError(`${name}.${key}: value ${a[i]} at row ${Math.floor(i / w)}, column ${i % w}; the data must be finite numbers`);
  }
}

function divergence(epoch: number, batch: number, value: number, lr: number, why = `the loss is ${value} (the weights are no longer finite)`): SimdnetError {
  return new SimdnetError(`training diverged at epoch ${epoch + 1}, batch ${batch + 1}: ${why}; try a lower learning rate than ${lr}`, 'E_DIVERGED');
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
