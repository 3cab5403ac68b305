// The fit loop: seeded shuffling, the validation split (sets.ts), mini-batches (the last one partial), optional input noise
// (fresh each epoch), learning-rate schedules, callbacks that can stop the run, and each epoch's metrics (loss,
// MSE, PSNR, accuracy). Each step is trainStep's (src/training/step.ts), as everywhere else.

import { toFitData, type FitInput } from '../data/convert.js';
import { DeviceSet, noiseDraw } from '../data/batches.js';
import { check } from '../errors.js';
import { getLoss } from '../losses.js';
import { accuracy, psnr } from '../metrics.js';
import type { Sequential } from '../model.js';
import { DEFAULT_LR, STATE_SLOTS, createOptimizer, type Optimizer } from '../optimizers.js';
import { bytesLeft, checkMemory, trainingParts } from '../memory.js';
import { MAX_SEED, Rng } from '../random.js';
import { evaluate } from './evaluate.js';
import { checkOptions, isFunction, isObject, type OptionRule } from './options.js';
import type { Schedule } from './schedules.js';
import { VALIDATION_NOISE_STREAM, checkSet, noisyInputs, noisyTestInputs, splitValidation } from './sets.js';
import { Trainer } from './step.js';
import type { BatchInfo, Callback, EpochMetrics, FitOptions, History, MetricName, Progress, TrainingContext } from './types.js';

export { DIVERGENCE_FACTOR } from './step.js';

/** The random generator for one epoch's shuffle and noise: depends on the seed and the epoch only, so a
 *  run can resume at any epoch boundary (or mid-epoch, by replaying the permutation) without saved state. */
export function epochRng(seed: number, epoch: number): Rng {
  return new Rng(Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b));
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
  checkMemory(trainingParts({ paramCount: model.paramCount, chain: model, batchSize: B, rows: count, sameTargets: train.y === train.x, optimizer: { name: optimizer.name, slots }, withModel: false }),
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

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
