// Conv2D and ConvTranspose2D, as PyTorch's nn.Conv2d / nn.ConvTranspose2d (groups 1, dilation 1): NCHW,
// weights W (out, in, kh, kw) and (in, out, kh, kw), then b (out). The kernels are assembly/conv.ts's (the js
// twin: src/backend/conv-js.ts); the scratch they need per thread is declared here (scratchSize), never allocated.
// Forward may carry the next activation (forwardFused: bias and act in the kernel's write-back), as Linear does.
// ConvLayer owns all the two share; each keeps only its W layout, output-size formula, padding options and kernels.

import { ACT, type ActCode, type Backend, type Tensor } from '../backend/backend.js';
import { convScratchFloats, convTransposeScratchFloats } from '../backend/conv-scratch.js';
import { check } from '../errors.js';
import type { ParamDecl } from '../param-layout.js';
import type { Rng } from '../random.js';
import type { InitName, Layer, LayerSpec, Pads, Pair, ParamPointers, Shape } from './layer.js';
import { conv2dOutputShape, convTranspose2dOutputShape, imageShape, resolvePads, toPads, toPair } from './shapes.js';

const INITS: readonly InitName[] = ['pytorch', 'heNormal', 'glorotUniform'];

export interface Conv2DOptions {
  stride?: number | Pair;
  /** n, [ph, pw], [top, left, bottom, right] or 'same' (output ⌈H/s⌉, the odd pad at the end) */
  padding?: number | Pair | Pads | 'same';
  bias?: boolean;
  init?: InitName;
}

export interface ConvTranspose2DOptions {
  stride?: number | Pair;
  /** n, [ph, pw] or [top, left, bottom, right]: rows and columns taken off the output's borders */
  padding?: number | Pair | Pads;
  /** rows and columns added at the bottom and right (each < its stride), e.g. 1 for an exact 2× upsampling */
  outputPadding?: number | Pair;
  bias?: boolean;
  init?: InitName;
}

/** The geometry a kernel call takes after its pointers and batch: the conv's x (C,H,W) → y (OC,OH,OW), the kernel,
 *  stride and the top/left pads. */
type Geometry = [C: number, H: number, W: number, OC: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, PT: number, PL: number];

const show = (p: Pair, sep = '×') => (p[0] === p[1] ? `${p[0]}` : `${p[0]}${sep}${p[1]}`);
const showPads = (p: Pads | 'same') => (p === 'same' ? 'same' : p.every((v) => v === p[0]) ? `p${p[0]}` : `p[${p.join(',')}]`);

/** W and b initialisers: PyTorch's default (kaiming_uniform with a = √5: U(±1/√fan_in), b the same), He normal
 *  (b = 0), Glorot uniform (b = 0); fan_in and fan_out as PyTorch computes them from W's shape. */
function initializers(init: InitName, fanIn: number, fanOut: number) {
  const w = (out: Float32Array, rng: Rng) => {
    if (init === 'heNormal') {
      const std = Math.sqrt(2 / fanIn);
      for (let i = 0; i < out.length; i++) out[i] = std * rng.normal();
    } else {
      const limit = init === 'glorotUniform' ? Math.sqrt(6 / (fanIn + fanOut)) : 1 / Math.sqrt(fanIn);
      for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-limit, limit);
    }
  };
  const b = (out: Float32Array, rng: Rng) => {
    if (init === 'pytorch') for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
    else out.fill(0);
  };
  return { w, b };
}

function checkChannels(layer: string, inC: number, outC: number): void {
  check(Number.isInteger(inC) && inC > 0, () => `${layer}: expected a positive integer input channel count, got ${inC}`, 'E_INVALID');
  check(Number.isInteger(outC) && outC > 0, () => `${layer}: expected a positive integer output channel count, got ${outC}`, 'E_INVALID');
}

function checkInit(layer: string, init: InitName): void {
  check(INITS.includes(init), () => `${layer}: unknown init '${init}', expected one of ${INITS.join(', ')}`, 'E_INVALID');
}

/** The kernels take sizes below 32768 (two to an i32 argument inside a thread's task would not fit otherwise). */
function checkSizes(where: string, layer: string, g: Geometry): void {
  const big = g.find((v) => v >= 32768);
  check(big === undefined, () => `${where}: ${layer} takes sizes below 32768, got ${big} in its geometry [${g.join(', ')}]`, 'E_SHAPE');
}

// =====================================================================================================
// The shared base: options, W then b, binding, scratch and the kernel calls
// =====================================================================================================

/** The kernels a conv layer calls, by name (each takes the same arguments for either layer), and the scratch they
 *  need per thread (conv-scratch.ts) for the geometry's first ten sizes. */
interface ConvOps {
  forward: 'conv2d_forward' | 'conv_transpose2d_forward';
  data: 'conv2d_backward_data' | 'conv_transpose2d_backward_data';
  weights: 'conv2d_backward_weights' | 'conv_transpose2d_backward_weights';
  scratch: typeof convScratchFloats;
}

/** What Conv2D and ConvTranspose2D share. A subclass says only what differs: its padding options, W's layout and
 *  fans (`weight`), its output-size formula (`outShape`, shapes.ts), its kernels and their scratch (`ops`), its spec. */
export abstract class ConvLayer implements Layer {
  abstract readonly type: 'conv2d' | 'conv-transpose2d';
  abstract readonly padding: Pads | 'same';
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly bias: boolean;
  readonly init: InitName;
  protected abstract readonly ops: ConvOps;
  private backend!: Backend;
  private g!: Geometry;
  private w = 0; // byte pointers into the model's blocks
  private b = 0;
  private dw = 0;
  private db = 0;

  protected constructor(private readonly name: string, readonly inChannels: number, readonly outChannels: number, kernel: number | Pair, options: { stride?: number | Pair; bias?: boolean; init?: InitName }) {
    checkChannels(name, inChannels, outChannels);
    this.kernel = toPair(kernel, `${name} kernel`);
    this.stride = toPair(options.stride ?? 1, `${name} stride`);
    this.bias = options.bias ?? true;
    check(typeof this.bias === 'boolean', () => `${name} bias: expected true or false, got ${JSON.stringify(options.bias)}`, 'E_INVALID');
    this.init = options.init ?? 'pytorch';
    checkInit(name, this.init);
  }

  /** W's shape and PyTorch's fans of it */
  protected abstract weight(): { shape: number[]; fanIn: number; fanOut: number };
  /** the output shape (shapes.ts's formula) */
  protected abstract outShape(inShape: Shape, where: string): Shape;
  abstract spec(): LayerSpec;

  get params(): ParamDecl[] {
    const { shape, fanIn, fanOut } = this.weight();
    const { w, b } = initializers(this.init, fanIn, fanOut);
    const W: ParamDecl = { name: 'W', shape, init: w };
    return this.bias ? [W, { name: 'b', shape: [this.outChannels], init: b }] : [W];
  }

  /** e.g. Conv2D(1→32, 3×3, s1, same) */
  describe(): string {
    return `${this.name}(${this.inChannels}→${this.outChannels}, ${this.kernel.join('×')}, s${show(this.stride)}, ${showPads(this.padding)}${this.describeTail()})`;
  }

  /** what describe() adds that only one layer has */
  protected describeTail(): string {
    return '';
  }

  outputShape(inShape: Shape, where: string): Shape {
    const out = this.outShape(inShape, where);
    checkSizes(where, this.describe(), this.geometry(inShape, out));
    return out;
  }

  /** the kernels' arguments: x (C,H,W) → y (OC,OH,OW), kernel, stride, top/left pads */
  private geometry(inShape: Shape, out: Shape): Geometry {
    const [C, H, W] = imageShape(inShape, this.name, this.describe());
    const [PT, PL] = resolvePads(this.padding, H, W, this.kernel, this.stride);
    return [C, H, W, out[0], out[1], out[2], this.kernel[0], this.kernel[1], this.stride[0], this.stride[1], PT, PL];
  }

  bind(backend: Backend, at: Record<string, ParamPointers>, inShape: Shape): void {
    this.backend = backend;
    this.g = this.geometry(inShape, this.outputShape(inShape, this.describe()));
    ({ value: this.w, grad: this.dw } = at.W);
    if (this.bias) ({ value: this.b, grad: this.db } = at.b);
  }

  /** one panel per kernel thread, whatever the batch (an unbound layer counts one thread) */
  scratchSize(_batch: number, inShape: Shape): number {
    const [C, H, W, OC, OH, OW, KH, KW, SH, SW] = this.geometry(inShape, this.outputShape(inShape, this.describe()));
    return (this.backend?.threads ?? 1) * this.ops.scratch(C, H, W, OC, OH, OW, KH, KW, SH, SW);
  }

  forward(x: Tensor, y: Tensor, scratch: Tensor | null): void {
    this.forwardFused(x, y, ACT.none, scratch);
  }

  /** y = act(conv(x) + b): the bias and the next layer's activation in the kernel's write-back */
  forwardFused(x: Tensor, y: Tensor, act: ActCode, scratch: Tensor | null): void {
    // x is (B, C·H·W), y is (B, OC·OH·OW)
    const g = this.g; // (written out, not spread: a step allocates nothing)
    this.backend.kernels[this.ops.forward](y.ptr, x.ptr, this.w, this.b, scratch?.ptr ?? 0, x.rows, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], act);
  }

  backward(x: Tensor, _y: Tensor, dy: Tensor, dx: Tensor | null, scratch: Tensor | null): void {
    const k = this.backend.kernels, s = scratch?.ptr ?? 0, g = this.g;
    k[this.ops.weights](this.dw, this.db, dy.ptr, x.ptr, s, x.rows, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11]);
    if (dx) k[this.ops.data](dx.ptr, dy.ptr, this.w, s, x.rows, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11]);
  }
}

// =====================================================================================================
// Conv2D
// =====================================================================================================

export class Conv2D extends ConvLayer {
  readonly type = 'conv2d';
  readonly padding: Pads | 'same';
  protected readonly ops = { forward: 'conv2d_forward', data: 'conv2d_backward_data', weights: 'conv2d_backward_weights', scratch: convScratchFloats } as const;

  constructor(inChannels: number, outChannels: number, kernel: number | Pair, options: Conv2DOptions = {}) {
    super('Conv2D', inChannels, outChannels, kernel, options);
    this.padding = toPads(options.padding ?? 0, 'Conv2D padding', true);
  }

  protected weight() {
    const [kh, kw] = this.kernel;
    return { shape: [this.outChannels, this.inChannels, kh, kw], fanIn: this.inChannels * kh * kw, fanOut: this.outChannels * kh * kw };
  }

  protected outShape(inShape: Shape, where: string): Shape {
    return conv2dOutputShape(inShape, where, this.describe(), { in: this.inChannels, out: this.outChannels, kernel: this.kernel, stride: this.stride, padding: this.padding });
  }

  spec(): LayerSpec {
    return { type: 'conv2d', in: this.inChannels, out: this.outChannels, kernel: [...this.kernel], stride: [...this.stride], padding: this.padding === 'same' ? 'same' : [...this.padding], bias: this.bias, init: this.init };
  }
}

// =====================================================================================================
// ConvTranspose2D
// =====================================================================================================

export class ConvTranspose2D extends ConvLayer {
  readonly type = 'conv-transpose2d';
  readonly padding: Pads;
  readonly outputPadding: Pair;
  // (its kernels take x (IC,IH,IW) → y (OC,OH,OW), the geometry's first six sizes)
  protected readonly ops = { forward: 'conv_transpose2d_forward', data: 'conv_transpose2d_backward_data', weights: 'conv_transpose2d_backward_weights', scratch: convTransposeScratchFloats } as const;

  constructor(inChannels: number, outChannels: number, kernel: number | Pair, options: ConvTranspose2DOptions = {}) {
    super('ConvTranspose2D', inChannels, outChannels, kernel, options);
    this.padding = toPads(options.padding ?? 0, 'ConvTranspose2D padding', false) as Pads; // ('same' refused there)
    this.outputPadding = toPair(options.outputPadding ?? 0, 'ConvTranspose2D outputPadding', 0);
    // PyTorch's rule: the extra rows come from the last window's stride, so fewer than the stride
    check(this.outputPadding[0] < this.stride[0] && this.outputPadding[1] < this.stride[1], () => `ConvTranspose2D outputPadding: each must be smaller than its stride [${this.stride.join(', ')}], got [${this.outputPadding.join(', ')}]`, 'E_INVALID');
  }

  /** PyTorch's fans come from W's shape (in, out, kh, kw): fan_in = out·kh·kw, fan_out = in·kh·kw */
  protected weight() {
    const [kh, kw] = this.kernel;
    return { shape: [this.inChannels, this.outChannels, kh, kw], fanIn: this.outChannels * kh * kw, fanOut: this.inChannels * kh * kw };
  }

  protected describeTail(): string {
    return this.outputPadding[0] || this.outputPadding[1] ? `, op${show(this.outputPadding)}` : '';
  }

  protected outShape(inShape: Shape, where: string): Shape {
    return convTranspose2dOutputShape(inShape, where, this.describe(), { in: this.inChannels, out: this.outChannels, kernel: this.kernel, stride: this.stride, padding: this.padding, outputPadding: this.outputPadding });
  }

  spec(): LayerSpec {
    return { type: 'conv-transpose2d', in: this.inChannels, out: this.outChannels, kernel: [...this.kernel], stride: [...this.stride], padding: [...this.padding], outputPadding: [...this.outputPadding], bias: this.bias, init: this.init };
  }
}
