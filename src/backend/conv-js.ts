// The js twins of assembly/conv.ts: the same six kernels as plain direct loops over the definition
//   y[n][o][oh][ow] = b[o] + Σ_{c,ki,kj} w[o][c][ki][kj] · xpad[n][c][oh·SH − PT + ki][ow·SW − PL + kj]
// where xpad is x with zeros around it (as PyTorch pads): a padding tap is a product with 0, so a NaN or ±Inf weight
// makes it NaN, as in the kernels. Backward-weights sums dy times the same taps; backward-data at stride 1 is the
// forward of the flipped conv over zero-padded dy (each dx element gets every tap, as assembly/conv.ts computes it),
// at larger strides each dy element times each tap is added where forward read it (taps in the padding dropped).
// No im2col, no scratch: the readable reference (and the benchmark baseline). The transposed kernels are the same
// loops read the other way, as in assembly/conv.ts.

import { ACT, type Kernels } from './backend.js';

type ConvKernels = Pick<Kernels, 'conv2d_forward' | 'conv2d_backward_data' | 'conv2d_backward_weights' | 'conv_transpose2d_forward' | 'conv_transpose2d_backward_data' | 'conv_transpose2d_backward_weights'>;

/** The conv kernels over a heap view `f()` (re-derived per call); `act` applies an ACT code in place. */
export function convJsKernels(f: () => Float32Array, act: (y: number, n: number, code: number) => void): ConvKernels {
  // ---- the three loops, on the conv's geometry (x: C,H,W → y: OC,OH,OW; w: OC,C,KH,KW) -------------------------

  /** y (B,OC,OH,OW) = (b per channel, or 0) + conv(x) */
  function forward(y: number, x: number, w: number, b: number, B: number, C: number, H: number, W: number, OC: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, PT: number, PL: number): void {
    const h = f();
    const P = OH * OW;
    for (let n = 0; n < B; n++)
      for (let o = 0; o < OC; o++) {
        const Y = (y >>> 2) + (n * OC + o) * P;
        h.fill(b ? h[(b >>> 2) + o] : 0, Y, Y + P);
        for (let c = 0; c < C; c++) {
          const X = (x >>> 2) + (n * C + c) * H * W;
          for (let ki = 0; ki < KH; ki++)
            for (let kj = 0; kj < KW; kj++) {
              const wv = h[(w >>> 2) + ((o * C + c) * KH + ki) * KW + kj];
              for (let oh = 0; oh < OH; oh++) {
                const ih = oh * SH - PT + ki;
                const rowIn = ih >= 0 && ih < H;
                for (let ow = 0; ow < OW; ow++) {
                  const iw = ow * SW - PL + kj;
                  h[Y + oh * OW + ow] += wv * (rowIn && iw >= 0 && iw < W ? h[X + ih * W + iw] : 0);
                }
              }
            }
        }
      }
  }

  /** dx (B,C,H,W) = (b per channel, or 0) + ∂(Σ dy ⊙ conv(x))/∂x: at stride 1 the flipped conv over zero-padded dy
   *  (every tap, a padding one times 0); else each dy element times each tap, added where forward read it */
  function backwardData(dx: number, dy: number, w: number, b: number, B: number, C: number, H: number, W: number, OC: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, PT: number, PL: number): void {
    const h = f();
    for (let n = 0; n < B; n++) {
      for (let c = 0; c < C; c++) {
        const X = (dx >>> 2) + (n * C + c) * H * W;
        h.fill(b ? h[(b >>> 2) + c] : 0, X, X + H * W);
      }
      for (let o = 0; o < OC; o++) {
        const Y = (dy >>> 2) + (n * OC + o) * OH * OW;
        for (let c = 0; c < C; c++) {
          const X = (dx >>> 2) + (n * C + c) * H * W;
          for (let ki = 0; ki < KH; ki++)
            for (let kj = 0; kj < KW; kj++) {
              const wv = h[(w >>> 2) + ((o * C + c) * KH + ki) * KW + kj];
              if (SH === 1 && SW === 1) {
                // dx[ih][iw] += w · dy[ih + PT − ki][iw + PL − kj] (0 outside dy)
                for (let ih = 0; ih < H; ih++) {
                  const oh = ih + PT - ki;
                  const rowIn = oh >= 0 && oh < OH;
                  for (let iw = 0; iw < W; iw++) {
                    const ow = iw + PL - kj;
                    h[X + ih * W + iw] += wv * (rowIn && ow >= 0 && ow < OW ? h[Y + oh * OW + ow] : 0);
                  }
                }
                continue;
              }
              for (let oh = 0; oh < OH; oh++) {
                const ih = oh * SH - PT + ki;
                if (ih < 0 || ih >= H) continue;
                for (let ow = 0; ow < OW; ow++) {
                  const iw = ow * SW - PL + kj;
                  if (iw >= 0 && iw < W) h[X + ih * W + iw] += wv * h[Y + oh * OW + ow];
                }
              }
            }
        }
      }
    }
  }

  /** dw (OC,C,KH,KW) += Σ_n Σ_{oh,ow} dy · xpad at the tap, sample by sample */
  function backwardWeights(dw: number, dy: number, x: number, B: number, C: number, H: number, W: number, OC: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, PT: number, PL: number): void {
    const h = f();
    for (let n = 0; n < B; n++)
      for (let o = 0; o < OC; o++) {
        const Y = (dy >>> 2) + (n * OC + o) * OH * OW;
        for (let c = 0; c < C; c++) {
          const X = (x >>> 2) + (n * C + c) * H * W;
          for (let ki = 0; ki < KH; ki++)
            for (let kj = 0; kj < KW; kj++) {
              let s = 0;
              for (let oh = 0; oh < OH; oh++) {
                const ih = oh * SH - PT + ki;
                const rowIn = ih >= 0 && ih < H;
                for (let ow = 0; ow < OW; ow++) {
                  const iw = ow * SW - PL + kj;
                  s += h[Y + oh * OW + ow] * (rowIn && iw >= 0 && iw < W ? h[X + ih * W + iw] : 0);
                }
              }
              h[(dw >>> 2) + ((o * C + c) * KH + ki) * KW + kj] += s;
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

  function checkAct(name: string, code: number): void {
    if (!(code >= ACT.none && code <= ACT.tanh)) throw new RangeError(`${name}: unknown activation code ${code}, expected 0-3`);
  }

  // ---- the kernels ----------------------------------------------------------------------------------------------
  return {
    conv2d_forward(y, x, w, b, _scratch, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL, code) {
      checkAct('conv2d_forward', code);
      forward(y, x, w, b, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL);
      if (code !== ACT.none) act(y, B * OC * OH * OW, code);
    },
    conv2d_backward_data(dx, dy, w, _scratch, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL) {
      backwardData(dx, dy, w, 0, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL);
    },
    conv2d_backward_weights(dw, db, dy, x, _scratch, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL) {
      backwardWeights(dw, dy, x, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL);
      if (db) channelSum(db, dy, B, OC, OH * OW);
    },
    // transposed: the conv from y (OC,OH,OW) to x (IC,IH,IW), whose weights (out IC, in OC) are w as stored
    conv_transpose2d_forward(y, x, w, b, _scratch, B, IC, IH, IW, OC, OH, OW, KH, KW, SH, SW, PT, PL, code) {
      checkAct('conv_transpose2d_forward', code);
      backwardData(y, x, w, b, B, OC, OH, OW, IC, IH, IW, KH, KW, SH, SW, PT, PL);
      if (code !== ACT.none) act(y, B * OC * OH * OW, code);
    },
    conv_transpose2d_backward_data(dx, dy, w, _scratch, B, IC, IH, IW, OC, OH, OW, KH, KW, SH, SW, PT, PL) {
      forward(dx, dy, w, 0, B, OC, OH, OW, IC, IH, IW, KH, KW, SH, SW, PT, PL);
    },
    conv_transpose2d_backward_weights(dw, db, dy, x, _scratch, B, IC, IH, IW, OC, OH, OW, KH, KW, SH, SW, PT, PL) {
      backwardWeights(dw, x, dy, B, OC, OH, OW, IC, IH, IW, KH, KW, SH, SW, PT, PL);
      if (db) channelSum(db, dy, B, OC, OH * OW);
    },
  };
}
