// Linear: Z = XW + B, with W (IN,OUT) and B (OUT) as in the reference numpy network.
// Backward (DESIGN.md): dW = Xᵀ∇, dB = column sums of ∇, dX = ∇Wᵀ.

import type { ActCode, Backend, Tensor } from '../backend/backend.js';
import { check } from '../errors.js';
import type { Rng } from '../random.js';
import type { InitName, Layer, LayerSpec } from './layer.js';

const INITS: readonly InitName[] = ['glorotUniform', 'heNormal', 'uniform'];

export class Linear implements Layer {
  readonly type = 'linear';
  readonly init: InitName;
  private backend!: Backend;
  private w = 0; // byte pointers into the model's blocks
  private b = 0;
  private dw = 0;
  private db = 0;

  constructor(readonly inputs: number, readonly outputs: number, options: { init?: InitName } = {}) {
    check(Number.isInteger(inputs) && inputs > 0, `Linear: expected a positive integer input size, got ${inputs}`);
    check(Number.isInteger(outputs) && outputs > 0, `Linear: expected a positive integer output size, got ${outputs}`);
    this.init = options.init ?? 'glorotUniform';
    check(INITS.includes(this.init), `Linear: unknown init '${this.init}', expected one of ${INITS.join(', ')}`);
  }

  get paramCount(): number {
    return this.inputs * this.outputs + this.outputs;
  }

  outputWidth(inWidth: number, where: string): number {
    check(inWidth === this.inputs, `${where}: Linear(${this.inputs}, ${this.outputs}) expects inputs of width ${this.inputs}, got ${inWidth}`, 'E_SHAPE');
    return this.outputs;
  }

  bind(backend: Backend, params: number, grads: number): void {
    this.backend = backend;
    this.w = params;
    this.b = params + this.inputs * this.outputs * 4;
    this.dw = grads;
    this.db = grads + this.inputs * this.outputs * 4;
  }

  initParams(out: Float32Array, rng: Rng): void {
    const nW = this.inputs * this.outputs;
    if (this.init === 'glorotUniform') {
      const limit = Math.sqrt(6 / (this.inputs + this.outputs)); // Glorot & Bengio 2010
      for (let i = 0; i < nW; i++) out[i] = rng.uniform(-limit, limit);
    } else if (this.init === 'heNormal') {
      const std = Math.sqrt(2 / this.inputs); // He et al. 2015
      for (let i = 0; i < nW; i++) out[i] = std * rng.normal();
    } else {
      // the reference numpy network draws weights and biases from U(-1, 1)
      for (let i = 0; i < this.paramCount; i++) out[i] = rng.uniform(-1, 1);
      return;
    }
    out.fill(0, nW, this.paramCount);
  }

  forward(x: Tensor, y: Tensor): void {
    // x is (B,IN), y is (B,OUT)
    this.backend.kernels.linear_forward(y.ptr, x.ptr, this.w, this.b, x.rows, this.inputs, this.outputs);
  }

  /** y = act(x·W + B) in one kernel: this layer and the activation after it (ACT code), for Sequential.forward. */
  forwardFused(x: Tensor, y: Tensor, act: ActCode): void {
    // x is (B,IN), y is (B,OUT)
    this.backend.kernels.linear_act_forward(y.ptr, x.ptr, this.w, this.b, x.rows, this.inputs, this.outputs, act);
  }

  backward(x: Tensor, _y: Tensor, dy: Tensor, dx: Tensor | null): void {
    this.backend.kernels.linear_backward(dx ? dx.ptr : 0, this.dw, this.db, dy.ptr, x.ptr, this.w, x.rows, this.inputs, this.outputs);
  }

  spec(): LayerSpec {
    return { type: 'linear', in: this.inputs, out: this.outputs, init: this.init };
  }
}
