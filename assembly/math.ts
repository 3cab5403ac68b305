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
// exp(x), Cephes expf: x = k·ln2 + r, |r| ≤ ln2/2; exp(x) = 2^k · p(r) with a degree-6 polynomial.
// ln2 is split in two (C1 exact in 9 bits) so k·C1 is exact and r keeps its low bits.
// Inputs are clamped to [EXP_LO, EXP_HI]; below EXP_LO (exp < 2^-126, the smallest normal) the result is 0.
// NaN propagates (min/max, and the polynomial, carry it through).
// Max relative error vs Math.exp on [−87, 88]: 7.8e-8 measured (< 1 ulp), ≤ 2e-7 asserted (test/kernels.test.ts).
// =====================================================================================================

const LOG2E: f32 = 1.44269504088896341;
const EXP_C1: f32 = 0.693359375;
const EXP_C2: f32 = -2.12194440e-4;
const EXP_HI: f32 = 88.0; // exp(88) = 1.65e38 < FLT_MAX; keeps k ≤ 127
export const EXP_LO: f32 = -87.33654475; // ln(2^-126)
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;

// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  const xc = f32x4.min(f32x4.max(x, f32x4.splat(EXP_LO)), f32x4.splat(EXP_HI));
  const k = f32x4.nearest(f32x4.mul(xc, f32x4.splat(LOG2E)));
  let r = f32x4.sub(xc, f32x4.mul(k, f32x4.splat(EXP_C1)));
  r = f32x4.sub(r, f32x4.mul(k, f32x4.splat(EXP_C2)));
  const z = f32x4.mul(r, r);
  let p = madd4(f32x4.splat(P0), r, f32x4.splat(P1));
  p = madd4(p, r, f32x4.splat(P2));
  p = madd4(p, r, f32x4.splat(P3));
  p = madd4(p, r, f32x4.splat(P4));
  p = madd4(p, r, f32x4.splat(P5));
  p = f32x4.add(madd4(p, z, r), f32x4.splat(1.0));
  // 2^k: k + 127 into the exponent field
  const pow2k = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(k), i32x4.splat(127)), 23);
  const y = f32x4.mul(p, pow2k);
  return v128.andnot(y, f32x4.lt(x, f32x4.splat(EXP_LO))); // underflow → 0
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

// @ts-ignore: decorator
@inline export function log4(x: v128): v128 {
  // split into exponent e and mantissa m ∈ [0.5, 1)
  let e = f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_u(x, 23), i32x4.splat(126)));
  let m = v128.or(v128.and(x, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000));
  // m < √½: m = 2m, e −= 1 (masks are all-ones = −1 as i32, so add the mask)
  const small = f32x4.lt(m, f32x4.splat(SQRTHF));
  e = f32x4.sub(e, v128.and(small, f32x4.splat(1.0)));
  m = f32x4.sub(f32x4.add(m, v128.and(small, m)), f32x4.splat(1.0));
  const z = f32x4.mul(m, m);
  let y = madd4(f32x4.splat(L0), m, f32x4.splat(L1));
  y = madd4(y, m, f32x4.splat(L2));
  y = madd4(y, m, f32x4.splat(L3));
  y = madd4(y, m, f32x4.splat(L4));
  y = madd4(y, m, f32x4.splat(L5));
  y = madd4(y, m, f32x4.splat(L6));
  y = madd4(y, m, f32x4.splat(L7));
  y = madd4(y, m, f32x4.splat(L8));
  y = f32x4.mul(f32x4.mul(y, m), z);
  y = madd4(e, f32x4.splat(EXP_C2), y);
  y = madd4(z, f32x4.splat(-0.5), y);
  return madd4(e, f32x4.splat(EXP_C1), f32x4.add(m, y));
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
