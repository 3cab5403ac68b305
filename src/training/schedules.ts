// Learning-rate schedules: plain functions (epoch, step, run) → lr that fit calls before every step. They keep no
// state (the rate depends only on where the run is), so a resumed run gets the same rates without saving any.

import { check } from '../errors.js';

/** Where a run is: `epoch` (0-based), `step` (0-based, counted over the whole run), and its size. */
export type Schedule = (epoch: number, step: number, run: { epochs: number; batches: number }) => number;

const positive = (what: string, v: unknown) => check(typeof v === 'number' && Number.isFinite(v) && v > 0, () => `${what}: expected a number > 0, got ${String(v)}`, 'E_OPTION');
const fraction = (what: string, v: unknown) => check(typeof v === 'number' && v > 0 && v <= 1, () => `${what}: expected a number in (0, 1], got ${String(v)}`, 'E_OPTION');

/** lr × factor^⌊epoch / every⌋: the rate drops by `factor` every `every` epochs (Keras StepLR). */
export function stepDecay(o: { lr: number; every: number; factor?: number }): Schedule {
  positive('stepDecay: lr', o?.lr);
  check(Number.isInteger(o.every) && o.every > 0, () => `stepDecay: every: expected a positive number of epochs, got ${String(o.every)}`, 'E_OPTION');
  const factor = o.factor ?? 0.5;
  fraction('stepDecay: factor', factor);
  return (epoch) => o.lr * factor ** Math.floor(epoch / o.every);
}

/** lr × decay^epoch, continuous over the steps of each epoch. */
export function exponentialDecay(o: { lr: number; decay: number }): Schedule {
  positive('exponentialDecay: lr', o?.lr);
  fraction('exponentialDecay: decay', o.decay);
  return (_epoch, step, run) => o.lr * o.decay ** (step / run.batches);
}

/** A linear warm-up from lr/warm-up steps to lr over `warmupEpochs`, then half a cosine down to `minLr` at the
 *  last step of the run (Loshchilov & Hutter's SGDR without restarts). */
export function cosineDecay(o: { lr: number; minLr?: number; warmupEpochs?: number }): Schedule {
  positive('cosineDecay: lr', o?.lr);
  const minLr = o.minLr ?? o.lr / 100;
  const warmupEpochs = o.warmupEpochs ?? 0;
  positive('cosineDecay: minLr', minLr);
  check(minLr <= o.lr, () => `cosineDecay: minLr ${minLr} is above lr ${o.lr}`, 'E_OPTION');
  check(Number.isFinite(warmupEpochs) && warmupEpochs >= 0, () => `cosineDecay: warmupEpochs: expected a number ≥ 0, got ${String(warmupEpochs)}`, 'E_OPTION');
  return (_epoch, step, run) => {
    const warm = Math.min(Math.round(warmupEpochs * run.batches), run.epochs * run.batches - 1);
    if (step < warm) return (o.lr * (step + 1)) / warm;
    const t = (step - warm) / Math.max(1, run.epochs * run.batches - 1 - warm); // 0 … 1 at the last step
    return minLr + (o.lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, t)));
  };
}
