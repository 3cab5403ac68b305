// Batch gather with input noise: the data pipeline's kernel. Row r of dst is source row s = idx ? idx[r] :
// row0 + r, corrupted by noise drawn from a counter-based generator, so the noise of element (s, j) depends only
// on (k0, k1, s, j): not on the batch, its order, or how the rows are split between threads. The js twin
// (src/backend/noise-js.ts) follows the same stream; keys come from noiseKey(seed, stream) there.
//
// THE STREAM (normative: both implementations follow it exactly)
//
//   kind      0 NOISE_NONE (plain gather, bits copied), 1 NOISE_GAUSSIAN, 2 NOISE_SALT_PEPPER, 3 NOISE_MASK
//             (any other code: a plain gather too; the TS layer validates kinds before they get here)
//   hash(x)   u32 → u32, "lowbias32" (Wellons): x ^= x >>> 16; x *= 0x7feb352d; x ^= x >>> 15;
//             x *= 0x846ca68b; x ^= x >>> 16 (all mod 2^32)
//   rand(c)   hash(hash(c + k0) ^ k1) for a u32 counter c (wrapping)
//
//   gaussian  Box–Muller, the pairs laid out so the SIMD path needs no shuffles. In a row of width W, pixel j is in
//             block b = j >> 3, lane l = j & 3, half = (j >> 2) & 1. Pairs per row P = ceil(W/8)·4; the pair
//             counter cp = s·P + b·4 + l (u32, wrapping); h1 = rand(2·cp), h2 = rand(2·cp + 1);
//             u1 = ((h1 >>> 8) + 1)·2^-24 ∈ (0, 1], u2 = (h2 >>> 8)·2^-24 ∈ [0, 1);
//             ρ = sqrt(−2·ln u1); z = half == 0 ? ρ·cos(2π·u2) : ρ·sin(2π·u2);
//             out = clip(x + factor·z) in f32 (factor·z rounded, then the add), clip(v) = v < 0 ? 0 : (v > 1 ? 1 : v)
//             (= min(max(v, 0), 1) for numbers; a NaN pixel stays NaN). So 8 pixels are 4 lanes × (cos, sin):
//             lanes 0..3 of the cos vector are pixels j..j+3, of the sin vector pixels j+4..j+7.
//   salt-pepper, mask   one draw per pixel: h = rand(s·W + j), u = (h >>> 8)·2^-24, compared in f32:
//             mask         out = u < factor ? 0 : x
//             salt-pepper  out = u < factor ? (u < factor/2 ? 0 : 1) : x
//
// Tails: a row whose width is not a multiple of 8 (gaussian) or 4 gets exactly what the formula defines: the SIMD
// builds compute the whole block with the vector code and store only the valid pixels; the scalar build runs the
// same polynomials in scalar form. Rows are independent: a sub-range of rows (dst + r0·W·4, idx + r0·4 or
// row0 + r0, count r1 − r0) gives bit-identical output to the whole call (how the thread pool splits it).
//
// Accuracy of z against the f64 formula (Math.log / cos / sin): ln from math.ts (Cephes logf, 7.8e-8 relative),
// sin/cos below (≤ 1e-7 absolute), sqrt correctly rounded. test/noise-kernel.test.ts asserts 2e-6·(1 + |z|) absolute
// (measured: 3.5e-7 max over every width, |z| up to 5.8). The salt-pepper / mask draws are exact (integers, exact
// f32 compares), so those kinds agree with the js twin bit for bit. The simd and scalar builds agree bit for bit
// (same operations in the same order); the relaxed build's FMA rounds some normals differently (by an ulp or so, well inside the tolerance).
// dst must not overlap src. No globals, no allocation.

import { log4, logf, madd4, kf, K_ONE } from './math';

// Noise codes (src/backend/backend.ts: NOISE)
export const NOISE_NONE: i32 = 0;
export const NOISE_GAUSSIAN: i32 = 1;
export const NOISE_SALT_PEPPER: i32 = 2;
export const NOISE_MASK: i32 = 3;

// =====================================================================================================
// Constants: vectors by broadcast load from a static table (see math.ts: a v128.const costs 3 instructions per use)
// =====================================================================================================

const H1: u32 = 0x7feb352d;
const H2: u32 = 0x846ca68b;
export const INV24: f32 = 5.9604644775390625e-8; // 2^-24
// sin(π/2·f) = f·(A1 + A3·w + A5·w² + A7·w³), cos(π/2·f) = 1 + w·(B2 + B4·w + B6·w²), w = f², f ∈ [−½, ½]
// (the quarter turn as the variable, so there is no inexact multiply by π/2). Minimax for absolute error (Lawson
// iterations, each coefficient rounded to f32 and the rest refitted). Evaluated in f32 over every f the stream can
// produce (multiples of 2^-22): max |error| 7.0e-8 for sin, 9.8e-8 for cos (f32 rounding near 1 is 6e-8).
const A1: f32 = 1.570796251296997;
const A3: f32 = -0.6459610462188721;
const A5: f32 = 0.07965986430644989;
const A7: f32 = -0.004554165527224541;
const B2: f32 = -1.2336980104446411;
const B4: f32 = 0.25360700488090515;
const B6: f32 = -0.02042795903980732;

const NF: usize = memory.data<f32>([INV24, 4.0, -2.0, A1, A3, A5, A7, B2, B4, B6, 0.0], 16);
const NF_INV24 = 0, NF_4 = 1, NF_M2 = 2, NF_A1 = 3, NF_A3 = 4, NF_A5 = 5, NF_A7 = 6, NF_B2 = 7, NF_B4 = 8, NF_B6 = 9;
const NF_ZERO = 10;
// [0..3]: lane offsets 0,1,2,3 (a full v128); then the hash multipliers and small integers
export const NI: usize = memory.data<u32>([0, 1, 2, 3, H1, H2, 1, 2, 4], 16);
const NI_H1 = 4, NI_H2 = 5, NI_1 = 6, NI_2 = 7, NI_4 = 8;

// @ts-ignore: decorator
@inline function nf(i: i32): v128 {
  return v128.load32_splat(NF + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline function ni(i: i32): v128 {
  return v128.load32_splat(NI + (<usize>i << 2));
}

// =====================================================================================================
// The generator: lowbias32 and rand(c) = hash(hash(c + k0) ^ k1), vector and scalar (dropout.ts's masks too)
// =====================================================================================================

// @ts-ignore: decorator
@inline function hash4(v: v128): v128 {
  let x = v128.xor(v, i32x4.shr_u(v, 16));
  x = i32x4.mul(x, ni(NI_H1));
  x = v128.xor(x, i32x4.shr_u(x, 15));
  x = i32x4.mul(x, ni(NI_H2));
  return v128.xor(x, i32x4.shr_u(x, 16));
}

// @ts-ignore: decorator
@inline export function rand4(c: v128, k0: v128, k1: v128): v128 {
  return hash4(v128.xor(hash4(i32x4.add(c, k0)), k1));
}

// @ts-ignore: decorator
@inline function hashu(v: u32): u32 {
  let x = v ^ (v >>> 16);
  x *= H1;
  x ^= x >>> 15;
  x *= H2;
  return x ^ (x >>> 16);
}

// @ts-ignore: decorator
@inline export function randu(c: u32, k0: u32, k1: u32): u32 {
  return hashu(hashu(c + k0) ^ k1);
}

// =====================================================================================================
// sincos(2π·u) for u = k·2^-24 ∈ [0, 1): t = 4u (exact), q = nearest(t), f = t − q ∈ [−½, ½] (exact);
// 2πu = (π/2)·(q + f), so with s = sin(π/2·f), c = cos(π/2·f): quadrant q mod 4 = 0: (s, c), 1: (c, −s),
// 2: (−s, −c), 3: (−c, s) as (sin, cos). Odd q swaps; the sign of sin is bit 1 of q, of cos bit 1 of q + 1.
// =====================================================================================================

/** One block of 8 pixels (4 pairs, counters cp): the first n ≤ 8 pixels of d = clip(x + factor·z). */
// @ts-ignore: decorator
@inline function gauss_block(d: usize, x: usize, n: i32, cp: v128, k0: v128, k1: v128, fv: v128): void {
  const c1 = i32x4.shl(cp, 1);
  const h1 = rand4(c1, k0, k1);
  const h2 = rand4(v128.or(c1, ni(NI_1)), k0, k1);
  // u1 = ((h1 >>> 8) + 1)·2^-24 ∈ (0, 1]: exact (≤ 2^24 fits the f32 mantissa); u2 = (h2 >>> 8)·2^-24
  const u1 = f32x4.mul(f32x4.convert_i32x4_s(i32x4.add(i32x4.shr_u(h1, 8), ni(NI_1))), nf(NF_INV24));
  const u2 = f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(h2, 8)), nf(NF_INV24));
  // ρ = sqrt(−2 ln u1): u1 ≥ 2^-24 is normal, as log4 needs; ln 1 = 0 exactly
  const rho = f32x4.sqrt(f32x4.mul(log4(u1), nf(NF_M2)));
  const t = f32x4.mul(u2, nf(NF_4));
  const qf = f32x4.nearest(t);
  const f = f32x4.sub(t, qf);
  const q = i32x4.trunc_sat_f32x4_s(qf);
  const w = f32x4.mul(f, f);
  let s = madd4(nf(NF_A7), w, nf(NF_A5));
  s = madd4(s, w, nf(NF_A3));
  s = madd4(s, w, nf(NF_A1));
  s = f32x4.mul(s, f);
  let c = madd4(nf(NF_B6), w, nf(NF_B4));
  c = madd4(c, w, nf(NF_B2));
  c = madd4(c, w, kf(K_ONE));
  const swap = i32x4.sub(i32x4.splat(0), v128.and(q, ni(NI_1))); // all ones where q is odd
  const sinSign = i32x4.shl(v128.and(q, ni(NI_2)), 30);
  const cosSign = i32x4.shl(v128.and(i32x4.add(q, ni(NI_1)), ni(NI_2)), 30);
  const zs = f32x4.mul(rho, v128.xor(v128.bitselect(c, s, swap), sinSign));
  const zc = f32x4.mul(rho, v128.xor(v128.bitselect(s, c, swap), cosSign));
  if (n >= 8) {
    v128.store(d, clip4(f32x4.add(v128.load(x), f32x4.mul(fv, zc))));
    v128.store(d, clip4(f32x4.add(v128.load(x, 16), f32x4.mul(fv, zs))), 16);
  } else {
    const nc = n < 4 ? n : 4;
    store_n(d, clip4(f32x4.add(load_n(x, nc), f32x4.mul(fv, zc))), nc);
    if (n > 4) store_n(d + 16, clip4(f32x4.add(load_n(x + 16, n - 4), f32x4.mul(fv, zs))), n - 4);
  }
}

// @ts-ignore: decorator
@inline function clip4(v: v128): v128 {
  // pmax(v, 0) = v < 0 ? 0 : v, pmin(v, 1) = 1 < v ? 1 : v: one maxps / minps each, NaN passes through as v
  return f32x4.pmin(f32x4.pmax(v, nf(NF_ZERO)), kf(K_ONE));
}

// @ts-ignore: decorator
@inline function clipf(v: f32): f32 {
  const a: f32 = v < 0 ? 0 : v; // the same selects as clip4: NaN passes through
  return a > 1 ? 1 : a;
}

// =====================================================================================================
// Partial vectors: 1..4 lanes, without reading or writing past them
// =====================================================================================================

// @ts-ignore: decorator
@inline function load_n(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  let v = f32x4.replace_lane(f32x4.splat(0), 0, load<f32>(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

// @ts-ignore: decorator
@inline function store_n(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

// =====================================================================================================
// The kernel
// =====================================================================================================

// dst is (count,width); source row of r is s = idx ? idx[r] : row0 + r (idx an i32 array), src is (·,width)
export function gather_noise(dst: usize, src: usize, idx: usize, row0: i32, count: i32, width: i32, kind: i32, factor: f32, k0: u32, k1: u32): void {
  const rowBytes = <usize>width << 2;
  for (let r = 0; r < count; r++) {
    const s = idx ? load<i32>(idx + (<usize>r << 2)) : row0 + r;
    const d = dst + <usize>r * rowBytes;
    const x = src + <usize>s * rowBytes;
    if (kind == NOISE_GAUSSIAN) gaussian_row(d, x, <u32>s, width, factor, k0, k1);
    else if (kind == NOISE_SALT_PEPPER || kind == NOISE_MASK) impulse_row(d, x, <u32>s, width, kind == NOISE_SALT_PEPPER, factor, k0, k1);
    else memory.copy(d, x, rowBytes);
  }
}

// d, x are (width): one gaussian row, source row s
function gaussian_row(d: usize, x: usize, s: u32, width: i32, factor: f32, k0: u32, k1: u32): void {
  const P = <u32>((width + 7) >> 3) << 2;
  const base = s * P; // cp of block 0, lane 0 (u32 wrap)
  if (ASC_FEATURE_SIMD) {
    const kv0 = i32x4.splat(k0), kv1 = i32x4.splat(k1), fv = f32x4.splat(factor);
    let cp = i32x4.add(i32x4.splat(base), v128.load(NI)); // block 0's four pair counters
    let j = 0;
    for (; j + 8 <= width; j += 8) {
      gauss_block(d + (<usize>j << 2), x + (<usize>j << 2), 8, cp, kv0, kv1, fv);
      cp = i32x4.add(cp, ni(NI_4));
    }
    // the last partial block: the same vector computation, only the valid pixels loaded and stored
    if (j < width) gauss_block(d + (<usize>j << 2), x + (<usize>j << 2), width - j, cp, kv0, kv1, fv);
    return;
  }
  // scalar build: one pair per (block, lane), both its pixels
  const F = factor;
  for (let j0 = 0; j0 < width; j0 += 8) {
    const cb = base + (<u32>(j0 >> 3) << 2);
    for (let l = 0; l < 4; l++) {
      const j = j0 + l;
      if (j >= width) break;
      const cp2 = (cb + <u32>l) << 1;
      const h1 = randu(cp2, k0, k1), h2 = randu(cp2 | 1, k0, k1);
      const u1 = <f32>((h1 >>> 8) + 1) * INV24;
      const u2 = <f32>(h2 >>> 8) * INV24;
      const rho = sqrt<f32>(logf(u1) * -2.0);
      const t = u2 * 4.0;
      const qf = nearest<f32>(t);
      const f = t - qf;
      const q = <i32>qf;
      const w = f * f;
      let sp = A7 * w + A5;
      sp = sp * w + A3;
      sp = sp * w + A1;
      sp = sp * f;
      let cpoly = B6 * w + B4;
      cpoly = cpoly * w + B2;
      cpoly = cpoly * w + 1.0;
      let sn = q & 1 ? cpoly : sp;
      let cs = q & 1 ? sp : cpoly;
      if (q & 2) sn = -sn;
      if ((q + 1) & 2) cs = -cs;
      store<f32>(d + (<usize>j << 2), clipf(load<f32>(x + (<usize>j << 2)) + F * (rho * cs)));
      if (j + 4 < width) store<f32>(d + (<usize>(j + 4) << 2), clipf(load<f32>(x + (<usize>(j + 4) << 2)) + F * (rho * sn)));
    }
  }
}

/** 4 pixels (counters c, the first n ≤ 4 valid) of one salt-pepper or mask row. */
// @ts-ignore: decorator
@inline function impulse_block(d: usize, x: usize, n: i32, c: v128, k0: v128, k1: v128, fv: v128, hv: v128, saltPepper: bool): void {
  const u = f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(rand4(c, k0, k1), 8)), nf(NF_INV24));
  const hit = f32x4.lt(u, fv);
  const xv = load_n(x, n);
  // hit: salt-pepper 0 (u < factor/2) or 1, mask 0
  const out = saltPepper
    ? v128.bitselect(v128.andnot(kf(K_ONE), f32x4.lt(u, hv)), xv, hit)
    : v128.andnot(xv, hit);
  store_n(d, out, n);
}

// d, x are (width): one salt-pepper or mask row, source row s
function impulse_row(d: usize, x: usize, s: u32, width: i32, saltPepper: bool, factor: f32, k0: u32, k1: u32): void {
  const base = s * <u32>width; // the counter of pixel 0 (u32 wrap)
  const half = factor * 0.5; // = factor/2 exactly rounded, as the js twin's Math.fround(factor / 2)
  if (ASC_FEATURE_SIMD) {
    const kv0 = i32x4.splat(k0), kv1 = i32x4.splat(k1), fv = f32x4.splat(factor), hv = f32x4.splat(half);
    let c = i32x4.add(i32x4.splat(base), v128.load(NI));
    let j = 0;
    // two loops, so the kind is no branch per vector
    if (saltPepper) {
      for (; j + 4 <= width; j += 4) {
        impulse_block(d + (<usize>j << 2), x + (<usize>j << 2), 4, c, kv0, kv1, fv, hv, true);
        c = i32x4.add(c, ni(NI_4));
      }
      if (j < width) impulse_block(d + (<usize>j << 2), x + (<usize>j << 2), width - j, c, kv0, kv1, fv, hv, true);
    } else {
      for (; j + 4 <= width; j += 4) {
        impulse_block(d + (<usize>j << 2), x + (<usize>j << 2), 4, c, kv0, kv1, fv, hv, false);
        c = i32x4.add(c, ni(NI_4));
      }
      if (j < width) impulse_block(d + (<usize>j << 2), x + (<usize>j << 2), width - j, c, kv0, kv1, fv, hv, false);
    }
    return;
  }
  for (let j = 0; j < width; j++) {
    const u = <f32>(randu(base + <u32>j, k0, k1) >>> 8) * INV24;
    const o = <usize>j << 2;
    store<f32>(d + o, u < factor ? (saltPepper && u >= half ? 1 : 0) : load<f32>(x + o));
  }
}
