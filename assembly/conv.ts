// 2-D convolution and transposed convolution, NCHW, as PyTorch: forward, backward-data and backward-weights.
//
//   y[o][oh][ow] = b[o] + Σ_{c,ki,kj} w[o][c][ki][kj] · x[c][oh·SH − PT + ki][ow·SW − PL + kj]   (0 outside x)
//
// Each pass is a GEMM over the taps k = (c·KH + ki)·KW + kj (K = C·KH·KW of them) and the output positions
// p = oh·OW + ow (P = OH·OW), run by a 4×8 register tile as the GEMM's micro-kernel (gemm.ts) but fed
// without an im2col matrix ("indirect" convolution, as XNNPACK's igemm): the sample is copied once into a
// zero-padded buffer xp (C, HP, WP), so every tap of every position is inside it, and tap k of position (oh, ow)
// is at xp + off[k] + (oh·SH·WP + ow·SW), off[k] = (c·HP + ki)·WP + kj. A 4×8 tile is then
//   forward / backward-data:  4 positions of one output row × 8 output channels, summed over k:
//                             rows read by broadcast loads from xp at off[k] + i·SW, columns from wᵀ packed once;
//   backward-weights:         4 taps × 8 output channels, summed over the positions p:
//                             rows read from xp at off[k_i] + pos(p), columns from dyᵀ packed once per sample;
// and written transposed into the NCHW output (a position row of the tile is a column of y). Measured against
// im2col + gemm_block (simd, one thread, 32→32 3×3 at 28×28, batch 64): see bench/conv.js.
//
// Backward-data with stride 1 is the same forward over dy padded by (KH−1−PT, KW−1−PL) with w flipped and
// transposed; with a larger stride (where that would multiply zeros) it is dcol = wᵀ·dy (gemm_block) scattered
// back by col2im. ConvTranspose2D is the same pair read the other way (PyTorch defines it as conv2d's gradient
// w.r.t. its input): its forward is conv backward-data, its backward-data conv forward, its weight gradient
// conv's with input and output swapped; its weights (IC, OC, KH, KW) are conv weights (out = IC, in = OC).
//
// Threads (src/backend/abi.ts SPLIT): forward and backward-data split by samples (a sample is one thread's work,
// whatever the count). The weight gradient splits the conv's input channels (its taps) instead: each thread
// visits every sample in order, so dW[o][k] gets the same sums in the same order for any split; the bias gradient
// splits channels. Scratch: each thread has its own conv2d_scratch floats (xp, the packed weights, the offsets; or
// dcol and gemm_block's scratch), src/backend/conv-scratch.ts's copy of the size says how much.

import { gemm_block, pack_b, store_4x8, store_lanes, store_tile, GEMM_SCRATCH_BYTES, ADD, STORE } from './gemm';
import { ACT_NONE, act_forward, act_tile } from './activations';
import { madd4 } from './math';
import { WINO_MIN_CHANNELS, wino_prepare, wino_sample, wino_scratch, wino_weights_grad } from './winograd';

const TILE_BYTES: usize = 4 * 8 * 4; // a 4×8 f32 tile, rows 32 bytes apart

// =====================================================================================================
// Exported kernels (one thread; threads run the *_part functions below on their share)
// =====================================================================================================

// x is (B,C,H,W), w is (OC,C,KH,KW), b is (OC) or 0, y is (B,OC,OH,OW); scratch: conv2d_scratch floats
export { conv_fwd as conv2d_forward };

// dy is (B,OC,OH,OW), w is (OC,C,KH,KW), dx is (B,C,H,W) (overwritten)
export function conv2d_backward_data(dx: usize, dy: usize, w: usize, scratch: usize, B: i32, C: i32, H: i32, W: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32): void {
  conv_bwd_data(dx, dy, w, 0, scratch, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL, ACT_NONE);
}

// dy is (B,OC,OH,OW), x is (B,C,H,W); dw (OC,C,KH,KW) and db (OC, or 0: none) accumulate
export function conv2d_backward_weights(dw: usize, db: usize, dy: usize, x: usize, scratch: usize, B: i32, C: i32, H: i32, W: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32): void {
  conv2d_backward_weights_cols(dw, db, dy, x, scratch, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL, 0, C);
}

// x is (B,IC,IH,IW), w is (IC,OC,KH,KW), b is (OC) or 0, y is (B,OC,OH,OW); scratch: conv2d_scratch floats of the conv
// from y to x
export function conv_transpose2d_forward(y: usize, x: usize, w: usize, b: usize, scratch: usize, B: i32, IC: i32, IH: i32, IW: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, act: i32): void {
  conv_bwd_data(y, x, w, b, scratch, B, OC, OH, OW, IC, IH, IW, KH, KW, SH, SW, PT, PL, act);
}

// dy is (B,OC,OH,OW), w is (IC,OC,KH,KW), dx is (B,IC,IH,IW) (overwritten)
export function conv_transpose2d_backward_data(dx: usize, dy: usize, w: usize, scratch: usize, B: i32, IC: i32, IH: i32, IW: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32): void {
  conv_fwd(dx, dy, w, 0, scratch, B, OC, OH, OW, IC, IH, IW, KH, KW, SH, SW, PT, PL, ACT_NONE);
}

// dy is (B,OC,OH,OW), x is (B,IC,IH,IW); dw (IC,OC,KH,KW) and db (OC, or 0: none) accumulate
export function conv_transpose2d_backward_weights(dw: usize, db: usize, dy: usize, x: usize, scratch: usize, B: i32, IC: i32, IH: i32, IW: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32): void {
  conv_transpose2d_backward_weights_cols(dw, db, dy, x, scratch, B, IC, IH, IW, OC, OH, OW, KH, KW, SH, SW, PT, PL, 0, OC);
}

// f32 elements of scratch one thread needs for the conv x (C,H,W) → y (OC,OH,OW): the largest of the three
// passes' (the layer declares threads × this; src/backend/threaded.ts cuts it into per-thread parts)
export function conv2d_scratch(C: i32, H: i32, W: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32): i32 {
  const K = C * KH * KW;
  // forward: wᵀ packed, the bias padded to 8, the offsets, xp
  const fwd = up4(K * up8(OC)) + up8(OC) + up4(K) + xp_floats(C, (OH - 1) * SH + KH, (OW - 1) * SW + KW, SW);
  // backward-data: stride 1, the forward of the flipped conv from dy (OC,OH,OW) to dx (C,H,W); else dcol (K,P)
  // and gemm_block's scratch
  const K2 = OC * KH * KW;
  const bwd = SH == 1 && SW == 1 ? up4(K2 * up8(C)) + up8(C) + up4(K2) + xp_floats(OC, H + KH - 1, W + KW - 1, 1) : up4(K * OH * OW) + <i32>(GEMM_SCRATCH_BYTES >> 2);
  // backward-weights: the offsets, dyᵀ packed, xp
  const wgt = up4(K) + up4(OH * OW * up8(OC)) + xp_floats(C, (OH - 1) * SH + KH, (OW - 1) * SW + KW, SW);
  // Winograd's buffers first, the direct passes' after them (the samples and channels it hands back)
  return wino_floats(C, H, W, OC, OH, OW, KH, KW, SH, SW) + max(fwd, max(bwd, wgt));
}

// =====================================================================================================
// Thread pieces (src/backend/abi.ts SPLIT): the weight gradients by input channel ranges [c0, c1) of the conv
// (its taps [c0·KH·KW, c1·KH·KW)), every sample in order; the bias gradient's channels go with them. The one-thread
// kernels above are these over all channels.
// =====================================================================================================

// conv2d_backward_weights for channels [c0, c1) of x: those taps of dw, and the channels
// [⌊c0·OC/C⌋, ⌊c1·OC/C⌋) of db
export function conv2d_backward_weights_cols(dw: usize, db: usize, dy: usize, x: usize, scratch: usize, B: i32, C: i32, H: i32, W: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, c0: i32, c1: i32): void {
  conv_bwd_weights(dw, dy, x, scratch, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL, c0 * KH * KW, c1 * KH * KW);
  if (db != 0) channel_sum(db, dy, B, OC, OH * OW, <i32>(<i64>c0 * OC / C), <i32>(<i64>c1 * OC / C));
}

// conv_transpose2d_backward_weights for output channels [c0, c1): those taps of dw (the conv's inputs), and of db
export function conv_transpose2d_backward_weights_cols(dw: usize, db: usize, dy: usize, x: usize, scratch: usize, B: i32, IC: i32, IH: i32, IW: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, c0: i32, c1: i32): void {
  // conv's dW formula with its output gradient = our input x, its input = our dy
  conv_bwd_weights(dw, x, dy, scratch, B, OC, OH, OW, IC, IH, IW, KH, KW, SH, SW, PT, PL, c0 * KH * KW, c1 * KH * KW);
  if (db != 0) channel_sum(db, dy, B, OC, OH * OW, c0, c1);
}

// x is (B,C,HW): out[c] += Σ_b Σ_i x[b][c][i] for c in [c0, c1) (each channel its own sum, in order: any split
// of the channels gives the same bits)
function channel_sum(out: usize, x: usize, B: i32, C: i32, HW: i32, c0: i32, c1: i32): void {
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

// y (n,OC,OH,OW) = act(conv(x, w) + b)
function conv_fwd(y: usize, x: usize, w: usize, b: usize, ws: usize, n: i32, C: i32, H: i32, W: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, act: i32): void {
  if (winograd(C, OC, KH, KW, SH, SW)) {
    const wsd = ws + (<usize>wino_floats(C, H, W, OC, OH, OW, KH, KW, SH, SW) << 2);
    const xs = <usize>(C * H * W) << 2, ys = <usize>(OC * OH * OW) << 2;
    wino_prepare(ws, w, C, OC, OH, OW, false);
    for (let s = 0; s < n; s++) {
      const xn = x + <usize>s * xs, yn = y + <usize>s * ys;
      if (!wino_sample(yn, xn, b, ws, C, H, W, OC, OH, OW, PT, PL, act)) conv_fwd_direct(yn, xn, w, b, wsd, 1, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL, act);
    }
    return;
  }
  conv_fwd_direct(y, x, w, b, ws, n, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL, act);
}

function conv_fwd_direct(y: usize, x: usize, w: usize, b: usize, ws: usize, n: i32, C: i32, H: i32, W: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, act: i32): void {
  const K = C * KH * KW;
  const bp = ws;
  const b8 = bp + (<usize>up4(K * up8(OC)) << 2);
  const off = b8 + (<usize>up8(OC) << 2);
  const xp = off + (<usize>up4(K) << 2);
  // wᵀ: op(B)[k][o] = w[o·K + k], in 8-column strips (pack_b's transposed case)
  pack_b(bp, w, OC, K, 1, 0, K, 0, OC);
  const HP = (OH - 1) * SH + KH, WP = (OW - 1) * SW + KW;
  tap_offsets(off, 0, K, KH, KW, HP, WP);
  direct(y, x, bp, off, xp, pad_bias(b8, b, OC), act, n, C, H, W, OC, OH, OW, K, SH, SW, PT, PL, HP, WP);
}

// 3×3 stride-1 convs with enough channels go through Winograd F(2×2, 3×3) (winograd.ts), forward and backward-data
// alike (the backward-data of a stride-1 conv is a stride-1 conv)
function winograd(C: i32, OC: i32, KH: i32, KW: i32, SH: i32, SW: i32): bool {
  return KH == 3 && KW == 3 && SH == 1 && SW == 1 && C >= WINO_MIN_CHANNELS && OC >= WINO_MIN_CHANNELS;
}

// f32 elements of scratch Winograd takes first (the forward's and backward-data's buffers, then a list of
// channels for the weight gradient to hand back); 0 when the conv does not go through it
function wino_floats(C: i32, H: i32, W: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32): i32 {
  if (!winograd(C, OC, KH, KW, SH, SW)) return 0;
  return max(wino_scratch(C, OC, OH, OW), wino_scratch(OC, C, H, W)) + up4(C);
}

// dx (n,C,H,W) = ∂(Σ dy ⊙ conv(x, w))/∂x, starting from b per channel (or 0), then act
function conv_bwd_data(dx: usize, dy: usize, w: usize, b: usize, ws: usize, n: i32, C: i32, H: i32, W: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, act: i32): void {
  if (winograd(C, OC, KH, KW, SH, SW)) {
    const wsd = ws + (<usize>wino_floats(C, H, W, OC, OH, OW, KH, KW, SH, SW) << 2);
    const xs = <usize>(C * H * W) << 2, ys = <usize>(OC * OH * OW) << 2;
    wino_prepare(ws, w, OC, C, H, W, true);
    for (let s = 0; s < n; s++) {
      const dxn = dx + <usize>s * xs, dyn = dy + <usize>s * ys;
      if (!wino_sample(dxn, dyn, b, ws, OC, OH, OW, C, H, W, KH - 1 - PT, KW - 1 - PL, act)) conv_bwd_data_direct(dxn, dyn, w, b, wsd, 1, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL, act);
    }
    return;
  }
  conv_bwd_data_direct(dx, dy, w, b, ws, n, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL, act);
}

function conv_bwd_data_direct(dx: usize, dy: usize, w: usize, b: usize, ws: usize, n: i32, C: i32, H: i32, W: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, act: i32): void {
  if (SH == 1 && SW == 1) {
    // dx[c][h][w] = Σ_{o,ki,kj} w[o][c][KH−1−ki][KW−1−kj] · dy[o][h − (KH−1−PT) + ki][w − (KW−1−PL) + kj]:
    // a stride-1 conv of dy (OC channels) to dx (C channels) with w flipped and transposed
    const K = OC * KH * KW;
    const bp = ws;
    const b8 = bp + (<usize>up4(K * up8(C)) << 2);
    const off = b8 + (<usize>up8(C) << 2);
    const xp = off + (<usize>up4(K) << 2);
    pack_flipped(bp, w, OC, C, KH, KW);
    const HP = H + KH - 1, WP = W + KW - 1;
    tap_offsets(off, 0, K, KH, KW, HP, WP);
    direct(dx, dy, bp, off, xp, pad_bias(b8, b, C), act, n, OC, OH, OW, C, H, W, K, 1, 1, KH - 1 - PT, KW - 1 - PL, HP, WP);
    return;
  }
  const K = C * KH * KW;
  const P = OH * OW;
  const xs = <usize>(C * H * W) << 2;
  const ys = <usize>(OC * P) << 2;
  const gs = ws + (<usize>up4(K * P) << 2); // gemm_block's scratch, after dcol
  for (let s = 0; s < n; s++) {
    const dxn = dx + <usize>s * xs;
    gemm_block(ws, w, dy + <usize>s * ys, 0, K, P, OC, 1, 0, STORE, ACT_NONE, 0, K, 0, P, gs); // dcol = wᵀ·dy
    if (b != 0) fill_channels(dxn, b, C, H * W);
    else memory.fill(dxn, 0, xs);
    col2im(dxn, ws, C, H, W, KH, KW, SH, SW, PT, PL, OH, OW);
    if (act != ACT_NONE) act_forward(dxn, dxn, <usize>(C * H * W), act);
  }
}

// taps [k0, k1) of dw (OC,K) += Σ_samples Σ_p dy[o][p] · (tap k of position p), samples in order
function conv_bwd_weights(dw: usize, dy: usize, x: usize, ws: usize, B: i32, C: i32, H: i32, W: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, k0: i32, k1: i32): void {
  if (k1 <= k0) return;
  if (winograd(C, OC, KH, KW, SH, SW)) {
    // the channels whose transformed sums are not finite, listed in the last up4(C) floats of Winograd's part
    const wsd = ws + (<usize>wino_floats(C, H, W, OC, OH, OW, KH, KW, SH, SW) << 2);
    const redo = wsd - (<usize>up4(C) << 2);
    const count = wino_weights_grad(dw, redo, dy, x, ws, B, C, H, W, OC, OH, OW, PT, PL, k0 / 9, k1 / 9);
    for (let r = 0; r < count; r++) {
      const c = load<i32>(redo + (<usize>r << 2));
      conv_bwd_weights_direct(dw, dy, x, wsd, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL, c * 9, c * 9 + 9);
    }
    return;
  }
  conv_bwd_weights_direct(dw, dy, x, ws, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL, k0, k1);
}

function conv_bwd_weights_direct(dw: usize, dy: usize, x: usize, ws: usize, B: i32, C: i32, H: i32, W: i32, OC: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PT: i32, PL: i32, k0: i32, k1: i32): void {
  const K = C * KH * KW;
  const P = OH * OW;
  const off = ws;
  const dyp = off + (<usize>up4(K) << 2);
  const xp = dyp + (<usize>up4(P * up8(OC)) << 2);
  const HP = (OH - 1) * SH + KH, WP = (OW - 1) * SW + KW;
  const tile = xp + (<usize>xp_floats(C, HP, WP, SW) << 2) - TILE_BYTES;
  tap_offsets(off, k0, k1, KH, KW, HP, WP);
  // only the channels of this part's taps are copied into xp
  const c0 = k0 / (KH * KW), c1 = (k1 - 1) / (KH * KW) + 1;
  const xs = <usize>(C * H * W) << 2;
  const ys = <usize>(OC * P) << 2;
  const ldw = <usize>K << 2;
  const rowStep = <usize>(SH * WP) << 2;
  const colStep = <usize>SW << 2;
  if (ASC_FEATURE_SIMD && OC <= NARROW && KW <= 4) {
    // a few output channels: a row of KW taps in one vector (neighbouring floats of xp), 8 rows at a time
    for (let s = 0; s < B; s++) {
      pad_copy(xp, x + <usize>s * xs, c0, c1, H, W, PT, PL, HP, WP);
      for (let o = 0; o < OC; o++) {
        const dyo = dy + <usize>s * ys + (<usize>(o * P) << 2);
        for (let r = k0 / KW; r < k1 / KW; r += 8) narrow_taps(dw + <usize>o * ldw, xp, off, dyo, r, min(8, k1 / KW - r), KW, OH, OW, rowStep, colStep);
      }
    }
    return;
  }
  for (let s = 0; s < B; s++) {
    const dyn = dy + <usize>s * ys;
    pack_b(dyp, dyn, OC, P, 1, 0, P, 0, OC); // dyᵀ: op(B)[p][o] = dy[o·P + p], 8-column strips
    pad_copy(xp, x + <usize>s * xs, c0, c1, H, W, PT, PL, HP, WP);
    for (let k = k0; k < k1; k += 4) {
      const rows = min(4, k1 - k);
      // the 4 taps' offsets (a missing one reads tap k0's: its row is not stored)
      const o0 = load<i32>(off + (<usize>k << 2));
      const o1 = rows > 1 ? load<i32>(off + (<usize>(k + 1) << 2)) : o0;
      const o2 = rows > 2 ? load<i32>(off + (<usize>(k + 2) << 2)) : o0;
      const o3 = rows > 3 ? load<i32>(off + (<usize>(k + 3) << 2)) : o0;
      for (let j = 0; j < OC; j += 8) {
        micro_taps(tile, xp, o0, o1, o2, o3, dyp + (<usize>(j * P) << 2), OH, OW, rowStep, colStep);
        // dw[o][k + i] += tile[i][o − j]
        store_t(dw + <usize>j * ldw + (<usize>k << 2), ldw, tile, rows, min(8, OC - j), true);
      }
    }
  }
}

// =====================================================================================================
// The direct (indirect-GEMM) driver
// =====================================================================================================

// y (n,N,OH,OW) = act(b + Σ_k x-tap k · bp[k][·]) per sample, x (n,C,H,W) copied into xp (C,HP,WP) with pads
// PT, PL; bp is (K, N) in 8-column strips, off the K tap offsets into xp (bytes), b8 the bias padded to a
// multiple of 8 (or 0). The tile sits after xp.
function direct(y: usize, x: usize, bp: usize, off: usize, xp: usize, b8: usize, act: i32, n: i32, C: i32, H: i32, W: i32, N: i32, OH: i32, OW: i32, K: i32, SH: i32, SW: i32, PT: i32, PL: i32, HP: i32, WP: i32): void {
  const tile = xp + (<usize>xp_floats(C, HP, WP, SW) << 2) - TILE_BYTES;
  const P = OH * OW;
  const xs = <usize>(C * H * W) << 2;
  const ys = <usize>(N * P) << 2;
  const ldy = <usize>P << 2;
  const rs = <usize>SW << 2;
  const narrow = ASC_FEATURE_SIMD && N <= NARROW && SW == 1;
  for (let s = 0; s < n; s++) {
    pad_copy(xp, x + <usize>s * xs, 0, C, H, W, PT, PL, HP, WP);
    const yn = y + <usize>s * ys;
    if (narrow) {
      for (let j = 0; j < N; j++) {
        const yj = yn + <usize>j * ldy;
        for (let oh = 0; oh < OH; oh++) {
          const yr = yj + (<usize>(oh * OW) << 2);
          narrow_row(yr, xp + (<usize>(oh * SH * WP) << 2), off, bp + (<usize>j << 2), K, OW, b8 != 0 ? load<f32>(b8 + (<usize>j << 2)) : 0);
          if (act != ACT_NONE) act_forward(yr, yr, <usize>OW, act);
        }
      }
      continue;
    }
    for (let oh = 0; oh < OH; oh++) {
      const row = xp + (<usize>(oh * SH * WP) << 2);
      for (let ow = 0; ow < OW; ow += 4) {
        const rows = min(4, OW - ow);
        const a = row + (<usize>(ow * SW) << 2);
        const yp = yn + (<usize>(oh * OW + ow) << 2);
        for (let j = 0; j < N; j += 8) {
          micro_positions(tile, a, rs, off, bp + (<usize>(j * K) << 2), K, b8 != 0 ? b8 + (<usize>j << 2) : 0);
          const cols = min(8, N - j);
          if (act != ACT_NONE) act_tile(tile, 32, act);
          store_t(yp + <usize>j * ldy, ldy, tile, rows, cols, false);
        }
      }
    }
  }
}

// NARROW: a conv to at most this many channels (a denoiser's last layer, 32 → 1) runs one output row of one channel
// at a time, its positions in vectors (stride 1: a tap of 4 neighbouring positions is 4 neighbouring floats of xp):
// the 4×8 tile would leave 7 of its 8 columns empty for one channel. The same sums as the tile's, element by
// element (bias, then each tap in k order), so the same bits (test/conv-kernels.test.ts).
const NARROW: i32 = 3;

// y row (OW positions) = bias + Σ_k w[k] · x-tap k of the row, in k order; a reads row of xp at a + off[k], w[k] at
// bpj + 32·k (column j of bp's 8-column strip). 32 positions at a time (8 sums); the last vector's lanes past OW
// read xp's slack (xp_floats) and are not stored.
function narrow_row(y: usize, a: usize, off: usize, bpj: usize, K: i32, OW: i32, bias: f32): void {
  if (ASC_FEATURE_SIMD) {
    const end = off + (<usize>K << 2);
    for (let ow = 0; ow < OW; ow += 32) {
      const i = f32x4.splat(bias);
      let c0 = i, c1 = i, c2 = i, c3 = i, c4 = i, c5 = i, c6 = i, c7 = i;
      const ar = a + (<usize>ow << 2);
      let w = bpj;
      for (let o = off; o < end; o += 4, w += 32) {
        const p = ar + <usize>load<i32>(o);
        const v = v128.load32_splat(w);
        c0 = madd4(v128.load(p), v, c0); c1 = madd4(v128.load(p, 16), v, c1);
        c2 = madd4(v128.load(p, 32), v, c2); c3 = madd4(v128.load(p, 48), v, c3);
        c4 = madd4(v128.load(p, 64), v, c4); c5 = madd4(v128.load(p, 80), v, c5);
        c6 = madd4(v128.load(p, 96), v, c6); c7 = madd4(v128.load(p, 112), v, c7);
      }
      const yo = y + (<usize>ow << 2);
      const n = OW - ow;
      store_lanes(yo, c0, n, STORE, 0); store_lanes(yo + 16, c1, n - 4, STORE, 0);
      store_lanes(yo + 32, c2, n - 8, STORE, 0); store_lanes(yo + 48, c3, n - 12, STORE, 0);
      store_lanes(yo + 64, c4, n - 16, STORE, 0); store_lanes(yo + 80, c5, n - 20, STORE, 0);
      store_lanes(yo + 96, c6, n - 24, STORE, 0); store_lanes(yo + 112, c7, n - 28, STORE, 0);
    }
  }
}

// tile (4 positions × 8 columns) = bias (8, or 0: none) + Σ_k x-tap rows · bp strip, in k order: row i reads
// a + off[k] + i·rs, bp is (K, 8). (The bias starts the sums: no pass over the tile for it.)
function micro_positions(tile: usize, a: usize, rs: usize, off: usize, bp: usize, K: i32, bias: usize): void {
  if (ASC_FEATURE_SIMD) {
    const i0 = bias != 0 ? v128.load(bias) : f32x4.splat(0);
    const i1 = bias != 0 ? v128.load(bias, 16) : f32x4.splat(0);
    let c00 = i0, c01 = i1, c10 = i0, c11 = i1, c20 = i0, c21 = i1, c30 = i0, c31 = i1;
    const end = off + (<usize>K << 2);
    while (off < end) {
      const p = a + <usize>load<i32>(off);
      const b0 = v128.load(bp);
      const b1 = v128.load(bp, 16);
      let v = v128.load32_splat(p);
      c00 = madd4(v, b0, c00); c01 = madd4(v, b1, c01);
      v = v128.load32_splat(p + rs);
      c10 = madd4(v, b0, c10); c11 = madd4(v, b1, c11);
      v = v128.load32_splat(p + 2 * rs);
      c20 = madd4(v, b0, c20); c21 = madd4(v, b1, c21);
      v = v128.load32_splat(p + 3 * rs);
      c30 = madd4(v, b0, c30); c31 = madd4(v, b1, c31);
      off += 4;
      bp += 32;
    }
    store_4x8(tile, tile + 32, tile + 64, tile + 96, c00, c01, c10, c11, c20, c21, c30, c31);
  } else {
    for (let i: usize = 0; i < 4; i++) {
      if (bias != 0) memory.copy(tile + (i << 5), bias, 32);
      else memory.fill(tile + (i << 5), 0, 32);
    }
    for (let k = 0; k < K; k++) {
      const p = a + <usize>load<i32>(off + (<usize>k << 2));
      const bk = bp + (<usize>k << 5);
      for (let i: usize = 0; i < 4; i++) {
        const v = load<f32>(p + i * rs);
        const t = tile + (i << 5);
        for (let j: usize = 0; j < 32; j += 4) store<f32>(t + j, load<f32>(t + j) + v * load<f32>(bk + j));
      }
    }
  }
}

// tile (4 taps × 8 columns) = Σ_p tap rows · bp strip over the positions p = (oh, ow): row i reads
// xp + o_i + oh·rowStep + ow·colStep, bp is (P, 8)
function micro_taps(tile: usize, xp: usize, o0: i32, o1: i32, o2: i32, o3: i32, bp: usize, OH: i32, OW: i32, rowStep: usize, colStep: usize): void {
  if (ASC_FEATURE_SIMD) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    const d1 = <usize>(o1 - o0), d2 = <usize>(o2 - o0), d3 = <usize>(o3 - o0);
    let row = xp + <usize>o0;
    for (let oh = 0; oh < OH; oh++, row += rowStep) {
      let p = row;
      const end = bp + (<usize>OW << 5);
      while (bp < end) {
        const b0 = v128.load(bp);
        const b1 = v128.load(bp, 16);
        let v = v128.load32_splat(p);
        c00 = madd4(v, b0, c00); c01 = madd4(v, b1, c01);
        v = v128.load32_splat(p + d1);
        c10 = madd4(v, b0, c10); c11 = madd4(v, b1, c11);
        v = v128.load32_splat(p + d2);
        c20 = madd4(v, b0, c20); c21 = madd4(v, b1, c21);
        v = v128.load32_splat(p + d3);
        c30 = madd4(v, b0, c30); c31 = madd4(v, b1, c31);
        p += colStep;
        bp += 32;
      }
    }
    store_4x8(tile, tile + 32, tile + 64, tile + 96, c00, c01, c10, c11, c20, c21, c30, c31);
  } else {
    memory.fill(tile, 0, TILE_BYTES);
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const p = xp + <usize>oh * rowStep + <usize>ow * colStep;
        const bk = bp + (<usize>(oh * OW + ow) << 5);
        for (let i = 0; i < 4; i++) {
          const v = load<f32>(p + <usize>(i == 0 ? o0 : i == 1 ? o1 : i == 2 ? o2 : o3));
          const t = tile + (<usize>i << 5);
          for (let j: usize = 0; j < 32; j += 4) store<f32>(t + j, load<f32>(t + j) + v * load<f32>(bk + j));
        }
      }
    }
  }
}

// dw[(r + i)·KW + kj] += Σ_p x-tap ((r + i)·KW + kj) at p · dy[p], i < rows (≤ 8), kj < KW (≤ 4), p = (oh, ow) in
// order: row i's KW taps are neighbouring floats of xp from off[(r + i)·KW], read as one vector (lanes past KW are
// not stored). The same sums as micro_taps's, element by element, so the same bits: 8 vectors for 8 × KW taps of
// one channel, where micro_taps's 4×8 tile holds 4 taps × 8 channels.
function narrow_taps(dw: usize, xp: usize, off: usize, dy: usize, r: i32, rows: i32, KW: i32, OH: i32, OW: i32, rowStep: usize, colStep: usize): void {
  if (ASC_FEATURE_SIMD) {
    // a missing row reads the last one's taps (not stored)
    const o0 = row_offset(off, r, 0, rows, KW), o1 = row_offset(off, r, 1, rows, KW), o2 = row_offset(off, r, 2, rows, KW), o3 = row_offset(off, r, 3, rows, KW);
    const o4 = row_offset(off, r, 4, rows, KW), o5 = row_offset(off, r, 5, rows, KW), o6 = row_offset(off, r, 6, rows, KW), o7 = row_offset(off, r, 7, rows, KW);
    let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    let d = dy;
    let row = xp;
    for (let oh = 0; oh < OH; oh++, row += rowStep) {
      let p = row;
      const end = d + (<usize>OW << 2);
      for (; d < end; d += 4, p += colStep) {
        const v = v128.load32_splat(d);
        c0 = madd4(v128.load(p + o0), v, c0); c1 = madd4(v128.load(p + o1), v, c1);
        c2 = madd4(v128.load(p + o2), v, c2); c3 = madd4(v128.load(p + o3), v, c3);
        c4 = madd4(v128.load(p + o4), v, c4); c5 = madd4(v128.load(p + o5), v, c5);
        c6 = madd4(v128.load(p + o6), v, c6); c7 = madd4(v128.load(p + o7), v, c7);
      }
    }
    const w = dw + (<usize>(r * KW) << 2);
    const step = <usize>KW << 2;
    // dw[…] += the row's KW sums (gemm.ts's lane store, ADD)
    store_lanes(w, c0, KW, ADD, 0);
    if (rows > 1) store_lanes(w + step, c1, KW, ADD, 0);
    if (rows > 2) store_lanes(w + 2 * step, c2, KW, ADD, 0);
    if (rows > 3) store_lanes(w + 3 * step, c3, KW, ADD, 0);
    if (rows > 4) store_lanes(w + 4 * step, c4, KW, ADD, 0);
    if (rows > 5) store_lanes(w + 5 * step, c5, KW, ADD, 0);
    if (rows > 6) store_lanes(w + 6 * step, c6, KW, ADD, 0);
    if (rows > 7) store_lanes(w + 7 * step, c7, KW, ADD, 0);
  }
}

// the xp offset of tap row r + i's first tap (row r + rows − 1's when i ≥ rows)
// @ts-ignore: decorator
@inline function row_offset(off: usize, r: i32, i: i32, rows: i32, KW: i32): usize {
  return <usize>load<i32>(off + (<usize>((r + min(i, rows - 1)) * KW) << 2));
}

// The tile transposed into d: d[j·ld + i] = tile[i][j] (+= when add) for i < rows, j < cols; a full 4-row tile by
// 4×4 shuffles, any other through gemm.ts's store_tile (the one corner store)
function store_t(d: usize, ld: usize, tile: usize, rows: i32, cols: i32, add: bool): void {
  if (ASC_FEATURE_SIMD) {
    if (rows == 4) {
      for (let h: usize = 0; h < 2; h++) {
        // columns 4h..4h+3 of the 4 rows, transposed 4×4
        const r0 = v128.load(tile + h * 16), r1 = v128.load(tile + 32 + h * 16);
        const r2 = v128.load(tile + 64 + h * 16), r3 = v128.load(tile + 96 + h * 16);
        const t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
        const t2 = f32x4.shuffle(r0, r1, 2, 6, 3, 7), t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
        const col = <i32>(h * 4);
        const dh = d + <usize>col * ld;
        if (col < cols) put(dh, f32x4.shuffle(t0, t1, 0, 1, 4, 5), add);
        if (col + 1 < cols) put(dh + ld, f32x4.shuffle(t0, t1, 2, 3, 6, 7), add);
        if (col + 2 < cols) put(dh + 2 * ld, f32x4.shuffle(t2, t3, 0, 1, 4, 5), add);
        if (col + 3 < cols) put(dh + 3 * ld, f32x4.shuffle(t2, t3, 2, 3, 6, 7), add);
      }
      return;
    }
  }
  store_tile(d, 4, ld, tile, rows, cols, add ? ADD : STORE, 0);
}

// @ts-ignore: decorator
@inline function put(d: usize, v: v128, add: bool): void {
  v128.store(d, add ? f32x4.add(v128.load(d), v) : v);
}

// =====================================================================================================
// Packing and padding
// =====================================================================================================

// f32 elements of xp (C, HP, WP) plus slack: the last tile's rows past OW read up to 3·SW + 4 floats beyond the
// last row and narrow_row's last vectors up to 32 (never stored), and the tile (32 floats) of the pass lives at the
// end
// @ts-ignore: decorator
@inline function xp_floats(C: i32, HP: i32, WP: i32, SW: i32): i32 {
  return up4(C * HP * WP + 3 * SW + 4) + 32 + 32;
}

// @ts-ignore: decorator
@inline function up4(n: i32): i32 {
  return (n + 3) & ~3;
}

// @ts-ignore: decorator
@inline function up8(n: i32): i32 {
  return (n + 7) & ~7;
}

// b8 (up8(N)) = b (N), zero-padded; returns b8, or 0 when b is 0 (no bias)
function pad_bias(b8: usize, b: usize, N: i32): usize {
  if (b == 0) return 0;
  memory.copy(b8, b, <usize>N << 2);
  memory.fill(b8 + (<usize>N << 2), 0, <usize>(up8(N) - N) << 2);
  return b8;
}

// off[k] (i32, bytes) = ((c·HP + ki)·WP + kj)·4 for taps k in [k0, k1), k = (c·KH + ki)·KW + kj
function tap_offsets(off: usize, k0: i32, k1: i32, KH: i32, KW: i32, HP: i32, WP: i32): void {
  for (let k = k0; k < k1; k++) {
    const kj = k % KW, ki = (k / KW) % KH, c = k / (KW * KH);
    store<i32>(off + (<usize>k << 2), ((c * HP + ki) * WP + kj) << 2);
  }
}

// channels [c0, c1) of xp (·,HP,WP): xp[c][i][j] = x[c][i − PT][j − PL] (x is (·,H,W)), 0 outside x
export function pad_copy(xp: usize, x: usize, c0: i32, c1: i32, H: i32, W: i32, PT: i32, PL: i32, HP: i32, WP: i32): void {
  // the columns of x that land in [0, WP): j − PL ∈ [0, W) → j ∈ [max(PL, 0), min(W + PL, WP))
  const j0 = max(PL, 0), j1 = min(W + PL, WP);
  const rowBytes = <usize>WP << 2;
  for (let c = c0; c < c1; c++) {
    const xc = x + (<usize>(c * H * W) << 2);
    let d = xp + (<usize>(c * HP * WP) << 2);
    for (let i = 0; i < HP; i++, d += rowBytes) {
      const r = i - PT;
      if (r < 0 || r >= H || j1 <= j0) {
        zero_f32(d, WP);
        continue;
      }
      if (j0 > 0) zero_f32(d, j0);
      if (j1 < WP) zero_f32(d + (<usize>j1 << 2), WP - j1);
      copy_f32(d + (<usize>j0 << 2), xc + (<usize>(r * W + j0 - PL) << 2), j1 - j0);
    }
  }
}

// bp (K2, C) in 8-column strips, K2 = OC·KH·KW: bp[k][c] = w[o][c][KH−1−ki][KW−1−kj], k = (o·KH + ki)·KW + kj
function pack_flipped(bp: usize, w: usize, OC: i32, C: i32, KH: i32, KW: i32): void {
  const K = OC * KH * KW;
  const KK = KH * KW;
  for (let s = 0; s < C; s += 8) {
    const strip = bp + (<usize>(s * K) << 2);
    for (let k = 0; k < K; k++) {
      const kj = k % KW, ki = (k / KW) % KH, o = k / KK;
      const src = w + (<usize>((o * C) * KK + (KH - 1 - ki) * KW + (KW - 1 - kj)) << 2);
      const d = strip + (<usize>k << 5);
      for (let j = 0; j < 8; j++) store<f32>(d + (<usize>j << 2), s + j < C ? load<f32>(src + (<usize>((s + j) * KK) << 2)) : 0);
    }
  }
}

// =====================================================================================================
// col2im (the strided backward-data) of one sample
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

// x (C,H,W) += each element of panel (K,P) at the tap it stands for (padding taps dropped); rows k in order
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

// d[0..n) = 0 (rows and pads of a few floats: memory.fill is a call out of the module in V8)
// @ts-ignore: decorator
@inline function zero_f32(d: usize, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 4 <= n; j += 4) v128.store(d + (<usize>j << 2), f32x4.splat(0));
  }
  for (; j < n; j++) store<f32>(d + (<usize>j << 2), 0);
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
