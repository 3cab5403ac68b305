// MaxPool2D, AvgPool2D, Upsample2D, PixelUnshuffle2D and PixelShuffle2D over [C, H, W] samples, as PyTorch's
// nn.MaxPool2d, nn.AvgPool2d, nn.Upsample(mode='nearest') (floor mode, no dilation), nn.PixelUnshuffle and
// nn.PixelShuffle. A batch row is C planes of H·W, so each layer calls its
// kernel (assembly/pool.ts) on B·C planes. No parameters. MaxPool2D keeps its argmax indices in the scratch it
// declares: forward writes them, backward routes each gradient through them.

import type { Backend, Kernels, Tensor } from '../backend/backend.js';
import { SimdnetError } from '../errors.js';
import type { Layer, LayerSpec, Pads, Pair, Shape } from './layer.js';
import { imageShape, pixelShuffle2dOutputShape, pixelUnshuffle2dOutputShape, pool2dOutputShape, shapeSize, toPads, toPair, upsample2dOutputShape } from './shapes.js';

export interface PoolOptions {
  /** default: the kernel (non-overlapping windows, as PyTorch) */
  stride?: number | Pair;
  /** n, [ph, pw] or [top, left, bottom, right]; each smaller than the kernel on its axis. Default 0. */
  padding?: number | Pair | Pads;
}

/** What a pooling layer's kernels need of its bound input: channels, input and output sizes. */
interface Dims {
  C: number;
  H: number;
  W: number;
  OH: number;
  OW: number;
}

const ax = (p: Pair) => `${p[0]}×${p[1]}`;

abstract class Pool2D implements Layer {
  abstract readonly type: 'maxpool2d' | 'avgpool2d';
  readonly params = [] as const;
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly padding: Pads;
  protected k!: Kernels;
  protected d: Dims = { C: 0, H: 0, W: 0, OH: 0, OW: 0 };

  constructor(name: string, kernel: number | Pair, { stride, padding = 0 }: PoolOptions) {
    this.kernel = toPair(kernel, `${name} kernel`);
    this.stride = toPair(stride ?? this.kernel, `${name} stride`);
    this.padding = toPads(padding, `${name} padding`, false) as Pads;
    // a window of padding only would have no maximum (ONNX Runtime's rule; PyTorch's, pad ≤ k/2, is stricter)
    const [t, l, b, r] = this.padding;
    if (!(t < this.kernel[0] && b < this.kernel[0] && l < this.kernel[1] && r < this.kernel[1]))
      throw new SimdnetError(`${name} padding: each pad must be smaller than the ${ax(this.kernel)} kernel on its axis (a window would hold padding only), got [${this.padding.join(', ')}]`, 'E_INVALID');
  }

  protected abstract get name(): string;

  outputShape(inShape: Shape, where: string): Shape {
    return pool2dOutputShape(inShape, where, this.name, this);
  }

  bind(backend: Backend, _at: unknown, inShape: Shape): void {
    this.k = backend.kernels;
    const [C, H, W] = imageShape(inShape, this.name, this.name);
    const [, OH, OW] = this.outputShape(inShape, this.name);
    this.d = { C, H, W, OH, OW };
  }

  abstract forward(x: Tensor, y: Tensor, scratch: Tensor | null): void;
  abstract backward(x: Tensor, y: Tensor, dy: Tensor, dx: Tensor | null, scratch: Tensor | null): void;
  abstract spec(): LayerSpec;

  describe(): string {
    const [t, l, b, r] = this.padding;
    const sameStride = this.stride[0] === this.kernel[0] && this.stride[1] === this.kernel[1];
    const pad = t === b && l === r ? (t === l ? `${t}` : `${t}×${l}`) : `[${this.padding.join(', ')}]`;
    return `${this.name}(${ax(this.kernel)}${sameStride ? '' : `, s${this.stride[0] === this.stride[1] ? this.stride[0] : ax(this.stride)}`}${pad === '0' ? '' : `, pad ${pad}`})`;
  }
}

/** Max over each window; the gradient goes to the window's maximum (the first one on a tie; a NaN wins, as
 *  PyTorch: see the Kernels docs). */
export class MaxPool2D extends Pool2D {
  readonly type = 'maxpool2d';
  protected get name() {
    return 'MaxPool2D';
  }

  constructor(kernel: number | Pair, options: PoolOptions = {}) {
    super('MaxPool2D', kernel, options);
  }

  /** The argmax indices: one i32 per output element (in f32 slots). */
  scratchSize(batch: number, inShape: Shape): number {
    return batch * shapeSize(this.outputShape(inShape, this.name));
  }

  forward(x: Tensor, y: Tensor, scratch: Tensor | null): void {
    const { C, H, W, OH, OW } = this.d;
    if (!scratch) throw new SimdnetError('MaxPool2D: forward needs its scratch (the argmax indices): run it inside a Sequential', 'E_INVALID');
    this.k.maxpool2d_forward(y.ptr, scratch.ptr, x.ptr, x.rows * C, H, W, OH, OW, this.kernel[0], this.kernel[1], this.stride[0], this.stride[1], this.padding[0], this.padding[1]);
  }

  backward(_x: Tensor, _y: Tensor, dy: Tensor, dx: Tensor | null, scratch: Tensor | null): void {
    if (!dx) return;
    const { C, H, W, OH, OW } = this.d;
    if (!scratch) throw new SimdnetError('MaxPool2D: backward needs its scratch (the argmax indices): run it inside a Sequential', 'E_INVALID');
    this.k.maxpool2d_backward(dx.ptr, dy.ptr, scratch.ptr, dy.rows * C, H, W, OH, OW, this.kernel[0], this.kernel[1], this.stride[0], this.stride[1], this.padding[0], this.padding[1]);
  }

  spec(): LayerSpec {
    return { type: 'maxpool2d', kernel: [...this.kernel], stride: [...this.stride], padding: [...this.padding] };
  }
}

export interface AvgPoolOptions extends PoolOptions {
  /** Divide by the whole window, padding included (PyTorch's count_include_pad, default true), or by the input
   *  elements in it. */
  countIncludePad?: boolean;
}

/** Mean over each window. */
export class AvgPool2D extends Pool2D {
  readonly type = 'avgpool2d';
  readonly countIncludePad: boolean;
  protected get name() {
    return 'AvgPool2D';
  }

  constructor(kernel: number | Pair, options: AvgPoolOptions = {}) {
    super('AvgPool2D', kernel, options);
    const { countIncludePad = true } = options;
    if (typeof countIncludePad !== 'boolean') throw new SimdnetError(`AvgPool2D countIncludePad: expected true or false, got ${JSON.stringify(countIncludePad)}`, 'E_INVALID');
    this.countIncludePad = countIncludePad;
  }

  forward(x: Tensor, y: Tensor): void {
    const { C, H, W, OH, OW } = this.d;
    this.k.avgpool2d_forward(y.ptr, x.ptr, x.rows * C, H, W, OH, OW, this.kernel[0], this.kernel[1], this.stride[0], this.stride[1], this.padding[0], this.padding[1], this.countIncludePad ? 1 : 0);
  }

  backward(_x: Tensor, _y: Tensor, dy: Tensor, dx: Tensor | null): void {
    if (!dx) return;
    const { C, H, W, OH, OW } = this.d;
    this.k.avgpool2d_backward(dx.ptr, dy.ptr, dy.rows * C, H, W, OH, OW, this.kernel[0], this.kernel[1], this.stride[0], this.stride[1], this.padding[0], this.padding[1], this.countIncludePad ? 1 : 0);
  }

  spec(): LayerSpec {
    return { type: 'avgpool2d', kernel: [...this.kernel], stride: [...this.stride], padding: [...this.padding], countIncludePad: this.countIncludePad };
  }

  describe(): string {
    const s = super.describe();
    return this.countIncludePad ? s : `${s.slice(0, -1)}, exclude pad)`;
  }
}

/** Nearest-neighbour upsampling by integer factors: each value repeated over an sh×sw block (PyTorch's
 *  nn.Upsample(scale_factor, mode='nearest')); its gradient is the sum over the block. */
export class Upsample2D implements Layer {
  readonly type = 'upsample2d';
  readonly params = [] as const;
  readonly scale: Pair;
  private k!: Kernels;
  private d = { C: 0, H: 0, W: 0 };

  constructor(scale: number | Pair) {
    this.scale = toPair(scale, 'Upsample2D scale');
  }

  outputShape(inShape: Shape, where: string): Shape {
    return upsample2dOutputShape(inShape, where, 'Upsample2D', this.scale);
  }

  bind(backend: Backend, _at: unknown, inShape: Shape): void {
    this.k = backend.kernels;
    const [C, H, W] = imageShape(inShape, 'Upsample2D', 'Upsample2D');
    this.d = { C, H, W };
  }

  forward(x: Tensor, y: Tensor): void {
    const { C, H, W } = this.d;
    this.k.upsample2d_forward(y.ptr, x.ptr, x.rows * C, H, W, this.scale[0], this.scale[1]);
  }

  backward(_x: Tensor, _y: Tensor, dy: Tensor, dx: Tensor | null): void {
    if (!dx) return;
    const { C, H, W } = this.d;
    this.k.upsample2d_backward(dx.ptr, dy.ptr, dy.rows * C, H, W, this.scale[0], this.scale[1]);
  }

  spec(): LayerSpec {
    return { type: 'upsample2d', scale: [...this.scale] };
  }

  describe(): string {
    return `Upsample2D(×${this.scale[0] === this.scale[1] ? this.scale[0] : ax(this.scale)})`;
  }
}

/** What PixelUnshuffle2D and PixelShuffle2D share: one permutation kernel forward and its inverse backward, over N
 *  groups a sample (a group: one space plane or its r² depth planes; H, W the depth side's sizes). */
abstract class PixelPermute2D {
  readonly params = [] as const;
  readonly factor: number;
  private k!: Kernels;
  private d = { N: 0, H: 0, W: 0 };

  constructor(
    factor: number,
    private readonly name: string,
    private readonly ops: { forward: 'pixel_unshuffle' | 'pixel_shuffle'; backward: 'pixel_unshuffle' | 'pixel_shuffle' },
  ) {
    this.factor = toFactor(factor, name);
  }

  abstract outputShape(inShape: Shape, where: string): Shape;
  /** groups per sample and the depth side's H, W for this input shape */
  protected abstract groups(inShape: Shape): { N: number; H: number; W: number };

  bind(backend: Backend, _at: unknown, inShape: Shape): void {
    this.k = backend.kernels;
    this.d = this.groups(inShape);
  }

  forward(x: Tensor, y: Tensor): void {
    const { N, H, W } = this.d;
    this.k[this.ops.forward](y.ptr, x.ptr, x.rows * N, H, W, this.factor);
  }

  backward(_x: Tensor, _y: Tensor, dy: Tensor, dx: Tensor | null): void {
    if (!dx) return;
    const { N, H, W } = this.d;
    this.k[this.ops.backward](dx.ptr, dy.ptr, dy.rows * N, H, W, this.factor);
  }

  describe(): string {
    return `${this.name}(${this.factor})`;
  }
}

/** Space-to-depth by an integer factor r, as PyTorch's nn.PixelUnshuffle: [C, H, W] → [C·r², H/r, W/r], output
 *  channel c·r² + i·r + j holding x[c, h·r + i, w·r + j]. Nothing is lost: a conv stack after it works at 1/r the
 *  resolution on r² times the channels, and PixelShuffle2D(r) puts the pixels back. Its backward is that shuffle. */
export class PixelUnshuffle2D extends PixelPermute2D implements Layer {
  readonly type = 'pixel-unshuffle2d';

  constructor(factor: number) {
    super(factor, 'PixelUnshuffle2D', { forward: 'pixel_unshuffle', backward: 'pixel_shuffle' });
  }

  outputShape(inShape: Shape, where: string): Shape {
    return pixelUnshuffle2dOutputShape(inShape, where, 'PixelUnshuffle2D', this.factor);
  }

  protected groups(inShape: Shape): { N: number; H: number; W: number } {
    const [, H, W] = this.outputShape(inShape, 'PixelUnshuffle2D');
    return { N: inShape[0], H, W }; // the input's channels
  }

  spec(): LayerSpec {
    return { type: 'pixel-unshuffle2d', factor: this.factor };
  }
}

/** Depth-to-space by an integer factor r, as PyTorch's nn.PixelShuffle: [C·r², H, W] → [C, H·r, W·r], output
 *  (c, h·r + i, w·r + j) holding input channel c·r² + i·r + j (ONNX DepthToSpace, mode CRD). Its backward is
 *  PixelUnshuffle2D's permutation. */
export class PixelShuffle2D extends PixelPermute2D implements Layer {
  readonly type = 'pixel-shuffle2d';

  constructor(factor: number) {
    super(factor, 'PixelShuffle2D', { forward: 'pixel_shuffle', backward: 'pixel_unshuffle' });
  }

  outputShape(inShape: Shape, where: string): Shape {
    return pixelShuffle2dOutputShape(inShape, where, 'PixelShuffle2D', this.factor);
  }

  protected groups(inShape: Shape): { N: number; H: number; W: number } {
    const [C] = this.outputShape(inShape, 'PixelShuffle2D');
    return { N: C, H: inShape[1], W: inShape[2] }; // the output's channels
  }

  spec(): LayerSpec {
    return { type: 'pixel-shuffle2d', factor: this.factor };
  }
}

/** A pixel shuffle's factor: an integer ≥ 1 (PyTorch's upscale_factor / downscale_factor). */
function toFactor(v: unknown, layer: string): number {
  if (Number.isInteger(v) && (v as number) >= 1) return v as number;
  throw new SimdnetError(`${layer} factor: expected an integer ≥ 1, got ${JSON.stringify(v)}`, 'E_INVALID');
}
