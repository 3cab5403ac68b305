// 3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016): each 2×2 output tile comes from a 4×4 input patch d as
//   Y = Aᵀ [ Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B) ] A,
// 16 multiplies per tile and channel pair where the direct conv does 36. The sum over input channels c is, for
// each of the 16 transformed positions ξ, a GEMM (NO × NI)·(NI × tiles), run by the GEMM's 4×8 micro-kernel:
//   U[ξ] (NO × NI)    the transformed weights, packed once per call in 4-row strips (the micro-kernel's A),
//   V[ξ] (NI × tiles) the transformed input of a block of tile rows, written directly as 8-column strips (its B),
//   M[ξ] (NO × tiles) their product, then Aᵀ M A (+ bias, then the activation) into y.
// Tiles are taken a tile row at a time, four per vector (lanes = tiles): the transforms read a tile row padded to a
// multiple of 4 tiles (the padded input buffer is zero there, the extra outputs are not stored), while V and M of
// the forward hold it in an even count of tiles (tiles_s), so no 8-tile strip of the GEMM is padding. Blocks of tile
// rows keep V and M in L2. Per sample, so a thread split by samples gives the same bits for any count; the sums differ from the
// direct conv's (another algorithm) within float32 rounding of the transforms.
//
// Used by conv.ts for 3×3 stride-1 convs with enough channels (WINO_MIN_CHANNELS): the forward and the stride-1
// backward-data (a 3×3 stride-1 conv of dy with w flipped and transposed), so also ConvTranspose2D's pair.

import { gemm_block, micro, ADD, GEMM_SCRATCH_BYTES, STORE } from './gemm';
import { ACT_NONE, act_forward } from './activations';
import { pad_copy } from './conv';
import { has_non_finite } from './util';

/** Fewest input and output channels for which conv.ts takes this path (thinner convs: the direct kernel). */
export const WINO_MIN_CHANNELS: i32 = 4;

// @ts-ignore: decorator
@inline function up4(n: i32): i32 {
  return (n + 3) & ~3;
}
// @ts-ignore: decorator
@inline function up8(n: i32): i32 {
  return (n + 7) & ~7;
}

// floats from one transformed position ξ's matrix to the next: n, plus 16 so the 16 planes a transform writes at
// once do not fall on the same L1 sets when n·4 bytes is a multiple of 4 KiB
// @ts-ignore: decorator
@inline function plane(n: i32): i32 {
  return n + 16;
}

/** The geometry of one call: tiles, the padded input, the block of tile rows. A tile row is read 4 tiles at a
 *  time (tiles_w, up to a multiple of 4); the forward's V and M hold it in tiles_s (an even count: 14 for a 28-wide
 *  output, not 16), so the micro-kernel's 8-tile strips carry no padding tiles. */
// @ts-ignore: decorator
@inline function tiles_w(OW: i32): i32 {
  return up4((OW + 1) >> 1);
}
// @ts-ignore: decorator
@inline function tiles_s(OW: i32): i32 {
  return ((OW + 1) >> 1) + 1 & ~1;
}
// @ts-ignore: decorator
@inline function block_rows(NI: i32, NO: i32, OH: i32, OW: i32): i32 {
  // V and M of a block ≈ 256 KiB (16 positions × (NI + NO) floats per tile); rows that fill whole 8-tile strips
  // when there are such (4 rows of 14 tiles: 7 strips), else the most that fit
  const tilesH = (OH + 1) >> 1, TS = tiles_s(OW);
  const most = max(1, min(tilesH, 4096 / ((NI + up4(NO)) * TS)));
  for (let r = most; r > 1; r--) if ((r * TS & 7) == 0) return r;
  return most;
}

// the weight gradient's block of tile rows: its tiles are the K of 16 GEMMs, so larger (V and M̄ ≈ 1 MiB: a 28×28
// sample's 14 tile rows in one block, 16 GEMMs per sample rather than 32, each packing its operands once)
// @ts-ignore: decorator
@inline function grad_rows(NI: i32, NO: i32, OH: i32, OW: i32): i32 {
  return max(1, min((OH + 1) >> 1, 16384 / ((NI + NO) * tiles_w(OW))));
}

// f32 elements of scratch one thread needs: U, V and M of a block, the padded sample; for the weight gradient
// dU, V and M̄ of a block, the padded sample and dy, gemm_block's scratch (the larger of the two)
export function wino_scratch(NI: i32, NO: i32, OH: i32, OW: i32): i32 {
  const TW = tiles_w(OW), tilesH = (OH + 1) >> 1;
  const Tb = up8(block_rows(NI, NO, OH, OW) * tiles_s(OW));
  const xpf = NI * (2 * tilesH + 2) * (2 * TW + 2);
  const fwd = 16 * (plane(up4(NO) * NI) + plane(NI * Tb) + plane(up4(NO) * Tb)) + xpf;
  const Tg = grad_rows(NI, NO, OH, OW) * TW;
  const grad = 16 * (plane(NO * NI) + plane(NI * Tg) + plane(NO * Tg)) + xpf + NO * (2 * tilesH) * (2 * TW) + <i32>(GEMM_SCRATCH_BYTES >> 2);
  return max(fwd, grad);
}

// Once per call, before wino_sample: U from g[o][i] = w[o][i] (w (NO,NI,3,3)), or with `flip` g[o][i] = w[i][o]
// rotated 180° (w (NI,NO,3,3): the backward-data of the conv w)
export function wino_prepare(ws: usize, w: usize, NI: i32, NO: i32, OH: i32, OW: i32, flip: bool): void {
  const NOp = up4(NO), Tb = up8(block_rows(NI, NO, OH, OW) * tiles_s(OW));
  const uPlane = <usize>plane(NOp * NI) << 2, vPlane = <usize>plane(NI * Tb) << 2;
  weights(ws, uPlane, w, NO, NI, flip);
  // V follows U; the 8-column strips past the last tile row of a block stay zero (their outputs are not stored)
  memory.fill(ws + 16 * uPlane, 0, 16 * vPlane);
}

// One sample: y (NO,OH,OW) = act(b + conv3×3(x, g)), x (NI,H,W) zero-padded by PT (top), PL (left) and as far as
// needed at the bottom and right; b (NO) or 0. False when a sum before the activation is not finite: NaN and ±Inf
// spread through the transforms to outputs the direct conv keeps finite (or turns Inf − Inf into NaN where it
// has ±Inf), so the caller recomputes such a sample directly (a per-sample choice: the same for any thread split).
export function wino_sample(y: usize, x: usize, b: usize, ws: usize, NI: i32, H: i32, W: i32, NO: i32, OH: i32, OW: i32, PT: i32, PL: i32, act: i32): bool {
  // U (wino_prepare's), then V and M of a block, then the padded sample
  const NOp = up4(NO), TW = tiles_w(OW), TS = tiles_s(OW), tilesH = (OH + 1) >> 1;
  const rowsB = block_rows(NI, NO, OH, OW), Tb = up8(rowsB * TS);
  const HP = 2 * tilesH + 2, WP = 2 * TW + 2;
  const uPlane = <usize>plane(NOp * NI) << 2, vPlane = <usize>plane(NI * Tb) << 2, mPlane = <usize>plane(NOp * Tb) << 2;
  const U = ws, V = U + 16 * uPlane, M = V + 16 * vPlane, xp = M + 16 * mPlane;
  pad_copy(xp, x, 0, NI, H, W, PT, PL, HP, WP);
  let finite = true;
  for (let th0 = 0; th0 < tilesH; th0 += rowsB) {
    const rows = min(rowsB, tilesH - th0);
    inputs(V, vPlane, xp, NI, HP, WP, TS, Tb, th0, rows, false);
    const ldm = <usize>Tb << 2;
    const strips = up8(rows * TS) >> 3;
    for (let xi = 0; xi < 16; xi++) {
      const Ux = U + <usize>xi * uPlane;
      const Vx = V + <usize>xi * vPlane;
      const Mx = M + <usize>xi * mPlane;
      for (let q = 0; q < NOp; q += 4) {
        const a = Ux + (<usize>(q * NI) << 2);
        const c = Mx + <usize>q * ldm;
        for (let t = 0; t < strips; t++) micro(a, Vx + (<usize>(t * NI) << 5), NI, c + (<usize>t << 5), ldm, STORE, 0);
      }
    }
    if (!outputs(y, M, mPlane, b, act, NO, OH, OW, TS, Tb, th0, rows)) finite = false;
  }
  return finite;
}

// U[ξ] in 4-row strips: U + ξ·xiStride + (q·NI + i)·16 bytes + (o − q)·4 = (G g[o][i] Gᵀ)[ξ], zero rows past NO
function weights(U: usize, xiStride: usize, w: usize, NO: i32, NI: i32, flip: bool): void {
  const NOp = up4(NO);
  for (let o = 0; o < NOp; o++) {
    for (let i = 0; i < NI; i++) {
      // g (3×3), read rotated when flipped
      const src = flip ? w + (<usize>((i * NO + o) * 9) << 2) : w + (<usize>((o * NI + i) * 9) << 2);
      let g0: f32 = 0, g1: f32 = 0, g2: f32 = 0, g3: f32 = 0, g4: f32 = 0, g5: f32 = 0, g6: f32 = 0, g7: f32 = 0, g8: f32 = 0;
      if (o < NO) {
        if (flip) {
          g0 = load<f32>(src, 32); g1 = load<f32>(src, 28); g2 = load<f32>(src, 24);
          g3 = load<f32>(src, 20); g4 = load<f32>(src, 16); g5 = load<f32>(src, 12);
          g6 = load<f32>(src, 8); g7 = load<f32>(src, 4); g8 = load<f32>(src);
        } else {
          g0 = load<f32>(src); g1 = load<f32>(src, 4); g2 = load<f32>(src, 8);
          g3 = load<f32>(src, 12); g4 = load<f32>(src, 16); g5 = load<f32>(src, 20);
          g6 = load<f32>(src, 24); g7 = load<f32>(src, 28); g8 = load<f32>(src, 32);
        }
      }
      // t = G g (4×3): rows g0, (g0+g1+g2)/2, (g0−g1+g2)/2, g2 of each column
      const t00 = g0, t01 = g1, t02 = g2;
      const t10 = (g0 + g3 + g6) * 0.5, t11 = (g1 + g4 + g7) * 0.5, t12 = (g2 + g5 + g8) * 0.5;
      const t20 = (g0 - g3 + g6) * 0.5, t21 = (g1 - g4 + g7) * 0.5, t22 = (g2 - g5 + g8) * 0.5;
      const t30 = g6, t31 = g7, t32 = g8;
      const d = U + (<usize>((o >> 2) * 4 * NI + i * 4 + (o & 3)) << 2);
      put_row(d, xiStride, 0, t00, t01, t02);
      put_row(d, xiStride, 4, t10, t11, t12);
      put_row(d, xiStride, 8, t20, t21, t22);
      put_row(d, xiStride, 12, t30, t31, t32);
    }
  }
}

// the row (t0, t1, t2) of G g times Gᵀ: U[ξ0 + j] for j = 0..3
// @ts-ignore: decorator
@inline function put_row(d: usize, xiStride: usize, xi0: i32, t0: f32, t1: f32, t2: f32): void {
  store<f32>(d + <usize>xi0 * xiStride, t0);
  store<f32>(d + <usize>(xi0 + 1) * xiStride, (t0 + t1 + t2) * 0.5);
  store<f32>(d + <usize>(xi0 + 2) * xiStride, (t0 - t1 + t2) * 0.5);
  store<f32>(d + <usize>(xi0 + 3) * xiStride, t2);
}

// V[ξ] for tile rows [th0, th0 + rows): V + ξ·xiStride + ((t >> 3)·NI·8 + i·8 + (t & 7))·4 = (Bᵀ d B)[ξ] of tile
// t (local, row-major, TS per row: an even count) of input channel i (the micro-kernel's B strips), or with `plain`
// (TS a multiple of 4) at V + ξ·xiStride + (i·Tb + t)·4 (rows of an (NI, Tb) matrix); xp (NI,HP,WP)
function inputs(V: usize, xiStride: usize, xp: usize, NI: i32, HP: i32, WP: i32, TS: i32, Tb: i32, th0: i32, rows: i32, plain: bool): void {
  const rowBytes = <usize>WP << 2;
  for (let i = 0; i < NI; i++) {
    const xc = xp + (<usize>(i * HP * WP) << 2);
    for (let r = 0; r < rows; r++) {
      const base = xc + <usize>(2 * (th0 + r)) * rowBytes;
      for (let tw = 0; tw < TS; tw += 4) {
        // 4 tiles from t, or the row's last 2; in strips t is even, so they are 4 neighbouring floats of a strip, or
        // 2 at the end of one and 2 at the start of the next
        const t = r * TS + tw, count = min(4, TS - tw);
        const d = V + (<usize>(plain ? i * Tb + t : (t >> 3) * NI * 8 + i * 8 + (t & 7)) << 2);
        const t2 = t + 2;
        const d2 = count < 4 ? 0 : plain || (t & 7) <= 4 ? d + 8 : V + (<usize>((t2 >> 3) * NI * 8 + i * 8 + (t2 & 7)) << 2);
        if (ASC_FEATURE_SIMD) input_tiles4(d, d2, xiStride, base + (<usize>(2 * tw) << 2), rowBytes);
        else {
          for (let l = 0; l < count; l++) {
            const tl = t + l;
            const dl = V + (<usize>(plain ? i * Tb + tl : (tl >> 3) * NI * 8 + i * 8 + (tl & 7)) << 2);
            input_tile1(dl, xiStride, base + (<usize>(2 * (tw + l)) << 2), rowBytes);
          }
        }
      }
    }
  }
}

// Bᵀ d B of 4 neighbouring tiles (lanes): d row k is at p + k·rowBytes, tile l's columns 2l..2l+3; lanes 0-1 go to
// d, lanes 2-3 to d2 (d + 8: one vector; 0: none)
// @ts-ignore: decorator
@inline function input_tiles4(d: usize, d2: usize, xiStride: usize, p: usize, rowBytes: usize): void {
  // rows d_k split into their 4 columns j (4 lanes each); Bᵀ d: e0 = d0 − d2, e1 = d1 + d2, e2 = d2 − d1, e3 = d1 − d3
  let r0 = p, r1 = p + rowBytes, r2 = p + 2 * rowBytes, r3 = p + 3 * rowBytes;
  const a0 = cols4(r0, 0), a1 = cols4(r0, 1), a2 = cols4(r0, 2), a3 = cols4(r0, 3);
  const b0 = cols4(r1, 0), b1 = cols4(r1, 1), b2 = cols4(r1, 2), b3 = cols4(r1, 3);
  const c0 = cols4(r2, 0), c1 = cols4(r2, 1), c2 = cols4(r2, 2), c3 = cols4(r2, 3);
  const e00 = f32x4.sub(a0, c0), e01 = f32x4.sub(a1, c1), e02 = f32x4.sub(a2, c2), e03 = f32x4.sub(a3, c3);
  const e10 = f32x4.add(b0, c0), e11 = f32x4.add(b1, c1), e12 = f32x4.add(b2, c2), e13 = f32x4.add(b3, c3);
  const e20 = f32x4.sub(c0, b0), e21 = f32x4.sub(c1, b1), e22 = f32x4.sub(c2, b2), e23 = f32x4.sub(c3, b3);
  const f0 = cols4(r3, 0), f1 = cols4(r3, 1), f2 = cols4(r3, 2), f3 = cols4(r3, 3);
  const e30 = f32x4.sub(b0, f0), e31 = f32x4.sub(b1, f1), e32 = f32x4.sub(b2, f2), e33 = f32x4.sub(b3, f3);
  row_b(d, d2, xiStride, 0, e00, e01, e02, e03);
  row_b(d, d2, xiStride, 4, e10, e11, e12, e13);
  row_b(d, d2, xiStride, 8, e20, e21, e22, e23);
  row_b(d, d2, xiStride, 12, e30, e31, e32, e33);
}

// column j of 4 tiles 2 columns apart (lanes): the floats at r + (2l + j)·4
// @ts-ignore: decorator
@inline function cols4(r: usize, j: i32): v128 {
  if (j == 0) return f32x4.shuffle(v128.load(r), v128.load(r, 16), 0, 2, 4, 6);
  if (j == 1) return f32x4.shuffle(v128.load(r), v128.load(r, 16), 1, 3, 5, 7);
  if (j == 2) return f32x4.shuffle(v128.load(r, 8), v128.load(r, 24), 0, 2, 4, 6);
  return f32x4.shuffle(v128.load(r, 8), v128.load(r, 24), 1, 3, 5, 7);
}

// a row (e0..e3) of Bᵀ d times B: V[ξ0 + j], j = 0..3 (lanes 0-1 at d, 2-3 at d2: input_tiles4)
// @ts-ignore: decorator
@inline function row_b(d: usize, d2: usize, xiStride: usize, xi0: i32, e0: v128, e1: v128, e2: v128, e3: v128): void {
  put_v(d, d2, <usize>xi0 * xiStride, f32x4.sub(e0, e2));
  put_v(d, d2, <usize>(xi0 + 1) * xiStride, f32x4.add(e1, e2));
  put_v(d, d2, <usize>(xi0 + 2) * xiStride, f32x4.sub(e2, e1));
  put_v(d, d2, <usize>(xi0 + 3) * xiStride, f32x4.sub(e1, e3));
}

// v's lanes 0-1 at d + o, lanes 2-3 at d2 + o: one store when d2 = d + 8, none of them when d2 = 0
// @ts-ignore: decorator
@inline function put_v(d: usize, d2: usize, o: usize, v: v128): void {
  if (d2 == d + 8) v128.store(d + o, v);
  else {
    v128.store64_lane(d + o, v, 0);
    if (d2 != 0) v128.store64_lane(d2 + o, v, 1);
  }
}

// the scalar build's Bᵀ d B of one tile (d row k at p + k·rowBytes)
function input_tile1(d: usize, xiStride: usize, p: usize, rowBytes: usize): void {
  for (let j = 0; j < 4; j++) {
    // column j of Bᵀ d
    const q = p + (<usize>j << 2);
    const x0 = load<f32>(q), x1 = load<f32>(q + rowBytes), x2 = load<f32>(q + 2 * rowBytes), x3 = load<f32>(q + 3 * rowBytes);
    store<f32>(d + <usize>j * xiStride, x0 - x2); // staged: row k of Bᵀd at ξ = k·4 + j, fixed up below
    store<f32>(d + <usize>(4 + j) * xiStride, x1 + x2);
    store<f32>(d + <usize>(8 + j) * xiStride, x2 - x1);
    store<f32>(d + <usize>(12 + j) * xiStride, x1 - x3);
  }
  for (let k = 0; k < 16; k += 4) {
    const e0 = load<f32>(d + <usize>k * xiStride), e1 = load<f32>(d + <usize>(k + 1) * xiStride);
    const e2 = load<f32>(d + <usize>(k + 2) * xiStride), e3 = load<f32>(d + <usize>(k + 3) * xiStride);
    store<f32>(d + <usize>k * xiStride, e0 - e2);
    store<f32>(d + <usize>(k + 1) * xiStride, e1 + e2);
    store<f32>(d + <usize>(k + 2) * xiStride, e2 - e1);
    store<f32>(d + <usize>(k + 3) * xiStride, e1 - e3);
  }
}

// y rows of tile rows [th0, th0 + rows) of sample yn (NO,OH,OW) = act(b + Aᵀ M A); M[ξ] (NOp, Tb). False when a
// sum before the activation is not finite.
function outputs(yn: usize, M: usize, xiStride: usize, b: usize, act: i32, NO: i32, OH: i32, OW: i32, TS: i32, Tb: i32, th0: i32, rows: i32): bool {
  let finite = true;
  const ldm = <usize>Tb << 2;
  const rowBytes = <usize>OW << 2;
  for (let o = 0; o < NO; o++) {
    const bias: f32 = b != 0 ? load<f32>(b + (<usize>o << 2)) : 0;
    const plane = yn + <usize>(o * OH) * rowBytes;
    const mo = M + <usize>o * ldm;
    for (let r = 0; r < rows; r++) {
      const oh = 2 * (th0 + r);
      const two = oh + 1 < OH;
      const y0 = plane + <usize>oh * rowBytes;
      for (let tw = 0; tw < TS; tw += 4) {
        // (the row's last group reads 2 tiles past it: their outputs are not stored)
        const m = mo + (<usize>(r * TS + tw) << 2);
        const ow = 2 * tw;
        if (ASC_FEATURE_SIMD) {
          // Aᵀ M: s0 = m0 + m1 + m2, s1 = m1 − m2 − m3 (rows of M); then the same on the columns
          const vb = f32x4.splat(bias);
          let m0 = v128.load(m), m1 = v128.load(m + xiStride), m2 = v128.load(m + 2 * xiStride), m3 = v128.load(m + 3 * xiStride);
          const h00 = f32x4.add(f32x4.add(m0, m1), m2), h01 = f32x4.sub(f32x4.sub(m1, m2), m3);
          m0 = v128.load(m + 4 * xiStride); m1 = v128.load(m + 5 * xiStride); m2 = v128.load(m + 6 * xiStride); m3 = v128.load(m + 7 * xiStride);
          const h10 = f32x4.add(f32x4.add(m0, m1), m2), h11 = f32x4.sub(f32x4.sub(m1, m2), m3);
          m0 = v128.load(m + 8 * xiStride); m1 = v128.load(m + 9 * xiStride); m2 = v128.load(m + 10 * xiStride); m3 = v128.load(m + 11 * xiStride);
          const h20 = f32x4.add(f32x4.add(m0, m1), m2), h21 = f32x4.sub(f32x4.sub(m1, m2), m3);
          m0 = v128.load(m + 12 * xiStride); m1 = v128.load(m + 13 * xiStride); m2 = v128.load(m + 14 * xiStride); m3 = v128.load(m + 15 * xiStride);
          const h30 = f32x4.add(f32x4.add(m0, m1), m2), h31 = f32x4.sub(f32x4.sub(m1, m2), m3);
          // h_kj: row k of M A; Aᵀ (M A): y0j = h0j + h1j + h2j, y1j = h1j − h2j − h3j
          const y00 = f32x4.add(vb, f32x4.add(f32x4.add(h00, h10), h20));
          const y01 = f32x4.add(vb, f32x4.add(f32x4.add(h01, h11), h21));
          const y10 = f32x4.add(vb, f32x4.sub(f32x4.sub(h10, h20), h30));
          const y11 = f32x4.add(vb, f32x4.sub(f32x4.sub(h11, h21), h31));
          // output row oh: tile l's columns 2l, 2l + 1 interleaved
          const lo0 = f32x4.shuffle(y00, y01, 0, 4, 1, 5), hi0 = f32x4.shuffle(y00, y01, 2, 6, 3, 7);
          const lo1 = f32x4.shuffle(y10, y11, 0, 4, 1, 5), hi1 = f32x4.shuffle(y10, y11, 2, 6, 3, 7);
          if (ow + 8 <= OW) {
            v128.store(y0 + (<usize>ow << 2), lo0); v128.store(y0 + (<usize>ow << 2), hi0, 16);
            if (two) { v128.store(y0 + rowBytes + (<usize>ow << 2), lo1); v128.store(y0 + rowBytes + (<usize>ow << 2), hi1, 16); }
          } else {
            store_part(y0 + (<usize>ow << 2), lo0, hi0, OW - ow);
            if (two) store_part(y0 + rowBytes + (<usize>ow << 2), lo1, hi1, OW - ow);
          }
        } else {
          for (let l = 0; l < 4 && ow + 2 * l < OW; l++) output_tile1(y0 + (<usize>(ow + 2 * l) << 2), rowBytes, m + (<usize>l << 2), xiStride, bias, OW - ow - 2 * l > 1, two);
        }
      }
    }
    // the rows just written, while in L1
    const r0 = 2 * th0, r1 = min(OH, 2 * (th0 + rows));
    const p = plane + <usize>r0 * rowBytes;
    if (has_non_finite(p, <usize>((r1 - r0) * OW))) finite = false;
    if (act != ACT_NONE) act_forward(p, p, <usize>((r1 - r0) * OW), act);
  }
  return finite;
}

// the first `count` (< 8) of the 8 floats lo, hi to d
function store_part(d: usize, lo: v128, hi: v128, count: i32): void {
  if (count >= 4) {
    v128.store(d, lo);
    if (count > 4) store<f32>(d, f32x4.extract_lane(hi, 0), 16);
    if (count > 5) store<f32>(d, f32x4.extract_lane(hi, 1), 20);
    if (count > 6) store<f32>(d, f32x4.extract_lane(hi, 2), 24);
    return;
  }
  if (count > 0) store<f32>(d, f32x4.extract_lane(lo, 0));
  if (count > 1) store<f32>(d, f32x4.extract_lane(lo, 1), 4);
  if (count > 2) store<f32>(d, f32x4.extract_lane(lo, 2), 8);
}

// the scalar build's Aᵀ M A of one tile (its 16 values xiStride apart from m) + bias to y (row stride rowBytes)
function output_tile1(y: usize, rowBytes: usize, m: usize, xiStride: usize, bias: f32, twoCols: bool, twoRows: bool): void {
  let h00: f32 = 0, h01: f32 = 0, h10: f32 = 0, h11: f32 = 0, h20: f32 = 0, h21: f32 = 0, h30: f32 = 0, h31: f32 = 0;
  for (let k = 0; k < 4; k++) {
    const q = m + <usize>(4 * k) * xiStride;
    const m0 = load<f32>(q), m1 = load<f32>(q + xiStride), m2 = load<f32>(q + 2 * xiStride), m3 = load<f32>(q + 3 * xiStride);
    const s0 = m0 + m1 + m2, s1 = m1 - m2 - m3;
    if (k == 0) { h00 = s0; h01 = s1; } else if (k == 1) { h10 = s0; h11 = s1; } else if (k == 2) { h20 = s0; h21 = s1; } else { h30 = s0; h31 = s1; }
  }
  store<f32>(y, bias + (h00 + h10 + h20));
  if (twoCols) store<f32>(y, bias + (h01 + h11 + h21), 4);
  if (twoRows) {
    store<f32>(y + rowBytes, bias + (h10 - h20 - h30));
    if (twoCols) store<f32>(y + rowBytes, bias + (h11 - h21 - h31), 4);
  }
}

// =====================================================================================================
// The weight gradient: Y = Aᵀ [Σ_i U ⊙ V] A gives dU[ξ][o][i] = Σ_tiles M̄[ξ][o][t] · V[ξ][i][t] with
// M̄ = A dY Aᵀ (the 2×2 output gradient of the tile, 0 outside y), then dw = Gᵀ dU G. The sum over tiles is, per
// ξ, a GEMM (NO × tiles)·(tiles × channels) (gemm_block). Threads take input-channel ranges [c0, c1) and each
// visits every sample and block in order, so dw gets the same sums in the same order for any split.
// =====================================================================================================

// dw (NO,NI,3,3) += ∂/∂w for input channels [c0, c1): dy (n,NO,OH,OW), x (n,NI,H,W) zero-padded as wino_sample.
// A channel whose dU is not finite is left out of dw and listed in `redo` (i32): the caller computes it directly
// (a per-channel choice, the same for any split). Returns how many were listed.
export function wino_weights_grad(dw: usize, redo: usize, dy: usize, x: usize, ws: usize, n: i32, NI: i32, H: i32, W: i32, NO: i32, OH: i32, OW: i32, PT: i32, PL: i32, c0: i32, c1: i32): i32 {
  const nc = c1 - c0;
  if (nc <= 0) return 0;
  const TW = tiles_w(OW), tilesH = (OH + 1) >> 1;
  const rowsB = grad_rows(NI, NO, OH, OW);
  const Tg = rowsB * TW;
  const HP = 2 * tilesH + 2, WP = 2 * TW + 2;
  const DH = 2 * tilesH, DW = 2 * TW;
  const uPlane = <usize>plane(NO * nc) << 2, vPlane = <usize>plane(nc * Tg) << 2, mPlane = <usize>plane(NO * Tg) << 2;
  const dU = ws;
  const V = dU + 16 * uPlane;
  const Mb = V + 16 * vPlane;
  const xp = Mb + 16 * mPlane;
  const dyp = xp + (<usize>(nc * HP * WP) << 2);
  const gs = dyp + (<usize>(NO * DH * DW) << 2);
  memory.fill(dU, 0, 16 * uPlane);
  const xs = <usize>(NI * H * W) << 2;
  const ys = <usize>(NO * OH * OW) << 2;
  for (let s = 0; s < n; s++) {
    pad_copy(xp, x + <usize>s * xs + (<usize>(c0 * H * W) << 2), 0, nc, H, W, PT, PL, HP, WP);
    pad_copy(dyp, dy + <usize>s * ys, 0, NO, OH, OW, 0, 0, DH, DW);
    for (let th0 = 0; th0 < tilesH; th0 += rowsB) {
      const rows = min(rowsB, tilesH - th0);
      const K = rows * TW; // this block's tiles: the rows of V and M̄ are K long
      inputs(V, vPlane, xp, nc, HP, WP, TW, K, th0, rows, true);
      output_grads(Mb, mPlane, dyp, NO, DH, DW, TW, K, th0, rows);
      for (let xi = 0; xi < 16; xi++) {
        // dU[ξ] (NO, nc) += M̄[ξ] (NO, K) · V[ξ] (nc, K)ᵀ
        gemm_block(dU + <usize>xi * uPlane, Mb + <usize>xi * mPlane, V + <usize>xi * vPlane, 0, NO, nc, K, 0, 1, ADD, ACT_NONE, 0, NO, 0, nc, gs);
      }
    }
  }
  return grad_weights(dw, redo, dU, uPlane, NO, NI, nc, c0);
}

// M̄[ξ] (NO, K) of tile rows [th0, th0 + rows): M̄ + ξ·xiStride + (o·K + t)·4 = (A dY Aᵀ)[ξ] of tile t; dyp (NO,DH,DW)
function output_grads(Mb: usize, xiStride: usize, dyp: usize, NO: i32, DH: i32, DW: i32, TW: i32, K: i32, th0: i32, rows: i32): void {
  const rowBytes = <usize>DW << 2;
  for (let o = 0; o < NO; o++) {
    const plane = dyp + (<usize>(o * DH * DW) << 2);
    for (let r = 0; r < rows; r++) {
      const p = plane + <usize>(2 * (th0 + r)) * rowBytes;
      for (let tw = 0; tw < TW; tw += 4) {
        const d = Mb + (<usize>(o * K + r * TW + tw) << 2);
        const q = p + (<usize>(2 * tw) << 2);
        if (ASC_FEATURE_SIMD) {
          // dY of 4 tiles (lanes): y_ab = dY[2th + a][2tw' + b]
          const u0 = v128.load(q), u1 = v128.load(q, 16);
          const w0 = v128.load(q + rowBytes), w1 = v128.load(q + rowBytes, 16);
          const y00 = f32x4.shuffle(u0, u1, 0, 2, 4, 6), y01 = f32x4.shuffle(u0, u1, 1, 3, 5, 7);
          const y10 = f32x4.shuffle(w0, w1, 0, 2, 4, 6), y11 = f32x4.shuffle(w0, w1, 1, 3, 5, 7);
          // A dY: rows y0, y0 + y1, y0 − y1, −y1; then the same on the columns
          grad_row(d, xiStride, 0, y00, y01);
          grad_row(d, xiStride, 4, f32x4.add(y00, y10), f32x4.add(y01, y11));
          grad_row(d, xiStride, 8, f32x4.sub(y00, y10), f32x4.sub(y01, y11));
          grad_row(d, xiStride, 12, f32x4.neg(y10), f32x4.neg(y11));
        } else {
          for (let l = 0; l < 4; l++) {
            const ql = q + (<usize>(2 * l) << 2), dl = d + (<usize>l << 2);
            const y00 = load<f32>(ql), y01 = load<f32>(ql, 4), y10 = load<f32>(ql + rowBytes), y11 = load<f32>(ql + rowBytes, 4);
            grad_row1(dl, xiStride, 0, y00, y01);
            grad_row1(dl, xiStride, 4, y00 + y10, y01 + y11);
            grad_row1(dl, xiStride, 8, y00 - y10, y01 - y11);
            grad_row1(dl, xiStride, 12, -y10, -y11);
          }
        }
      }
    }
  }
}

// a row (z0, z1) of A dY times Aᵀ: M̄[ξ0 + j] = z0, z0 + z1, z0 − z1, −z1
// @ts-ignore: decorator
@inline function grad_row(d: usize, xiStride: usize, xi0: i32, z0: v128, z1: v128): void {
  v128.store(d + <usize>xi0 * xiStride, z0);
  v128.store(d + <usize>(xi0 + 1) * xiStride, f32x4.add(z0, z1));
  v128.store(d + <usize>(xi0 + 2) * xiStride, f32x4.sub(z0, z1));
  v128.store(d + <usize>(xi0 + 3) * xiStride, f32x4.neg(z1));
}
// @ts-ignore: decorator
@inline function grad_row1(d: usize, xiStride: usize, xi0: i32, z0: f32, z1: f32): void {
  store<f32>(d + <usize>xi0 * xiStride, z0);
  store<f32>(d + <usize>(xi0 + 1) * xiStride, z0 + z1);
  store<f32>(d + <usize>(xi0 + 2) * xiStride, z0 - z1);
  store<f32>(d + <usize>(xi0 + 3) * xiStride, -z1);
}

// dw[o][c0 + i] (3×3) += Gᵀ dU[·][o][i] G for i < nc whose dU[·][·][i] is finite, the others listed in redo;
// dU[ξ] is (NO, nc)
function grad_weights(dw: usize, redo: usize, dU: usize, xiStride: usize, NO: i32, NI: i32, nc: i32, c0: i32): i32 {
  let count = 0;
  for (let i = 0; i < nc; i++) {
    let bad = false;
    for (let xi = 0; xi < 16 && !bad; xi++) {
      for (let o = 0; o < NO; o++) {
        const v = load<f32>(dU + <usize>xi * xiStride + (<usize>(o * nc + i) << 2));
        if (v - v != 0) { bad = true; break; } // NaN or ±Inf
      }
    }
    if (bad) {
      store<i32>(redo + (<usize>count << 2), c0 + i);
      count++;
    }
  }
  for (let o = 0; o < NO; o++) {
    for (let i = 0; i < nc; i++) {
      if (listed(redo, count, c0 + i)) continue;
      const u = dU + (<usize>(o * nc + i) << 2);
      // Q = Gᵀ dU (3×4): q0 = u0 + (u1 + u2)/2, q1 = (u1 − u2)/2, q2 = (u1 + u2)/2 + u3 (u_k: rows of dU)
      const d = dw + (<usize>((o * NI + c0 + i) * 9) << 2);
      for (let j = 0; j < 4; j++) {
        const u0 = load<f32>(u + <usize>j * xiStride), u1 = load<f32>(u + <usize>(4 + j) * xiStride);
        const u2 = load<f32>(u + <usize>(8 + j) * xiStride), u3 = load<f32>(u + <usize>(12 + j) * xiStride);
        const h = (u1 + u2) * 0.5;
        // column j of Q, kept in the scratch rows 0..2 of ξ = j (dU's own element, read above)
        store<f32>(u + <usize>j * xiStride, u0 + h);
        store<f32>(u + <usize>(4 + j) * xiStride, (u1 - u2) * 0.5);
        store<f32>(u + <usize>(8 + j) * xiStride, h + u3);
      }
      for (let a = 0; a < 3; a++) {
        const q = u + <usize>(4 * a) * xiStride;
        const q0 = load<f32>(q), q1 = load<f32>(q + xiStride), q2 = load<f32>(q + 2 * xiStride), q3 = load<f32>(q + 3 * xiStride);
        const h = (q1 + q2) * 0.5;
        const r = d + (<usize>(3 * a) << 2);
        store<f32>(r, load<f32>(r) + (q0 + h));
        store<f32>(r, load<f32>(r, 4) + (q1 - q2) * 0.5, 4);
        store<f32>(r, load<f32>(r, 8) + (h + q3), 8);
      }
    }
  }
  return count;
}

// @ts-ignore: decorator
@inline function listed(list: usize, count: i32, c: i32): bool {
  for (let k = 0; k < count; k++) if (load<i32>(list + (<usize>k << 2)) == c) return true;
  return false;
}
