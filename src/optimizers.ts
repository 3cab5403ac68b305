// Optimizers (sgd, momentum, adam, adamw, rmsprop; L2 or decoupled weight decay and clipping by global norm on every
// one): state in one block the size of the parameter block, so a step is one flat kernel call. The update formulas and
// their sources: assembly/optim.ts, and in float64 in test/optimizers.test.ts.

import type { Backend, Tensor } from './backend/backend.js';
import { SimdnetError, check } from './errors.js';

export type OptimizerName = 'sgd' | 'momentum' | 'adam' | 'adamw' | 'rmsprop';

export interface OptimizerOptions {
  lr?: number;
  /** momentum: velocity decay (default 0.9) */
  momentum?: number;
  /** adam, adamw (defaults 0.9, 0.999, 1e-7 as Keras); eps is rmsprop's too */
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** rmsprop: decay of the mean squared gradient (default 0.9 as Keras; PyTorch's `alpha`) */
  rho?: number;
  /** Weight decay λ ≥ 0. adamw: decoupled, w ·= 1 − lr·λ each step (default 0.01, as PyTorch); the others: an L2
   *  penalty, g += λ·w (default 0), as the weight_decay of torch.optim.SGD / Adam / RMSprop. */
  weightDecay?: number;
  /** Every optimizer: scale the gradients to this global L2 norm when it is larger (torch.nn.utils.clip_grad_norm_:
   *  g ·= clipNorm/(‖g‖ + 1e-6)). Off by default. */
  clipNorm?: number;
}

/** The options each optimizer uses, resolved (saved in checkpoints; a resume must use the same). */
export type ResolvedOptions = Required<Pick<OptimizerOptions, 'weightDecay'>> & Omit<OptimizerOptions, 'lr' | 'weightDecay'>;

/** What an optimizer needs of a model: its parameter and gradient blocks. */
export interface Trainable {
  readonly backend: Backend;
  readonly params: Tensor;
  readonly grads: Tensor;
  /** True once the model gave its memory back (Sequential.dispose). */
  readonly disposed?: boolean;
  /** Told before a step writes the weights (Sequential: predict packs its copy of them again). */
  weightsChanged?(): void;
}

export interface Optimizer {
  readonly name: OptimizerName;
  /** The learning rate of the next step; settable (schedules drive it), finite and > 0. */
  lr: number;
  /** Its other settings, defaults filled in (optional: an optimizer of your own may leave it out). */
  readonly options?: Readonly<ResolvedOptions>;
  step(model: Trainable): void;
  /** True once its state blocks exist (fit's memory check counts them as allocated); absent: not known. */
  readonly hasState?: boolean;
  /** Step count and a copy of each state block (for checkpoints). */
  saveState(): { step: number; slots: Float32Array[] };
  /** Restores what saveState returned, for this model. */
  loadState(model: Trainable, state: { step: number; slots: Float32Array[] }): void;
  dispose(): void;
}

export const DEFAULT_LR: Record<OptimizerName, number> = { sgd: 0.1, momentum: 0.01, adam: 0.001, adamw: 0.001, rmsprop: 0.001 };

// the options each optimizer uses, besides lr, weightDecay and clipNorm (which all take)
const USES: Record<OptimizerName, readonly (keyof OptimizerOptions)[]> = {
  sgd: [], momentum: ['momentum'], adam: ['beta1', 'beta2', 'eps'], adamw: ['beta1', 'beta2', 'eps'], rmsprop: ['rho', 'eps'],
};
const ALL_OPTIONS: readonly string[] = ['lr', 'momentum', 'beta1', 'beta2', 'eps', 'rho', 'weightDecay', 'clipNorm'];
const NAMES = () => `${Object.keys(DEFAULT_LR).slice(0, -1).join(', ')} or ${Object.keys(DEFAULT_LR).at(-1)}`;

export function createOptimizer(name: OptimizerName, options: OptimizerOptions = {}): Optimizer {
  // the name first: an unknown name has no default learning rate, which would otherwise be the complaint
  check(Object.hasOwn(DEFAULT_LR, name), () => `optimizer: expected ${NAMES()}, got '${name}'`, 'E_OPTION');
  check(options !== null && typeof options === 'object', () => `optimizer: expected options as an object, got ${options === null ? 'null' : typeof options}`);
  // a misspelt option would silently train with the default; options of another optimizer are ignored, as before
  for (const key of Object.keys(options)) check(ALL_OPTIONS.includes(key), () => `optimizer: unknown option '${key}', expected one of ${ALL_OPTIONS.join(', ')}`, 'E_OPTION');
  const lr = options.lr ?? DEFAULT_LR[name];
  checkLr(lr);
  const number = (key: keyof OptimizerOptions, ok: (v: number) => boolean, what: string) => {
    const v = options[key];
    check(v === undefined || (typeof v === 'number' && ok(v)), () => `optimizer: ${key} must be ${what}, got ${typeof v === 'string' ? `'${v}'` : v}`);
  };
  const fraction = (v: number) => Number.isFinite(v) && v >= 0 && v < 1;
  for (const key of USES[name]) number(key, key === 'eps' ? (v) => Number.isFinite(v) && v > 0 : fraction, key === 'eps' ? 'a positive number' : 'a number in [0, 1)');
  number('weightDecay', (v) => Number.isFinite(v) && v >= 0, 'a number ≥ 0');
  number('clipNorm', (v) => Number.isFinite(v) && v > 0, 'a positive number');
  const common = { weightDecay: options.weightDecay ?? (name === 'adamw' ? 0.01 : 0), ...(options.clipNorm !== undefined ? { clipNorm: options.clipNorm } : {}) };
  const adam = { beta1: options.beta1 ?? 0.9, beta2: options.beta2 ?? 0.999, eps: options.eps ?? 1e-7 };
  switch (name) {
    case 'sgd':
      return new Sgd(lr, common);
    case 'momentum':
      return new Momentum(lr, { ...common, momentum: options.momentum ?? 0.9 });
    case 'adam':
      return new Adam(lr, { ...common, ...adam });
    case 'adamw':
      return new AdamW(lr, { ...common, ...adam });
    case 'rmsprop':
      return new RmsProp(lr, { ...common, rho: options.rho ?? 0.9, eps: options.eps ?? 1e-7 });
    default:
      throw new SimdnetError(`optimizer: expected ${NAMES()}, got '${name}'`, 'E_OPTION');
  }
}

function checkLr(lr: number): void {
  check(typeof lr === 'number' && Number.isFinite(lr) && lr > 0, () => `optimizer: learning rate must be a positive number, got ${typeof lr === 'number' ? lr : typeof lr === 'string' ? `'${lr}'` : String(lr)}`);
}

/** The factor clip_grad_norm_ scales gradients of global norm `norm` by: 1 unless the norm exceeds clipNorm (a
 *  non-finite norm is left alone: scaling it to zero would hide a divergence that the training loop reports). */
export function clipScale(norm: number, clipNorm: number | undefined): number {
  if (clipNorm === undefined || !Number.isFinite(norm)) return 1;
  const coef = clipNorm / (norm + 1e-6);
  return coef < 1 ? coef : 1;
}

/** How many parameter-sized state blocks each optimizer keeps (Adam's two moments, the momentum velocity, …). */
export const STATE_SLOTS: Record<OptimizerName, number> = { sgd: 0, momentum: 1, adam: 2, adamw: 2, rmsprop: 1 };

/** Lazily allocates state blocks shaped like the parameters of the first model it steps. */
abstract class Stateful implements Optimizer {
  abstract readonly name: OptimizerName;
  protected slots: Tensor[] = [];
  protected t = 0;
  private rate: number;
  constructor(lr: number, protected readonly slotCount: number, readonly options: Readonly<ResolvedOptions>) {
    this.rate = lr;
  }
  get lr(): number {
    return this.rate;
  }
  get hasState(): boolean {
    return this.slots.length > 0;
  }
  set lr(value: number) {
    checkLr(value);
    this.rate = value;
  }

  protected ensure(model: Trainable): Tensor[] {
    if (model.disposed) throw new SimdnetError(`${this.name}: the model was disposed; build or load a new one`, 'E_DISPOSED');
    if (this.slots.length === 0) for (let i = 0; i < this.slotCount; i++) this.slots.push(model.backend.alloc(1, model.params.cols));
    check(this.slots.length === 0 || (this.slots[0].backend === model.backend && this.slots[0].cols === model.params.cols),
      () => `optimizer: its state was made for ${this.slots[0].cols} parameters on the ${this.slots[0].backend}, this model has ${model.params.cols} on the ${model.backend}`, 'E_SHAPE');
    return this.slots;
  }
  abstract step(model: Trainable): void;

  /** Clipping by global norm, then the L2 penalty `l2` (0 for adamw, whose decay is in its update): one pass over
   *  the gradients, skipped when neither is on. */
  protected prepare(m: Trainable, l2: number): void {
    m.weightsChanged?.(); // the step below writes them
    const k = m.backend.kernels;
    const n = m.params.cols;
    const scale = this.options.clipNorm === undefined ? 1 : clipScale(Math.sqrt(k.sum_squares(m.grads.ptr, n)), this.options.clipNorm);
    if (scale !== 1 || l2 !== 0) k.grad_scale_decay(m.grads.ptr, m.params.ptr, scale, l2, n);
  }

  saveState() {
    return { step: this.t, slots: this.slots.map((s) => s.backend.read(s)) };
  }
  loadState(model: Trainable, state: { step: number; slots: Float32Array[] }): void {
    check(Number.isInteger(state.step) && state.step >= 0, `${this.name} state: expected a step count ≥ 0, got ${state.step}`);
    check(state.slots.length === this.slotCount, () => `${this.name} state: expected ${this.slotCount} state blocks, got ${state.slots.length}`);
    if (this.slotCount > 0) this.ensure(model).forEach((slot, i) => model.backend.write(slot, state.slots[i]));
    this.t = state.step;
  }
  dispose(): void {
    for (const s of this.slots) s.backend.free(s);
    this.slots = [];
  }
}

class Sgd extends Stateful {
  readonly name = 'sgd';
  constructor(lr: number, options: ResolvedOptions) {
    super(lr, STATE_SLOTS.sgd, options);
  }
  step(m: Trainable): void {
    this.ensure(m);
    this.prepare(m, this.options.weightDecay);
    this.t++;
    m.backend.kernels.sgd_update(m.params.ptr, m.grads.ptr, this.lr, m.params.cols);
  }
}

class Momentum extends Stateful {
  readonly name = 'momentum';
  constructor(lr: number, options: ResolvedOptions) {
    super(lr, STATE_SLOTS.momentum, options);
  }
  step(m: Trainable): void {
    const [v] = this.ensure(m);
    this.prepare(m, this.options.weightDecay);
    this.t++;
    m.backend.kernels.momentum_update(m.params.ptr, v.ptr, m.grads.ptr, this.lr, this.options.momentum!, m.params.cols);
  }
}

class Adam extends Stateful {
  readonly name: 'adam' | 'adamw' = 'adam';
  constructor(lr: number, options: ResolvedOptions) {
    super(lr, STATE_SLOTS.adam, options);
  }
  step(m: Trainable): void {
    const [mom, vel] = this.ensure(m);
    const { beta1, beta2, eps, weightDecay } = this.options;
    // adam's weight decay is the L2 penalty (torch.optim.Adam); adamw's is decoupled, in its update
    this.prepare(m, this.name === 'adam' ? weightDecay : 0);
    this.t++;
    if (this.name === 'adam') m.backend.kernels.adam_update(m.params.ptr, mom.ptr, vel.ptr, m.grads.ptr, this.lr, beta1!, beta2!, eps!, this.t, m.params.cols);
    else m.backend.kernels.adamw_update(m.params.ptr, mom.ptr, vel.ptr, m.grads.ptr, this.lr, beta1!, beta2!, eps!, weightDecay, this.t, m.params.cols);
  }
}

class AdamW extends Adam {
  override readonly name = 'adamw';
}

class RmsProp extends Stateful {
  readonly name = 'rmsprop';
  constructor(lr: number, options: ResolvedOptions) {
    super(lr, STATE_SLOTS.rmsprop, options);
  }
  step(m: Trainable): void {
    const [v] = this.ensure(m);
    this.prepare(m, this.options.weightDecay);
    this.t++;
    m.backend.kernels.rmsprop_update(m.params.ptr, v.ptr, m.grads.ptr, this.lr, this.options.rho!, this.options.eps!, m.params.cols);
  }
}
