// The js twins of assembly/conv.ts: the same six kernels as plain direct loops over the definition
//   y[n][o][oh][ow] = b[o] + Σ_{c,ki,kj} w[o][c][ki][kj] · xpad[n][c][oh·SH − PT + ki][ow·SW − PL + kj]
// where xpad is x with zeros around it (as PyTorch pads): a padding tap is a product with 0, so a NaN or ±Inf weight
// makes it NaN, as in the kernels. Backward-weights sums dy times the same taps; backward-data at stride 1 is the
// forward of the flipped conv over zero-padded dy (each dx element gets every tap, as assembly/conv.ts computes it),
// at larger strides each dy element times each tap is added where forward read it (taps in the padding dropped).
// Every loop reads one table, `taps`: where tap k of output position p reads its input plane. No im2col, no scratch:
// the readable reference (and the benchmark baseline). The transposed kernels are the same loops read the other way,
// as in assembly/conv.ts.

import { ACT, type Kernels } from './backend.js';

type ConvKernels = Pick<Kernels, 'conv2d_forward' | 'conv2d_backward_data' | 'conv2d_backward_weights' | 'conv_transpose2d_forward' | 'conv_transpose2d_backward_data' | 'conv_transpose2d_backward_weights'>;

/** taps[k·P + p], k = ki·KW + kj, p = oh·OW + ow (P = OH·OW): the element of the (H, W) input plane that tap k of
 *  output position p reads, row oh·S + sign·ki + off (columns alike), or −1 outside the plane (a padding tap). The
 *  conv's own taps: S = SH, sign +1, off = −PT; its stride-1 backward-data reads dy at ih + PT − ki: S = 1, sign −1. */
function tapTable(H: number, W: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, offH: number, offW: number, sign: number): Int32Array {
  const P = OH * OW;
  const taps = new Int32Array(KH * KW * P);
  for (let ki = 0; ki < KH; ki++)
    for (let kj = 0; kj < KW; kj++)
      for (let oh = 0, t = (ki * KW + kj) * P; oh < OH; oh++) {
        const ih = oh * SH + sign * ki + offH;
        for (let ow = 0; ow < OW; ow++, t++) {
          const iw = ow * SW + sign * kj + offW;
          taps[t] = ih >= 0 && ih < H && iw >= 0 && iw < W ? ih * W + iw : -1;
        }
      }
  return taps;
}

/** The conv kernels over a heap view `f()` (re-derived per call); `act` applies an ACT code in place. */
export function convJsKernels(f: () => Float32Array, act: (y: number, n: number, code: number) => void): ConvKernels {
  // ---- the loops, each over a tap table --------------------------------------------------------------------------

  /** out (B,NO,P) = (b per channel, or 0) + Σ_{i,k} w[o·wo + i·wi + k] · (input i at taps[k·P + p], 0 in the padding),
   *  summed in (i, k) order: the conv's forward (out = y, in = x) and its stride-1 backward-data (out = dx, in = dy) */
  function gather(out: number, inp: number, w: number, b: number, B: number, NO: number, NI: number, P: number, Q: number, K: number, taps: Int32Array, wo: number, wi: number): void {
    const h = f();
    for (let n = 0; n < B; n++)
      for (let o = 0; o < NO; o++) {
        const O = (out >>> 2) + (n * NO + o) * P;
        h.fill(b ? h[(b >>> 2) + o] : 0, O, O + P);
        for (let i = 0; i < NI; i++) {
          const I = (inp >>> 2) + (n * NI + i) * Q;
          for (let k = 0; k < K; k++) {
            const wv = h[(w >>> 2) + o * wo + i * wi + k];
            for (let p = 0, t = k * P; p < P; p++, t++) {
              const at = taps[t];
              h[O + p] += wv * (at >= 0 ? h[I + at] : 0);
            }
          }
        }
      }
  }

  /** y (B,OC,OH,OW) = (b per channel, or 0) + conv(x) */
  function forward(y: number, x: number, w: number, b: number, B: number, C: number, H: number, W: number, OC: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, PT: number, PL: number): void {
    const K = KH * KW;
    gather(y, x, w, b, B, OC, C, OH * OW, H * W, K, tapTable(H, W, OH, OW, KH, KW, SH, SW, -PT, -PL, 1), C * K, K);
  }

  /** dx (B,C,H,W) = (b per channel, or 0) + ∂(Σ dy ⊙ conv(x))/∂x: at stride 1 the flipped conv over zero-padded dy
   *  (every tap, a padding one times 0); else each dy element times each tap, added where forward read it */
  function backwardData(dx: number, dy: number, w: number, b: number, B: number, C: number, H: number, W: number, OC: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, PT: number, PL: number): void {
    const K = KH * KW;
    if (SH === 1 && SW === 1) {
      // dx[c][ih][iw] += w[o][c][ki][kj] · dy[o][ih + PT − ki][iw + PL − kj] (0 outside dy)
      gather(dx, dy, w, b, B, C, OC, H * W, OH * OW, K, tapTable(OH, OW, H, W, KH, KW, 1, 1, PT, PL, -1), K, C * K);
      return;
    }
    const h = f();
    const P = OH * OW, taps = tapTable(H, W, OH, OW, KH, KW, SH, SW, -PT, -PL, 1);
    for (let n = 0; n < B; n++)
      for (let c = 0; c < C; c++) {
        const X = (dx >>> 2) + (n * C + c) * H * W;
        h.fill(b ? h[(b >>> 2) + c] : 0, X, X + H * W);
        for (let o = 0; o < OC; o++) {
          const Y = (dy >>> 2) + (n * OC + o) * P;
          for (let k = 0; k < K; k++) {
            const wv = h[(w >>> 2) + (o * C + c) * K + k];
            for (let p = 0, t = k * P; p < P; p++, t++) {
              const at = taps[t];
              if (at >= 0) h[X + at] += wv * h[Y + p];
            }
          }
        }
      }
  }

  /** dw (OC,C,KH,KW) += Σ_n Σ_{oh,ow} dy · xpad at the tap, sample by sample */
  function backwardWeights(dw: number, dy: number, x: number, B: number, C: number, H: number, W: number, OC: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, PT: number, PL: number): void {
    const h = f();
    const P = OH * OW, K = KH * KW, taps = tapTable(H, W, OH, OW, KH, KW, SH, SW, -PT, -PL, 1);
    for (let n = 0; n < B; n++)
      for (let o = 0; o < OC; o++) {
        const Y = (dy >>> 2) + (n * OC + o) * P;
        for (let c = 0; c < C; c++) {
          const X = (x >>> 2) + (n * C + c) * H * W;
          for (let k = 0; k < K; k++) {
            let s = 0;
            for (let p = 0, t = k * P; p < P; p++, t++) {
              const at = taps[t];
              s += h[Y + p] * (at >= 0 ? h[X + at] : 0);
            }
            h[(dw >>> 2) + (o * C + c) * K + k] += s;
          }
        }
      }
  }

  /** db (C) += Σ_n Σ_i x[n][c][i] */
  function channelSum(db: number, x: number, B: number, C: number, HW: number): void {
    const h = f();
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let n = 0; n < B; n++) for (let i = 0, X = (x >>> 2) + (n * C + c) * HW; i < HW; i++) s += h[X + i];
      h[(db >>> 2) + c] += s;
    }
  }

  /** y (n elements) = act(y) after `run` writes it; an unknown code refused before */
  function activated(name: string, code: number, y: number, n: number, run: () => void): void {
    if (!(code >= ACT.none && code <= ACT.tanh)) throw new RangeError(`${name}: unknown activation code ${code}, expected 0-3`);
    run();
    if (code !== ACT.none) act(y, n, code);
  }

  // ---- the kernels ----------------------------------------------------------------------------------------------
  // conv: x (C,H,W) → y (OC,OH,OW). Transposed: the conv from y (OC,OH,OW) to x (IC,IH,IW), whose weights (out IC,
  // in OC) are w as stored: the same loops with the two sides swapped.
  return {
    conv2d_forward(y, x, w, b, _scratch, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL, code) {
      activated('conv2d_forward', code, y, B * OC * OH * OW, () => forward(y, x, w, b, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL));
    },
    conv_transpose2d_forward(y, x, w, b, _scratch, B, IC, IH, IW, OC, OH, OW, KH, KW, SH, SW, PT, PL, code) {
      activated('conv_transpose2d_forward', code, y, B * OC * OH * OW, () => backwardData(y, x, w, b, B, OC, OH, OW, IC, IH, IW, KH, KW, SH, SW, PT, PL));
    },
    conv2d_backward_data(dx, dy, w, _scratch, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL) {
      backwardData(dx, dy, w, 0, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL);
    },
    conv_transpose2d_backward_data(dx, dy, w, _scratch, B, IC, IH, IW, OC, OH, OW, KH, KW, SH, SW, PT, PL) {
      forward(dx, dy, w, 0, B, OC, OH, OW, IC, IH, IW, KH, KW, SH, SW, PT, PL);
    },
    conv2d_backward_weights(dw, db, dy, x, _scratch, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL) {
      backwardWeights(dw, dy, x, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL);
      if (db) channelSum(db, dy, B, OC, OH * OW);
    },
    conv_transpose2d_backward_weights(dw, db, dy, x, _scratch, B, IC, IH, IW, OC, OH, OW, KH, KW, SH, SW, PT, PL) {
      backwardWeights(dw, x, dy, B, OC, OH, OW, IC, IH, IW, KH, KW, SH, SW, PT, PL);
      if (db) channelSum(db, dy, B, OC, OH * OW);
    },
  };
}
