// A training run from its settings: the model, optimizer, schedule, callbacks and data that `simdnet train` (and
// its checkpoints) and the web demo's worker train from, the settings checked here once. One owner, so the two
// fronts cannot drift apart again (the demo's worker once dropped a weight decay of 0, training AdamW with 0.01).

import type { Backend } from '../backend/backend.js';
import { NOISE_KINDS, type NoiseKind } from '../data/noise.js';
import { SimdnetError, type ErrorCode } from '../errors.js';
import { HIDDEN_ACTIVATIONS } from '../layers/index.js';
import type { LossName } from '../losses.js';
import { Sequential, type ModelSpec } from '../model.js';
import { IMAGE_SHAPE, autoencoderSpec, convAutoencoderSpec } from '../models.js';
import { DEFAULT_LR, createOptimizer, type Optimizer, type OptimizerName } from '../optimizers.js';
import { MAX_SEED } from '../random.js';
import { LR_SCHEDULES, recipe, type LrScheduleName } from './recipes.js';
import type { FitOptions, FitSet } from './types.js';

/** The losses a run offers: a reconstruction compares pixels (crossentropy wants one-hot classes). */
export const TRAIN_LOSSES = ['bce', 'mse'] as const satisfies readonly LossName[];
export type TrainLoss = (typeof TRAIN_LOSSES)[number];

/** The models a run trains: the dense autoencoder (the reference) or the conv denoiser (models.ts). */
export const RUN_MODELS = ['dense', 'conv'] as const;
export type RunModel = (typeof RUN_MODELS)[number];

/** The conv denoiser's hidden feature maps when a run does not say (convAutoencoderSpec's default). */
export const DEFAULT_CONV_CHANNELS = [32, 32, 32, 32];

/** The pixel shuffle factors a run's digits take: those that divide their height and width. */
export const PIXEL_SHUFFLE_FACTORS: readonly number[] = Array.from({ length: Math.min(IMAGE_SHAPE[1], IMAGE_SHAPE[2]) }, (_, k) => k + 1).filter((r) => IMAGE_SHAPE[1] % r === 0 && IMAGE_SHAPE[2] % r === 0);
export const PIXEL_SHUFFLE_EXPECTED = `a factor of the digits' ${IMAGE_SHAPE[1]}×${IMAGE_SHAPE[2]} (${PIXEL_SHUFFLE_FACTORS.join(', ')})`;

/** The settings of a training run of the denoising autoencoder (a checkpoint saves them, so a resume rebuilds the
 *  run from them: a setting added later is optional, absent meaning what runs before it did). */
export interface TrainConfig {
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: OptimizerName;
  /** Which model: 'dense' (absent: runs before conv models) or 'conv'. */
  model?: RunModel;
  /** conv: the hidden convolutions' feature maps (absent: DEFAULT_CONV_CHANNELS). */
  channels?: number[];
  /** conv: convolutions at 1/r the resolution, between PixelUnshuffle2D(r) and PixelShuffle2D(r) (absent or 1: none). */
  pixelShuffle?: number;
  /** dense: hidden layer sizes, their activation, and a Dropout of this rate after each (0 or absent: none). */
  hidden: number[];
  activation: string;
  dropout?: number;
  loss: TrainLoss;
  noise: NoiseKind;
  noiseFactor: number;
  /** Seeds the weights, the shuffling, the validation split and the noise. */
  seed: number;
  /** Hold out this fraction of the training rows for val* metrics (0 or absent: none). */
  validationSplit?: number;
  /** Stop after this many epochs without a better validation (else test) loss, keeping the best weights; 0: off. */
  earlyStopping?: number;
  lrSchedule?: LrScheduleName;
  /** The optimizer's weight decay: absent, the optimizer's own default (adamw 0.01, the others 0); 0, none. */
  weightDecay?: number;
}

/** Checks every setting of a run (the caller's own fields are left to it): `config` as TrainConfig, or a
 *  SimdnetError `<where>: config.<key>: expected …, got …`, coded `code` (a checkpoint's settings: E_FILE_CORRUPT). */
export function checkTrainConfig(config: unknown, where: string, code: ErrorCode = 'E_OPTION'): TrainConfig {
  const c = config as Record<string, unknown>;
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new SimdnetError(`${where}: config is not an object`, code);
  const fail = (key: string, expected: string): never => {
    throw new SimdnetError(`${where}: config.${key}: expected ${expected}, got ${JSON.stringify(c[key])?.slice(0, 60) ?? 'nothing'}`, code);
  };
  const int = (key: string, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!(Number.isInteger(c[key]) && (c[key] as number) >= min && (c[key] as number) <= max)) fail(key, `an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'}`);
  };
  const number = (key: string, ok: (v: number) => boolean, expected: string) => {
    if (!(typeof c[key] === 'number' && Number.isFinite(c[key]) && ok(c[key] as number))) fail(key, expected);
  };
  const oneOf = (key: string, names: readonly string[]) => {
    if (typeof c[key] !== 'string' || !names.includes(c[key] as string)) fail(key, `one of ${names.join(', ')}`);
  };
  int('epochs', 1);
  int('batchSize', 1);
  int('seed', 0, MAX_SEED);
  number('lr', (v) => v > 0, 'a number > 0');
  number('noiseFactor', (v) => v >= 0, 'a number ≥ 0');
  if (!(Array.isArray(c.hidden) && c.hidden.length > 0 && c.hidden.every((h) => Number.isInteger(h) && h > 0))) fail('hidden', 'a list of positive layer sizes');
  oneOf('optimizer', Object.keys(DEFAULT_LR));
  oneOf('activation', HIDDEN_ACTIVATIONS);
  oneOf('loss', TRAIN_LOSSES);
  oneOf('noise', NOISE_KINDS);
  // settings of later versions: absent means off (or, for weightDecay, the optimizer's default)
  if (c.dropout !== undefined) number('dropout', (v) => v >= 0 && v < 1, 'a rate in [0, 1)');
  if (c.weightDecay !== undefined) number('weightDecay', (v) => v >= 0, 'a number ≥ 0');
  if (c.validationSplit !== undefined) number('validationSplit', (v) => v >= 0 && v < 1, 'a fraction in [0, 1)');
  if (c.earlyStopping !== undefined) int('earlyStopping', 0);
  if (c.lrSchedule !== undefined) oneOf('lrSchedule', LR_SCHEDULES);
  if (c.model !== undefined) oneOf('model', RUN_MODELS);
  if (c.channels !== undefined && !(Array.isArray(c.channels) && c.channels.length > 0 && c.channels.every((h) => Number.isInteger(h) && h > 0))) fail('channels', 'a list of positive feature-map counts');
  if (c.model === 'conv' && c.dropout) fail('dropout', '0 or nothing for a conv model (it has no Dropout layers)');
  if (c.pixelShuffle !== undefined) {
    if (c.model !== 'conv') fail('pixelShuffle', "nothing for a dense model (it is the conv model's)");
    int('pixelShuffle', 1);
    if (!PIXEL_SHUFFLE_FACTORS.includes(c.pixelShuffle as number)) fail('pixelShuffle', PIXEL_SHUFFLE_EXPECTED);
  }
  return c as unknown as TrainConfig;
}

/** The model a run trains: the one place its layers follow from the settings. */
export function runModelSpec(config: Pick<TrainConfig, 'hidden' | 'activation' | 'dropout' | 'model' | 'channels' | 'pixelShuffle'>): ModelSpec {
  if (config.model === 'conv') return convAutoencoderSpec({ channels: config.channels ?? DEFAULT_CONV_CHANNELS, pixelShuffle: config.pixelShuffle });
  return autoencoderSpec({ hidden: config.hidden, activation: config.activation, dropout: config.dropout });
}

/** The run's optimizer: its weight decay passed whenever the settings have one, 0 included. */
export function runOptimizer(config: TrainConfig): Optimizer {
  return createOptimizer(config.optimizer, { lr: config.lr, ...(config.weightDecay !== undefined && { weightDecay: config.weightDecay }) });
}

export interface TrainingRun {
  model: Sequential;
  /** The caller disposes it after fit (a checkpoint saves its state in between). */
  optimizer: Optimizer;
  /** An autoencoder's sets: the (clean) images are both the inputs and the targets; fit adds the noise. */
  data: { train: FitSet; test: FitSet };
  /** fit's options of the run (schedule and callbacks included): add the caller's own hooks (onBatch, onEpoch,
   *  onCheckpoint, resume) and callbacks around these. */
  fit: FitOptions & { callbacks: NonNullable<FitOptions['callbacks']> };
}

/** Builds the run of `config` on `backend` over the images (rows of the model's input width). The model is
 *  built from the settings unless `model` gives one (a checkpoint's restored with this optimizer, --init-from's). */
export function createRun(config: TrainConfig, backend: Backend, images: { train: Float32Array; test: Float32Array }, where: string, model?: (optimizer: Optimizer) => Sequential): TrainingRun {
  checkTrainConfig(config, where);
  const optimizer = runOptimizer(config);
  let m: Sequential;
  try {
    m = model ? model(optimizer) : Sequential.fromSpec(runModelSpec(config), { backend, seed: config.seed });
  } catch (e) {
    optimizer.dispose();
    throw e;
  }
  const plan = recipe({ lr: config.lr, epochs: config.epochs, lrSchedule: config.lrSchedule, earlyStopping: config.earlyStopping });
  return {
    model: m,
    optimizer,
    data: { train: { x: images.train, y: images.train }, test: { x: images.test, y: images.test } },
    fit: {
      epochs: config.epochs,
      batchSize: config.batchSize,
      loss: config.loss,
      optimizer,
      seed: config.seed,
      noise: { kind: config.noise, factor: config.noiseFactor },
      validationSplit: config.validationSplit || undefined,
      ...(typeof plan.lr === 'function' && { lr: plan.lr }),
      callbacks: plan.callbacks,
    },
  };
}
