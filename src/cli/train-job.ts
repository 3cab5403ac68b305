// `simdnet train`: the denoising autoencoder on MNIST, from flags to the four output files.

import { SingleBar, Presets } from 'cli-progress';
import { join } from 'node:path';
import { cliBackend, describeBackend, type RunOptions } from './runtime.js';
import { BACKEND_NAMES, type BackendName } from '../backend/backend.js';
import type { DataSplit } from '../data/dataset.js';
import { describeLayers } from '../models.js';
import { bytesLeft, checkMemory, trainingParts, type MemoryPart } from '../memory.js';
import { specChain } from '../model-spec.js';
import { IMAGE_WIDTH } from '../data/dataset.js';
import { decodeCheckpoint, encodeCheckpoint, restoreCheckpoint } from '../formats/checkpoint.js';
import { SimdnetError } from '../errors.js';
import { STATE_SLOTS, type Optimizer } from '../optimizers.js';
import { fit } from '../training/fit.js';
import { evaluate } from '../training/evaluate.js';
import { validationRows, validationSplitProblem } from '../training/sets.js';
import type { EpochMetrics, Progress } from '../training/types.js';
import { DEFAULT_CONV_CHANNELS, checkTrainConfig, createRun, runModelSpec, type TrainConfig as RunConfig } from '../training/run.js';
import { loadData } from './data-source.js';
import { loadInitModel } from './onnx-files.js';
import type { Backend } from '../backend/backend.js';
import type { Sequential } from '../model.js';
import { ensureFolder, lockFolder, readFileChecked, removeStaleTemps, saveModel, writeFileAtomic } from '../node/files.js';
import { digitGridPng, lossChartSvg } from '../node/pictures.js';

export { TRAIN_LOSSES } from '../training/run.js';

/** A run's settings (training/run.ts) and where `train` runs it: what a checkpoint saves. */
export interface TrainConfig extends RunConfig {
  backend: BackendName;
  data: string;
  out: string;
  /** Also checkpoint every this many batches (a checkpoint is always written at each epoch's end). */
  checkpointEvery: number;
  /** Start from this .onnx or .simdnet model's weights (its layers replace hidden/activation). */
  initFrom?: string;
}

export const CHECKPOINT_FILE = 'checkpoint.simdnet';

/** The config of the run saved in DIR's checkpoint, to continue it until `epochs` epochs in all. */
/** `epochs` undefined: the run's own epoch count. */
export function resumeConfig(dir: string, epochs?: number): { config: TrainConfig; checkpoint: ReturnType<typeof decodeCheckpoint> } {
  const path = join(dir, CHECKPOINT_FILE);
  const checkpoint = decodeCheckpoint(readFileChecked(path, 'checkpoint'), path);
  const saved = checkSavedConfig(checkpoint.checkpoint.config, path);
  if (epochs === undefined) {
    if (!(Number.isInteger(saved?.epochs) && saved.epochs >= 1)) throw new SimdnetError(`${path}: the checkpoint has no epoch count of its own (config.epochs is ${JSON.stringify(saved?.epochs)}); give --epochs`, 'E_FILE_CORRUPT');
    epochs = saved.epochs;
  }
  // the settings say which model the run trains: the checkpoint's weights must be that model
  const expected = describeLayers(runModelSpec(saved));
  const found = describeLayers(checkpoint.file.spec);
  const settings = saved.model === 'conv' ? `config.model conv, config.channels ${JSON.stringify(saved.channels ?? DEFAULT_CONV_CHANNELS)}${saved.pixelShuffle ? `, config.pixelShuffle ${saved.pixelShuffle}` : ''}` : `config.hidden ${JSON.stringify(saved.hidden)}, config.activation ${saved.activation}`;
  if (expected !== found) throw new SimdnetError(`${path}: the checkpoint's settings (${settings}) describe ${expected}, but its weights are for ${found}`, 'E_FILE_CORRUPT');
  const config = { ...saved, epochs, out: dir };
  const done = checkpoint.checkpoint.progress.epoch;
  if (epochs < done) throw new SimdnetError(`--epochs ${epochs}: the run in ${dir} has already trained ${done} epochs (--epochs counts the whole run)`, 'E_OPTION');
  return { config, checkpoint };
}

/** The run's settings saved in a checkpoint, checked field by field: a resume builds the run from them. */
function checkSavedConfig(config: unknown, path: string): TrainConfig {
  const where = `${path}: bad run settings in the checkpoint`;
  const c = checkTrainConfig(config, where, 'E_FILE_CORRUPT') as unknown as Record<string, unknown>;
  const fail = (key: string, expected: string): never => {
    throw new SimdnetError(`${where}: config.${key}: expected ${expected}, got ${JSON.stringify(c[key])?.slice(0, 60) ?? 'nothing'}`, 'E_FILE_CORRUPT');
  };
  if (!(Number.isInteger(c.checkpointEvery) && (c.checkpointEvery as number) >= 0)) fail('checkpointEvery', 'an integer from 0 up');
  if (typeof c.backend !== 'string' || !(BACKEND_NAMES as readonly string[]).includes(c.backend)) fail('backend', `one of ${BACKEND_NAMES.join(', ')}`);
  if (typeof c.data !== 'string' || c.data === '') fail('data', "'bundled' or a folder");
  return c as unknown as TrainConfig;
}

/** How many test digits the samples picture shows. */
const SAMPLE_COUNT = 10;

/** What `train` writes into its folder. */
export const OUTPUT_FILES = [CHECKPOINT_FILE, 'model.simdnet', 'metrics.json', 'samples.png', 'loss.svg'] as const;

export async function trainJob(config: TrainConfig, log: (line: string) => void = console.log, resume?: ReturnType<typeof decodeCheckpoint>, run: RunOptions = {}): Promise<EpochMetrics[]> {
  ensureFolder(config.out); // before any training: a bad --out fails now, not after the first epoch
  const release = lockFolder(config.out); // two runs into one folder would replace each other's files
  try {
    return await trainInFolder(config, log, resume, run);
  } finally {
    release();
  }
}

/** The model of --init-from, checked to be a denoising autoencoder a run can describe: dense (784 → hidden… (one
 *  activation) → 784 sigmoid) or conv (1×28×28 → 3×3 'same' conv + ReLU per channel entry → conv to 1 + sigmoid). The
 *  run's settings record it (hidden sizes and an activation, or the channels), which a resume checks its weights against. */
function initModel(path: string, backend: Backend): { model: Sequential; settings: Pick<TrainConfig, 'model' | 'hidden' | 'activation' | 'channels' | 'pixelShuffle'> } {
  const model = loadInitModel(path, backend);
  const specs = model.spec().layers;
  const conv = specs.some((l) => l.type === 'conv2d');
  const hidden = specs.flatMap((l) => (l.type === 'linear' ? [l.out] : [])).slice(0, -1);
  const channels = specs.flatMap((l) => (l.type === 'conv2d' ? [l.out] : [])).slice(0, -1);
  const activation = specs[1]?.type ?? '';
  const shuffle = specs[0]?.type === 'pixel-unshuffle2d' ? specs[0].factor : 1;
  const settings = conv ? { model: 'conv' as const, channels, hidden: [128], activation: 'relu', ...(shuffle > 1 && { pixelShuffle: shuffle }) } : { hidden, activation };
  let expected = '';
  try {
    expected = (conv ? channels : hidden).length ? describeLayers(runModelSpec(settings)) : '';
    if (conv && JSON.stringify(model.inputShape) !== JSON.stringify(runModelSpec(settings).inputShape)) expected = '';
  } catch {
    // not an activation an autoencoder takes: refused below
  }
  const found = describeLayers(model.spec());
  if (expected !== found) {
    model.dispose();
    throw new SimdnetError(`--init-from ${path}: expected a denoising autoencoder (dense: linear 784→h, relu|tanh|sigmoid, …, linear h→784, sigmoid; or conv on 1×28×28: conv 1→c 3×3, relu, …, conv c→1 3×3, sigmoid, possibly between pixel-unshuffle r and pixel-shuffle r), this model is ${found}`, 'E_SHAPE');
  }
  return { model, settings };
}

async function trainInFolder(config: TrainConfig, log: (line: string) => void, resume: ReturnType<typeof decodeCheckpoint> | undefined, run: RunOptions): Promise<EpochMetrics[]> {
  removeStaleTemps(config.out, OUTPUT_FILES); // half-written files of a run that was killed
  const backend = await cliBackend(config.backend, run);
  const data: DataSplit = loadData(config.data);
  const checkpointPath = join(config.out, CHECKPOINT_FILE);
  // a split the data cannot take is the flag's fault: said before anything is built or printed
  const splitProblem = config.validationSplit ? validationSplitProblem(data.train.count, config.validationSplit) : undefined;
  if (splitProblem) throw new SimdnetError(`--validation-split ${splitProblem}`, 'E_OPTION');
  const trainedRows = data.train.count - validationRows(data.train.count, config.validationSplit ?? 0);
  if (config.initFrom === undefined) checkRunMemory(config, trainedRows, backend);
  // --init-from: the file's layers become the run's settings (so its checkpoints resume like any other run)
  let init: Sequential | undefined;
  if (!resume && config.initFrom !== undefined) {
    const { model, settings } = initModel(config.initFrom, backend);
    config = { ...config, ...settings };
    init = model;
  }
  const given = resume ? (optimizer: Optimizer) => restoreCheckpoint(resume, backend, optimizer, checkpointPath) : init && (() => init);
  const job = createRun(config, backend, { train: data.train.images, test: data.test.images }, 'train', given);
  const { model, optimizer } = job;
  const progress: Progress | undefined = resume?.checkpoint.progress;
  log(`simdnet: ${describe(config)} on ${data.train.count} train / ${data.test.count} test digits, backend ${describeBackend(backend)}`);
  log(model.summary());
  const scheduled = (config.lrSchedule ?? 'constant') !== 'constant';
  if (progress) log(`resuming ${checkpointPath} at epoch ${progress.epoch + 1}, batch ${progress.batch + 1}`);
  progress?.epochs.forEach((m) => log(epochLine(m, config.epochs, trainedRows, scheduled)));

  // one bar over the whole run (epochs × batches): an epoch can take 0.3 s, too short for a bar of its own. It is
  // cleared for each epoch's line and drawn again at the run's position on the next batch.
  const bar = new SingleBar({ format: ' epoch {epoch} [{bar}] {percentage}% | step {value}/{total} | loss {loss} | ETA {eta_formatted}', hideCursor: true, clearOnComplete: true, stream: process.stderr }, Presets.shades_classic);
  const test = job.data.test;
  const savedConfig = { ...config, out: undefined };
  const history = await fit(model, job.data, {
    ...job.fit,
    resume: progress,
    checkpointEvery: config.checkpointEvery,
    onCheckpoint: (p) => writeFileAtomic(checkpointPath, encodeCheckpoint(model, optimizer, p, savedConfig)),
    onBatch: ({ epoch, batch, batches, loss }) => {
      const step = epoch * batches + batch + 1; // of the run, a resumed run's earlier steps included
      if (!bar.isActive) bar.start(config.epochs * batches, step - 1, { epoch: `${epoch + 1}/${config.epochs}`, loss: '…' });
      bar.update(step, { loss: loss.toFixed(4) }); // cheap: cli-progress redraws on its own timer
    },
    onEpoch: (m) => {
      bar.stop();
      log(epochLine(m, config.epochs, trainedRows, scheduled));
    },
  })
    .catch((e: unknown) => {
      // fit checks the progress against the data; the file it came from is ours to name
      if (resume && e instanceof SimdnetError && e.message.startsWith('fit: resume:')) throw new SimdnetError(`${checkpointPath}: ${e.message}`, 'E_FILE_CORRUPT');
      throw e;
    })
    .finally(() => bar.stop()); // a run that fails (diverges) leaves no bar or hidden cursor behind

  if (history.stopped?.reason) log(`stopped before epoch ${history.stopped.epoch + 1}: ${history.stopped.reason}`);
  // the model as saved: with early stopping, the best epoch's weights, which need not be the last epoch's
  const { predictions: _, ...final } = evaluate(model, { x: history.testInputs!, y: test.y }, { loss: config.loss });
  if (config.earlyStopping) log(`saved model (best epoch's weights): test ${final.testLoss.toFixed(4)}  PSNR denoised ${final.psnrDenoised?.toFixed(2)} dB`);
  const meta = { loss: config.loss, noise: config.noise, noiseFactor: config.noiseFactor, seed: config.seed, data: config.data === 'bundled' ? 'bundled' : 'idx' };
  saveModel(join(config.out, 'model.simdnet'), model, meta);
  const totalSeconds = history.epochs.reduce((s, e) => s + e.seconds, 0);
  const metrics = {
    epochs: history.epochs,
    config: savedConfig,
    backend: { name: backend.name, variant: backend.variant, threads: backend.threads },
    trainCount: data.train.count,
    testCount: data.test.count,
    totalSeconds,
    samplesPerSecond: totalSeconds > 0 ? (trainedRows * history.epochs.length) / totalSeconds : null,
    final,
    ...(history.stopped && { stopped: history.stopped }),
  };
  writeFileAtomic(join(config.out, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n');

  const noisyTest = history.testInputs!;
  const clean = data.test.images.subarray(0, SAMPLE_COUNT * IMAGE_WIDTH);
  const noisy = noisyTest.subarray(0, SAMPLE_COUNT * IMAGE_WIDTH);
  writeFileAtomic(join(config.out, 'samples.png'), digitGridPng([clean, noisy, model.predict(noisy)], SAMPLE_COUNT, { labels: ['clean', 'noisy', 'denoised'] }));
  writeFileAtomic(join(config.out, 'loss.svg'), lossChartSvg(history.epochs, `${config.loss.toUpperCase()} loss, ${describe(config)}`));
  log(`wrote ${['model.simdnet', 'metrics.json', 'samples.png', 'loss.svg'].map((f) => join(config.out, f)).join(', ')}`);
  model.dispose();
  return history.epochs;
}

/** What a run of `rows` training rows allocates on `backend`, part by part, from its settings alone: the layers are
 *  sized for that backend (a conv layer's scratch is a panel per kernel thread, so 8 threads need 8). */
export function runMemoryParts(config: TrainConfig, rows: number, backend: Backend): MemoryPart[] {
  const chain = specChain(runModelSpec(config), 'model spec', backend);
  return trainingParts({ paramCount: chain.layout.total, chain, batchSize: config.batchSize, rows, sameTargets: true, optimizer: { name: config.optimizer, slots: STATE_SLOTS[config.optimizer] }, withModel: true });
}

/** The run's memory from its flags, before the model is built: a run too big for wasm32 fails at once, naming the
 *  flags that size it (the model's own check would come only after gigabytes were allocated and initialised). */
function checkRunMemory(config: TrainConfig, rows: number, backend: Backend): void {
  const spec = runModelSpec(config);
  checkMemory(
    runMemoryParts(config, rows, backend),
    bytesLeft(backend),
    `training ${describeLayers(spec).replace(/linear /g, '')}`,
    `use ${config.model === 'conv' ? `fewer --channels (now ${(config.channels ?? DEFAULT_CONV_CHANNELS).join(',')})` : `a smaller --hidden (now ${config.hidden.join(',')})`}${config.batchSize > 256 ? ` or --batch-size (now ${config.batchSize})` : ''}${STATE_SLOTS[config.optimizer] > 0 ? `, or --optimizer sgd (no state)` : ''}`,
  );
}

function describe(c: TrainConfig): string {
  const loop = [
    c.lrSchedule && c.lrSchedule !== 'constant' ? `${c.lrSchedule} lr schedule` : '',
    c.weightDecay !== undefined ? `weight decay ${c.weightDecay}` : '',
    c.dropout ? `dropout ${c.dropout}` : '',
    c.validationSplit ? `validation split ${c.validationSplit}` : '',
    c.earlyStopping ? `early stopping after ${c.earlyStopping} epochs on ${c.validationSplit ? 'validation' : 'test'} loss` : '',
  ].filter(Boolean);
  const model = c.model === 'conv' ? `conv 3×3 ${c.pixelShuffle ? `${c.pixelShuffle ** 2}-${(c.channels ?? DEFAULT_CONV_CHANNELS).join('-')}-${c.pixelShuffle ** 2} between pixel unshuffle / shuffle ${c.pixelShuffle}` : `1-${(c.channels ?? DEFAULT_CONV_CHANNELS).join('-')}-1`} relu/sigmoid` : `${IMAGE_WIDTH}-${c.hidden.join('-')}-${IMAGE_WIDTH} ${c.activation}/sigmoid`;
  return `${model}, ${c.loss}, ${c.optimizer} lr ${c.lr}, batch ${c.batchSize}, ${c.noise} noise ${c.noiseFactor}${loop.map((l) => ', ' + l).join('')}`;
}

function epochLine(m: EpochMetrics, epochs: number, trainCount: number, scheduled = false): string {
  const width = String(epochs).length;
  return (
    `epoch ${String(m.epoch).padStart(width)}/${epochs}  train ${m.trainLoss.toFixed(4)}  ${m.valLoss !== undefined ? `val ${m.valLoss.toFixed(4)}  ` : ''}test ${m.testLoss.toFixed(4)}  ` +
    `mse ${m.testMse.toFixed(4)}  PSNR noisy ${m.psnrNoisy?.toFixed(2)} dB → denoised ${m.psnrDenoised?.toFixed(2)} dB  ` +
    `${m.seconds.toFixed(2)} s (${Math.round(trainCount / m.seconds)} samples/s)${scheduled && m.lr !== undefined ? `  lr ${m.lr.toPrecision(3)}` : ''}`
  );
}
