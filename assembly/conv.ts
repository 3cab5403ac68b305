// 2-D convolution and transposed convolution, NCHW, as PyTorch: forward, backward-data and backward-weights.
//
// Conv2D of one sample is a GEMM over its im2col matrix (Chellapilla et al., "High Performance Convolutional
// Neural Networks for Document Processing", 2006; Caffe's im2col/col2im):
//   col (K, P), K = C·KH·KW rows k = (c·KH + ki)·KW + kj, P = OH·OW columns p = oh·OW + ow,
//   col[k][p] = x[c][oh·SH − PT + ki][ow·SW − PL + kj] (0 in the padding)
//   forward          y (OC, P)  = W (OC, K) · col            (+ bias per row, then act: the GEMM's write-back)
//   backward-data    dcol (K,P) = Wᵀ · dy,  dx = col2im(dcol) (each tap added back where it was read)
//   backward-weights dW (OC,K) += dy (OC, P) · colᵀ,   db (OC) += Σ_p dy
// A sample's (OC, P) product is exactly its NCHW output, so no transposes. The bottom/right pads only set OH/OW.
//
// ConvTranspose2D is the same pair read the other way (PyTorch defines it as the gradient of conv2d w.r.t. its
// input): its forward is conv backward-data, its backward-data is conv forward, its weight gradient is conv's
// with the roles of input and output swapped; its weights (IC, OC, KH, KW) are conv weights (out = IC, in = OC).
//
// Threads (src/backend/threaded.ts): forward and backward-data split by samples (a sample is one thread's work,
// whatever the count). The weight gradient splits the K columns of dW instead: each thread visits every sample in
// order, building only its own rows of each col, so dW[·][k] gets the same sums in the same order for any split;
// the bias gradient splits channels the same way. Scratch: every thread gets its own panel of convPanelFloats
// (src/backend/conv-geometry.ts: K·P floats, or none for a 1×1, stride-1, unpadded conv, whose col is x itself)
// plus the GEMM scratch of gemm_block.

import { gemm_block, GEMM_SCRATCH, ADD, STORE } from './gemm';
import { ACT_NONE, act_forward } from './activations';

// =====================================================================================================
// Exported kernels (one thread; threads run the *_part functions below on their share)
// =====================================================================================================

// x is (B,C,H,W), w is (OC,C,KH,KW), b is (OC) or 0, y is (B,OC,OH,OW); scratch: convPanelFloats
export function conv2d_forward(y: usize, x: usize, w: usize, b: usize, scratch: usize, B: i32, C: i32, H: i32, W: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, act: i32): void {
  conv_fwd(y, x, w, b, scratch, GEMM_SCRATCH, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL, act);
}

// dy is (B,OC,OH,OW), w is (OC,C,KH,KW), dx is (B,C,H,W) (overwritten)
export function conv2d_backward_data(dx: usize, dy: usize, w: usize, scratch: usize, B: i32, C: i32, H: i32, W: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32): void {
  conv_bwd_data(dx, dy, w, 0, scratch, GEMM_SCRATCH, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL, ACT_NONE);
}

// dy is (B,OC,OH,OW), x is (B,C,H,W); dw (OC,C,KH,KW) and db (OC, or 0: none) accumulate
export function conv2d_backward_weights(dw: usize, db: usize, dy: usize, x: usize, scratch: usize, B: i32, C: i32, H: i32, W: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32): void {
  conv_bwd_weights(dw, dy, x, scratch, GEMM_SCRATCH, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL, 0, C * KH * KW);
  if (db != 0) channel_sum(db, dy, B, OC, OH * OW, 0, OC);
}

// x is (B,IC,IH,IW), w is (IC,OC,KH,KW), b is (OC) or 0, y is (B,OC,OH,OW); scratch: convPanelFloats of the conv
// from y to x
export function conv_transpose2d_forward(y: usize, x: usize, w: usize, b: usize, scratch: usize, B: i32, IC: i32, IH: i32, IW: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, act: i32): void {
  conv_bwd_data(y, x, w, b, scratch, GEMM_SCRATCH, B, OC, OH, OW, IC, IH, IW, KH, KW, SH, SW, PT, PL, act);
}

// dy is (B,OC,OH,OW), w is (IC,OC,KH,KW), dx is (B,IC,IH,IW) (overwritten)
export function conv_transpose2d_backward_data(dx: usize, dy: usize, w: usize, scratch: usize, B: i32, IC: i32, IH: i32, IW: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32): void {
  conv_fwd(dx, dy, w, 0, scratch, GEMM_SCRATCH, B, OC, OH, OW, IC, IH, IW, KH, KW, SH, SW, PT, PL, ACT_NONE);
}

// dy is (B,OC,OH,OW), x is (B,IC,IH,IW); dw (IC,OC,KH,KW) and db (OC, or 0: none) accumulate
export function conv_transpose2d_backward_weights(dw: usize, db: usize, dy: usize, x: usize, scratch: usize, B: i32, IC: i32, IH: i32, IW: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32): void {
  // conv's dW formula with its output gradient = our input x, its input = our dy
  conv_bwd_weights(dw, x, dy, scratch, GEMM_SCRATCH, B, OC, OH, OW, IC, IH, IW, KH, KW, SH, SW, PT, PL, 0, OC * KH * KW);
  if (db != 0) channel_sum(db, dy, B, OC, OH * OW, 0, OC);
}

// =====================================================================================================
// Thread parts. The pool passes at most 16 arguments, so the conv geometry travels as pairs packed into one i32
// each, hi << 16 | lo (hw = H, W; ohw = OH, OW; khw = KH, KW; shw = SH, SW; phw = PT, PL: all < 32768).
// Geometry is always the conv's (x: C,H,W → y: OC,OH,OW), the transposed kernels pass it turned around.
// =====================================================================================================

// n samples from y, x on: conv forward (see conv2d_forward)
export function conv_fwd_part(y: usize, x: usize, w: usize, b: usize, ws: usize, gs: usize, n: i32, C: i32, hw: i32, OC: i32, ohw: i32, khw: i32, shw: i32, phw: i32, act: i32): void {
  conv_fwd(y, x, w, b, ws, gs, n, C, hw >>> 16, hw & 0xffff, OC, ohw >>> 16, ohw & 0xffff, khw >>> 16, khw & 0xffff, shw >>> 16, shw & 0xffff, phw >>> 16, phw & 0xffff, act);
}

// n samples from dx, dy on: conv backward-data, + b per channel of dx and act when b ≠ 0 / act ≠ 0 (transposed forward)
export function conv_bwd_data_part(dx: usize, dy: usize, w: usize, b: usize, ws: usize, gs: usize, n: i32, C: i32, hw: i32, OC: i32, ohw: i32, khw: i32, shw: i32, phw: i32, act: i32): void {
  conv_bwd_data(dx, dy, w, b, ws, gs, n, C, hw >>> 16, hw & 0xffff, OC, ohw >>> 16, ohw & 0xffff, khw >>> 16, khw & 0xffff, shw >>> 16, shw & 0xffff, phw >>> 16, phw & 0xffff, act);
}

// columns [k0, k1) of dw (OC, K) += Σ over all B samples, in order
export function conv_bwd_weights_part(dw: usize, dy: usize, x: usize, ws: usize, gs: usize, B: i32, C: i32, hw: i32, OC: i32, ohw: i32, khw: i32, shw: i32, phw: i32, k0: i32, k1: i32): void {
  conv_bwd_weights(dw, dy, x, ws, gs, B, C, hw >>> 16, hw & 0xffff, OC, ohw >>> 16, ohw & 0xffff, khw >>> 16, khw & 0xffff, shw >>> 16, shw & 0xffff, phw >>> 16, phw & 0xffff, k0, k1);
}

// x is (B,C,HW): out[c] += Σ_b Σ_i x[b][c][i] for c in [c0, c1) (each channel its own sum, in order: any split
// of the channels gives the same bits)
export function channel_sum(out: usize, x: usize, B: i32, C: i32, HW: i32, c0: i32, c1: i32): void {
  for (let c = c0; c < c1; c++) {
    let s: f32 = 0;
    for (let n = 0; n < B; n++) s += row_sum(x + (<usize>(n * C + c) * <usize>HW << 2), HW);
    const o = out + (<usize>c << 2);
    store<f32>(o, load<f32>(o) + s);
  }
}

// =====================================================================================================
// The three passes, on the conv's geometry
// =====================================================================================================

// @ts-ignore: decorator
@inline function is_plain(KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, H: i32, W: i32, OH: i32, OW: i32): bool {
  // a 1×1, stride-1 conv without padding: col is the sample itself
  return KH == 1 && KW == 1 && SH == 1 && SW == 1 && PT == 0 && PL == 0 && OH == H && OW == W;
}

// y (n,OC,OH,OW) = act(W·col(x) + b) per sample
function conv_fwd(y: usize, x: usize, w: usize, b: usize, ws: usize, gs: usize, n: i32, C: i32, H: i32, W: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, act: i32): void {
  const K = C * KH * KW;
  const P = OH * OW;
  const plain = is_plain(KH, KW, SH, SW, PT, PL, H, W, OH, OW);
  const xs = <usize>(C * H * W) << 2;
  const ys = <usize>(OC * P) << 2;
  for (let s = 0; s < n; s++) {
    const xn = x + <usize>s * xs;
    const yn = y + <usize>s * ys;
    let col = xn;
    if (!plain) {
      im2col(ws, xn, C, H, W, KH, KW, SH, SW, PT, PL, OH, OW, 0, K);
      col = ws;
    }
    // the bias is per row of y (a channel): written first, then the GEMM adds to it (its first K slice adds
    // to the bias, as gemm_block's BIAS mode does a row vector)
    if (b != 0) fill_channels(yn, b, OC, P);
    gemm_block(yn, w, col, 0, OC, P, K, 0, 0, b != 0 ? ADD : STORE, act, 0, OC, 0, P, gs);
  }
}

// dx (n,C,H,W) = col2im(Wᵀ·dy) per sample, starting from b per channel (or 0), then act
function conv_bwd_data(dx: usize, dy: usize, w: usize, b: usize, ws: usize, gs: usize, n: i32, C: i32, H: i32, W: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, act: i32): void {
  const K = C * KH * KW;
  const P = OH * OW;
  const plain = is_plain(KH, KW, SH, SW, PT, PL, H, W, OH, OW);
  const xs = <usize>(C * H * W) << 2;
  const ys = <usize>(OC * P) << 2;
  for (let s = 0; s < n; s++) {
    const dxn = dx + <usize>s * xs;
    const dyn = dy + <usize>s * ys;
    if (plain) {
      // dcol is dx: the bias and activation go into the GEMM's write-back
      if (b != 0) fill_channels(dxn, b, C, P);
      gemm_block(dxn, w, dyn, 0, K, P, OC, 1, 0, b != 0 ? ADD : STORE, act, 0, K, 0, P, gs);
      continue;
    }
    gemm_block(ws, w, dyn, 0, K, P, OC, 1, 0, STORE, ACT_NONE, 0, K, 0, P, gs);
    if (b != 0) fill_channels(dxn, b, C, H * W);
    else memory.fill(dxn, 0, xs);
    col2im(dxn, ws, C, H, W, KH, KW, SH, SW, PT, PL, OH, OW);
    if (act != ACT_NONE) act_forward(dxn, dxn, <usize>(C * H * W), act);
  }
}

// columns [k0, k1) of dw (OC,K) += Σ_samples dy·colᵀ, samples in order
function conv_bwd_weights(dw: usize, dy: usize, x: usize, ws: usize, gs: usize, B: i32, C: i32, H: i32, W: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, k0: i32, k1: i32): void {
  if (k1 <= k0) return;
  const K = C * KH * KW;
  const P = OH * OW;
  const plain = is_plain(KH, KW, SH, SW, PT, PL, H, W, OH, OW);
  const xs = <usize>(C * H * W) << 2;
  const ys = <usize>(OC * P) << 2;
  // this part's rows [k0, k1) of col sit at ws: as a (K,P) matrix, col starts k0 rows before ws (the GEMM reads
  // only the rows of its columns [k0, k1) of colᵀ)
  const colBase = ws - (<usize>k0 * <usize>P << 2);
  for (let s = 0; s < B; s++) {
    const xn = x + <usize>s * xs;
    let col = xn;
    if (!plain) {
      im2col(ws, xn, C, H, W, KH, KW, SH, SW, PT, PL, OH, OW, k0, k1);
      col = colBase;
    }
    gemm_block(dw, dy + <usize>s * ys, col, 0, OC, K, P, 0, 1, ADD, ACT_NONE, 0, OC, k0, k1, gs);
  }
}

// =====================================================================================================
// im2col / col2im of one sample
// =====================================================================================================

// The output columns [lo, hi) whose tap at kernel offset kj falls inside [0, W): ow·S − PL + kj ∈ [0, W).
// Returned as lo | hi << 16.
// @ts-ignore: decorator
@inline function valid_range(kj: i32, S: i32, PL: i32, W: i32, OW: i32): i32 {
  const a = PL - kj; // ow·S ≥ a
  const lo = a <= 0 ? 0 : min((a + S - 1) / S, OW);
  const e = W - 1 + PL - kj; // ow·S ≤ e
  const hi = e < 0 ? 0 : min(e / S + 1, OW);
  return lo | (max(hi, lo) << 16);
}

// rows [k0, k1) of col (K,P) → panel (k1 − k0, P); x is (C,H,W)
function im2col(panel: usize, x: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, OH: i32, OW: i32, k0: i32, k1: i32): void {
  const P = OH * OW;
  const orow = <usize>OW << 2;
  for (let k = k0; k < k1; k++) {
    const kj = k % KW;
    const ki = (k / KW) % KH;
    const c = k / (KW * KH);
    const r = valid_range(kj, SW, PL, W, OW);
    const lo = r & 0xffff, hi = r >>> 16;
    const dst = panel + (<usize>((k - k0) * P) << 2);
    const xc = x + (<usize>(c * H * W) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const d = dst + <usize>oh * orow;
      const ih = oh * SH - PT + ki;
      if (ih < 0 || ih >= H || hi <= lo) {
        memory.fill(d, 0, orow);
        continue;
      }
      if (lo > 0) memory.fill(d, 0, <usize>lo << 2);
      if (hi < OW) memory.fill(d + (<usize>hi << 2), 0, <usize>(OW - hi) << 2);
      // x[c][ih][ow·SW − PL + kj] for ow in [lo, hi)
      const src = xc + (<usize>(ih * W + lo * SW - PL + kj) << 2);
      const dd = d + (<usize>lo << 2);
      const m = hi - lo;
      if (SW == 1) copy_f32(dd, src, m);
      else {
        const step = <usize>SW << 2;
        for (let j = 0; j < m; j++) store<f32>(dd + (<usize>j << 2), load<f32>(src + <usize>j * step));
      }
    }
  }
}

// x (C,H,W) += each element of panel (K,P) at the place im2col read it from (padding taps dropped); rows k in order
function col2im(x: usize, panel: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, OH: i32, OW: i32): void {
  const K = C * KH * KW;
  const P = OH * OW;
  for (let k = 0; k < K; k++) {
    const kj = k % KW;
    const ki = (k / KW) % KH;
    const c = k / (KW * KH);
    const r = valid_range(kj, SW, PL, W, OW);
    const lo = r & 0xffff, hi = r >>> 16;
    if (hi <= lo) continue;
    const src = panel + (<usize>(k * P) << 2);
    const xc = x + (<usize>(c * H * W) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const ih = oh * SH - PT + ki;
      if (ih < 0 || ih >= H) continue;
      const s = src + (<usize>(oh * OW + lo) << 2);
      const d = xc + (<usize>(ih * W + lo * SW - PL + kj) << 2);
      const m = hi - lo;
      if (SW == 1) add_f32(d, s, m);
      else {
        const step = <usize>SW << 2;
        for (let j = 0; j < m; j++) {
          const dj = d + <usize>j * step;
          store<f32>(dj, load<f32>(dj) + load<f32>(s + (<usize>j << 2)));
        }
      }
    }
  }
}

// =====================================================================================================
// Small loops
// =====================================================================================================

// d[0..n) = s[0..n)
// @ts-ignore: decorator
@inline function copy_f32(d: usize, s: usize, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 4 <= n; j += 4) v128.store(d + (<usize>j << 2), v128.load(s + (<usize>j << 2)));
  }
  for (; j < n; j++) store<f32>(d + (<usize>j << 2), load<f32>(s + (<usize>j << 2)));
}

// d[0..n) += s[0..n)
// @ts-ignore: decorator
@inline function add_f32(d: usize, s: usize, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(s + o)));
    }
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    store<f32>(d + o, load<f32>(d + o) + load<f32>(s + o));
  }
}

// y (C,N): row c = b[c]
function fill_channels(y: usize, b: usize, C: i32, N: i32): void {
  for (let c = 0; c < C; c++) {
    const v = load<f32>(b + (<usize>c << 2));
    const row = y + (<usize>(c * N) << 2);
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const vv = f32x4.splat(v);
      for (; j + 4 <= N; j += 4) v128.store(row + (<usize>j << 2), vv);
    }
    for (; j < N; j++) store<f32>(row + (<usize>j << 2), v);
  }
}

// Σ x[0..n): four lanes of partial sums, then (l0 + l1) + (l2 + l3), then the tail in order (SIMD builds); in
// order (scalar build). The js twin sums in f64: the two agree to f32 rounding.
function row_sum(x: usize, n: i32): f32 {
  let s: f32 = 0;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    let v = f32x4.splat(0);
    for (; j + 4 <= n; j += 4) v = f32x4.add(v, v128.load(x + (<usize>j << 2)));
    s = (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
  }
  for (; j < n; j++) s += load<f32>(x + (<usize>j << 2));
  return s;
}
