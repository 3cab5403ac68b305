// Activations, each forward with its backward right under it. Elementwise, so a row range split is just a
// sub-range of [0, n). Forward saves its output y; the backward of tanh and sigmoid is written in terms of y.
// y may equal x, and dx may equal dy (every element is read before it is written).
//
// In the SIMD builds every forward element goes through the f32x4 form, the last n % 4 too (a partial vector):
// the relaxed build's exp4 uses FMA, which the scalar form cannot, and one function per element is what lets
// the GEMM's fused write-back (act_tile, for linear_act_forward) give bit-identical results.

import { exp4, expf, kf, kint, K_ONE, KI_SIGN } from './math';

// Activation codes of linear_act_forward (src/backend/backend.ts: ACT)
export const ACT_NONE: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_SIGMOID: i32 = 2;
export const ACT_TANH: i32 = 3;

// =====================================================================================================
// Partial vectors: the last 1-3 elements of a SIMD-build loop, without reading or writing past them
// =====================================================================================================

// @ts-ignore: decorator
@inline function load_partial(p: usize, rem: usize): v128 {
  let v = f32x4.replace_lane(f32x4.splat(0), 0, load<f32>(p));
  if (rem > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (rem > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

// @ts-ignore: decorator
@inline function store_partial(p: usize, v: v128, rem: usize): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (rem > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (rem > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

// =====================================================================================================
// ReLU
// =====================================================================================================

// x, y are (n)
export function relu_forward(y: usize, x: usize, n: usize): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    // pmax(x, 0) = x < 0 ? 0 : x: one maxps (f32x4.max's NaN rules cost 6 instructions); NaN stays NaN
    for (; i + 4 <= n; i += 4) v128.store(y + (i << 2), relu4(v128.load(x + (i << 2))));
    if (i < n) store_partial(y + (i << 2), relu4(load_partial(x + (i << 2), n - i)), n - i);
    return;
  }
  for (; i < n; i++) store<f32>(y + (i << 2), reluf(load<f32>(x + (i << 2))));
}

// @ts-ignore: decorator
@inline export function relu4(v: v128): v128 {
  return f32x4.pmax(v, f32x4.splat(0));
}

// @ts-ignore: decorator
@inline export function reluf(v: f32): f32 {
  return max(v, 0);
}

// dx = dy·1[y>0]; dx, dy, y are (n)
export function relu_backward(dx: usize, dy: usize, y: usize, n: usize): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = i << 2;
      v128.store(dx + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(y + o), zero)));
    }
  }
  for (; i < n; i++) {
    const o = i << 2;
    store<f32>(dx + o, load<f32>(y + o) > 0 ? load<f32>(dy + o) : 0);
  }
}

// =====================================================================================================
// tanh. |x| < 0.625: Cephes tanhf odd polynomial x + x³·P(x²) (no cancellation near 0);
// otherwise (1 − e)/(1 + e) with e = exp(−2|x|) ∈ (0, 0.29], which saturates to ±1 (e → 0) for huge |x| and
// ±Inf without a NaN. Error vs Math.tanh on [−10, 10]: abs 8.9e-8 / rel 1.5e-7 measured, ≤ 2e-7 / 3e-7 asserted.
// =====================================================================================================

const T0: f32 = -5.70498872745e-3;
const T1: f32 = 2.06390887954e-2;
const T2: f32 = -5.37397155531e-2;
const T3: f32 = 1.33314422036e-1;
const T4: f32 = -3.33332819422e-1;
const TANH_SMALL: f32 = 0.625;
// vector constants by broadcast load (see math.ts: a v128.const costs 3 instructions per use under V8)
const TK: usize = memory.data<f32>([T0, T1, T2, T3, T4, TANH_SMALL, -2.0], 16);
// @ts-ignore: decorator
@inline function tk(i: i32): v128 {
  return v128.load32_splat(TK + (<usize>i << 2));
}

// x, y are (n)
export function tanh_forward(y: usize, x: usize, n: usize): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    // two vectors per iteration: the polynomial chains are long; two in flight run ~20% faster under V8
    for (; i + 8 <= n; i += 8) {
      const o = i << 2;
      const a = tanh4(v128.load(x + o));
      const b = tanh4(v128.load(x + o, 16));
      v128.store(y + o, a);
      v128.store(y + o, b, 16);
    }
    for (; i + 4 <= n; i += 4) v128.store(y + (i << 2), tanh4(v128.load(x + (i << 2))));
    if (i < n) store_partial(y + (i << 2), tanh4(load_partial(x + (i << 2), n - i)), n - i);
    return;
  }
  for (; i < n; i++) {
    const o = i << 2;
    store<f32>(y + o, tanhf(load<f32>(x + o)));
  }
}

// @ts-ignore: decorator
@inline export function tanh4(v: v128): v128 {
  const ax = f32x4.abs(v);
  const e = exp4(f32x4.mul(ax, tk(6)));
  const one = kf(K_ONE);
  const big = v128.or(f32x4.div(f32x4.sub(one, e), f32x4.add(one, e)), v128.and(v, kint(KI_SIGN)));
  const z = f32x4.mul(v, v);
  let p = f32x4.add(f32x4.mul(tk(0), z), tk(1));
  p = f32x4.add(f32x4.mul(p, z), tk(2));
  p = f32x4.add(f32x4.mul(p, z), tk(3));
  p = f32x4.add(f32x4.mul(p, z), tk(4));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), v), v);
  // NaN: ax < 0.625 is false, big is NaN (exp4 propagates it)
  return v128.bitselect(small, big, f32x4.lt(ax, tk(5)));
}

// @ts-ignore: decorator
@inline export function tanhf(v: f32): f32 {
  const ax = abs(v);
  if (ax < TANH_SMALL) {
    const z = v * v;
    let p = T0 * z + T1;
    p = p * z + T2;
    p = p * z + T3;
    p = p * z + T4;
    return p * z * v + v;
  }
  const e = expf(-2.0 * ax);
  return copysign<f32>((1.0 - e) / (1.0 + e), v);
}

// dx = dy·(1 − y²); dx, dy, y are (n)
export function tanh_backward(dx: usize, dy: usize, y: usize, n: usize): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = i << 2;
      const t = v128.load(y + o);
      v128.store(dx + o, f32x4.mul(v128.load(dy + o), f32x4.sub(kf(K_ONE), f32x4.mul(t, t))));
    }
  }
  for (; i < n; i++) {
    const o = i << 2;
    const t = load<f32>(y + o);
    store<f32>(dx + o, load<f32>(dy + o) * (1.0 - t * t));
  }
}

// =====================================================================================================
// Sigmoid. With e = exp(−|x|) ∈ (0, 1]: σ(x) = 1/(1 + e) for x ≥ 0, e/(1 + e) for x < 0. No overflow, and
// relative accuracy in both tails (σ(−20) ≈ 2e-9 keeps its digits). ±Inf give exactly 1 and 0.
// Relative error vs 1/(1 + Math.exp(−x)) on [−80, 30]: 1.8e-7 measured, ≤ 3e-7 asserted.
// =====================================================================================================

// x, y are (n)
export function sigmoid_forward(y: usize, x: usize, n: usize): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) { // two in flight, as tanh
      const o = i << 2;
      const a = sigmoid4(v128.load(x + o));
      const b = sigmoid4(v128.load(x + o, 16));
      v128.store(y + o, a);
      v128.store(y + o, b, 16);
    }
    for (; i + 4 <= n; i += 4) v128.store(y + (i << 2), sigmoid4(v128.load(x + (i << 2))));
    if (i < n) store_partial(y + (i << 2), sigmoid4(load_partial(x + (i << 2), n - i)), n - i);
    return;
  }
  for (; i < n; i++) {
    const o = i << 2;
    store<f32>(y + o, sigmoidf(load<f32>(x + o)));
  }
}

// @ts-ignore: decorator
@inline export function sigmoid4(v: v128): v128 {
  const e = exp4(f32x4.neg(f32x4.abs(v)));
  const one = kf(K_ONE);
  const r = f32x4.div(one, f32x4.add(one, e));
  return v128.bitselect(r, f32x4.mul(e, r), f32x4.ge(v, f32x4.splat(0)));
}

// @ts-ignore: decorator
@inline export function sigmoidf(v: f32): f32 {
  const e = expf(-abs(v));
  const r: f32 = 1.0 / (1.0 + e);
  return v >= 0 ? r : e * r;
}

// dx = dy·y·(1 − y); dx, dy, y are (n)
export function sigmoid_backward(dx: usize, dy: usize, y: usize, n: usize): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = i << 2;
      const s = v128.load(y + o);
      v128.store(dx + o, f32x4.mul(v128.load(dy + o), f32x4.mul(s, f32x4.sub(kf(K_ONE), s))));
    }
  }
  for (; i < n; i++) {
    const o = i << 2;
    const s = load<f32>(y + o);
    store<f32>(dx + o, load<f32>(dy + o) * (s * (1.0 - s)));
  }
}

// =====================================================================================================
// By code (ACT_*): the activation step of the GEMM's fused write-back (gemm.ts, linear_act_forward). The same
// per-element functions as the kernels above, so fused and unfused results are bit-identical in every build.
// =====================================================================================================

// c is a 4×8 tile with row stride ldc bytes, activated in place (ACT_NONE or an unknown code: unchanged)
export function act_tile(c: usize, ldc: usize, act: i32): void {
  if (ASC_FEATURE_SIMD) {
    // one branch per tile. More in flight than the kernels above (their 2 per iteration): the whole tile for
    // sigmoid, half of it for tanh (all 8 spill). (64,128)·(128,784), simd build: fused + sigmoid 388 µs vs
    // linear_forward + sigmoid_forward 424 µs; + tanh 416 vs 443 µs (relaxed: 330 vs 385, 344 vs 406)
    if (act == ACT_RELU) {
      for (let i = 0; i < 4; i++, c += ldc) {
        v128.store(c, relu4(v128.load(c)));
        v128.store(c, relu4(v128.load(c, 16)), 16);
      }
    } else if (act == ACT_SIGMOID) {
      const c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
      const a0 = sigmoid4(v128.load(c)), a1 = sigmoid4(v128.load(c, 16));
      const b0 = sigmoid4(v128.load(c1)), b1 = sigmoid4(v128.load(c1, 16));
      const d0 = sigmoid4(v128.load(c2)), d1 = sigmoid4(v128.load(c2, 16));
      const e0 = sigmoid4(v128.load(c3)), e1 = sigmoid4(v128.load(c3, 16));
      v128.store(c, a0); v128.store(c, a1, 16);
      v128.store(c1, b0); v128.store(c1, b1, 16);
      v128.store(c2, d0); v128.store(c2, d1, 16);
      v128.store(c3, e0); v128.store(c3, e1, 16);
    } else if (act == ACT_TANH) {
      for (let i = 0; i < 2; i++, c += 2 * ldc) {
        const a = tanh4(v128.load(c));
        const b = tanh4(v128.load(c, 16));
        const d = tanh4(v128.load(c + ldc));
        const e = tanh4(v128.load(c + ldc, 16));
        v128.store(c, a);
        v128.store(c, b, 16);
        v128.store(c + ldc, d);
        v128.store(c + ldc, e, 16);
      }
    }
    return;
  }
  for (let i = 0; i < 4; i++, c += ldc) {
    for (let o: usize = 0; o < 32; o += 4) {
      const v = load<f32>(c + o);
      store<f32>(c + o, act == ACT_RELU ? reluf(v) : act == ACT_SIGMOID ? sigmoidf(v) : act == ACT_TANH ? tanhf(v) : v);
    }
  }
}

// x, y are (n): y = act(x), through the kernels above
export function act_forward(y: usize, x: usize, n: usize, act: i32): void {
  if (act == ACT_RELU) relu_forward(y, x, n);
  else if (act == ACT_SIGMOID) sigmoid_forward(y, x, n);
  else if (act == ACT_TANH) tanh_forward(y, x, n);
  else if (y != x) memory.copy(y, x, n << 2);
}

// =====================================================================================================
// Softmax, row-wise: y = exp(x − max) / Σ exp(x − max). Subtracting the row max keeps every exp ≤ 1.
// =====================================================================================================

// x, y are (B,N)
export function softmax_forward(y: usize, x: usize, B: usize, N: usize): void {
  const row = N << 2;
  for (let r: usize = 0; r < B; r++) {
    const xr = x + r * row;
    const yr = y + r * row;
    // row max
    let mx: f32 = -Infinity;
    let j: usize = 0;
    if (ASC_FEATURE_SIMD) {
      if (N >= 4) {
        let m = v128.load(xr);
        for (j = 4; j + 4 <= N; j += 4) m = f32x4.max(m, v128.load(xr + (j << 2)));
        mx = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
      }
    }
    for (; j < N; j++) mx = max(mx, load<f32>(xr + (j << 2)));
    // exponentials and their sum
    let sum: f32 = 0;
    j = 0;
    if (ASC_FEATURE_SIMD) {
      const vm = f32x4.splat(mx);
      let s = f32x4.splat(0);
      let s1 = f32x4.splat(0);
      for (; j + 8 <= N; j += 8) { // two in flight, as tanh
        const e0 = exp4(f32x4.sub(v128.load(xr + (j << 2)), vm));
        const e1 = exp4(f32x4.sub(v128.load(xr + (j << 2), 16), vm));
        v128.store(yr + (j << 2), e0);
        v128.store(yr + (j << 2), e1, 16);
        s = f32x4.add(s, e0);
        s1 = f32x4.add(s1, e1);
      }
      s = f32x4.add(s, s1);
      for (; j + 4 <= N; j += 4) {
        const e = exp4(f32x4.sub(v128.load(xr + (j << 2)), vm));
        v128.store(yr + (j << 2), e);
        s = f32x4.add(s, e);
      }
      sum = (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
    }
    for (; j < N; j++) {
      const e = expf(load<f32>(xr + (j << 2)) - mx);
      store<f32>(yr + (j << 2), e);
      sum += e;
    }
    // normalize (sum ≥ 1: the max element contributes exp(0))
    const inv: f32 = 1.0 / sum;
    j = 0;
    if (ASC_FEATURE_SIMD) {
      const vi = f32x4.splat(inv);
      for (; j + 4 <= N; j += 4) v128.store(yr + (j << 2), f32x4.mul(v128.load(yr + (j << 2)), vi));
    }
    for (; j < N; j++) store<f32>(yr + (j << 2), load<f32>(yr + (j << 2)) * inv);
  }
}

// dx = y·(dy − Σ dy·y) per row; dx, dy, y are (B,N)
export function softmax_backward(dx: usize, dy: usize, y: usize, B: usize, N: usize): void {
  const row = N << 2;
  for (let r: usize = 0; r < B; r++) {
    const off = r * row;
    const dxr = dx + off, dyr = dy + off, yr = y + off;
    let dot: f32 = 0;
    let j: usize = 0;
    if (ASC_FEATURE_SIMD) {
      let s = f32x4.splat(0);
      for (; j + 4 <= N; j += 4) s = f32x4.add(s, f32x4.mul(v128.load(dyr + (j << 2)), v128.load(yr + (j << 2))));
      dot = (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
    }
    for (; j < N; j++) dot += load<f32>(dyr + (j << 2)) * load<f32>(yr + (j << 2));
    j = 0;
    if (ASC_FEATURE_SIMD) {
      const vd = f32x4.splat(dot);
      for (; j + 4 <= N; j += 4) {
        const o = j << 2;
        v128.store(dxr + o, f32x4.mul(v128.load(yr + o), f32x4.sub(v128.load(dyr + o), vd)));
      }
    }
    for (; j < N; j++) {
      const o = j << 2;
      store<f32>(dxr + o, load<f32>(yr + o) * (load<f32>(dyr + o) - dot));
    }
  }
}
