// Activation layers: elementwise (ReLU, Tanh, Sigmoid) and row-wise (Softmax). No parameters.
// Backward uses the saved output y (DESIGN.md): ReLU 1[y>0], tanh (1 − y²), sigmoid y(1 − y), softmax y(∇ − Σ∇y).

import { ACT, type ActCode, type Backend, type Kernels, type Tensor } from '../backend/backend.js';
import { check } from '../errors.js';
import type { Layer, LayerSpec, Shape } from './layer.js';

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

export class ReLU extends Activation {
  readonly type = 'relu';
  readonly fusableAct: ActCode = ACT.relu;
  forward(x: Tensor, y: Tensor): void {
    this.k.relu_forward(y.ptr, x.ptr, x.rows * x.cols);
  }
  backward(_x: Tensor, y: Tensor, dy: Tensor, dx: Tensor | null): void {
    if (dx) this.k.relu_backward(dx.ptr, dy.ptr, y.ptr, y.rows * y.cols);
  }
}

export class Tanh extends Activation {
  readonly type = 'tanh';
  readonly fusableAct: ActCode = ACT.tanh;
  forward(x: Tensor, y: Tensor): void {
    this.k.tanh_forward(y.ptr, x.ptr, x.rows * x.cols);
  }
  backward(_x: Tensor, y: Tensor, dy: Tensor, dx: Tensor | null): void {
    if (dx) this.k.tanh_backward(dx.ptr, dy.ptr, y.ptr, y.rows * y.cols);
  }
}

export class Sigmoid extends Activation {
  readonly type = 'sigmoid';
  readonly fusableAct: ActCode = ACT.sigmoid;
  forward(x: Tensor, y: Tensor): void {
    this.k.sigmoid_forward(y.ptr, x.ptr, x.rows * x.cols);
  }
  backward(_x: Tensor, y: Tensor, dy: Tensor, dx: Tensor | null): void {
    if (dx) this.k.sigmoid_backward(dx.ptr, dy.ptr, y.ptr, y.rows * y.cols);
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
