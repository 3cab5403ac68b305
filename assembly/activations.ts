// Activations, each forward with its backward right under it. Elementwise, so a row range split is just a
// sub-range of [0, n). Forward saves its output y; the backward of tanh and sigmoid is written in terms of y.
// y may equal x, and dx may equal dy (every element is read before it is written).
//
// In the SIMD builds every forward element goes through the f32x4 form, the last n % 4 too (a partial vector):
// the relaxed build's exp4 uses FMA, which the scalar form cannot, and one function per element is what lets
// the GEMM's fused write-back (act_tile, for linear_act_forward) give bit-identical results.

import { EXP_LO, exp4_nonpos, expf, exp_t, exp_u, exp_pow2k, exp_kf, exp_uf, exp_pow2kf, kf, madd4, K_ONE } from './math';

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
// tanh(x) = (e^{2x} − 1)/(e^{2x} + 1) = m/(m + 2), m = e^{2x} − 1 = 2^k·u + (2^k − 1) from exp's pieces
// (math.ts: u = e^r − 1, no cancellation near 0, where k = 0 and m = u). 2x is clamped to [−20, 20]: m/(m + 2)
// rounds to ±1 there already, and 2x = −20 keeps 2^k normal. One branch-free path, no select.
// Error vs Math.tanh on [−10, 10] and [−0.7, 0.7]: see test/kernels.test.ts (abs ≤ 2e-7, rel ≤ 3e-7 asserted).
// =====================================================================================================

const TANH_LIM: f32 = 20.0;
const SIG_HI: f32 = 88.72; // ln(FLT_MAX) = 88.7228: sigmoid's e = exp(−x) is +Inf (k = 128) from −x ≥ 88.38, σ = 0
// vector constants by broadcast load (see math.ts: a v128.const costs 3 instructions per use under V8)
const TK: usize = memory.data<f32>([-TANH_LIM, TANH_LIM, SIG_HI, 2.0, -0.0], 16);
// @ts-ignore: decorator
@inline function tk(i: i32): v128 {
  return v128.load32_splat(TK + (<usize>i << 2));
}

// x, y are (n)
export function tanh_forward(y: usize, x: usize, n: usize): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    // eight vectors per iteration: the chains are long (latency-bound at two in flight; lockstep as softmax's: no gain)
    for (; i + 32 <= n; i += 32) {
      const o = i << 2;
      const xo = x + o, yo = y + o;
      const a0 = tanh4(v128.load(xo)), a1 = tanh4(v128.load(xo, 16));
      const a2 = tanh4(v128.load(xo, 32)), a3 = tanh4(v128.load(xo, 48));
      const a4 = tanh4(v128.load(xo, 64)), a5 = tanh4(v128.load(xo, 80));
      const a6 = tanh4(v128.load(xo, 96)), a7 = tanh4(v128.load(xo, 112));
      v128.store(yo, a0); v128.store(yo, a1, 16); v128.store(yo, a2, 32); v128.store(yo, a3, 48);
      v128.store(yo, a4, 64); v128.store(yo, a5, 80); v128.store(yo, a6, 96); v128.store(yo, a7, 112);
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
  // NaN: pmin/pmax pass it through, m is NaN
  const xc = f32x4.pmin(f32x4.pmax(f32x4.add(v, v), tk(0)), tk(1));
  const t = exp_t(xc);
  const s = exp_pow2k(t);
  const m = madd4(exp_u(xc, t), s, f32x4.sub(s, kf(K_ONE)));
  return f32x4.div(m, f32x4.add(m, tk(3)));
}

// @ts-ignore: decorator
@inline export function tanhf(v: f32): f32 {
  const xc = min(max(v + v, -TANH_LIM), TANH_LIM);
  const k = exp_kf(xc);
  const s = exp_pow2kf(k);
  const m = exp_uf(xc, k) * s + (s - 1.0);
  return m / (m + 2.0);
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
// Sigmoid: σ(x) = 1/(1 + e), e = exp(−x). Relative accuracy in both tails: for x ≪ 0, σ ≈ 1/e keeps e's
// digits (σ(−20) ≈ 2e-9). −x is clamped to [EXP_LO, SIG_HI]: e = +0 gives σ = 1 exactly (x > 87.68), and from
// −x ≥ 88.38 exp's 2^k is +Inf (k = 128), so σ = 0 exactly, not a subnormal; ±Inf give exactly 1 and 0.
// Relative error vs 1/(1 + Math.exp(−x)) on [−80, 30]: see test/kernels.test.ts (≤ 3e-7 asserted).
// =====================================================================================================

// x, y are (n)
export function sigmoid_forward(y: usize, x: usize, n: usize): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    // eight vectors per iteration, as act_tile: at two in flight the exp chain's latency is the limit (a lockstep
    // form as softmax's measured 5-15% slower here: its divisions come in a burst)
    for (; i + 32 <= n; i += 32) {
      const o = i << 2;
      const xo = x + o, yo = y + o;
      const a0 = sigmoid4(v128.load(xo)), a1 = sigmoid4(v128.load(xo, 16));
      const a2 = sigmoid4(v128.load(xo, 32)), a3 = sigmoid4(v128.load(xo, 48));
      const a4 = sigmoid4(v128.load(xo, 64)), a5 = sigmoid4(v128.load(xo, 80));
      const a6 = sigmoid4(v128.load(xo, 96)), a7 = sigmoid4(v128.load(xo, 112));
      v128.store(yo, a0); v128.store(yo, a1, 16); v128.store(yo, a2, 32); v128.store(yo, a3, 48);
      v128.store(yo, a4, 64); v128.store(yo, a5, 80); v128.store(yo, a6, 96); v128.store(yo, a7, 112);
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
  // NaN: pmin/pmax pass it through, e is NaN
  // −v by xor with a broadcast −0 (V8 builds f32x4.neg's mask in 2 more instructions at each use: 4% here)
  const xc = f32x4.pmin(f32x4.pmax(v128.xor(v, tk(4)), kf(0)), tk(2));
  const t = exp_t(xc);
  const one = kf(K_ONE);
  const e = f32x4.mul(f32x4.add(exp_u(xc, t), one), exp_pow2k(t));
  return f32x4.div(one, f32x4.add(one, e));
}

// @ts-ignore: decorator
@inline export function sigmoidf(v: f32): f32 {
  const xc = min(max(-v, EXP_LO), SIG_HI);
  const k = exp_kf(xc);
  const e = (exp_uf(xc, k) + 1.0) * exp_pow2kf(k);
  return 1.0 / (1.0 + e);
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
    // one branch per tile: the whole tile in flight for sigmoid, half of it for tanh (all 8: no faster).
    // (64,128)·(128,784), simd build, fused vs linear_forward + the activation kernel: with the two-at-a-time
    // kernels and Cephes exp, sigmoid 388 vs 424 µs, tanh 416 vs 443; since the kernels run 8 in flight with
    // the cheaper exp / tanh, fused ≈ unfused: sigmoid 372 vs 367-372 µs, tanh 381 vs 369-373 (relaxed: 304 vs
    // 300, 301 vs 309). Kept for the one pass over C (and bit-identical either way).
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

// =====================================================================================================
// softmax's exponentials, four vectors in lockstep: the steps of exp4_nonpos (the same bits per lane; its
// degree-5 polynomial, math.ts), interleaved in the instruction stream. Each exp chain is ~20 dependent
// operations; written one vector after another, the out-of-order window holds too few independent ones (V8
// does not reorder them). 64×784, simd build: softmax 20% faster than eight exp4_nonpos one after another
// (sigmoid and tanh: no gain, see there).
// The vectors are at s, s + 16, s + ld, s + ld + 16; results go to the same offsets from d (d may equal s).
// =====================================================================================================

/** exp(x − vm) of four vectors (x − vm ≤ 0: softmax), stored; returns their sum */
// @ts-ignore: decorator
@inline function exp_nonpos_lock4(d: usize, s: usize, ld: usize, vm: v128): v128 {
  const s1 = s + ld, d1 = d + ld;
  const lo = kf(0);
  const x0 = f32x4.pmax(f32x4.sub(v128.load(s), vm), lo);
  const x1 = f32x4.pmax(f32x4.sub(v128.load(s, 16), vm), lo);
  const x2 = f32x4.pmax(f32x4.sub(v128.load(s1), vm), lo);
  const x3 = f32x4.pmax(f32x4.sub(v128.load(s1, 16), vm), lo);
  const l2e = kf(2), rnd = kf(3);
  const t0 = madd4(x0, l2e, rnd), t1 = madd4(x1, l2e, rnd), t2 = madd4(x2, l2e, rnd), t3 = madd4(x3, l2e, rnd);
  const k0 = f32x4.sub(t0, rnd), k1 = f32x4.sub(t1, rnd), k2 = f32x4.sub(t2, rnd), k3 = f32x4.sub(t3, rnd);
  let c = kf(11);
  let r0 = madd4(k0, c, x0), r1 = madd4(k1, c, x1), r2 = madd4(k2, c, x2), r3 = madd4(k3, c, x3);
  c = kf(24);
  r0 = madd4(k0, c, r0); r1 = madd4(k1, c, r1); r2 = madd4(k2, c, r2); r3 = madd4(k3, c, r3);
  const z0 = f32x4.mul(r0, r0), z1 = f32x4.mul(r1, r1), z2 = f32x4.mul(r2, r2), z3 = f32x4.mul(r3, r3);
  c = kf(25);
  const c3 = kf(26);
  let q0 = madd4(c, r0, c3), q1 = madd4(c, r1, c3), q2 = madd4(c, r2, c3), q3 = madd4(c, r3, c3);
  c = kf(27);
  q0 = madd4(q0, r0, c); q1 = madd4(q1, r1, c); q2 = madd4(q2, r2, c); q3 = madd4(q3, r3, c);
  c = kf(28);
  q0 = madd4(q0, r0, c); q1 = madd4(q1, r1, c); q2 = madd4(q2, r2, c); q3 = madd4(q3, r3, c);
  const u0 = madd4(q0, z0, r0), u1 = madd4(q1, z1, r1), u2 = madd4(q2, z2, r2), u3 = madd4(q3, z3, r3);
  const one = kf(K_ONE);
  const e0 = f32x4.mul(f32x4.add(u0, one), exp_pow2k(t0)), e1 = f32x4.mul(f32x4.add(u1, one), exp_pow2k(t1));
  const e2 = f32x4.mul(f32x4.add(u2, one), exp_pow2k(t2)), e3 = f32x4.mul(f32x4.add(u3, one), exp_pow2k(t3));
  v128.store(d, e0);
  v128.store(d, e1, 16);
  v128.store(d1, e2);
  v128.store(d1, e3, 16);
  return f32x4.add(f32x4.add(e0, e1), f32x4.add(e2, e3));
}

// x, y are (B,N)
export function softmax_forward(y: usize, x: usize, B: usize, N: usize): void {
  const row = N << 2;
  for (let r: usize = 0; r < B; r++) {
    const xr = x + r * row;
    const yr = y + r * row;
    // row max: four independent pmax chains (one maxps each; a NaN may be skipped, but then its exp, the sum and
    // so the whole row are NaN anyway, as with a NaN max)
    let mx: f32 = -Infinity;
    let j: usize = 0;
    if (ASC_FEATURE_SIMD) {
      let m0 = f32x4.splat(-Infinity), m1 = m0, m2 = m0, m3 = m0;
      for (; j + 16 <= N; j += 16) {
        const p = xr + (j << 2);
        m0 = f32x4.pmax(m0, v128.load(p));
        m1 = f32x4.pmax(m1, v128.load(p, 16));
        m2 = f32x4.pmax(m2, v128.load(p, 32));
        m3 = f32x4.pmax(m3, v128.load(p, 48));
      }
      for (; j + 4 <= N; j += 4) m0 = f32x4.pmax(m0, v128.load(xr + (j << 2)));
      m0 = f32x4.pmax(f32x4.pmax(m0, m1), f32x4.pmax(m2, m3));
      mx = max(max(f32x4.extract_lane(m0, 0), f32x4.extract_lane(m0, 1)), max(f32x4.extract_lane(m0, 2), f32x4.extract_lane(m0, 3)));
    }
    for (; j < N; j++) mx = max(mx, load<f32>(xr + (j << 2)));
    // exponentials (arguments ≤ 0) and their sum, eight vectors per iteration, four in lockstep
    let sum: f32 = 0;
    j = 0;
    if (ASC_FEATURE_SIMD) {
      const vm = f32x4.splat(mx);
      let s0 = f32x4.splat(0), s1 = s0;
      for (; j + 32 <= N; j += 32) {
        const p = xr + (j << 2), q = yr + (j << 2);
        s0 = f32x4.add(s0, exp_nonpos_lock4(q, p, 32, vm));
        s1 = f32x4.add(s1, exp_nonpos_lock4(q + 64, p + 64, 32, vm));
      }
      for (; j + 4 <= N; j += 4) {
        const e = exp4_nonpos(f32x4.sub(v128.load(xr + (j << 2)), vm));
        v128.store(yr + (j << 2), e);
        s0 = f32x4.add(s0, e);
      }
      const s = f32x4.add(s0, s1);
      sum = (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
    }
    for (; j < N; j++) { // the last N % 4 (and the scalar build): expf, degree 6
      const e = expf(load<f32>(xr + (j << 2)) - mx);
      store<f32>(yr + (j << 2), e);
      sum += e;
    }
    // normalize (sum ≥ 1: the max element contributes exp(0))
    const inv: f32 = 1.0 / sum;
    j = 0;
    if (ASC_FEATURE_SIMD) {
      const vi = f32x4.splat(inv);
      for (; j + 16 <= N; j += 16) {
        const p = yr + (j << 2);
        const a = f32x4.mul(v128.load(p), vi), b = f32x4.mul(v128.load(p, 16), vi);
        const c = f32x4.mul(v128.load(p, 32), vi), d = f32x4.mul(v128.load(p, 48), vi);
        v128.store(p, a); v128.store(p, b, 16); v128.store(p, c, 32); v128.store(p, d, 48);
      }
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
