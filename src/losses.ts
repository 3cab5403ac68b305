// Losses: each a mean over the batch, its gradient, and the fused gradient through the output activation it
// pairs with (sigmoid + BCE and softmax + cross-entropy both reduce to p − t, which is cheaper and exact).

import type { Kernels } from './backend/backend.js';
import { SimdnetError } from './errors.js';

export type LossName = 'mse' | 'bce' | 'crossentropy';

export interface Loss {
  readonly name: LossName;
  /** The output activation whose backward this loss can fuse, if any. */
  readonly fusesWith?: 'sigmoid' | 'softmax';
  value(k: Kernels, p: number, t: number, B: number, N: number): number;
  /** The loss of a constant guess (0.5 per pixel for BCE, uniform for cross-entropy), when the loss has one:
   *  training worse than this has gone wrong. */
  chance?(N: number): number;
  /** dp = ∂L/∂p */
  gradient(k: Kernels, dp: number, p: number, t: number, B: number, N: number): void;
  /** dz = ∂L/∂z through the fused activation p = act(z) */
  fusedGradient?(k: Kernels, dz: number, p: number, t: number, B: number, N: number): void;
}

export const mse: Loss = {
  name: 'mse',
  value: (k, p, t, B, N) => k.mse_loss(p, t, B, N),
  gradient: (k, dp, p, t, B, N) => k.mse_backward(dp, p, t, B, N),
};

/** Binary cross-entropy, p clamped to [1e-7, 1 − 1e-7] like the reference. */
export const bce: Loss = {
  name: 'bce',
  fusesWith: 'sigmoid',
  chance: () => Math.LN2,
  value: (k, p, t, B, N) => k.bce_loss(p, t, B, N),
  gradient: (k, dp, p, t, B, N) => k.bce_backward(dp, p, t, B, N),
  fusedGradient: (k, dz, p, t, B, N) => k.sigmoid_bce_backward(dz, p, t, B, N),
};

/** Softmax cross-entropy on one-hot (or soft) targets; needs a Softmax output layer. */
export const crossentropy: Loss = {
  name: 'crossentropy',
  fusesWith: 'softmax',
  chance: (N) => Math.log(N),
  value: (k, p, t, B, N) => k.softmax_ce_loss(p, t, B, N),
  gradient: () => {
    throw new SimdnetError('crossentropy: the model must end with a Softmax layer', 'E_SHAPE');
  },
  fusedGradient: (k, dz, p, t, B, N) => k.softmax_ce_backward(dz, p, t, B, N),
};

const LOSSES: Record<LossName, Loss> = { mse, bce, crossentropy };
export const LOSS_NAMES = Object.keys(LOSSES) as LossName[];

export function getLoss(loss: LossName | Loss): Loss {
  if (typeof loss === 'object' && loss !== null && typeof (loss as Loss).value === 'function') return loss;
  // own properties only: 'toString' or '__proto__' must not find Object.prototype's
  if (typeof loss !== 'string' || !Object.hasOwn(LOSSES, loss))
    throw new SimdnetError(`loss: expected one of ${Object.keys(LOSSES).join(', ')}, got ${typeof loss === 'string' ? `'${loss}'` : String(loss)}`, 'E_OPTION');
  return LOSSES[loss as LossName];
}
