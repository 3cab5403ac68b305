// Losses: the value is a mean over the batch (accumulated in f64), the gradient is of that mean.
// Each loss with its backward right under it; the fused ones (sigmoid + BCE, softmax + CE) give dz directly.

import { log4, logf, kf, K_ONE } from './math';

const P_MIN: f32 = 1e-7; // the reference's clamp of p (and of 1 − p) before a log or a division
const P_MIN64: f64 = 1e-7;
// vector constants by broadcast load (see math.ts)
const PK: usize = memory.data<f32>([P_MIN], 16);
const PK64: usize = memory.data<f64>([P_MIN64, 1.0 - P_MIN64, 1.0], 16);

// Σ of the 4 lanes of an f32x4, in f64
// @ts-ignore: decorator
@inline function sum4_f64(acc: v128, v: v128): v128 {
  return f64x2.add(f64x2.add(acc, f64x2.promote_low_f32x4(v)), f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 2, 3)));
}

// @ts-ignore: decorator
@inline function hsum_f64(acc: v128): f64 {
  return f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
}

// =====================================================================================================
// Mean squared error
// =====================================================================================================

// =====================================================================================================
// Sums in fixed chunks: a loss is Σ over chunks of LOSS_CHUNK elements (each summed from zero), the chunk sums
// added in order. Threads each take whole chunks (loss_sums) and the caller adds their sums in order, so the
// value is the same bits whatever the thread count.
// =====================================================================================================

export const LOSS_CHUNK: usize = 4096;
export const LOSS_MSE: i32 = 0; // Σ (p − t)²
export const LOSS_BCE: i32 = 1; // Σ t·log p + (1 − t)·log(1 − p)
export const LOSS_CE: i32 = 2; // Σ t·log p
export const SUM_SQUARES: i32 = 3; // Σ p² (t unused): the squared global norm of the gradients (gradient clipping)

// @ts-ignore: decorator
@inline function chunk_sum(kind: i32, p: usize, t: usize, n: usize): f64 {
  if (kind == LOSS_MSE) return mse_sum(p, t, n);
  if (kind == LOSS_BCE) return bce_sum(p, t, n);
  if (kind == SUM_SQUARES) return sq_sum(p, n);
  return ce_sum(p, t, n);
}

// p, t are (n); sums (⌈n / LOSS_CHUNK⌉ f64) = the sum of each chunk
export function loss_sums(sums: usize, kind: i32, p: usize, t: usize, n: usize): void {
  for (let i: usize = 0; i < n; i += LOSS_CHUNK) {
    const o = i << 2;
    store<f64>(sums + (i / LOSS_CHUNK << 3), chunk_sum(kind, p + o, t + o, min(LOSS_CHUNK, n - i)));
  }
}

// p, t are (n); the chunk sums added in order
function chunked_sum(kind: i32, p: usize, t: usize, n: usize): f64 {
  let total: f64 = 0;
  for (let i: usize = 0; i < n; i += LOSS_CHUNK) total += chunk_sum(kind, p + (i << 2), t + (i << 2), min(LOSS_CHUNK, n - i));
  return total;
}

// x is (n); returns Σ x² in f64, in the chunks above (not a loss, but the same fixed-order sum)
export function sum_squares(x: usize, n: usize): f64 {
  return chunked_sum(SUM_SQUARES, x, 0, n);
}

// x is (n); returns Σ x², each square in f64 (exact for an f32)
function sq_sum(x: usize, n: usize): f64 {
  let sum: f64 = 0;
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(x + (i << 2));
      const d0 = f64x2.promote_low_f32x4(v), d1 = f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 2, 3));
      acc = f64x2.add(acc, f64x2.add(f64x2.mul(d0, d0), f64x2.mul(d1, d1)));
    }
    sum = hsum_f64(acc);
  }
  for (; i < n; i++) {
    const d = <f64>load<f32>(x + (i << 2));
    sum += d * d;
  }
  return sum;
}

// =====================================================================================================
// Mean squared error
// =====================================================================================================

// p, t are (B,N); returns mean (p − t)²
export function mse_loss(p: usize, t: usize, B: usize, N: usize): f64 {
  return chunked_sum(LOSS_MSE, p, t, B * N) / <f64>(B * N);
}

// p, t are (n); returns Σ (p − t)²
function mse_sum(p: usize, t: usize, n: usize): f64 {
  let sum: f64 = 0;
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = i << 2;
      const vp = v128.load(p + o), vt = v128.load(t + o);
      // the difference in f64, as the reference: p − t of two f32 is exact in f64
      const d0 = f64x2.sub(f64x2.promote_low_f32x4(vp), f64x2.promote_low_f32x4(vt));
      const d1 = f64x2.sub(f64x2.promote_low_f32x4(f32x4.shuffle(vp, vp, 2, 3, 2, 3)), f64x2.promote_low_f32x4(f32x4.shuffle(vt, vt, 2, 3, 2, 3)));
      acc = f64x2.add(acc, f64x2.add(f64x2.mul(d0, d0), f64x2.mul(d1, d1)));
    }
    sum = hsum_f64(acc);
  }
  for (; i < n; i++) {
    const d = <f64>load<f32>(p + (i << 2)) - <f64>load<f32>(t + (i << 2));
    sum += d * d;
  }
  return sum;
}

// dp = 2(p − t)/(B·N); dp, p, t are (B,N)
export function mse_backward(dp: usize, p: usize, t: usize, B: usize, N: usize): void {
  diff_scaled(dp, p, t, B * N, <f32>(2.0 / <f64>(B * N)));
}

// =====================================================================================================
// Binary cross-entropy, p clamped to [1e-7, 1 − 1e-7]. 1 − 1e-7 is not an f32, so the loss clamps p to
// [1e-7, 1] and 1 − p to ≥ 1e-7 instead (1 − p is exact in f32 for p ≥ ½): the same logs as the f64 clamp.
// =====================================================================================================

// p, t are (B,N); returns mean −[t·log p + (1 − t)·log(1 − p)]
export function bce_loss(p: usize, t: usize, B: usize, N: usize): f64 {
  return -chunked_sum(LOSS_BCE, p, t, B * N) / <f64>(B * N);
}

// p, t are (n); returns Σ t·log p + (1 − t)·log(1 − p)
function bce_sum(p: usize, t: usize, n: usize): f64 {
  let sum: f64 = 0;
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = i << 2;
      acc = sum4_f64(acc, bce4(v128.load(p + o), v128.load(t + o)));
    }
    sum = hsum_f64(acc);
  }
  for (; i < n; i++) {
    const o = i << 2;
    const vp = min(max(load<f32>(p + o), P_MIN), <f32>1.0);
    const vq = max(<f32>1.0 - vp, P_MIN);
    const vt = load<f32>(t + o);
    sum += <f64>(vt * logf(vp) + (<f32>1.0 - vt) * logf(vq));
  }
  return sum;
}

// t·log p + (1 − t)·log(1 − p) with the clamps above, per lane (the two logs are independent chains)
// @ts-ignore: decorator
@inline function bce4(p: v128, t: v128): v128 {
  const lo = v128.load32_splat(PK), one = kf(K_ONE);
  const vp = f32x4.pmin(f32x4.pmax(p, lo), one);
  const vq = f32x4.pmax(f32x4.sub(one, vp), lo);
  return f32x4.add(f32x4.mul(t, log4(vp)), f32x4.mul(f32x4.sub(one, t), log4(vq)));
}

// dp = (p − t)/(p(1 − p))/(B·N), p clamped as in the loss; dp, p, t are (B,N). In f64: the clamp is exact there.
export function bce_backward(dp: usize, p: usize, t: usize, B: usize, N: usize): void {
  bce_backward_scaled(dp, p, t, B * N, 1.0 / <f64>(B * N));
}

// dp = (p − t)/(p(1 − p))·inv over n elements (inv = 1/(B·N) of the whole batch: a thread's part passes it too)
export function bce_backward_scaled(dp: usize, p: usize, t: usize, n: usize, inv: f64): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const vi = f64x2.splat(inv);
    for (; i + 4 <= n; i += 4) {
      const o = i << 2;
      const lo = v128.load64_splat(PK64), hi = v128.load64_splat(PK64, 8), one = v128.load64_splat(PK64, 16);
      const vp = v128.load(p + o), vt = v128.load(t + o);
      const p0 = f64x2.pmin(f64x2.pmax(f64x2.promote_low_f32x4(vp), lo), hi);
      const p1 = f64x2.pmin(f64x2.pmax(f64x2.promote_low_f32x4(f32x4.shuffle(vp, vp, 2, 3, 2, 3)), lo), hi);
      const t0 = f64x2.promote_low_f32x4(vt);
      const t1 = f64x2.promote_low_f32x4(f32x4.shuffle(vt, vt, 2, 3, 2, 3));
      const g0 = f64x2.div(f64x2.mul(f64x2.sub(p0, t0), vi), f64x2.mul(p0, f64x2.sub(one, p0)));
      const g1 = f64x2.div(f64x2.mul(f64x2.sub(p1, t1), vi), f64x2.mul(p1, f64x2.sub(one, p1)));
      v128.store(dp + o, f32x4.shuffle(f32x4.demote_f64x2_zero(g0), f32x4.demote_f64x2_zero(g1), 0, 1, 4, 5));
    }
  }
  for (; i < n; i++) {
    const o = i << 2;
    const vp = min(max(<f64>load<f32>(p + o), P_MIN64), 1.0 - P_MIN64);
    const vt = <f64>load<f32>(t + o);
    store<f32>(dp + o, <f32>((vp - vt) * inv / (vp * (1.0 - vp))));
  }
}

// Fused sigmoid + BCE: dz = (p − t)/(B·N) where p = σ(z) is the forward output; dz, p, t are (B,N)
export function sigmoid_bce_backward(dz: usize, p: usize, t: usize, B: usize, N: usize): void {
  diff_scaled(dz, p, t, B * N, <f32>(1.0 / <f64>(B * N)));
}

// =====================================================================================================
// Softmax cross-entropy
// =====================================================================================================

// p, t are (B,N), p a softmax output; returns mean over rows of −Σ t·log clamp(p, 1e-7, 1)
export function softmax_ce_loss(p: usize, t: usize, B: usize, N: usize): f64 {
  return -chunked_sum(LOSS_CE, p, t, B * N) / <f64>B;
}

// p, t are (n); returns Σ t·log clamp(p, 1e-7, 1): a probability (p > 1 would make the loss negative); NaN stays NaN
function ce_sum(p: usize, t: usize, n: usize): f64 {
  let sum: f64 = 0;
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = i << 2;
      acc = sum4_f64(acc, f32x4.mul(v128.load(t + o), log4(f32x4.pmin(f32x4.pmax(v128.load(p + o), v128.load32_splat(PK)), f32x4.splat(1)))));
    }
    sum = hsum_f64(acc);
  }
  for (; i < n; i++) {
    const o = i << 2;
    sum += <f64>(load<f32>(t + o) * logf(min(max(load<f32>(p + o), P_MIN), <f32>1)));
  }
  return sum;
}

// Fused softmax + cross-entropy: dz = (p − t)/B; dz, p, t are (B,N)
export function softmax_ce_backward(dz: usize, p: usize, t: usize, B: usize, N: usize): void {
  diff_scaled(dz, p, t, B * N, <f32>(1.0 / <f64>B));
}

// out = (p − t)·s over n elements (s from the whole batch: a thread's part passes it too)
export function diff_scaled(out: usize, p: usize, t: usize, n: usize, s: f32): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const vs = f32x4.splat(s);
    for (; i + 4 <= n; i += 4) {
      const o = i << 2;
      v128.store(out + o, f32x4.mul(f32x4.sub(v128.load(p + o), v128.load(t + o)), vs));
    }
  }
  for (; i < n; i++) {
    const o = i << 2;
    store<f32>(out + o, (load<f32>(p + o) - load<f32>(t + o)) * s);
  }
}
