// float64 references for Conv2D and ConvTranspose2D, written as direct loops from the definitions (PyTorch's
// conv2d / conv_transpose2d, NCHW, weights (OC,C,KH,KW) and (IC,OC,KH,KW)), independent of src/ and assembly/:
//   conv:       y[n][o][oh][ow] = b[o] + Σ_{c,ki,kj} w[o][c][ki][kj] · x[n][c][oh·SH − PT + ki][ow·SW − PL + kj]
//   transposed: y[n][o][ih·SH − PT + ki][iw·SW − PL + kj] += w[i][o][ki][kj] · x[n][i][ih][iw]   (then + b[o])
// and each backward written out by hand (dx, dw, db of L = Σ dy ⊙ y). Positions outside the image are zero.

export type Pads = [number, number, number, number]; // top, left, bottom, right

/** The conv's geometry: x (B,C,H,W) → y (B,OC,OH,OW). */
export interface ConvGeom {
  B: number; C: number; H: number; W: number; OC: number; KH: number; KW: number; SH: number; SW: number; pads: Pads;
}
/** The transposed conv's: x (B,IC,IH,IW) → y (B,OC,OH,OW). */
export interface ConvTGeom {
  B: number; IC: number; IH: number; IW: number; OC: number; KH: number; KW: number; SH: number; SW: number; pads: Pads; outPad: [number, number];
}

export const convOut = (n: number, k: number, s: number, p0: number, p1: number) => Math.floor((n + p0 + p1 - k) / s) + 1;
export const convTOut = (n: number, k: number, s: number, p0: number, p1: number, op: number) => (n - 1) * s - p0 - p1 + k + op;

/** 'same' as the contract (ONNX SAME_UPPER, Keras/TF): output ⌈n/s⌉, total pad max((⌈n/s⌉−1)·s + k − n, 0), the odd one at the end. */
export function samePads(H: number, W: number, KH: number, KW: number, SH: number, SW: number): Pads {
  const t = (n: number, k: number, s: number) => Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
  const th = t(H, KH, SH), tw = t(W, KW, SW);
  return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
}

export function convShape(g: ConvGeom): { OH: number; OW: number } {
  return { OH: convOut(g.H, g.KH, g.SH, g.pads[0], g.pads[2]), OW: convOut(g.W, g.KW, g.SW, g.pads[1], g.pads[3]) };
}
export function convTShape(g: ConvTGeom): { OH: number; OW: number } {
  return { OH: convTOut(g.IH, g.KH, g.SH, g.pads[0], g.pads[2], g.outPad[0]), OW: convTOut(g.IW, g.KW, g.SW, g.pads[1], g.pads[3], g.outPad[1]) };
}

type A = ArrayLike<number>;

export function refConv(g: ConvGeom, x: A, w: A, b: A | null): Float64Array {
  const { B, C, H, W, OC, KH, KW, SH, SW } = g;
  const [PT, PL] = g.pads;
  const { OH, OW } = convShape(g);
  const y = new Float64Array(B * OC * OH * OW);
  for (let n = 0; n < B; n++)
    for (let o = 0; o < OC; o++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let s = b ? b[o] : 0;
          for (let c = 0; c < C; c++)
            for (let ki = 0; ki < KH; ki++)
              for (let kj = 0; kj < KW; kj++) {
                const ih = oh * SH - PT + ki, iw = ow * SW - PL + kj;
                if (ih >= 0 && ih < H && iw >= 0 && iw < W) s += w[((o * C + c) * KH + ki) * KW + kj] * x[((n * C + c) * H + ih) * W + iw];
              }
          y[((n * OC + o) * OH + oh) * OW + ow] = s;
        }
  return y;
}

export function refConvBackward(g: ConvGeom, dy: A, x: A, w: A): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const { B, C, H, W, OC, KH, KW, SH, SW } = g;
  const [PT, PL] = g.pads;
  const { OH, OW } = convShape(g);
  const dx = new Float64Array(B * C * H * W), dw = new Float64Array(OC * C * KH * KW), db = new Float64Array(OC);
  for (let n = 0; n < B; n++)
    for (let o = 0; o < OC; o++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          const d = dy[((n * OC + o) * OH + oh) * OW + ow];
          db[o] += d;
          for (let c = 0; c < C; c++)
            for (let ki = 0; ki < KH; ki++)
              for (let kj = 0; kj < KW; kj++) {
                const ih = oh * SH - PT + ki, iw = ow * SW - PL + kj;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const xi = ((n * C + c) * H + ih) * W + iw, wi = ((o * C + c) * KH + ki) * KW + kj;
                dx[xi] += d * w[wi];
                dw[wi] += d * x[xi];
              }
        }
  return { dx, dw, db };
}

export function refConvT(g: ConvTGeom, x: A, w: A, b: A | null): Float64Array {
  const { B, IC, IH, IW, OC, KH, KW, SH, SW } = g;
  const [PT, PL] = g.pads;
  const { OH, OW } = convTShape(g);
  const y = new Float64Array(B * OC * OH * OW);
  for (let n = 0; n < B; n++) {
    for (let o = 0; o < OC; o++) for (let j = 0; j < OH * OW; j++) y[(n * OC + o) * OH * OW + j] = b ? b[o] : 0;
    for (let i = 0; i < IC; i++)
      for (let ih = 0; ih < IH; ih++)
        for (let iw = 0; iw < IW; iw++) {
          const v = x[((n * IC + i) * IH + ih) * IW + iw];
          for (let o = 0; o < OC; o++)
            for (let ki = 0; ki < KH; ki++)
              for (let kj = 0; kj < KW; kj++) {
                const oh = ih * SH - PT + ki, ow = iw * SW - PL + kj;
                if (oh >= 0 && oh < OH && ow >= 0 && ow < OW) y[((n * OC + o) * OH + oh) * OW + ow] += v * w[((i * OC + o) * KH + ki) * KW + kj];
              }
        }
  }
  return y;
}

export function refConvTBackward(g: ConvTGeom, dy: A, x: A, w: A): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const { B, IC, IH, IW, OC, KH, KW, SH, SW } = g;
  const [PT, PL] = g.pads;
  const { OH, OW } = convTShape(g);
  const dx = new Float64Array(B * IC * IH * IW), dw = new Float64Array(IC * OC * KH * KW), db = new Float64Array(OC);
  for (let n = 0; n < B; n++) {
    for (let o = 0; o < OC; o++) for (let j = 0; j < OH * OW; j++) db[o] += dy[(n * OC + o) * OH * OW + j];
    for (let i = 0; i < IC; i++)
      for (let ih = 0; ih < IH; ih++)
        for (let iw = 0; iw < IW; iw++) {
          const xi = ((n * IC + i) * IH + ih) * IW + iw;
          for (let o = 0; o < OC; o++)
            for (let ki = 0; ki < KH; ki++)
              for (let kj = 0; kj < KW; kj++) {
                const oh = ih * SH - PT + ki, ow = iw * SW - PL + kj;
                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                const d = dy[((n * OC + o) * OH + oh) * OW + ow], wi = ((i * OC + o) * KH + ki) * KW + kj;
                dx[xi] += d * w[wi];
                dw[wi] += d * x[xi];
              }
        }
  }
  return { dx, dw, db };
}
