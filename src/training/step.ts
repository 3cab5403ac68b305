// One training step — input → forward → loss → backward → update, with the divergence watch — the one sequence
// that fit, the step benchmarks (src/cli/step-bench.ts, bench/engines.js) and the web worker all run.

import { SimdnetError } from '../errors.js';
import { getLoss, type Loss, type LossName } from '../losses.js';
import type { Sequential } from '../model.js';
import type { Optimizer } from '../optimizers.js';

/** Training counts as diverged when a loss or a weight is not finite, or, for losses with a chance level
 *  (BCE, cross-entropy), when the smoothed batch loss (an exponential moving average over about 10 batches)
 *  exceeds this many times the larger of the chance level and the run's first batch loss. Bounded losses need
 *  the second test: SGD at lr 1e6 with BCE saturates the sigmoid and never yields a NaN. The chance level keeps
 *  the watch quiet when fine-tuning a trained model, whose first batch loss may be tiny and noisy. */
export const DIVERGENCE_FACTOR = 2;
/** ... or when, at an epoch's end or a checkpoint, a weight is this many times larger than the largest one at the
 *  start (at least 1): an unbounded loss like MSE at lr 1e3 saturates the sigmoid and settles, loss flat and finite,
 *  while the weights run off to 6e3 (lr 1e9: 6e9). Trained weights stay within a few times their start. */
export const WEIGHT_GROWTH = 1000;
const SMOOTHING = 0.1;

/** A batch already in the model's input(rows) and target(rows) tensors, or host arrays to copy there first. */
export type Batch = number | { x: Float32Array; y: Float32Array };

/** One step on `batch`; returns its loss (before the update). `step` is the run's global step: it seeds what a
 *  training-mode layer draws (Dropout masks), so a resumed run draws the same. No divergence watch: see Trainer. */
export function trainStep(model: Sequential, batch: Batch, loss: Loss | LossName, optimizer: Optimizer, step = 0): number {
  const rows = typeof batch === 'number' ? batch : batch.x.length / model.inputWidth;
  if (typeof batch !== 'number') {
    model.backend.write(model.input(rows), batch.x);
    model.backend.write(model.target(rows), batch.y);
  }
  model.setTraining(true, step);
  model.zeroGrad();
  model.forward(rows);
  const value = model.loss(rows, loss, true);
  // a non-finite loss would make non-finite weights: the caller's watch throws before the update
  if (Number.isFinite(value)) optimizer.step(model);
  model.setTraining(false, step);
  return value;
}

/** Where the divergence watch stands: part of a run's progress, so a resumed run watches as the straight run. */
export interface WatchState {
  firstLoss?: number;
  smoothLoss?: number;
  /** The largest |weight| when the run started. */
  startWeight?: number;
}

/** trainStep with the divergence watch: throws a SimdnetError (E_DIVERGED) naming the epoch and batch. */
export class Trainer {
  readonly loss: Loss;
  private readonly chance: number;
  private firstLoss: number;
  private smoothLoss: number;
  private readonly startWeight: number;

  constructor(readonly model: Sequential, loss: Loss | LossName, readonly optimizer: Optimizer, watch: WatchState = {}) {
    this.loss = getLoss(loss);
    this.chance = this.loss.chance ? this.loss.chance(model.outputWidth) : Infinity; // no chance level: only non-finite values count
    this.firstLoss = watch.firstLoss ?? NaN;
    this.smoothLoss = watch.smoothLoss ?? NaN;
    this.startWeight = watch.startWeight ?? model.maxAbsWeight();
  }

  /** One step; `epoch` and `batchIndex` (0-based) name the place in a divergence error, `step` as in trainStep. */
  step(batch: Batch, epoch: number, batchIndex: number, step = 0): number {
    const value = trainStep(this.model, batch, this.loss, this.optimizer, step);
    if (!Number.isFinite(value)) throw this.diverged({ epoch, batch: batchIndex }, `the loss is ${value} (the weights are no longer finite)`);
    if (Number.isNaN(this.firstLoss)) this.firstLoss = this.smoothLoss = value;
    else this.smoothLoss += SMOOTHING * (value - this.smoothLoss);
    if (this.smoothLoss > DIVERGENCE_FACTOR * Math.max(this.firstLoss, this.chance))
      throw this.diverged({ epoch, batch: batchIndex }, `the smoothed loss rose to ${this.smoothLoss.toPrecision(4)}, more than ${DIVERGENCE_FACTOR}× its starting value ${this.firstLoss.toPrecision(4)} and the chance level ${this.chance.toPrecision(4)}`);
    return value;
  }

  /** Throws when a weight is not finite or has grown without bound (checked between steps: a checkpoint never
   *  holds NaN weights). */
  checkWeights(at: { epoch: number; batch: number }): void {
    const max = this.model.maxAbsWeight();
    if (Number.isNaN(max)) throw this.diverged(at, 'the loss is NaN (the weights are no longer finite)');
    const limit = WEIGHT_GROWTH * Math.max(1, this.startWeight);
    if (max > limit) throw this.diverged(at, `a weight reached ${max.toPrecision(3)}, over the bound of ${limit.toPrecision(3)} (${WEIGHT_GROWTH}× the larger of 1 and the largest weight at the start, ${this.startWeight.toPrecision(3)}): the weights are growing without bound`);
  }

  watchState(): WatchState {
    const start = Number.isFinite(this.startWeight) ? { startWeight: this.startWeight } : {};
    return Number.isNaN(this.firstLoss) ? start : { firstLoss: this.firstLoss, smoothLoss: this.smoothLoss, ...start };
  }

  private diverged(at: { epoch: number; batch: number }, why: string): SimdnetError {
    return new SimdnetError(`training diverged at epoch ${at.epoch + 1}, batch ${at.batch + 1}: ${why}; try a lower learning rate than ${this.optimizer.lr}`, 'E_DIVERGED');
  }
}
