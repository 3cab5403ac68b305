// Conv2D and ConvTranspose2D, as PyTorch's nn.Conv2d / nn.ConvTranspose2d (groups 1, dilation 1): NCHW,
// weights W (out, in, kh, kw) and (in, out, kh, kw), then b (out). The kernels are assembly/conv.ts's (the js
// twin: src/backend/conv-js.ts); the scratch they need per thread is declared here (scratchSize), never allocated.
// Forward may carry the next activation (forwardFused: bias and act in the kernel's write-back), as Linear does.

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
// Conv2D
// =====================================================================================================

export class Conv2D implements Layer {
  readonly type = 'conv2d';
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly padding: Pads | 'same';
  readonly bias: boolean;
  readonly init: InitName;
  private backend!: Backend;
  private g!: Geometry;
  private w = 0; // byte pointers into the model's blocks
  private b = 0;
  private dw = 0;
  private db = 0;

  constructor(readonly inChannels: number, readonly outChannels: number, kernel: number | Pair, options: Conv2DOptions = {}) {
    checkChannels('Conv2D', inChannels, outChannels);
    this.kernel = toPair(kernel, 'Conv2D kernel');
    this.stride = toPair(options.stride ?? 1, 'Conv2D stride');
    this.padding = toPads(options.padding ?? 0, 'Conv2D padding', true);
    this.bias = options.bias ?? true;
    check(typeof this.bias === 'boolean', () => `Conv2D bias: expected true or false, got ${JSON.stringify(options.bias)}`, 'E_INVALID');
    this.init = options.init ?? 'pytorch';
    checkInit('Conv2D', this.init);
  }

  get params(): ParamDecl[] {
    const [kh, kw] = this.kernel;
    const { w, b } = initializers(this.init, this.inChannels * kh * kw, this.outChannels * kh * kw);
    const W: ParamDecl = { name: 'W', shape: [this.outChannels, this.inChannels, kh, kw], init: w };
    return this.bias ? [W, { name: 'b', shape: [this.outChannels], init: b }] : [W];
  }

  describe(): string {
    return `Conv2D(${this.inChannels}→${this.outChannels}, ${this.kernel.join('×')}, s${show(this.stride)}, ${showPads(this.padding)})`;
  }

  outputShape(inShape: Shape, where: string): Shape {
    const out = conv2dOutputShape(inShape, where, this.describe(), { in: this.inChannels, out: this.outChannels, kernel: this.kernel, stride: this.stride, padding: this.padding });
    checkSizes(where, this.describe(), this.geometry(inShape, out));
    return out;
  }

  private geometry(inShape: Shape, out: Shape): Geometry {
    const [C, H, W] = imageShape(inShape, 'Conv2D', this.describe());
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
    return (this.backend?.threads ?? 1) * convScratchFloats(C, H, W, OC, OH, OW, KH, KW, SH, SW);
  }

  forward(x: Tensor, y: Tensor, scratch: Tensor | null): void {
    this.forwardFused(x, y, ACT.none, scratch);
  }

  /** y = act(conv(x) + b): the bias and the next layer's activation in the kernel's write-back */
  forwardFused(x: Tensor, y: Tensor, act: ActCode, scratch: Tensor | null): void {
    // x is (B, C·H·W), y is (B, OC·OH·OW)
    const g = this.g; // (written out, not spread: a step allocates nothing)
    this.backend.kernels.conv2d_forward(y.ptr, x.ptr, this.w, this.b, scratch?.ptr ?? 0, x.rows, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], act);
  }

  backward(x: Tensor, _y: Tensor, dy: Tensor, dx: Tensor | null, scratch: Tensor | null): void {
    const k = this.backend.kernels, s = scratch?.ptr ?? 0, g = this.g;
    k.conv2d_backward_weights(this.dw, this.db, dy.ptr, x.ptr, s, x.rows, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11]);
    if (dx) k.conv2d_backward_data(dx.ptr, dy.ptr, this.w, s, x.rows, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11]);
  }

  spec(): LayerSpec {
    return { type: 'conv2d', in: this.inChannels, out: this.outChannels, kernel: [...this.kernel], stride: [...this.stride], padding: this.padding === 'same' ? 'same' : [...this.padding], bias: this.bias, init: this.init };
  }
}

// =====================================================================================================
// ConvTranspose2D
// =====================================================================================================

export class ConvTranspose2D implements Layer {
  readonly type = 'conv-transpose2d';
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly padding: Pads;
  readonly outputPadding: Pair;
  readonly bias: boolean;
  readonly init: InitName;
  private backend!: Backend;
  private g!: Geometry;
  private w = 0;
  private b = 0;
  private dw = 0;
  private db = 0;

  constructor(readonly inChannels: number, readonly outChannels: number, kernel: number | Pair, options: ConvTranspose2DOptions = {}) {
    checkChannels('ConvTranspose2D', inChannels, outChannels);
    this.kernel = toPair(kernel, 'ConvTranspose2D kernel');
    this.stride = toPair(options.stride ?? 1, 'ConvTranspose2D stride');
    this.padding = toPads(options.padding ?? 0, 'ConvTranspose2D padding', false) as Pads; // ('same' refused there)
    this.outputPadding = toPair(options.outputPadding ?? 0, 'ConvTranspose2D outputPadding', 0);
    // PyTorch's rule: the extra rows come from the last window's stride, so fewer than the stride
    check(this.outputPadding[0] < this.stride[0] && this.outputPadding[1] < this.stride[1], () => `ConvTranspose2D outputPadding: each must be smaller than its stride [${this.stride.join(', ')}], got [${this.outputPadding.join(', ')}]`, 'E_INVALID');
    this.bias = options.bias ?? true;
    check(typeof this.bias === 'boolean', () => `ConvTranspose2D bias: expected true or false, got ${JSON.stringify(options.bias)}`, 'E_INVALID');
    this.init = options.init ?? 'pytorch';
    checkInit('ConvTranspose2D', this.init);
  }

  get params(): ParamDecl[] {
    const [kh, kw] = this.kernel;
    // PyTorch's fans come from W's shape (in, out, kh, kw): fan_in = out·kh·kw, fan_out = in·kh·kw
    const { w, b } = initializers(this.init, this.outChannels * kh * kw, this.inChannels * kh * kw);
    const W: ParamDecl = { name: 'W', shape: [this.inChannels, this.outChannels, kh, kw], init: w };
    return this.bias ? [W, { name: 'b', shape: [this.outChannels], init: b }] : [W];
  }

  describe(): string {
    const op = this.outputPadding[0] || this.outputPadding[1] ? `, op${show(this.outputPadding)}` : '';
    return `ConvTranspose2D(${this.inChannels}→${this.outChannels}, ${this.kernel.join('×')}, s${show(this.stride)}, ${showPads(this.padding)}${op})`;
  }

  outputShape(inShape: Shape, where: string): Shape {
    const out = convTranspose2dOutputShape(inShape, where, this.describe(), { in: this.inChannels, out: this.outChannels, kernel: this.kernel, stride: this.stride, padding: this.padding, outputPadding: this.outputPadding });
    checkSizes(where, this.describe(), this.geometry(inShape, out));
    return out;
  }

  /** the kernels' arguments: x (IC,IH,IW) → y (OC,OH,OW), kernel, stride, top/left pads */
  private geometry(inShape: Shape, out: Shape): Geometry {
    const [C, H, W] = imageShape(inShape, 'ConvTranspose2D', this.describe());
    return [C, H, W, out[0], out[1], out[2], this.kernel[0], this.kernel[1], this.stride[0], this.stride[1], this.padding[0], this.padding[1]];
  }

  bind(backend: Backend, at: Record<string, ParamPointers>, inShape: Shape): void {
    this.backend = backend;
    this.g = this.geometry(inShape, this.outputShape(inShape, this.describe()));
    ({ value: this.w, grad: this.dw } = at.W);
    if (this.bias) ({ value: this.b, grad: this.db } = at.b);
  }

  scratchSize(_batch: number, inShape: Shape): number {
    const [IC, IH, IW, OC, OH, OW, KH, KW, SH, SW] = this.geometry(inShape, this.outputShape(inShape, this.describe()));
    return (this.backend?.threads ?? 1) * convTransposeScratchFloats(IC, IH, IW, OC, OH, OW, KH, KW, SH, SW);
  }

  forward(x: Tensor, y: Tensor, scratch: Tensor | null): void {
    this.forwardFused(x, y, ACT.none, scratch);
  }

  forwardFused(x: Tensor, y: Tensor, act: ActCode, scratch: Tensor | null): void {
    // x is (B, IC·IH·IW), y is (B, OC·OH·OW)
    const g = this.g;
    this.backend.kernels.conv_transpose2d_forward(y.ptr, x.ptr, this.w, this.b, scratch?.ptr ?? 0, x.rows, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], act);
  }

  backward(x: Tensor, _y: Tensor, dy: Tensor, dx: Tensor | null, scratch: Tensor | null): void {
    const k = this.backend.kernels, s = scratch?.ptr ?? 0, g = this.g;
    k.conv_transpose2d_backward_weights(this.dw, this.db, dy.ptr, x.ptr, s, x.rows, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11]);
    if (dx) k.conv_transpose2d_backward_data(dx.ptr, dy.ptr, this.w, s, x.rows, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11]);
  }

  spec(): LayerSpec {
    return { type: 'conv-transpose2d', in: this.inChannels, out: this.outChannels, kernel: [...this.kernel], stride: [...this.stride], padding: [...this.padding], outputPadding: [...this.outputPadding], bias: this.bias, init: this.init };
  }
}
