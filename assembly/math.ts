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
export const EXP_LO: f32 = -87.33654475; // ln(2^-126)
const ROUND: f32 = 12582912.0; // 1.5·2^23: x + ROUND rounds x to an integer, which lands in the low mantissa bits
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;
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
  EXP_LO, EXP_HI, LOG2E, ROUND, EXP_C1, EXP_C2, P0, P1, P2, P3, P4, P5, // 0..11
  SQRTHF, L0, L1, L2, L3, L4, L5, L6, L7, L8, // 12..21
  1.0, -0.5, // 22, 23
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
// exp(x), Cephes expf: x = k·ln2 + r, |r| ≤ ln2/2; exp(x) = 2^k · p(r) with a degree-6 polynomial.
// ln2 is split in two (C1 exact in 9 bits) so k·C1 is exact and r keeps its low bits.
// Inputs are clamped to [EXP_LO, EXP_HI]; below EXP_LO (exp < 2^-126, the smallest normal) the result is 0.
// NaN propagates (pmin/pmax pass it through as x, and the polynomial carries it).
// Max relative error vs Math.exp on [−87, 88]: 7.8e-8 measured (< 1 ulp), ≤ 2e-7 asserted (test/kernels.test.ts).
// =====================================================================================================

// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  // clamp with pmin/pmax (one minps/maxps each; NaN passes through as x)
  const xc = f32x4.pmin(f32x4.pmax(x, kf(0)), kf(1));
  // t = x·log2e + 1.5·2^23: k = t − 1.5·2^23 is x·log2e rounded to nearest, and t's low bits hold k
  const t = madd4(xc, kf(2), kf(3));
  const k = f32x4.sub(t, kf(3));
  let r = f32x4.sub(xc, f32x4.mul(k, kf(4)));
  r = f32x4.sub(r, f32x4.mul(k, kf(5)));
  const z = f32x4.mul(r, r);
  let p = madd4(kf(6), r, kf(7));
  p = madd4(p, r, kf(8));
  p = madd4(p, r, kf(9));
  p = madd4(p, r, kf(10));
  p = madd4(p, r, kf(11));
  p = f32x4.add(madd4(p, z, r), kf(K_ONE));
  // 2^k: (bits(t) + 127) << 23 — bits(t) = 0x4B400000 + k, and 0x4B400000 << 23 wraps to 0
  const pow2k = i32x4.shl(i32x4.add(t, kint(0)), 23);
  const y = f32x4.mul(p, pow2k);
  return v128.andnot(y, f32x4.lt(x, kf(0))); // underflow → 0
}

// @ts-ignore: decorator
@inline export function expf(x: f32): f32 {
  if (x < EXP_LO) return 0;
  const xc = min(x, EXP_HI); // NaN: min propagates it
  const k = nearest(xc * LOG2E);
  let r = xc - k * EXP_C1;
  r = r - k * EXP_C2;
  const z = r * r;
  let p = P0 * r + P1;
  p = p * r + P2;
  p = p * r + P3;
  p = p * r + P4;
  p = p * r + P5;
  p = p * z + r + 1.0;
  const pow2k = reinterpret<f32>((<i32>k + 127) << 23);
  return p * pow2k;
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
  return madd4(e, kf(4), f32x4.add(m, y));
}

// @ts-ignore: decorator
@inline export function logf(x: f32): f32 {
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
    for (; i + 8 <= n; i += 8) { // two in flight, as the activations
      const a = exp4(v128.load(x + (i << 2)));
      const b = exp4(v128.load(x + (i << 2), 16));
      v128.store(y + (i << 2), a);
      v128.store(y + (i << 2), b, 16);
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
