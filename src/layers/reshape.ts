// Flatten and Reshape: the same values seen as another per-sample shape. A row of a batch is one sample in
// C·H·W order whatever its shape, so both are free: Sequential gives them no tensors (y is x, dx is dy, `inPlace`)
// and their forward and backward do nothing.

import type { Tensor } from '../backend/backend.js';
import { check } from '../errors.js';
import type { Layer, LayerSpec, Shape } from './layer.js';
import { shapeSize, showShape } from './shapes.js';

abstract class View implements Layer {
  abstract readonly type: 'flatten' | 'reshape';
  readonly params = [] as const;
  readonly inPlace = true;
  abstract outputShape(inShape: Shape, where: string): Shape;
  abstract spec(): LayerSpec;
  bind(): void {}
  forward(_x: Tensor, _y: Tensor): void {}
  backward(_x: Tensor, _y: Tensor, _dy: Tensor, _dx: Tensor | null): void {}
}

/** [C, H, W] → [C·H·W] (PyTorch's nn.Flatten of a batch); a flat input stays as it is. */
export class Flatten extends View {
  readonly type = 'flatten';
  outputShape(inShape: Shape): Shape {
    return [shapeSize(inShape)];
  }
  spec(): LayerSpec {
    return { type: 'flatten' };
  }
  describe(): string {
    return 'Flatten';
  }
}

/** Each sample to `shape` (e.g. [1, 28, 28] from [784]); one dimension may be -1: what the others leave. */
export class Reshape extends View {
  readonly type = 'reshape';
  readonly shape: readonly number[];

  constructor(shape: readonly number[]) {
    super();
    check(Array.isArray(shape) && shape.length >= 1 && shape.length <= 3 && shape.every((d) => d === -1 || (Number.isInteger(d) && d > 0)) && shape.filter((d) => d === -1).length <= 1,
      () => `Reshape: expected 1 to 3 positive integers ([features] or [C, H, W]), one of them may be -1, got ${JSON.stringify(shape)}`, 'E_INVALID');
    this.shape = Object.freeze([...shape]);
  }

  outputShape(inShape: Shape, where: string): Shape {
    const size = shapeSize(inShape);
    const known = this.shape.reduce((n, d) => (d === -1 ? n : n * d), 1);
    const free = this.shape.indexOf(-1);
    if (free < 0) {
      check(known === size, () => `${where}: Reshape to ${showShape(this.shape)} holds ${known} values a sample, its input ${showShape(inShape)} holds ${size}`, 'E_SHAPE');
      return this.shape;
    }
    check(size % known === 0, () => `${where}: Reshape to ${showShape(this.shape)}: its input ${showShape(inShape)} holds ${size} values a sample, not a multiple of ${known}`, 'E_SHAPE');
    return this.shape.map((d) => (d === -1 ? size / known : d));
  }

  spec(): LayerSpec {
    return { type: 'reshape', shape: [...this.shape] };
  }
  describe(): string {
    return `Reshape(${this.shape.join(', ')})`;
  }
}
