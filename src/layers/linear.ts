// Linear: Z = XW + B, with W (IN,OUT) and B (OUT) as in the reference numpy network.
// Backward (DESIGN.md): dW = Xᵀ∇, dB = column sums of ∇, dX = ∇Wᵀ.

import { stripFloats, type ActCode, type Backend, type Tensor } from '../backend/backend.js';
import { check } from '../errors.js';
import type { Rng } from '../random.js';
import type { ParamDecl } from '../param-layout.js';
import type { InitName, Layer, LayerSpec, ParamPointers, Shape } from './layer.js';
import { shapeSize, showShape } from './shapes.js';

const INITS: readonly InitName[] = ['glorotUniform', 'heNormal', 'uniform', 'pytorch'];

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

  /** W (IN, OUT) row-major, then b (OUT): the reference network's layout. */
  get params(): ParamDecl[] {
    const [IN, OUT] = [this.inputs, this.outputs];
    // the reference numpy network draws weights and biases from U(-1, 1); the others start biases at 0
    const initW = (out: Float32Array, rng: Rng) => {
      if (this.init === 'glorotUniform') {
        const limit = Math.sqrt(6 / (IN + OUT)); // Glorot & Bengio 2010
        for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-limit, limit);
      } else if (this.init === 'heNormal') {
        const std = Math.sqrt(2 / IN); // He et al. 2015
        for (let i = 0; i < out.length; i++) out[i] = std * rng.normal();
      } else if (this.init === 'pytorch') {
        const limit = 1 / Math.sqrt(IN); // nn.Linear's default: kaiming_uniform(a=√5) = U(±1/√fan_in)
        for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-limit, limit);
      } else for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-1, 1);
    };
    const initB = (out: Float32Array, rng: Rng) => {
      if (this.init === 'uniform') for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-1, 1);
      else if (this.init === 'pytorch') for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-1 / Math.sqrt(IN), 1 / Math.sqrt(IN));
      else out.fill(0);
    };
    return [
      { name: 'W', shape: [IN, OUT], init: initW },
      { name: 'b', shape: [OUT], init: initB },
    ];
  }

  outputShape(inShape: Shape, where: string): Shape {
    // an image needs a Flatten first: a Linear reading [C, H, W] as features would hide a missing layer
    const name = `Linear(${this.inputs}, ${this.outputs})`;
    check(inShape.length === 1, () => `${where}: ${name} expects an input of shape [${this.inputs}], got ${showShape(inShape)} (a Flatten before it makes [${shapeSize(inShape)}])`, 'E_SHAPE');
    check(inShape[0] === this.inputs, () => `${where}: ${name} expects inputs of width ${this.inputs}, got ${inShape[0]}`, 'E_SHAPE');
    return [this.outputs];
  }

  bind(backend: Backend, at: Record<string, ParamPointers>): void {
    this.backend = backend;
    ({ value: this.w, grad: this.dw } = at.W);
    ({ value: this.b, grad: this.db } = at.b);
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

  /** W in strips of 24 columns (pack_strips): predict's copy for a handful of rows. */
  packedSize(): number {
    return stripFloats(this.inputs, this.outputs);
  }

  pack(packed: Tensor): void {
    this.backend.kernels.pack_strips(packed.ptr, this.w, this.inputs, this.outputs);
  }

  forwardPacked(x: Tensor, y: Tensor, act: ActCode, packed: Tensor): void {
    // x is (B,IN), y is (B,OUT), packed is W in strips
    this.backend.kernels.linear_strips_forward(y.ptr, x.ptr, packed.ptr, this.w, this.b, x.rows, this.inputs, this.outputs, act);
  }

  backward(x: Tensor, _y: Tensor, dy: Tensor, dx: Tensor | null): void {
    this.backend.kernels.linear_backward(dx ? dx.ptr : 0, this.dw, this.db, dy.ptr, x.ptr, this.w, x.rows, this.inputs, this.outputs);
  }

  spec(): LayerSpec {
    return { type: 'linear', in: this.inputs, out: this.outputs, init: this.init };
  }
}
