// Shared numeric helpers: fused multiply-add, and f32x4 / scalar approximations of exp and log.
//
// Everything here is @inline and pure (no memory, no globals), so the kernels that use it stay splittable
// by row range. The scalar forms run the same polynomial as the vector forms: a SIMD build's scalar tail and
// the scalar build give the same values as the vector lanes.

// =====================================================================================================
// Fused multiply-add: a·b + c. The relaxed build uses f32x4.relaxed_madd (an FMA on x86 with FMA3 / ARM),
// which is where most of the GEMM speedup of the relaxed build comes from.
// =====================================================================================================

// @ts-ignore: decorator
@inline export function madd4(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// =====================================================================================================
// Vector constants come from a static table by v128.load32_splat: V8 builds every v128.const from two
// 64-bit immediates (3 instructions) at each use, inside loops too, and does not hoist it; a broadcast load
// from L1 is one instruction. The table is read-only.
// =====================================================================================================

const LOG2E: f32 = 1.44269504088896341;
const EXP_C1: f32 = 0.693359375;
const EXP_C2: f32 = -2.12194440e-4;
const EXP_HI: f32 = 88.0; // exp(88) = 1.65e38 < FLT_MAX; keeps k ≤ 127
export const EXP_LO: f32 = -88.0; // keeps k ≥ −127; k = −127 (x < −87.68) gives 2^k = +0 from the bit trick
const ROUND127: f32 = 12583039.0; // 1.5·2^23 + 127: x + it rounds x to an integer k, low mantissa bits = k + 127
// exp(r) = 1 + r + r²·q(r) on |r| ≤ ln2/2, q of degree 4: a minimax fit of (e^r − 1 − r)/r² weighted for the
// relative error of exp (Lawson iterations, coefficients rounded to f32): 3.8e-9 relative, far below f32
// rounding (Cephes' degree-7 polynomial buys nothing more in f32 and costs one more multiply-add)
const Q0: f32 = 0.4999999403953552;
const Q1: f32 = 0.1666652113199234;
const Q2: f32 = 0.04166838899254799;
const Q3: f32 = 0.008368710055947304;
const Q4: f32 = 0.001381461275741458;
// softmax's exponentials (exp4_nonpos): q of degree 3, the same kind of fit: 1.06e-7 relative. Below what softmax
// already loses to the f32 subtraction x − max (|x − max| = 100: ulp/2 = 3.8e-6 absolute in the exponent);
// on 64×784 the exp pass is 12% faster than with degree 4
const S3: f32 = 0.008312525227665901;
const S2: f32 = 0.041890114545822144;
const S1: f32 = 0.16667114198207855;
const S0: f32 = 0.499992311000824;
const SQRTHF: f32 = 0.707106781186547524;
const L0: f32 = 7.0376836292e-2;
const L1: f32 = -1.151461031e-1;
const L2: f32 = 1.1676998740e-1;
const L3: f32 = -1.2420140846e-1;
const L4: f32 = 1.4249322787e-1;
const L5: f32 = -1.6668057665e-1;
const L6: f32 = 2.0000714765e-1;
const L7: f32 = -2.4999993993e-1;
const L8: f32 = 3.3333331174e-1;

const F: usize = memory.data<f32>([
  EXP_LO, EXP_HI, LOG2E, ROUND127, EXP_C1, EXP_C2, Q4, Q3, Q2, Q1, Q0, -EXP_C1, // 0..11
  SQRTHF, L0, L1, L2, L3, L4, L5, L6, L7, L8, // 12..21
  1.0, -0.5, -EXP_C2, // 22, 23, 24
  S3, S2, S1, S0, // 25..28
], 16);
const I: usize = memory.data<i32>([127, 126, 0x007fffff, 0x3f000000, 0x80000000], 16);
export const K_ONE = 22, K_MHALF = 23; // indices for kf
export const KI_SIGN = 4; // index for kint

/** f32 constant i of the table, in all 4 lanes */
// @ts-ignore: decorator
@inline export function kf(i: i32): v128 {
  return v128.load32_splat(F + (<usize>i << 2));
}
/** i32 constant i of the table, in all 4 lanes */
// @ts-ignore: decorator
@inline export function kint(i: i32): v128 {
  return v128.load32_splat(I + (<usize>i << 2));
}

// =====================================================================================================
// exp(x): x = k·ln2 + r, |r| ≤ ln2/2; exp(x) = 2^k · (1 + u), u = r + r²·q(r) = e^r − 1 (q above).
// ln2 is split in two (C1 exact in 9 bits) so k·C1 is exact and r keeps its low bits (Cephes expf).
// 2^k comes from the rounding constant: t = x·log2e + 1.5·2^23 + 127 has k + 127 in its low mantissa bits, and
// t << 23 is the f32 2^k (0x4B4 << 23 wraps to 0). Inputs are clamped to [EXP_LO, hi]: k + 127 stays in
// [0, 255], and k = −127 (x < −87.68) gives 2^k = +0, an exact 0 without a compare (between −87.68 and −87.34
// the result is subnormal); hi = 88 keeps k ≤ 127 (sigmoid clamps higher on purpose: k = 128 gives +Inf).
// NaN propagates (pmin/pmax pass it through as x, and the polynomial carries it).
// Max relative error vs Math.exp on [−87, 88] (test/kernels.test.ts, ≤ 2e-7 asserted): see the test's comment.
// The pieces are split so tanh can use e^r − 1 (u) and 2^k apart: expm1 without cancellation.
// =====================================================================================================

/** t = clamp(x)·log2e + 1.5·2^23 + 127 (x already clamped) */
// @ts-ignore: decorator
@inline export function exp_t(xc: v128): v128 {
  return madd4(xc, kf(2), kf(3));
}

/** u = e^r − 1 for the clamped x and its t */
// @ts-ignore: decorator
@inline export function exp_u(xc: v128, t: v128): v128 {
  const k = f32x4.sub(t, kf(3));
  const r = madd4(k, kf(24), madd4(k, kf(11), xc)); // x − k·C1 − k·C2 (k·C1 exact)
  const z = f32x4.mul(r, r);
  let q = madd4(kf(6), r, kf(7));
  q = madd4(q, r, kf(8));
  q = madd4(q, r, kf(9));
  q = madd4(q, r, kf(10));
  return madd4(q, z, r);
}

/** u = e^r − 1 with the degree-3 q (S0..S3: softmax) */
// @ts-ignore: decorator
@inline export function exp_u5(xc: v128, t: v128): v128 {
  const k = f32x4.sub(t, kf(3));
  const r = madd4(k, kf(24), madd4(k, kf(11), xc));
  const z = f32x4.mul(r, r);
  let q = madd4(kf(25), r, kf(26));
  q = madd4(q, r, kf(27));
  q = madd4(q, r, kf(28));
  return madd4(q, z, r);
}

/** 2^k from t (k + 127 in t's low bits) */
// @ts-ignore: decorator
@inline export function exp_pow2k(t: v128): v128 {
  return i32x4.shl(t, 23);
}

// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  // clamp with pmin/pmax (one minps/maxps each; NaN passes through as x)
  const xc = f32x4.pmin(f32x4.pmax(x, kf(0)), kf(1));
  const t = exp_t(xc);
  return f32x4.mul(f32x4.add(exp_u(xc, t), kf(K_ONE)), exp_pow2k(t));
}

/** exp(x) for x ≤ 0 or NaN (softmax's x − max): no upper clamp, the degree-5 polynomial */
// @ts-ignore: decorator
@inline export function exp4_nonpos(x: v128): v128 {
  const xc = f32x4.pmax(x, kf(0));
  const t = exp_t(xc);
  return f32x4.mul(f32x4.add(exp_u5(xc, t), kf(K_ONE)), exp_pow2k(t));
}

// Scalar forms (the scalar build): the same steps
// @ts-ignore: decorator
@inline export function exp_kf(xc: f32): f32 {
  return nearest(xc * LOG2E);
}
// @ts-ignore: decorator
@inline export function exp_uf(xc: f32, k: f32): f32 {
  const r = (xc - k * EXP_C1) - k * EXP_C2;
  const z = r * r;
  let q = Q4 * r + Q3;
  q = q * r + Q2;
  q = q * r + Q1;
  q = q * r + Q0;
  return q * z + r;
}
// @ts-ignore: decorator
@inline export function exp_pow2kf(k: f32): f32 {
  return reinterpret<f32>((<i32>k + 127) << 23);
}

// @ts-ignore: decorator
@inline export function expf(x: f32): f32 {
  const xc = min(max(x, EXP_LO), EXP_HI); // NaN: min/max propagate it
  const k = exp_kf(xc);
  return (exp_uf(xc, k) + 1.0) * exp_pow2kf(k);
}

// =====================================================================================================
// log(x) for normal positive x, Cephes logf: x = 2^e · m, m ∈ [√½, √2); log x = e·ln2 + log1p(m − 1)
// with a degree-9 polynomial. Only used by the losses, on inputs clamped to ≥ 1e-7 (always normal).
// Max relative error vs Math.log on [1e-7, 1]: 7.8e-8 measured, ≤ 2e-7 asserted (test/kernels.test.ts).
// =====================================================================================================

// @ts-ignore: decorator
@inline export function log4(x: v128): v128 {
  // split into exponent e and mantissa m ∈ [0.5, 1)
  let e = f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_u(x, 23), kint(1)));
  let m = v128.or(v128.and(x, kint(2)), kint(3));
  // m < √½: m = 2m, e −= 1
  const small = f32x4.lt(m, kf(12));
  e = f32x4.sub(e, v128.and(small, kf(K_ONE)));
  m = f32x4.sub(f32x4.add(m, v128.and(small, m)), kf(K_ONE));
  const z = f32x4.mul(m, m);
  let y = madd4(kf(13), m, kf(14));
  y = madd4(y, m, kf(15));
  y = madd4(y, m, kf(16));
  y = madd4(y, m, kf(17));
  y = madd4(y, m, kf(18));
  y = madd4(y, m, kf(19));
  y = madd4(y, m, kf(20));
  y = madd4(y, m, kf(21));
  y = f32x4.mul(f32x4.mul(y, m), z);
  y = madd4(e, kf(5), y);
  y = madd4(z, kf(K_MHALF), y);
  // a NaN lane stays NaN and +Inf stays +Inf (the bit tricks above would make finite numbers of them)
  const r = v128.or(madd4(e, kf(4), f32x4.add(m, y)), f32x4.ne(x, x)); // all ones is a NaN
  const inf = f32x4.splat(Infinity);
  return v128.bitselect(inf, r, f32x4.eq(x, inf));
}

// @ts-ignore: decorator
@inline export function logf(x: f32): f32 {
  if (x != x || x == Infinity) return x; // NaN stays NaN and +Inf stays +Inf, as in log4
  const bits = reinterpret<i32>(x);
  let e = <f32>((bits >>> 23) - 126);
  let m = reinterpret<f32>((bits & 0x007fffff) | 0x3f000000);
  if (m < SQRTHF) {
    e -= 1;
    m = m + m - 1.0;
  } else {
    m = m - 1.0;
  }
  const z = m * m;
  let y = L0 * m + L1;
  y = y * m + L2;
  y = y * m + L3;
  y = y * m + L4;
  y = y * m + L5;
  y = y * m + L6;
  y = y * m + L7;
  y = y * m + L8;
  y = y * m * z;
  y = e * EXP_C2 + y;
  y = z * -0.5 + y;
  return e * EXP_C1 + (m + y);
}

// =====================================================================================================
// The approximations as kernels, for their error tests only (not part of the Kernels interface).
// =====================================================================================================

// x, y are (n): y = exp(x)
export function exp_forward(y: usize, x: usize, n: usize): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 16 <= n; i += 16) { // four in flight, as the activations
      const a = exp4(v128.load(x + (i << 2))), b = exp4(v128.load(x + (i << 2), 16));
      const c = exp4(v128.load(x + (i << 2), 32)), d = exp4(v128.load(x + (i << 2), 48));
      v128.store(y + (i << 2), a); v128.store(y + (i << 2), b, 16);
      v128.store(y + (i << 2), c, 32); v128.store(y + (i << 2), d, 48);
    }
    for (; i + 4 <= n; i += 4) v128.store(y + (i << 2), exp4(v128.load(x + (i << 2))));
  }
  for (; i < n; i++) store<f32>(y + (i << 2), expf(load<f32>(x + (i << 2))));
}

// x, y are (n), x > 0 normal: y = log(x)
export function log_forward(y: usize, x: usize, n: usize): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(y + (i << 2), log4(v128.load(x + (i << 2))));
  }
  for (; i < n; i++) store<f32>(y + (i << 2), logf(load<f32>(x + (i << 2))));
}
