// Activation layers: elementwise (ReLU, Tanh, Sigmoid) and row-wise (Softmax). No parameters.
// Backward uses the saved output y (DESIGN.md): ReLU 1[y>0], tanh (1 − y²), sigmoid y(1 − y), softmax y(∇ − Σ∇y).
//
// The elementwise ones are rows of one table (as tfjs-backend-wasm's unary_kernel.ts): forward and backward kernels,
// the ACT code a layer before it can apply in its own write-back (fusion), and the ONNX op. The layer classes, the
// ONNX export and import read it: a new elementwise activation is a row here (with its kernels) and a class line.

import { ACT, type ActCode, type Backend, type Kernels, type Tensor } from '../backend/backend.js';
import { check } from '../errors.js';
import type { Layer, LayerSpec, Shape } from './layer.js';

/** The Kernels shaped as an activation's forward, y = f(x) over n, and backward, dx = dy·f'(y) from the output. */
type ForwardKernel = { [K in keyof Kernels]: Kernels[K] extends (y: number, x: number, n: number) => void ? K : never }[keyof Kernels];
type BackwardKernel = { [K in keyof Kernels]: Kernels[K] extends (dx: number, dy: number, y: number, n: number) => void ? K : never }[keyof Kernels];

export interface ActivationDef {
  forward: ForwardKernel;
  backward: BackwardKernel;
  /** its ACT code (linear_act_forward) */
  act: ActCode;
  /** its ONNX operator: one input, one output, no attributes */
  onnx: string;
}

export const ACTIVATIONS = {
  relu: { forward: 'relu_forward', backward: 'relu_backward', act: ACT.relu, onnx: 'Relu' },
  tanh: { forward: 'tanh_forward', backward: 'tanh_backward', act: ACT.tanh, onnx: 'Tanh' },
  sigmoid: { forward: 'sigmoid_forward', backward: 'sigmoid_backward', act: ACT.sigmoid, onnx: 'Sigmoid' },
} as const satisfies Record<string, ActivationDef>;
export type ActivationName = keyof typeof ACTIVATIONS;

/** Softmax's ONNX operator (with axis = −1): softmax is row-wise, never fused, so it is not a row of the table. */
export const SOFTMAX_ONNX = 'Softmax';

abstract class Activation implements Layer {
  abstract readonly type: 'relu' | 'tanh' | 'sigmoid' | 'softmax';
  readonly params = [];
  protected k!: Kernels;

  /** Any shape, as it is (elementwise). */
  outputShape(inShape: Shape, _where: string): Shape {
    return inShape;
  }
  bind(backend: Backend): void {
    this.k = backend.kernels;
  }
  abstract forward(x: Tensor, y: Tensor): void;
  abstract backward(x: Tensor, y: Tensor, dy: Tensor, dx: Tensor | null): void;
  spec(): LayerSpec {
    return { type: this.type };
  }
}

/** An elementwise activation: its row of ACTIVATIONS. */
abstract class Elementwise extends Activation {
  abstract override readonly type: ActivationName;
  readonly fusableAct: ActCode;
  private readonly def: ActivationDef;

  constructor(type: ActivationName) {
    super();
    this.def = ACTIVATIONS[type];
    this.fusableAct = this.def.act;
  }
  forward(x: Tensor, y: Tensor): void {
    this.k[this.def.forward](y.ptr, x.ptr, x.rows * x.cols);
  }
  backward(_x: Tensor, y: Tensor, dy: Tensor, dx: Tensor | null): void {
    if (dx) this.k[this.def.backward](dx.ptr, dy.ptr, y.ptr, y.rows * y.cols);
  }
}

export class ReLU extends Elementwise {
  readonly type = 'relu';
  constructor() {
    super('relu');
  }
}

export class Tanh extends Elementwise {
  readonly type = 'tanh';
  constructor() {
    super('tanh');
  }
}

export class Sigmoid extends Elementwise {
  readonly type = 'sigmoid';
  constructor() {
    super('sigmoid');
  }
}

export class Softmax extends Activation {
  readonly type = 'softmax';
  /** Over a row of [features] only: over an image's values it would be neither PyTorch's dim=1 nor ONNX's axis -1. */
  outputShape(inShape: Shape, where: string): Shape {
    check(inShape.length === 1, () => `${where}: Softmax expects an input of shape [features], got [${inShape.join(', ')}] (a Flatten before it makes one)`, 'E_SHAPE');
    return inShape;
  }
  forward(x: Tensor, y: Tensor): void {
    this.k.softmax_forward(y.ptr, x.ptr, x.rows, x.cols);
  }
  backward(_x: Tensor, y: Tensor, dy: Tensor, dx: Tensor | null): void {
    if (dx) this.k.softmax_backward(dx.ptr, dy.ptr, y.ptr, y.rows, y.cols);
  }
}
