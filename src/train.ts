// The fit loop: seeded shuffling and validation split, mini-batches (the last one partial), optional input noise
// (fresh each epoch), learning-rate schedules, callbacks that can stop the run, and each epoch's metrics (loss,
// MSE, PSNR, accuracy). Each step is trainStep's (src/training/step.ts), as everywhere else.

import type { Backend } from './backend/backend.js';
import { gatherNoiseJs } from './backend/noise-js.js';
import { toFitData, type FitInput } from './data/convert.js';
import { DeviceSet, TEST_NOISE_STREAM, noiseDraw, noisyCopy } from './data/batches.js';
import type { NoiseKind } from './data/noise.js';
import { SimdnetError, check } from './errors.js';
import { getLoss, type LossName } from './losses.js';
import { accuracy, meanSquaredError, psnr } from './metrics.js';
import type { Sequential } from './model.js';
import { DEFAULT_LR, STATE_SLOTS, createOptimizer, type Optimizer, type OptimizerName } from './optimizers.js';
import { bytesLeft, checkMemory, trainingParts } from './memory.js';
import { MAX_SEED, Rng } from './random.js';
import type { Callback, CallbackState, TrainingContext } from './training/callbacks.js';
import { checkOptions, isFunction, isObject, type OptionRule } from './training/options.js';
import type { Schedule } from './training/schedules.js';
import { Trainer } from './training/step.js';

export { DIVERGENCE_FACTOR } from './training/step.js';

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

/** The random generator for one epoch's shuffle and noise: depends on the seed and the epoch only, so a
 *  run can resume at any epoch boundary (or mid-epoch, by replaying the permutation) without saved state. */
export function epochRng(seed: number, epoch: number): Rng {
  return new Rng(Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b));
}

/** The validation rows' noise stream (drawn once, like the test set's). */
const VALIDATION_NOISE_STREAM = 0x7a11da7e;
/** Seeds the validation split, apart from every epoch's shuffle. */
const SPLIT_STREAM = 0x5b117;

/** Noise for the test inputs (rows of `width` values): drawn once from the seed (its own stream), the same every
 *  epoch so PSNR compares across epochs. With a backend, by its kernel (what fit evaluates on: pass the model's
 *  backend); without, by the js twin (equal within float tolerance). */
export function noisyTestInputs(test: FitSet, noise: NoiseOptions | null | undefined, seed: number, at: { width: number; backend?: Backend }): Float32Array {
  return noisyInputs(test, noise, seed, TEST_NOISE_STREAM, at);
}

function noisyInputs(set: FitSet, noise: NoiseOptions | null | undefined, seed: number, stream: number, at: { width: number; backend?: Backend }): Float32Array {
  if (!noise) return set.x;
  const { width, backend } = at;
  check(Number.isInteger(width) && width > 0 && set.x.length % width === 0, () => `noisyTestInputs: expected rows of a positive width, got width ${width} for ${set.x.length} values`, 'E_SHAPE');
  const draw = noiseDraw(noise.kind, noise.factor, seed, stream);
  if (backend) return noisyCopy(backend, set.x, width, draw);
  const n = set.x.length;
  const heap = new Float32Array(2 * n);
  heap.set(set.x);
  gatherNoiseJs(heap, new Int32Array(heap.buffer), 4 * n, 0, 0, 0, n / width, width, draw.code, draw.factor, draw.k0, draw.k1);
  return heap.slice(n);
}

/** Splits `set` into training and validation rows: a seeded pick of round(fraction × rows) rows, each part in
 *  its original order (the epochs shuffle the training part). */
export function splitValidation(set: FitSet, fraction: number, seed: number, inW: number, outW: number): { train: FitSet; validation: FitSet } {
  const rows = set.x.length / inW;
  const problem = validationSplitProblem(rows, fraction);
  check(problem === undefined, () => `fit: validationSplit ${problem}`, 'E_OPTION');
  const nVal = validationRows(rows, fraction);
  const order = new Int32Array(rows).map((_, i) => i);
  new Rng(Math.imul(seed >>> 0, 0x9e3779b1) ^ SPLIT_STREAM).shuffle(order);
  const held = new Uint8Array(rows);
  for (let i = 0; i < nVal; i++) held[order[i]] = 1;
  const take = (a: Float32Array, w: number, want: number, n: number) => {
    const out = new Float32Array(n * w);
    for (let r = 0, k = 0; r < rows; r++) if (held[r] === want) out.set(a.subarray(r * w, (r + 1) * w), w * k++);
    return out;
  };
  const part = (want: number, n: number): FitSet => {
    const x = take(set.x, inW, want, n);
    return { x, y: set.y === set.x ? x : take(set.y, outW, want, n) }; // an autoencoder's targets stay its inputs
  };
  return { train: part(0, rows - nVal), validation: part(1, nVal) };
}

/** How many of `rows` a validation split of `fraction` holds out. */
export function validationRows(rows: number, fraction: number): number {
  return Math.round(fraction * rows);
}

/** Why a validation split of `fraction` cannot cut `rows` rows (each part needs one), or undefined when it can. */
export function validationSplitProblem(rows: number, fraction: number): string | undefined {
  const nVal = validationRows(rows, fraction);
  return nVal >= 1 && nVal < rows ? undefined : `${fraction} of ${rows} rows leaves ${nVal} for validation and ${rows - nVal} for training; each needs at least one`;
}

const METRICS: readonly MetricName[] = ['accuracy', 'mse', 'psnr'];
const YIELD_MODES = ['auto', 'batch', 'epoch', 'never'];
const FIT_OPTIONS: Record<keyof FitOptions, OptionRule> = {
  epochs: [(v) => Number.isInteger(v) && (v as number) >= 0, 'a non-negative integer'],
  batchSize: [(v) => Number.isInteger(v) && (v as number) > 0, 'a positive integer'],
  loss: [(v) => typeof v === 'string' || (isObject(v) && isFunction((v as { value?: unknown }).value)), 'a loss name (mse, bce, crossentropy)'],
  optimizer: [() => true, ''], // checked below, naming what it lacks
  lr: [(v) => typeof v === 'number' || isFunction(v), 'a learning rate or a schedule (epoch, step, run) => rate'], // the rate itself: createOptimizer
  seed: [(v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_SEED, `an integer from 0 to ${MAX_SEED}`],
  shuffle: [(v) => typeof v === 'boolean', 'true or false'],
  validationSplit: [(v) => typeof v === 'number' && v >= 0 && v < 1, 'a fraction in [0, 1)'],
  noise: [(v) => v === null || isObject(v), 'null or {kind, factor, fresh?}'],
  metrics: [(v) => Array.isArray(v) && v.every((m) => METRICS.includes(m)), `a list of ${METRICS.join(', ')}`],
  callbacks: [(v) => Array.isArray(v) && v.every(isObject), 'a list of callbacks (objects with onEpochEnd, onBatchEnd, …)'],
  yieldEvery: [(v) => YIELD_MODES.includes(v as string) || (typeof v === 'number' && v >= 0), `one of ${YIELD_MODES.join(', ')} or a number of milliseconds ≥ 0`],
  resume: [isObject, 'the progress of a checkpoint'],
  checkpointEvery: [(v) => Number.isInteger(v) && (v as number) >= 0, 'an integer ≥ 0'],
  onCheckpoint: [isFunction, 'a function'],
  onBatch: [isFunction, 'a function'],
  onEpoch: [isFunction, 'a function'],
};

/** Milliseconds between yields (Infinity: never, 0: every batch) for a yieldEvery option. */
function yieldInterval(mode: FitOptions['yieldEvery']): number {
  if (typeof mode === 'number') return mode;
  if (mode === 'batch') return 0;
  if (mode === 'auto' || mode === undefined) return onBrowserMainThread() ? 25 : Infinity;
  return Infinity; // 'epoch' (yields after each epoch) and 'never'
}

/** A page's main thread (a window with a document), where a long synchronous loop freezes the page. */
function onBrowserMainThread(): boolean {
  const g = globalThis as { document?: unknown; window?: unknown; process?: { versions?: { node?: string } } };
  return g.window !== undefined && g.document !== undefined && g.process?.versions?.node === undefined;
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export async function fit(model: Sequential, input: FitInput, options: FitOptions): Promise<History> {
  // one fit at a time per model: two would interleave their steps on the same weights with two optimizers
  check(!model?.fitting?.running, () => `fit: ${model} is already being trained by another fit() call; await it before starting another`, 'E_LOCKED');
  if (model?.fitting) model.fitting.running = true;
  try {
    return await fitHeld(model, input, options);
  } finally {
    if (model?.fitting) model.fitting.running = false;
  }
}

async function fitHeld(model: Sequential, input: FitInput, options: FitOptions): Promise<History> {
  const data = toFitData(input, model.inputWidth, model.outputWidth); // number[][] and {input, output}[] too
  check(data != null && typeof data === 'object', 'fit: expected data as {train: {x, y}, test?: {x, y}}');
  check(options != null && typeof options === 'object', 'fit: expected options with at least {epochs}', 'E_OPTION');
  checkOptions('fit', options, FIT_OPTIONS);
  const { test } = data;
  const batchSize = options.batchSize ?? 64;
  const seed = options.seed ?? 0;
  const loss = getLoss(options.loss ?? 'mse');
  const inW = model.inputWidth;
  const outW = model.outputWidth;
  check(Number.isInteger(options.epochs) && options.epochs >= 0, `fit: epochs must be a non-negative integer, got ${options.epochs}`, 'E_OPTION');
  checkSet('train', data.train, inW, outW);
  if (test) checkSet('test', test, inW, outW);
  const split = options.validationSplit ? splitValidation(data.train, options.validationSplit, seed, inW, outW) : undefined;
  const train = split?.train ?? data.train;
  const count = train.x.length / inW;
  const B = Math.min(batchSize, count);
  const batches = Math.ceil(count / B);
  const given = options.optimizer;
  check(given === undefined || typeof given === 'string' || (typeof given === 'object' && given !== null && typeof (given as Optimizer).step === 'function'),
    () => `fit: optimizer must be a name (${Object.keys(DEFAULT_LR).join(', ')}) or an optimizer from createOptimizer(), got ${given === null ? 'null' : typeof given === 'object' ? 'an object without step()' : String(given)}`, 'E_OPTION');
  const schedule = typeof options.lr === 'function' ? options.lr : undefined;
  const runSize = { epochs: options.epochs, batches };
  check(typeof given !== 'object' || typeof options.lr !== 'number', () => `fit: lr ${options.lr} is given with an optimizer object, which has its own rate (${(given as Optimizer).lr}); give it to createOptimizer, or pass the optimizer by name`, 'E_OPTION');
  const ownOptimizer = typeof given !== 'object';
  const optimizer = typeof given === 'object' ? given : createOptimizer(given ?? 'adam', { lr: schedule ? checkedRate(schedule, 0, 0, runSize) : (options.lr as number | undefined) });
  const baseLr = optimizer.lr;
  const metrics = new Set(options.metrics ?? []);
  const wantAccuracy = metrics.has('accuracy');
  const wantTrainMse = metrics.has('mse') || metrics.has('psnr');

  // the whole run's memory, before anything is allocated (the model's own blocks exist already)
  const slots = optimizer.hasState ? 0 : Object.hasOwn(STATE_SLOTS, optimizer.name) ? STATE_SLOTS[optimizer.name] : 2;
  checkMemory(trainingParts({ paramCount: model.paramCount, widths: model.widths, batchSize: B, rows: count, sameTargets: train.y === train.x, optimizer: { name: optimizer.name, slots }, withModel: false }),
    bytesLeft(model.backend), `fit: training this ${model.paramCount.toLocaleString('en-US')}-parameter model on ${count} rows`, 'use smaller layers or batches, or an optimizer with less state (sgd keeps none)');

  const noise = options.noise;
  if (noise) noiseDraw(noise.kind, noise.factor, seed, 0); // checks the options before anything is allocated
  const testInputs = test ? noisyTestInputs(test, noise, seed, { width: inW, backend: model.backend }) : undefined;
  const validation = split && { x: noisyInputs(split.validation, noise, seed, VALIDATION_NOISE_STREAM, { width: inW, backend: model.backend }), y: split.validation.y };
  const order = new Int32Array(count);
  const history: History = { epochs: [], testInputs };
  const backend = model.backend;
  const lastPartial = count - (batches - 1) * B;

  const callbacks: Callback[] = [];
  if (options.onBatch || options.onEpoch) callbacks.push({ onBatchEnd: options.onBatch && ((info) => options.onBatch!(info)), onEpochEnd: options.onEpoch && ((m) => options.onEpoch!(m)) });
  const userCallbacks = options.callbacks ?? [];
  callbacks.push(...userCallbacks);
  const ctx: TrainingContext = { model, optimizer, epochs: options.epochs, batches, testInputs, lrScale: 1 };

  const resume = options.resume;
  const run: NonNullable<Progress['run']> = { rows: count, batchSize: B, seed, ...(split && { validationRows: split.validation.x.length / inW }) };
  if (resume) {
    check(Number.isInteger(resume.epoch) && resume.epoch >= 0 && Number.isInteger(resume.batch) && resume.batch >= 0 && resume.batch < batches && Array.isArray(resume.epochs),
      () => `fit: resume: expected progress at epoch ≥ 0 and batch 0..${batches - 1}, got epoch ${resume.epoch}, batch ${resume.batch}`, 'E_OPTION');
    for (const key of ['rows', 'batchSize', 'seed', 'validationRows'] as const)
      check(resume.run === undefined || (resume.run[key] ?? 0) === (run[key] ?? 0), () => `fit: resume: the run was made with ${key} ${resume.run![key] ?? 0}, this fit has ${run[key] ?? 0}; it would not continue the same run`, 'E_OPTION');
    const states = resume.callbacks ?? [];
    check(states.length === 0 || states.length === userCallbacks.length, () => `fit: resume: the run had ${states.length} callbacks, this fit has ${userCallbacks.length}; it would not continue the same run`, 'E_OPTION');
    states.forEach((state, i) => state && userCallbacks[i].loadState?.(state, ctx));
    history.epochs.push(...resume.epochs);
  }
  const every = options.checkpointEvery ?? 0;
  const trainer = new Trainer(model, loss, optimizer, resume ?? {});
  const progress = (epoch: number, batch: number, lossSum: number, seen: number, seconds: number, sums = { correct: 0, squaredError: 0 }): Progress => {
    const p: Progress = { epoch, batch, lossSum, seen, seconds, epochs: [...history.epochs], run, ...trainer.watchState() };
    if (metrics.size) p.metricSums = { ...sums };
    if (userCallbacks.length) p.callbacks = userCallbacks.map((c) => c.saveState?.() ?? null);
    if (history.stopped) p.stopped = history.stopped;
    return p;
  };
  const lrAt = (epoch: number, step: number) => (schedule ? checkedRate(schedule, epoch, step, runSize) : baseLr) * ctx.lrScale;
  const yieldMs = yieldInterval(options.yieldEvery);
  let lastYield = now();
  const stopAt = (epoch: number, batch: number) => {
    history.stopped = { epoch, batch, ...(ctx.stopReason ? { reason: ctx.stopReason } : {}) };
  };
  /** Calls `hook` on every callback in order; true when one of them said stop. */
  const anyStop = async (call: (c: Callback) => unknown): Promise<boolean> => {
    let stop = false;
    for (const c of callbacks) if ((await inCallback(() => call(c))) === false) stop = true;
    return stop;
  };
  /** A callback may change the model (setWeights), which fit's hold refuses to anyone else. */
  const inCallback = async <T>(f: () => T): Promise<Awaited<T>> => {
    model.fitting.inCallback++;
    try {
      return await f();
    } finally {
      model.fitting.inCallback--;
    }
  };

  if (resume?.stopped) {
    history.stopped = resume.stopped; // that run had ended: nothing more to train
    for (const c of callbacks) await inCallback(() => c.onTrainEnd?.(history, ctx));
    if (ownOptimizer) optimizer.dispose();
    return history;
  }
  // the training set in the backend's memory, once per fit
  const set = new DeviceSet(backend, train.x, train.y, inW, outW);
  try {
    if (await anyStop((c) => c.onTrainBegin?.(ctx))) stopAt(resume?.epoch ?? 0, resume?.batch ?? 0);
    for (let epoch = resume?.epoch ?? 0; epoch < options.epochs && !history.stopped; epoch++) {
      const resuming = resume !== undefined && epoch === resume.epoch;
      const firstBatch = resuming ? resume.batch : 0;
      if (await anyStop((c) => c.onEpochBegin?.(epoch, ctx))) {
        stopAt(epoch, firstBatch);
        break;
      }
      const rng = epochRng(seed, epoch);
      for (let i = 0; i < count; i++) order[i] = i;
      if (options.shuffle !== false) rng.shuffle(order);
      set.setOrder(order);
      // a fresh corruption per epoch (stream epoch + 1), or one for the whole run (stream 0)
      const draw = noise ? noiseDraw(noise.kind, noise.factor, seed, noise.fresh === false ? 0 : epoch + 1) : null;
      let lossSum = resuming ? resume.lossSum : 0;
      let seen = resuming ? resume.seen : 0;
      let seconds = resuming ? resume.seconds : 0;
      const sums = resuming && resume.metricSums ? { ...resume.metricSums } : { correct: 0, squaredError: 0 };
      let lr = optimizer.lr;
      for (let b = firstBatch; b < batches; b++) {
        const rows = b === batches - 1 ? lastPartial : B;
        const step = epoch * batches + b;
        const t0 = now();
        if (schedule || ctx.lrScale !== 1) optimizer.lr = lrAt(epoch, step);
        lr = optimizer.lr;
        set.gather(model.input(rows), model.target(rows), b * B, rows, draw);
        const value = trainer.step(rows, epoch, b, step);
        const batchSeconds = (now() - t0) / 1000;
        seconds += batchSeconds;
        lossSum += value * rows;
        seen += rows;
        if (wantAccuracy) sums.correct += accuracy(backend.read(model.output(rows)), backend.read(model.target(rows)), outW) * rows;
        if (wantTrainMse) sums.squaredError += backend.kernels.mse_loss(model.output(rows).ptr, model.target(rows).ptr, rows, outW) * rows * outW;
        const info: BatchInfo = { epoch, batch: b, batches, loss: value, rows, lr, seconds: batchSeconds };
        if (await anyStop((c) => c.onBatchEnd?.(info, ctx))) {
          stopAt(epoch, b + 1);
          return history; // no step after a stop, and no checkpoint: the caller saves what it wants
        }
        if (options.onCheckpoint && every > 0 && (b + 1) % every === 0 && b + 1 < batches) {
          trainer.checkWeights({ epoch, batch: b });
          await inCallback(() => options.onCheckpoint!(progress(epoch, b + 1, lossSum, seen, seconds, sums)));
        }
        if (now() - lastYield >= yieldMs) {
          await tick();
          lastYield = now();
        }
      }
      trainer.checkWeights({ epoch, batch: batches - 1 });
      const m: EpochMetrics = { epoch: epoch + 1, trainLoss: seen ? lossSum / seen : NaN, testLoss: NaN, testMse: NaN, lr, seconds };
      if (wantAccuracy) m.trainAccuracy = sums.correct / seen;
      if (wantTrainMse) {
        m.trainMse = sums.squaredError / (seen * outW);
        if (metrics.has('psnr')) m.trainPsnr = psnr(m.trainMse);
      }
      if (validation) {
        const v = evaluate(model, validation, { loss: loss.name, batchSize: B, accuracy: wantAccuracy });
        Object.assign(m, { valLoss: v.testLoss, valMse: v.testMse }, v.psnrDenoised !== undefined && { valPsnr: v.psnrDenoised }, v.testAccuracy !== undefined && { valAccuracy: v.testAccuracy });
      }
      if (test && testInputs) {
        const { predictions: _, ...scores } = evaluate(model, { x: testInputs, y: test.y }, { loss: loss.name, batchSize: B, accuracy: wantAccuracy });
        Object.assign(m, scores);
      }
      history.epochs.push(m);
      if (await anyStop((c) => c.onEpochEnd?.(m, ctx))) stopAt(epoch + 1, 0);
      if (options.onCheckpoint) await inCallback(() => options.onCheckpoint!(progress(epoch + 1, 0, 0, 0, 0)));
      if (options.yieldEvery === 'epoch') await tick();
    }
    for (const c of callbacks) await inCallback(() => c.onTrainEnd?.(history, ctx));
  } finally {
    set.dispose();
    if (ownOptimizer) optimizer.dispose(); // its state blocks: nobody else can reach them
  }
  return history;
}

/** A schedule's rate, refused unless a finite number > 0 (a bad schedule would otherwise train on NaN). */
function checkedRate(schedule: Schedule, epoch: number, step: number, run: { epochs: number; batches: number }): number {
  const lr = schedule(epoch, step, run);
  check(typeof lr === 'number' && Number.isFinite(lr) && lr > 0, () => `fit: the lr schedule gave ${String(lr)} at epoch ${epoch + 1}, step ${step}; expected a number > 0`, 'E_OPTION');
  return lr;
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
export function evaluate(model: Sequential, set: FitSet, options: { loss: LossName; batchSize?: number; accuracy?: boolean }): Evaluation & { predictions: Float32Array } {
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
  if (options.loss === 'crossentropy' || options.accuracy) result.testAccuracy = accuracy(predictions, set.y, outW);
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

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
