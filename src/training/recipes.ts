// The training recipes the CLI and the web demo both offer, by name: the LR schedules behind --lr-schedule, early
// stopping behind --early-stopping, and the measured `--preset best`. One owner, so the two fronts train alike.

import { SimdnetError } from '../errors.js';
import { earlyStopping, reduceLROnPlateau } from './callbacks.js';
import type { Callback } from './types.js';
import { cosineDecay, stepDecay, type Schedule } from './schedules.js';

export const LR_SCHEDULES = ['constant', 'cosine', 'step', 'plateau'] as const;
export type LrScheduleName = (typeof LR_SCHEDULES)[number];

export interface RecipeOptions {
  lr: number;
  epochs: number;
  lrSchedule?: LrScheduleName;
  /** Stop after this many epochs without a better monitored loss, restoring the best weights; 0 = off. */
  earlyStopping?: number;
}

/** Warm-up of the cosine schedule, in epochs (Adam's first steps at a high rate are the unstable ones). */
const WARMUP_EPOCHS = 2;
/** cosine decays to lr / COSINE_FLOOR; step halves the rate STEP_PARTS times over the run; plateau halves it after
 *  PLATEAU_PATIENCE stalled epochs (under early stopping's usual 3: a stall gets a lower rate before the stop). */
const COSINE_FLOOR = 100;
const STEP_PARTS = 3;
const PLATEAU_PATIENCE = 2;

/** The named schedules in words (the CLI's --lr-schedule help), from the numbers recipe() uses. */
export function describeSchedules(): string {
  return `cosine (${WARMUP_EPOCHS} warm-up epochs, then down to lr/${COSINE_FLOOR}), step (halve every 1/${STEP_PARTS} of the run), plateau (halve after ${PLATEAU_PATIENCE} epochs without a better loss)`;
}

/** fit's `lr` and `callbacks` for a named schedule and early stopping (describeSchedules says what each does). */
export function recipe(o: RecipeOptions): { lr: number | Schedule; callbacks: Callback[] } {
  const callbacks: Callback[] = [];
  let lr: number | Schedule = o.lr;
  switch (o.lrSchedule ?? 'constant') {
    case 'constant':
      break;
    case 'cosine':
      lr = cosineDecay({ lr: o.lr, minLr: o.lr / COSINE_FLOOR, warmupEpochs: Math.min(WARMUP_EPOCHS, o.epochs / 4) });
      break;
    case 'step':
      lr = stepDecay({ lr: o.lr, every: Math.max(1, Math.round(o.epochs / STEP_PARTS)), factor: 0.5 });
      break;
    case 'plateau':
      callbacks.push(reduceLROnPlateau({ factor: 0.5, patience: PLATEAU_PATIENCE }));
      break;
    default:
      throw new SimdnetError(`lr schedule: expected one of ${LR_SCHEDULES.join(', ')}, got '${String(o.lrSchedule)}'`, 'E_OPTION');
  }
  if (o.earlyStopping) callbacks.push(earlyStopping({ patience: o.earlyStopping, restoreBest: true }));
  return { lr, callbacks };
}

/** `--preset best` (and the demo's "best" button): the denoising autoencoder recipe measured in README.md to pass
 *  22 dB test PSNR at gaussian noise 0.3 on the bundled digits in under 30 s of training on 2 cores. */
export const BEST_PRESET = {
  hidden: [512],
  batchSize: 128,
  epochs: 45,
  lr: 6e-3,
  lrSchedule: 'cosine',
} as const satisfies { hidden: readonly number[]; batchSize: number; epochs: number; lr: number; lrSchedule: LrScheduleName };

/** `--preset conv` (and the demo's conv preset): the conv denoiser recipe measured in README.md (how it was chosen
 *  is there too). Small batches at a high peak rate: with two epochs, steps count more than samples per step. */
export const CONV_PRESET = {
  model: 'conv',
  channels: [32, 32, 32, 32],
  batchSize: 8,
  epochs: 2,
  lr: 8e-3,
  lrSchedule: 'cosine',
} as const satisfies { model: 'conv'; channels: readonly number[]; batchSize: number; epochs: number; lr: number; lrSchedule: LrScheduleName };

/** The presets by name (the CLI's --preset, the demo's buttons). */
export const PRESETS = { best: BEST_PRESET, conv: CONV_PRESET } as const;
export type PresetName = keyof typeof PRESETS;
