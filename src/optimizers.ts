// Optimizers: state in one block the size of the parameter block, so a step is one flat kernel call.

import type { Backend, Tensor } from './backend/backend.js';
import { SimdnetError, check } from './errors.js';

export type OptimizerName = 'sgd' | 'momentum' | 'adam';

export interface OptimizerOptions {
  lr?: number;
  /** momentum: velocity decay (default 0.9) */
  momentum?: number;
  /** adam (defaults 0.9, 0.999, 1e-7 as Keras) */
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** What an optimizer needs of a model: its parameter and gradient blocks. */
export interface Trainable {
  readonly backend: Backend;
  readonly params: Tensor;
  readonly grads: Tensor;
  /** True once the model gave its memory back (Sequential.dispose). */
  readonly disposed?: boolean;
}

export interface Optimizer {
  readonly name: OptimizerName;
  /** The learning rate of the next step; settable (schedules drive it), finite and > 0. */
  lr: number;
  step(model: Trainable): void;
  /** Step count and a copy of each state block (for checkpoints). */
  saveState(): { step: number; slots: Float32Array[] };
  /** Restores what saveState returned, for this model. */
  loadState(model: Trainable, state: { step: number; slots: Float32Array[] }): void;
  dispose(): void;
}

export const DEFAULT_LR: Record<OptimizerName, number> = { sgd: 0.1, momentum: 0.01, adam: 0.001 };

export function createOptimizer(name: OptimizerName, options: OptimizerOptions = {}): Optimizer {
  // the name first: an unknown name has no default learning rate, which would otherwise be the complaint
  check(Object.hasOwn(DEFAULT_LR, name), () => `optimizer: expected sgd, momentum or adam, got '${name}'`);
  const lr = options.lr ?? DEFAULT_LR[name];
  checkLr(lr);
  const fraction = (key: 'momentum' | 'beta1' | 'beta2') => {
    const v = options[key];
    check(v === undefined || (Number.isFinite(v) && v >= 0 && v < 1), `optimizer: ${key} must be a number in [0, 1), got ${v}`);
  };
  // only the options this optimizer uses (others are ignored, as before)
  if (name === 'momentum') fraction('momentum');
  if (name === 'adam') {
    fraction('beta1');
    fraction('beta2');
    check(options.eps === undefined || (Number.isFinite(options.eps) && options.eps > 0), `optimizer: eps must be a positive number, got ${options.eps}`);
  }
  switch (name) {
    case 'sgd':
      return new Sgd(lr);
    case 'momentum':
      return new Momentum(lr, options.momentum ?? 0.9);
    case 'adam':
      return new Adam(lr, options.beta1 ?? 0.9, options.beta2 ?? 0.999, options.eps ?? 1e-7);
    default:
      throw new SimdnetError(`optimizer: expected sgd, momentum or adam, got '${name}'`);
  }
}

function checkLr(lr: number): void {
  check(typeof lr === 'number' && Number.isFinite(lr) && lr > 0, () => `optimizer: learning rate must be a positive number, got ${typeof lr === 'number' ? lr : typeof lr === 'string' ? `'${lr}'` : String(lr)}`);
}

/** Lazily allocates state blocks shaped like the parameters of the first model it steps. */
abstract class Stateful implements Optimizer {
  abstract readonly name: OptimizerName;
  protected slots: Tensor[] = [];
  protected t = 0;
  private rate: number;
  constructor(lr: number, protected readonly slotCount: number) {
    this.rate = lr;
  }
  get lr(): number {
    return this.rate;
  }
  set lr(value: number) {
    checkLr(value);
    this.rate = value;
  }

  protected ensure(model: Trainable): Tensor[] {
    if (model.disposed) throw new SimdnetError(`${this.name}: the model was disposed; build or load a new one`);
    if (this.slots.length === 0) for (let i = 0; i < this.slotCount; i++) this.slots.push(model.backend.alloc(1, model.params.cols));
    check(this.slots.length === 0 || (this.slots[0].backend === model.backend && this.slots[0].cols === model.params.cols),
      () => `optimizer: its state was made for ${this.slots[0].cols} parameters on the ${this.slots[0].backend}, this model has ${model.params.cols} on the ${model.backend}`);
    return this.slots;
  }
  abstract step(model: Trainable): void;
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
  constructor(lr: number) {
    super(lr, 0);
  }
  step(m: Trainable): void {
    this.ensure(m);
    this.t++;
    m.backend.kernels.sgd_update(m.params.ptr, m.grads.ptr, this.lr, m.params.cols);
  }
}

class Momentum extends Stateful {
  readonly name = 'momentum';
  constructor(lr: number, private readonly mu: number) {
    super(lr, 1);
  }
  step(m: Trainable): void {
    const [v] = this.ensure(m);
    this.t++;
    m.backend.kernels.momentum_update(m.params.ptr, v.ptr, m.grads.ptr, this.lr, this.mu, m.params.cols);
  }
}

class Adam extends Stateful {
  readonly name = 'adam';
  constructor(lr: number, private readonly beta1: number, private readonly beta2: number, private readonly eps: number) {
    super(lr, 2);
  }
  step(m: Trainable): void {
    const [mom, vel] = this.ensure(m);
    this.t++;
    m.backend.kernels.adam_update(m.params.ptr, mom.ptr, vel.ptr, m.grads.ptr, this.lr, this.beta1, this.beta2, this.eps, this.t, m.params.cols);
  }
}
