// Callbacks: hooks fit calls at the start of training, of each epoch, after each batch and at each epoch's end;
// any of them stops training by returning false. Two built in: earlyStopping and reduceLROnPlateau. A callback
// with state hands it to checkpoints (saveState / loadState), so a resumed run stops and scales as the straight run.

import { check } from '../errors.js';
import type { Callback, CallbackState, EpochMetrics, TrainingContext } from './types.js';

/** Metrics a callback can watch: the numeric fields of EpochMetrics. */
export type Monitor = Exclude<{ [K in keyof EpochMetrics]-?: EpochMetrics[K] extends number | undefined ? K : never }[keyof EpochMetrics], 'epoch' | 'seconds' | 'lr'>;

/** Higher is better for accuracy and PSNR; lower for losses and MSE. */
export function higherIsBetter(monitor: string): boolean {
  return /accuracy|psnr/i.test(monitor);
}

/** The value of `monitor` in an epoch's metrics, or an error naming what the metrics have. */
function read(metrics: EpochMetrics, monitor: string, who: string): number {
  const v = (metrics as unknown as Record<string, unknown>)[monitor];
  check(typeof v === 'number' && !Number.isNaN(v), () => `${who}: monitor "${monitor}" is not in this run's metrics (it has ${Object.keys(metrics).filter((k) => typeof (metrics as unknown as Record<string, unknown>)[k] === 'number' && !Number.isNaN((metrics as unknown as Record<string, number>)[k])).join(', ')}); give a validation split or a test set, or monitor trainLoss`, 'E_OPTION');
  return v;
}

/** Tracks the best value of a metric and the epochs since it last improved by more than minDelta. */
class Plateau {
  best: number | null = null;
  bestEpoch = 0;
  wait = 0;
  constructor(readonly monitor: string, private readonly minDelta: number, private readonly who: string) {}

  /** True when this epoch improved on the best. */
  update(metrics: EpochMetrics): boolean {
    const v = read(metrics, this.monitor, this.who);
    const sign = higherIsBetter(this.monitor) ? 1 : -1;
    if (this.best === null || sign * (v - this.best) > this.minDelta) {
      this.best = v;
      this.bestEpoch = metrics.epoch;
      this.wait = 0;
      return true;
    }
    this.wait++;
    return false;
  }

  state(): Record<string, number | string | null> {
    return { monitor: this.monitor, best: this.best, bestEpoch: this.bestEpoch, wait: this.wait };
  }

  /** The plateau of a saved state, or none when the state is of a run that had not finished an epoch. */
  static from(values: Record<string, number | string | null>, minDelta: number, who: string): Plateau | undefined {
    if (typeof values.monitor !== 'string') return undefined;
    const p = new Plateau(values.monitor, minDelta, who);
    p.best = typeof values.best === 'number' ? values.best : null;
    p.bestEpoch = Number(values.bestEpoch ?? 0);
    p.wait = Number(values.wait ?? 0);
    return p;
  }
}

function monitorOf(given: string | undefined, who: string): string | undefined {
  check(given === undefined || typeof given === 'string', () => `${who}: monitor: expected a metric name such as valLoss, got ${String(given)}`, 'E_OPTION');
  return given;
}

/** valLoss with a validation split, else testLoss with a test set, else trainLoss. */
function defaultMonitor(metrics: EpochMetrics): string {
  return metrics.valLoss !== undefined ? 'valLoss' : Number.isNaN(metrics.testLoss) ? 'trainLoss' : 'testLoss';
}

function checkCounts(who: string, o: Record<string, unknown>, ints: string[], nonNeg: string[]): void {
  for (const k of ints) check(o[k] === undefined || (Number.isInteger(o[k]) && (o[k] as number) >= 0), () => `${who}: ${k}: expected an integer ≥ 0, got ${String(o[k])}`, 'E_OPTION');
  for (const k of nonNeg) check(o[k] === undefined || (typeof o[k] === 'number' && Number.isFinite(o[k]) && (o[k] as number) >= 0), () => `${who}: ${k}: expected a number ≥ 0, got ${String(o[k])}`, 'E_OPTION');
}

export interface EarlyStoppingOptions {
  /** The metric to watch (default: valLoss, else testLoss, else trainLoss). */
  monitor?: Monitor;
  /** Epochs without improvement before stopping (default 5). */
  patience?: number;
  /** The least change that counts as an improvement (default 0). */
  minDelta?: number;
  /** End with the weights of the best epoch (default false). */
  restoreBest?: boolean;
}

/** Stops training when `monitor` has not improved by more than minDelta for `patience` epochs. With restoreBest the
 *  model ends (stopped or not) with the weights of its best epoch. */
export function earlyStopping(options: EarlyStoppingOptions = {}): Callback {
  const who = 'earlyStopping';
  checkCounts(who, options as Record<string, unknown>, ['patience'], ['minDelta']);
  check(options.restoreBest === undefined || typeof options.restoreBest === 'boolean', () => `${who}: restoreBest: expected true or false, got ${String(options.restoreBest)}`, 'E_OPTION');
  const given = monitorOf(options.monitor, who);
  const patience = options.patience ?? 5;
  const minDelta = options.minDelta ?? 0;
  let plateau: Plateau | undefined;
  let bestWeights: Float32Array | undefined;
  let lastEpoch = 0;
  return {
    onEpochEnd(metrics, ctx) {
      plateau ??= new Plateau(given ?? defaultMonitor(metrics), minDelta, who);
      lastEpoch = metrics.epoch;
      if (plateau.update(metrics)) {
        if (options.restoreBest) bestWeights = ctx.model.getWeights();
        return true;
      }
      if (plateau.wait < patience) return true;
      ctx.stopReason = `earlyStopping: ${plateau.monitor} did not improve by more than ${minDelta} for ${patience} epochs (best ${plateau.best} at epoch ${plateau.bestEpoch})`;
      return false;
    },
    onTrainEnd(_history, ctx) {
      if (bestWeights && plateau && plateau.bestEpoch !== lastEpoch) ctx.model.setWeights(bestWeights);
    },
    saveState: () => ({ values: { ...plateau?.state(), lastEpoch }, weights: bestWeights }),
    loadState(state) {
      plateau = Plateau.from(state.values, minDelta, who);
      lastEpoch = Number(state.values.lastEpoch ?? 0);
      bestWeights = state.weights;
    },
  };
}

export interface ReduceLROnPlateauOptions {
  monitor?: Monitor;
  /** Multiplies the learning rate when `monitor` stalls (default 0.5). */
  factor?: number;
  /** Epochs without improvement before a reduction (default 3). */
  patience?: number;
  minDelta?: number;
  /** Epochs to wait after a reduction before watching again (default 0). */
  cooldown?: number;
  /** The lowest learning rate it reduces to (default 0: no floor). */
  minLr?: number;
}

/** Multiplies the learning rate by `factor` when `monitor` has not improved for `patience` epochs (Keras
 *  ReduceLROnPlateau). It scales the constant rate or the schedule's (TrainingContext.lrScale). */
export function reduceLROnPlateau(options: ReduceLROnPlateauOptions = {}): Callback {
  const who = 'reduceLROnPlateau';
  checkCounts(who, options as Record<string, unknown>, ['patience', 'cooldown'], ['minDelta', 'minLr']);
  const factor = options.factor ?? 0.5;
  check(typeof factor === 'number' && factor > 0 && factor < 1, () => `${who}: factor: expected a number in (0, 1), got ${String(factor)}`, 'E_OPTION');
  const given = monitorOf(options.monitor, who);
  const patience = options.patience ?? 3;
  const minDelta = options.minDelta ?? 0;
  let plateau: Plateau | undefined;
  let cooling = 0;
  let scale = 1;
  return {
    onEpochEnd(metrics, ctx) {
      plateau ??= new Plateau(given ?? defaultMonitor(metrics), minDelta, who);
      const improved = plateau.update(metrics);
      if (cooling > 0) {
        cooling--;
        plateau.wait = 0;
      } else if (!improved && plateau.wait >= patience) {
        // the floor is on the rate itself: the scale stops where it would take the current rate below minLr
        const lr = ctx.optimizer.lr;
        const next = Math.max(lr * factor, options.minLr ?? 0);
        if (next < lr) scale *= next / lr;
        ctx.lrScale = scale;
        cooling = options.cooldown ?? 0;
        plateau.wait = 0;
      }
      return true;
    },
    saveState: () => ({ values: { ...plateau?.state(), cooling, scale } }),
    loadState(state, ctx) {
      plateau = Plateau.from(state.values, minDelta, who);
      cooling = Number(state.values.cooling ?? 0);
      scale = Number(state.values.scale ?? 1);
      ctx.lrScale = scale;
    },
  };
}
