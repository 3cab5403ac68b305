// The float64 references the numeric tests check against, each written from its formula (cited), never from the
// code under test: one place a formula is stated, so two tests cannot drift apart on it.

import type { LossName } from '../../src/losses.js';
import type { OptimizerName, OptimizerOptions } from '../../src/optimizers.js';

export const sigmoid64 = (x: number): number => 1 / (1 + Math.exp(-x));

/** C(M,N) = op(A)·op(B) (+ C0), op a transpose when tA / tB is 1. */
export function gemm64(A: ArrayLike<number>, B: ArrayLike<number>, C0: ArrayLike<number> | null, M: number, N: number, K: number, tA: number, tB: number): Float64Array {
  const C = new Float64Array(M * N);
  const a = Float64Array.from(A);
  const b = Float64Array.from(B);
  for (let i = 0; i < M; i++) {
    for (let p = 0; p < K; p++) {
      const aip = tA ? a[p * M + i] : a[i * K + p];
      for (let j = 0; j < N; j++) C[i * N + j] += aip * (tB ? b[j * K + p] : b[p * N + j]);
    }
  }
  if (C0) for (let i = 0; i < M * N; i++) C[i] += C0[i];
  return C;
}

/** Softmax of each of B rows of N (the row's max subtracted first). */
export function softmax64(x: ArrayLike<number>, B: number, N: number): Float64Array {
  const y = new Float64Array(B * N);
  for (let r = 0; r < B; r++) {
    let m = -Infinity;
    for (let j = 0; j < N; j++) m = Math.max(m, x[r * N + j]);
    let s = 0;
    for (let j = 0; j < N; j++) s += y[r * N + j] = Math.exp(x[r * N + j] - m);
    for (let j = 0; j < N; j++) y[r * N + j] /= s;
  }
  return y;
}

/** The three losses as documented in backend.ts: mse and bce are means over all elements (bce's p clamped to
 *  [1e-7, 1 − 1e-7]); crossentropy is the mean over the B rows of −Σ t·log p (p clamped to [1e-7, 1]). */
export function loss64(name: LossName, p: ArrayLike<number>, t: ArrayLike<number>, B: number): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    if (name === 'mse') sum += (p[i] - t[i]) ** 2;
    else if (name === 'bce') {
      const q = Math.min(Math.max(p[i], 1e-7), 1 - 1e-7);
      sum -= t[i] * Math.log(q) + (1 - t[i]) * Math.log(1 - q);
    } else if (t[i] !== 0) sum -= t[i] * Math.log(Math.min(Math.max(p[i], 1e-7), 1));
  }
  return name === 'crossentropy' ? sum / B : sum / p.length;
}

// The optimizer formulas (PyTorch 2.x docs, torch.optim.SGD / Adam / AdamW / RMSprop and
// torch.nn.utils.clip_grad_norm_), in float64 with float64 state:
//   clip      s = min(1, clipNorm/(‖g‖₂ + 1e-6)) over the whole gradient block; g ← s·g      (clip_grad_norm_)
//   L2        g ← g + λ·w                                   (weight_decay of SGD, Adam, RMSprop; before the step)
//   sgd       w ← w − lr·g
//   momentum  v ← μ·v + g; w ← w − lr·v                      (SGD with momentum, dampening 0, not Nesterov)
//   adam      m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; w ← w − lr·(m/(1−β1ᵗ))/(√(v/(1−β2ᵗ)) + ε)
//   adamw     w ← w·(1 − lr·λ), then the adam step with the unpenalised g                     (AdamW, decoupled)
//   rmsprop   v ← ρ·v + (1−ρ)·g²; w ← w − lr·g/(√v + ε)     (RMSprop, centered=False, momentum=0; PyTorch's alpha = ρ)

/** An optimizer and its settings, every one that its formula reads given (lr included). */
export interface OptimizerRef {
  name: OptimizerName;
  o: OptimizerOptions;
}

/** Step t (1-based) of the formulas above: updates w and state (state[0] = m or v, state[1] = adam's v). */
export function optimizerStep64({ name, o }: OptimizerRef, w: Float64Array, g32: ArrayLike<number>, state: Float64Array[], t: number): void {
  const lr = o.lr!, l2 = name === 'adamw' ? 0 : (o.weightDecay ?? 0);
  let norm = 0;
  for (let i = 0; i < w.length; i++) norm += g32[i] * g32[i];
  norm = Math.sqrt(norm);
  const s = o.clipNorm === undefined ? 1 : Math.min(1, o.clipNorm / (norm + 1e-6));
  for (let i = 0; i < w.length; i++) {
    const g = s * g32[i] + l2 * w[i];
    if (name === 'sgd') w[i] -= lr * g;
    else if (name === 'momentum') {
      state[0][i] = o.momentum! * state[0][i] + g;
      w[i] -= lr * state[0][i];
    } else if (name === 'rmsprop') {
      state[0][i] = o.rho! * state[0][i] + (1 - o.rho!) * g * g;
      w[i] -= (lr * g) / (Math.sqrt(state[0][i]) + o.eps!);
    } else {
      if (name === 'adamw') w[i] *= 1 - lr * o.weightDecay!;
      state[0][i] = o.beta1! * state[0][i] + (1 - o.beta1!) * g;
      state[1][i] = o.beta2! * state[1][i] + (1 - o.beta2!) * g * g;
      w[i] -= (lr * (state[0][i] / (1 - o.beta1! ** t))) / (Math.sqrt(state[1][i] / (1 - o.beta2! ** t)) + o.eps!);
    }
  }
}

// =====================================================================================================
// Pooling and nearest upsampling of N planes of H×W (NCHW: B·C planes), as PyTorch's nn.MaxPool2d (floor mode),
// nn.AvgPool2d (count_include_pad) and nn.Upsample(mode='nearest'); ONNX's [top, left, bottom, right] pads
// =====================================================================================================

export type Pool64Op =
  | { op: 'max' | 'avg'; kernel: readonly number[]; stride: readonly number[]; pads: readonly number[]; countIncludePad?: boolean }
  | { op: 'up'; scale: readonly number[] };

/** [OH, OW]: floor((H + top + bottom − kh)/sh) + 1 for pools, H·sh for upsampling. */
export function pool2dOutSize(c: Pool64Op, H: number, W: number): [number, number] {
  if (c.op === 'up') return [H * c.scale[0], W * c.scale[1]];
  return [Math.floor((H + c.pads[0] + c.pads[2] - c.kernel[0]) / c.stride[0]) + 1, Math.floor((W + c.pads[1] + c.pads[3] - c.kernel[1]) / c.stride[1]) + 1];
}

export interface Pool64 {
  y: Float64Array;
  /** max pool: each output's maximum as a plane index h·W + w */
  idx?: Int32Array;
  /** the gradient of Σ dy ⊙ y (zeros without dy) */
  dx: Float64Array;
}

/** Direct loops in float64: each output's window in scan order (row-major), its max (PyTorch: from −∞,
 *  `v > max || isnan(v)`, so a tie keeps the first and a NaN wins, the last one) or its mean (divided by kh·kw with
 *  countIncludePad (default), else by the elements inside the plane), or the nearest input (upsampling); dx as each
 *  output's dy scattered back to what it read. */
export function pool2d64(c: Pool64Op, x: ArrayLike<number>, dy: ArrayLike<number> | null, N: number, H: number, W: number): Pool64 {
  const [OH, OW] = pool2dOutSize(c, H, W);
  const y = new Float64Array(N * OH * OW), dx = new Float64Array(N * H * W);
  const idx = new Int32Array(y.length);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const o = n * OH * OW + oh * OW + ow;
        const cells: number[] = [];
        let size = 1;
        if (c.op === 'up') cells.push(Math.floor(oh / c.scale[0]) * W + Math.floor(ow / c.scale[1]));
        else {
          const h0 = oh * c.stride[0] - c.pads[0], w0 = ow * c.stride[1] - c.pads[1];
          for (let h = h0; h < h0 + c.kernel[0]; h++) for (let w = w0; w < w0 + c.kernel[1]; w++) if (h >= 0 && h < H && w >= 0 && w < W) cells.push(h * W + w);
          size = c.countIncludePad === false ? cells.length : c.kernel[0] * c.kernel[1];
        }
        const at = (i: number) => n * H * W + i;
        if (c.op === 'max') {
          let m = -Infinity, mi = cells[0];
          for (const i of cells) if (x[at(i)] > m || Number.isNaN(x[at(i)])) [m, mi] = [x[at(i)], i];
          y[o] = m;
          idx[o] = mi;
          if (dy) dx[at(mi)] += dy[o];
        } else {
          let s = 0;
          for (const i of cells) s += x[at(i)];
          y[o] = s / size;
          if (dy) for (const i of cells) dx[at(i)] += dy[o] / size;
        }
      }
  return c.op === 'max' ? { y, idx, dx } : { y, dx };
}

// =====================================================================================================
// Pixel shuffle: PyTorch's definition as a view and a permute
// =====================================================================================================

/** PyTorch's pixel_unshuffle on B samples of [C, H·r, W·r] (H, W: the low-resolution size), written as its
 *  definition: view as (B, C, H, r, W, r), permute to (B, C, r, r, H, W), read out contiguous; pixel_shuffle the
 *  inverse permutation. dy's gradient is dy moved back (the inverse permutation), in float64. */
export function pixelShuffle64(op: 'unshuffle' | 'shuffle', x: ArrayLike<number>, dy: ArrayLike<number> | null, B: number, C: number, H: number, W: number, r: number): { y: Float64Array; dx: Float64Array } {
  // source index in the space layout (b, c, h, i, w, j) and in the depth layout (b, c, i, j, h, w)
  const space = (b: number, c: number, h: number, i: number, w: number, j: number) => ((((b * C + c) * H + h) * r + i) * W + w) * r + j;
  const depth = (b: number, c: number, h: number, i: number, w: number, j: number) => ((((b * C + c) * r + i) * r + j) * H + h) * W + w;
  const [from, to] = op === 'unshuffle' ? [space, depth] : [depth, space];
  const y = new Float64Array(x.length), dx = new Float64Array(x.length);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let i = 0; i < r; i++)
          for (let w = 0; w < W; w++)
            for (let j = 0; j < r; j++) {
              y[to(b, c, h, i, w, j)] = x[from(b, c, h, i, w, j)];
              if (dy) dx[from(b, c, h, i, w, j)] += dy[to(b, c, h, i, w, j)];
            }
  return { y, dx };
}
