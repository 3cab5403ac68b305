// NaN, ±Inf and huge values through every kernel (issue 12: the wasm BCE of a NaN prediction was finite and
// negative). A generator, not a few hand-picked bytes: for each kernel of the Kernels list, seeded random shapes
// (small ones with SIMD tails, and ones big enough to be split across threads), with NaN / +Inf / −Inf written at
// random places of random inputs. Every wasm build (one thread and two) must then
//   * finish (no trap, no exception) without growing memory,
//   * give each output element the same class as the js twin (NaN, +Inf, −Inf or finite) — NaN and ±Inf results
//     do not depend on summation order, so this holds exactly — and the finite ones within rounding of it.
// Huge finite inputs (±3e38) may overflow in one summation order and not in another, so there only the losses
// are held to something: a value that is ≥ 0 or not finite, never a finite negative number.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stripFloats, type Backend, type Kernels } from '../src/backend/backend.js';
import { convScratchFloats, convTransposeScratchFloats } from '../src/backend/conv-scratch.js';
import { createJsBackend } from '../src/backend/js.js';
import { availableWasmVariants, createWasmBackend } from '../src/backend/wasm.js';

const js = await createJsBackend();
const wasm: Backend[] = [];
for (const variant of availableWasmVariants()) {
  wasm.push(await createWasmBackend({ variant, threads: 1 }));
  if (variant !== 'scalar') wasm.push(await createWasmBackend({ variant, threads: 2 }));
}
const label = (be: Backend) => `${be.variant}×${be.threads}`;

/** One call of a kernel: its buffers (inputs and outputs, initial contents), int32 buffers, the call, which
 *  buffers are outputs, and which may hold special values. */
interface Call {
  f32: Record<string, Float32Array>;
  i32?: Record<string, Int32Array>;
  run(k: Kernels, p: Record<string, number>): number | void;
  outputs: string[];
  /** buffers that may get NaN/Inf (default: every f32 buffer that is not write-only) */
  poison: string[];
  loss?: boolean;
}

type Rand = { int(lo: number, hi: number): number; real(lo: number, hi: number): number };
type Maker = (r: Rand, big: boolean) => Call;

const vec = (r: Rand, n: number, lo = -2, hi = 2) => Float32Array.from({ length: n }, () => r.real(lo, hi));
const probs = (r: Rand, n: number) => vec(r, n, 0.001, 0.999);
/** rows of a softmax: positive, summing to 1 */
function simplex(r: Rand, B: number, N: number): Float32Array {
  const a = vec(r, B * N, 0.01, 1);
  for (let i = 0; i < B; i++) {
    let s = 0;
    for (let j = 0; j < N; j++) s += a[i * N + j];
    for (let j = 0; j < N; j++) a[i * N + j] /= s;
  }
  return a;
}
const size = (r: Rand, big: boolean) => (big ? r.int(40_000, 70_000) : r.int(1, 41));
const rowsCols = (r: Rand, big: boolean) => (big ? [r.int(64, 96), r.int(700, 800)] : [r.int(1, 9), r.int(1, 21)]);

// Every kernel: the test fails when the Kernels list has one that is missing here.
const KERNELS: Record<keyof Kernels, Maker> = {
  gemm: (r, big) => {
    const [M, N, K] = big ? [r.int(40, 70), r.int(100, 140), r.int(60, 90)] : [r.int(1, 13), r.int(1, 13), r.int(1, 13)];
    const tA = r.int(0, 1), tB = r.int(0, 1), acc = r.int(0, 1);
    return { f32: { c: vec(r, M * N), a: vec(r, M * K), b: vec(r, K * N) }, run: (k, p) => k.gemm(p.c, p.a, p.b, M, N, K, tA, tB, acc), outputs: ['c'], poison: acc ? ['a', 'b', 'c'] : ['a', 'b'] };
  },
  linear_forward: (r, big) => {
    const [B, IN, OUT] = big ? [64, r.int(100, 200), r.int(100, 140)] : [r.int(1, 9), r.int(1, 13), r.int(1, 13)];
    return { f32: { out: vec(r, B * OUT), x: vec(r, B * IN), w: vec(r, IN * OUT), b: vec(r, OUT) }, run: (k, p) => k.linear_forward(p.out, p.x, p.w, p.b, B, IN, OUT), outputs: ['out'], poison: ['x', 'w', 'b'] };
  },
  linear_act_forward: (r, big) => {
    const [B, IN, OUT] = big ? [64, r.int(100, 200), r.int(100, 140)] : [r.int(1, 9), r.int(1, 13), r.int(1, 13)];
    const act = r.int(0, 3);
    return { f32: { out: vec(r, B * OUT), x: vec(r, B * IN), w: vec(r, IN * OUT), b: vec(r, OUT) }, run: (k, p) => k.linear_act_forward(p.out, p.x, p.w, p.b, B, IN, OUT, act), outputs: ['out'], poison: ['x', 'w', 'b'] };
  },
  pack_strips: (r, big) => {
    const [IN, OUT] = big ? [r.int(100, 200), r.int(100, 140)] : [r.int(1, 13), r.int(1, 50)];
    return { f32: { wp: vec(r, stripFloats(IN, OUT)), w: vec(r, IN * OUT) }, run: (k, p) => k.pack_strips(p.wp, p.w, IN, OUT), outputs: ['wp'], poison: ['w'] };
  },
  linear_strips_forward: (r, big) => {
    const [B, IN, OUT] = big ? [8, r.int(100, 200), r.int(100, 140)] : [r.int(1, 9), r.int(1, 13), r.int(1, 50)];
    const act = r.int(0, 3);
    // wp packed from w in the call: the kernel reads either (one row streams w's rows)
    return { f32: { out: vec(r, B * OUT), x: vec(r, B * IN), wp: vec(r, stripFloats(IN, OUT)), w: vec(r, IN * OUT), b: vec(r, OUT) }, run: (k, p) => { k.pack_strips(p.wp, p.w, IN, OUT); k.linear_strips_forward(p.out, p.x, p.wp, p.w, p.b, B, IN, OUT, act); }, outputs: ['out'], poison: ['x', 'w', 'b'] };
  },
  linear_backward: (r, big) => {
    const [B, IN, OUT] = big ? [64, r.int(100, 200), r.int(100, 140)] : [r.int(1, 9), r.int(1, 13), r.int(1, 13)];
    return {
      f32: { dx: vec(r, B * IN), dw: vec(r, IN * OUT), db: vec(r, OUT), dout: vec(r, B * OUT), x: vec(r, B * IN), w: vec(r, IN * OUT) },
      run: (k, p) => k.linear_backward(p.dx, p.dw, p.db, p.dout, p.x, p.w, B, IN, OUT),
      outputs: ['dx', 'dw', 'db'],
      poison: ['dw', 'db', 'dout', 'x', 'w'],
    };
  },
  bias_add: (r, big) => {
    const [B, N] = rowsCols(r, big);
    return { f32: { out: vec(r, B * N), x: vec(r, B * N), b: vec(r, N) }, run: (k, p) => k.bias_add(p.out, p.x, p.b, B, N), outputs: ['out'], poison: ['x', 'b'] };
  },
  col_sum: (r, big) => {
    const [B, N] = rowsCols(r, big);
    const acc = r.int(0, 1);
    return { f32: { out: vec(r, N), x: vec(r, B * N) }, run: (k, p) => k.col_sum(p.out, p.x, B, N, acc), outputs: ['out'], poison: acc ? ['out', 'x'] : ['x'] };
  },
  relu_forward: (r, big) => unary(r, big, (k, p, n) => k.relu_forward(p.y, p.x, n)),
  tanh_forward: (r, big) => unary(r, big, (k, p, n) => k.tanh_forward(p.y, p.x, n)),
  sigmoid_forward: (r, big) => unary(r, big, (k, p, n) => k.sigmoid_forward(p.y, p.x, n)),
  relu_backward: (r, big) => unaryBackward(r, big, (k, p, n) => k.relu_backward(p.dx, p.dy, p.y, n), 0, 2),
  tanh_backward: (r, big) => unaryBackward(r, big, (k, p, n) => k.tanh_backward(p.dx, p.dy, p.y, n), -1, 1),
  sigmoid_backward: (r, big) => unaryBackward(r, big, (k, p, n) => k.sigmoid_backward(p.dx, p.dy, p.y, n), 0, 1),
  softmax_forward: (r, big) => {
    const [B, N] = rowsCols(r, big);
    return { f32: { y: vec(r, B * N), x: vec(r, B * N, -5, 5) }, run: (k, p) => k.softmax_forward(p.y, p.x, B, N), outputs: ['y'], poison: ['x'] };
  },
  softmax_backward: (r, big) => {
    const [B, N] = rowsCols(r, big);
    return { f32: { dx: vec(r, B * N), dy: vec(r, B * N), y: simplex(r, B, N) }, run: (k, p) => k.softmax_backward(p.dx, p.dy, p.y, B, N), outputs: ['dx'], poison: ['dy', 'y'] };
  },
  mse_loss: (r, big) => lossValue(r, big, (k, p, B, N) => k.mse_loss(p.p, p.t, B, N)),
  bce_loss: (r, big) => lossValue(r, big, (k, p, B, N) => k.bce_loss(p.p, p.t, B, N)),
  softmax_ce_loss: (r, big) => {
    const [B, N] = rowsCols(r, big);
    return { f32: { p: simplex(r, B, N), t: simplex(r, B, N) }, run: (k, p) => k.softmax_ce_loss(p.p, p.t, B, N), outputs: [], poison: ['p', 't'], loss: true };
  },
  mse_backward: (r, big) => lossGradient(r, big, (k, p, B, N) => k.mse_backward(p.g, p.p, p.t, B, N)),
  bce_backward: (r, big) => lossGradient(r, big, (k, p, B, N) => k.bce_backward(p.g, p.p, p.t, B, N)),
  sigmoid_bce_backward: (r, big) => lossGradient(r, big, (k, p, B, N) => k.sigmoid_bce_backward(p.g, p.p, p.t, B, N)),
  softmax_ce_backward: (r, big) => lossGradient(r, big, (k, p, B, N) => k.softmax_ce_backward(p.g, p.p, p.t, B, N)),
  sgd_update: (r, big) => {
    const n = size(r, big);
    return { f32: { w: vec(r, n), g: vec(r, n) }, run: (k, p) => k.sgd_update(p.w, p.g, 0.01, n), outputs: ['w'], poison: ['w', 'g'] };
  },
  momentum_update: (r, big) => {
    const n = size(r, big);
    return { f32: { w: vec(r, n), v: vec(r, n), g: vec(r, n) }, run: (k, p) => k.momentum_update(p.w, p.v, p.g, 0.01, 0.9, n), outputs: ['w', 'v'], poison: ['w', 'v', 'g'] };
  },
  adam_update: (r, big) => {
    const n = size(r, big);
    const t = r.int(1, 50);
    return {
      f32: { w: vec(r, n), m: vec(r, n, -0.1, 0.1), v: vec(r, n, 0, 0.01), g: vec(r, n) },
      run: (k, p) => k.adam_update(p.w, p.m, p.v, p.g, 0.001, 0.9, 0.999, 1e-8, t, n),
      outputs: ['w', 'm', 'v'],
      poison: ['w', 'm', 'v', 'g'],
    };
  },
  adamw_update: (r, big) => {
    const n = size(r, big);
    const t = r.int(1, 50);
    return {
      f32: { w: vec(r, n), m: vec(r, n, -0.1, 0.1), v: vec(r, n, 0, 0.01), g: vec(r, n) },
      run: (k, p) => k.adamw_update(p.w, p.m, p.v, p.g, 0.001, 0.9, 0.999, 1e-8, 0.01, t, n),
      outputs: ['w', 'm', 'v'],
      poison: ['w', 'm', 'v', 'g'],
    };
  },
  rmsprop_update: (r, big) => {
    const n = size(r, big);
    return { f32: { w: vec(r, n), v: vec(r, n, 0, 0.01), g: vec(r, n) }, run: (k, p) => k.rmsprop_update(p.w, p.v, p.g, 0.001, 0.9, 1e-7, n), outputs: ['w', 'v'], poison: ['w', 'v', 'g'] };
  },
  grad_scale_decay: (r, big) => {
    const n = size(r, big);
    return { f32: { g: vec(r, n), w: vec(r, n) }, run: (k, p) => k.grad_scale_decay(p.g, p.w, 0.3, 0.01, n), outputs: ['g'], poison: ['g', 'w'] };
  },
  sum_squares: (r, big) => {
    const n = size(r, big);
    return { f32: { x: vec(r, n) }, run: (k, p) => k.sum_squares(p.x, n), outputs: [], poison: ['x'] };
  },
  dropout_apply: (r, big) => {
    const n = size(r, big);
    const rate = [0, 0.1, 0.5, 0.9][r.int(0, 3)];
    const c0 = r.int(0, 1000);
    return { f32: { y: vec(r, n), x: vec(r, n) }, run: (k, p) => k.dropout_apply(p.y, p.x, rate, 0x243f6a88, 0x85a308d3, c0, n), outputs: ['y'], poison: ['x'] };
  },
  gather_noise: (r, big) => {
    const [rows, width] = big ? [r.int(64, 96), 784] : [r.int(1, 9), r.int(1, 21)];
    const srcRows = rows + r.int(0, 5);
    const useIdx = r.int(0, 1);
    const kind = r.int(0, 3);
    const idx = Int32Array.from({ length: rows }, () => r.int(0, srcRows - 1));
    return {
      f32: { dst: vec(r, rows * width), src: vec(r, srcRows * width, 0, 1) },
      i32: { idx },
      run: (k, p) => k.gather_noise(p.dst, p.src, useIdx ? p.idx : 0, 0, rows, width, kind, kind === 1 ? 0.3 : 0.2, 0x243f6a88, 0x85a308d3),
      outputs: ['dst'],
      poison: ['src'],
    };
  },
  maxpool2d_forward: (r, big) => {
    const g = poolShape(r, big);
    return { f32: { y: vec(r, g.N * g.OH * g.OW), x: vec(r, g.N * g.H * g.W) }, i32: { idx: new Int32Array(g.N * g.OH * g.OW) }, run: (k, p) => k.maxpool2d_forward(p.y, p.idx, p.x, g.N, g.H, g.W, ...g.win), outputs: ['y'], poison: ['x'] };
  },
  maxpool2d_backward: (r, big) => {
    const g = poolShape(r, big);
    // indices as forward writes them: a cell of each output's window
    const idx = new Int32Array(g.N * g.OH * g.OW);
    for (let n = 0; n < g.N; n++)
      for (let oh = 0; oh < g.OH; oh++)
        for (let ow = 0; ow < g.OW; ow++) {
          const h0 = oh * g.s[0] - g.pads[0], w0 = ow * g.s[1] - g.pads[1];
          const h = r.int(Math.max(h0, 0), Math.min(h0 + g.k[0], g.H) - 1), w = r.int(Math.max(w0, 0), Math.min(w0 + g.k[1], g.W) - 1);
          idx[(n * g.OH + oh) * g.OW + ow] = h * g.W + w;
        }
    return { f32: { dx: vec(r, g.N * g.H * g.W), dy: vec(r, g.N * g.OH * g.OW) }, i32: { idx }, run: (k, p) => k.maxpool2d_backward(p.dx, p.dy, p.idx, g.N, g.H, g.W, ...g.win), outputs: ['dx'], poison: ['dy'] };
  },
  avgpool2d_forward: (r, big) => {
    const g = poolShape(r, big);
    const include = r.int(0, 1);
    return { f32: { y: vec(r, g.N * g.OH * g.OW), x: vec(r, g.N * g.H * g.W) }, run: (k, p) => k.avgpool2d_forward(p.y, p.x, g.N, g.H, g.W, ...g.win, include), outputs: ['y'], poison: ['x'] };
  },
  avgpool2d_backward: (r, big) => {
    const g = poolShape(r, big);
    const include = r.int(0, 1);
    return { f32: { dx: vec(r, g.N * g.H * g.W), dy: vec(r, g.N * g.OH * g.OW) }, run: (k, p) => k.avgpool2d_backward(p.dx, p.dy, g.N, g.H, g.W, ...g.win, include), outputs: ['dx'], poison: ['dy'] };
  },
  upsample2d_forward: (r, big) => {
    const [sh, sw, H, W] = [r.int(1, 3), r.int(1, 3), r.int(1, 12), r.int(1, 12)];
    const N = big ? Math.ceil(60_000 / (H * W * sh * sw)) : r.int(1, 4);
    return { f32: { y: vec(r, N * H * W * sh * sw), x: vec(r, N * H * W) }, run: (k, p) => k.upsample2d_forward(p.y, p.x, N, H, W, sh, sw), outputs: ['y'], poison: ['x'] };
  },
  upsample2d_backward: (r, big) => {
    const [sh, sw, H, W] = [r.int(1, 3), r.int(1, 3), r.int(1, 12), r.int(1, 12)];
    const N = big ? Math.ceil(60_000 / (H * W * sh * sw)) : r.int(1, 4);
    return { f32: { dx: vec(r, N * H * W), dy: vec(r, N * H * W * sh * sw) }, run: (k, p) => k.upsample2d_backward(p.dx, p.dy, N, H, W, sh, sw), outputs: ['dx'], poison: ['dy'] };
  },
  // a permutation: every value, NaN and ±Inf included, moves unchanged
  pixel_unshuffle: (r, big) => {
    const [rr, H, W] = [r.int(1, 4), r.int(1, 9), r.int(1, 9)];
    const N = big ? Math.ceil(60_000 / (H * W * rr * rr)) : r.int(1, 4);
    return { f32: { y: vec(r, N * H * W * rr * rr), x: vec(r, N * H * W * rr * rr) }, run: (k, p) => k.pixel_unshuffle(p.y, p.x, N, H, W, rr), outputs: ['y'], poison: ['x'] };
  },
  pixel_shuffle: (r, big) => {
    const [rr, H, W] = [r.int(1, 4), r.int(1, 9), r.int(1, 9)];
    const N = big ? Math.ceil(60_000 / (H * W * rr * rr)) : r.int(1, 4);
    return { f32: { y: vec(r, N * H * W * rr * rr), x: vec(r, N * H * W * rr * rr) }, run: (k, p) => k.pixel_shuffle(p.y, p.x, N, H, W, rr), outputs: ['y'], poison: ['x'] };
  },
  fill: (r, big) => {
    const n = size(r, big);
    const value = [NaN, Infinity, -Infinity, 3e38, r.real(-2, 2)][r.int(0, 4)];
    return { f32: { x: vec(r, n) }, run: (k, p) => k.fill(p.x, value, n), outputs: ['x'], poison: [] };
  },
  has_non_finite: (r, big) => {
    const n = size(r, big);
    return { f32: { x: vec(r, n) }, run: (k, p) => k.has_non_finite(p.x, n), outputs: [], poison: ['x'] };
  },
  conv2d_forward: (r, big) => conv(r, big, false, 'forward'),
  conv2d_backward_data: (r, big) => conv(r, big, false, 'data'),
  conv2d_backward_weights: (r, big) => conv(r, big, false, 'weights'),
  conv_transpose2d_forward: (r, big) => conv(r, big, true, 'forward'),
  conv_transpose2d_backward_data: (r, big) => conv(r, big, true, 'data'),
  conv_transpose2d_backward_weights: (r, big) => conv(r, big, true, 'weights'),
};

/** A conv kernel call on a random geometry (strides 1 and 2, pads up to k − 1, odd sizes; big: split over threads),
 *  scratch for two threads. x (B,C,H,W) → y (B,OC,OH,OW); the transposed kernels take x (B,IC,IH,IW). */
function conv(r: Rand, big: boolean, transposed: boolean, pass: 'forward' | 'data' | 'weights'): Call {
  const B = big ? r.int(4, 8) : r.int(1, 3);
  const [C, OC] = big ? [r.int(8, 16), r.int(8, 16)] : [r.int(1, 5), r.int(1, 9)];
  const [KH, KW] = [r.int(1, 3), r.int(1, 3)];
  const [SH, SW] = [r.int(1, 2), r.int(1, 2)];
  const [PT, PL] = [r.int(0, KH - 1), r.int(0, KW - 1)];
  const [H, W] = big ? [r.int(12, 20), r.int(12, 20)] : [r.int(KH, 9), r.int(KW, 9)];
  let OH: number, OW: number;
  if (!transposed) {
    OH = Math.floor((H + 2 * PT - KH) / SH) + 1;
    OW = Math.floor((W + 2 * PL - KW) / SW) + 1;
  } else {
    OH = (H - 1) * SH - 2 * PT + KH + r.int(0, SH - 1);
    OW = (W - 1) * SW - 2 * PL + KW + r.int(0, SW - 1);
  }
  const g = [B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL] as const;
  const S = 2 * (transposed ? convTransposeScratchFloats : convScratchFloats)(C, H, W, OC, OH, OW, KH, KW, SH, SW);
  const f32 = { x: vec(r, B * C * H * W), y: vec(r, B * OC * OH * OW), w: vec(r, OC * C * KH * KW), b: vec(r, OC), db: vec(r, OC), s: vec(r, Math.max(S, 1)) };
  const pre = transposed ? 'conv_transpose2d' : 'conv2d';
  if (pass === 'forward') {
    const act = r.int(0, 3);
    return { f32, run: (k, p) => k[`${pre}_forward`](p.y, p.x, p.w, p.b, p.s, ...g, act), outputs: ['y'], poison: ['x', 'w', 'b'] };
  }
  if (pass === 'data') return { f32, run: (k, p) => k[`${pre}_backward_data`](p.x, p.y, p.w, p.s, ...g), outputs: ['x'], poison: ['y', 'w'] };
  return { f32, run: (k, p) => k[`${pre}_backward_weights`](p.w, p.db, p.y, p.x, p.s, ...g), outputs: ['w', 'db'], poison: ['w', 'db', 'y', 'x'] };
}

/** A pooling window (kernel 1-3, stride 1-3, each pad below the kernel; one case in three the 2×2 stride-2 fast
 *  path) over N planes of H×W (big: ~60,000 values, split across threads), and the kernels' window arguments. */
function poolShape(r: Rand, big: boolean) {
  const fast = r.int(0, 2) === 0;
  const k = fast ? [2, 2] : [r.int(1, 3), r.int(1, 3)];
  const s = fast ? [2, 2] : [r.int(1, 3), r.int(1, 3)];
  const pads = fast ? [0, 0, 0, 0] : [r.int(0, k[0] - 1), r.int(0, k[1] - 1), r.int(0, k[0] - 1), r.int(0, k[1] - 1)];
  const H = r.int(k[0], big ? 30 : 12), W = r.int(k[1], big ? 30 : 12);
  const N = big ? Math.ceil(60_000 / (H * W)) : r.int(1, 4);
  const OH = Math.floor((H + pads[0] + pads[2] - k[0]) / s[0]) + 1, OW = Math.floor((W + pads[1] + pads[3] - k[1]) / s[1]) + 1;
  return { N, H, W, OH, OW, k, s, pads, win: [OH, OW, k[0], k[1], s[0], s[1], pads[0], pads[1]] as const };
}

function unary(r: Rand, big: boolean, run: (k: Kernels, p: Record<string, number>, n: number) => void): Call {
  const n = size(r, big);
  return { f32: { y: vec(r, n), x: vec(r, n, -6, 6) }, run: (k, p) => run(k, p, n), outputs: ['y'], poison: ['x'] };
}
function unaryBackward(r: Rand, big: boolean, run: (k: Kernels, p: Record<string, number>, n: number) => void, ylo: number, yhi: number): Call {
  const n = size(r, big);
  return { f32: { dx: vec(r, n), dy: vec(r, n), y: vec(r, n, ylo, yhi) }, run: (k, p) => run(k, p, n), outputs: ['dx'], poison: ['dy', 'y'] };
}
function lossValue(r: Rand, big: boolean, run: (k: Kernels, p: Record<string, number>, B: number, N: number) => number): Call {
  const [B, N] = rowsCols(r, big);
  return { f32: { p: probs(r, B * N), t: vec(r, B * N, 0, 1) }, run: (k, p) => run(k, p, B, N), outputs: [], poison: ['p', 't'], loss: true };
}
function lossGradient(r: Rand, big: boolean, run: (k: Kernels, p: Record<string, number>, B: number, N: number) => void): Call {
  const [B, N] = rowsCols(r, big);
  return { f32: { g: vec(r, B * N), p: probs(r, B * N), t: vec(r, B * N, 0, 1) }, run: (k, p) => run(k, p, B, N), outputs: ['g'], poison: ['p', 't'] };
}

/** Runs a call on a backend; the outputs (and the return value as 'ret'). */
function runOn(be: Backend, c: Call): Record<string, Float32Array> {
  const live = be.liveAllocations;
  const ts = Object.entries(c.f32).map(([name, v]) => [name, be.alloc(1, v.length), v] as const);
  const is = Object.entries(c.i32 ?? {}).map(([name, v]) => [name, be.alloc(1, Math.max(1, v.length)), v] as const);
  for (const [, t, v] of ts) be.write(t, v);
  for (const [, t, v] of is) new Int32Array(be.memory.buffer).set(v, t.ptr >>> 2);
  const p = Object.fromEntries([...ts, ...is].map(([name, t]) => [name, t.ptr]));
  const bytes = be.memory.buffer.byteLength;
  const ret = c.run(be.kernels, p);
  expect(be.memory.buffer.byteLength, `${label(be)}: a kernel call grew memory`).toBe(bytes);
  const out: Record<string, Float32Array> = {};
  for (const [name, t] of ts) if (c.outputs.includes(name)) out[name] = be.read(t);
  if (typeof ret === 'number') out.ret = Float32Array.of(ret);
  for (const [, t] of [...ts, ...is]) be.free(t);
  expect(be.liveAllocations).toBe(live);
  return out;
}

const kind = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : 'finite');

/** Writes `count` special values at random places of the poisonable buffers. */
function poison(c: Call, r: Rand, specials: number[], count: number): void {
  if (c.poison.length === 0) return;
  for (let i = 0; i < count; i++) {
    const buf = c.f32[c.poison[r.int(0, c.poison.length - 1)]];
    buf[r.int(0, buf.length - 1)] = specials[r.int(0, specials.length - 1)];
  }
}

/** A seeded Rand from a fast-check seed. */
function rand(seed: number): Rand {
  let s = seed >>> 0 || 1;
  const next = () => ((s = (s ^ (s << 13)) >>> 0), (s = (s ^ (s >>> 17)) >>> 0), (s = (s ^ (s << 5)) >>> 0), s / 2 ** 32);
  return { int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), real: (lo, hi) => lo + next() * (hi - lo) };
}

describe('NaN / ±Inf / huge values through every kernel, every build, one and two threads', () => {
  it('the generator covers every kernel of the Kernels list', () => {
    const missing = Object.keys(js.kernels).filter((name) => !(name in KERNELS));
    expect(missing, 'kernels without a generator here: add them to KERNELS in test/nonfinite.test.ts').toEqual([]);
  });

  const names = Object.keys(KERNELS) as (keyof Kernels)[];
  const stats = { calls: 0, nonFiniteOutputs: 0 };

  it.each(names)('%s: NaN and ±Inf inputs give the same classes of outputs as the js twin, finite ones within rounding', (name) => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 6 }), fc.boolean(), (seed, count, bigCase) => {
        const r = rand(seed);
        const big = bigCase && r.int(0, 3) === 0; // one case in eight is big enough to be split
        const c = KERNELS[name](r, big);
        poison(c, r, [NaN, Infinity, -Infinity], count);
        const want = runOn(js, c);
        for (const be of wasm) {
          const got = runOn(be, c);
          for (const [out, w] of Object.entries(want)) {
            const g = got[out];
            for (let i = 0; i < w.length; i++) {
              const kw = kind(w[i]);
              if (kind(g[i]) !== kw) throw new Error(`${name} on ${label(be)}: ${out}[${i}] is ${g[i]}, the js twin gives ${w[i]} (seed ${seed})`);
              if (kw === 'finite' && Math.abs(g[i] - w[i]) > 1e-4 + 1e-3 * Math.abs(w[i])) throw new Error(`${name} on ${label(be)}: ${out}[${i}] is ${g[i]}, the js twin gives ${w[i]} (seed ${seed})`);
              if (kw !== 'finite') stats.nonFiniteOutputs++;
            }
          }
          stats.calls++;
        }
      }),
      { seed: 12, numRuns: 40 },
    );
  });

  it.each(names.filter((n) => n.endsWith('_loss')))('%s of huge (±3e38) and special inputs is ≥ 0 or not finite, never a finite negative number', (name) => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 6 }), (seed, count) => {
        const r = rand(seed);
        const c = KERNELS[name](r, false);
        // targets stay in the loss's domain (t ∈ [0, 1]; BCE of a target of 3e38 is negative by its formula)
        c.poison = ['p'];
        poison(c, r, [3e38, -3e38, 1e30, -1e30, NaN, Infinity, -Infinity], count);
        for (const be of [js, ...wasm]) {
          const v = runOn(be, c).ret[0];
          if (Number.isFinite(v) && v < 0) throw new Error(`${name} on ${label(be)}: a finite negative loss ${v} (seed ${seed})`);
        }
      }),
      { seed: 13, numRuns: 100 },
    );
  });

  it('the generator did reach non-finite outputs (it is not testing finite values only)', () => {
    console.log(`non-finite generator: ${names.length} kernels, ${stats.calls} wasm calls (${wasm.map(label).join(', ')}) compared with js, ${stats.nonFiniteOutputs} non-finite outputs matched`);
    expect(stats.calls).toBeGreaterThan(500);
    expect(stats.nonFiniteOutputs).toBeGreaterThan(1000);
  });
});
