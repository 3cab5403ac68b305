// The js twins of assembly/pool.ts: pooling, nearest upsampling and pixel shuffle over N = B·C planes, written plainly. Every sum is
// rounded to f32 at each step (Math.fround), in the same order as the wasm kernels, so both give the same bits.
// Pointers are byte offsets into the views `h` (f32) and `hi` (i32) of one memory.

const fr = Math.fround;

/** The window of output (oh, ow) clipped to the plane: [hs, he) × [ws, we), and its start (h0, w0) in the padding. */
function window(H: number, W: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number) {
  const h0 = oh * sh - pt, w0 = ow * sw - pl;
  return { h0, w0, hs: Math.max(h0, 0), he: Math.min(h0 + kh, H), ws: Math.max(w0, 0), we: Math.min(w0 + kw, W) };
}

// x is (N,H,W); y and idx are (N,OH,OW): max from −∞ by `v > m || isnan(v)` (first maximum, NaN wins), idx h·W + w
export function maxpool2dForward(h: Float32Array, hi: Int32Array, y: number, idx: number, x: number, N: number, H: number, W: number, OH: number, OW: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number): void {
  for (let n = 0; n < N; n++) {
    const X = (x >>> 2) + n * H * W, Y = (y >>> 2) + n * OH * OW, I = (idx >>> 2) + n * OH * OW;
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const { hs, he, ws, we } = window(H, W, oh, ow, kh, kw, sh, sw, pt, pl);
        let m = -Infinity;
        let mi = hs < he && ws < we ? hs * W + ws : -1;
        for (let r = hs; r < he; r++)
          for (let c = ws; c < we; c++) {
            const v = h[X + r * W + c];
            if (v > m || v !== v) {
              m = v;
              mi = r * W + c;
            }
          }
        h[Y + oh * OW + ow] = m;
        hi[I + oh * OW + ow] = mi;
      }
  }
}

// dy and idx are (N,OH,OW), dx is (N,H,W): dx = 0, then dx[idx] += dy in output order
export function maxpool2dBackward(h: Float32Array, hi: Int32Array, dx: number, dy: number, idx: number, N: number, H: number, W: number, OH: number, OW: number): void {
  const HW = H * W;
  for (let n = 0; n < N; n++) {
    const D = (dx >>> 2) + n * HW, G = (dy >>> 2) + n * OH * OW, I = (idx >>> 2) + n * OH * OW;
    h.fill(0, D, D + HW);
    for (let o = 0; o < OH * OW; o++) {
      const i = hi[I + o];
      if (i >= 0 && i < HW) h[D + i] = fr(h[D + i] + h[G + o]);
    }
  }
}

/** kh·kw with countIncludePad, else the elements inside the plane (at least 1) */
function divisor(H: number, W: number, h0: number, w0: number, kh: number, kw: number, include: number): number {
  if (include) return kh * kw;
  const dh = Math.max(Math.min(h0 + kh, H) - Math.max(h0, 0), 0), dw = Math.max(Math.min(w0 + kw, W) - Math.max(w0, 0), 0);
  return Math.max(dh * dw, 1);
}

// x is (N,H,W), y is (N,OH,OW): the f32 sum from +0 in scan order, divided
export function avgpool2dForward(h: Float32Array, y: number, x: number, N: number, H: number, W: number, OH: number, OW: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, include: number): void {
  for (let n = 0; n < N; n++) {
    const X = (x >>> 2) + n * H * W, Y = (y >>> 2) + n * OH * OW;
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const { h0, w0, hs, he, ws, we } = window(H, W, oh, ow, kh, kw, sh, sw, pt, pl);
        let s = 0;
        for (let r = hs; r < he; r++) for (let c = ws; c < we; c++) s = fr(s + h[X + r * W + c]);
        h[Y + oh * OW + ow] = s / divisor(H, W, h0, w0, kh, kw, include);
      }
  }
}

// dy is (N,OH,OW), dx is (N,H,W): dx = 0, then each window's elements += dy/divisor, in output order
export function avgpool2dBackward(h: Float32Array, dx: number, dy: number, N: number, H: number, W: number, OH: number, OW: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, include: number): void {
  for (let n = 0; n < N; n++) {
    const D = (dx >>> 2) + n * H * W, G = (dy >>> 2) + n * OH * OW;
    h.fill(0, D, D + H * W);
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const { h0, w0, hs, he, ws, we } = window(H, W, oh, ow, kh, kw, sh, sw, pt, pl);
        const g = fr(h[G + oh * OW + ow] / divisor(H, W, h0, w0, kh, kw, include));
        for (let r = hs; r < he; r++) for (let c = ws; c < we; c++) h[D + r * W + c] = fr(h[D + r * W + c] + g);
      }
  }
}

// x is (N,H,W), y is (N,H·sh,W·sw): y[r, c] = x[r / sh, c / sw]
export function upsample2dForward(h: Float32Array, y: number, x: number, N: number, H: number, W: number, sh: number, sw: number): void {
  const OH = H * sh, OW = W * sw;
  for (let n = 0; n < N; n++) {
    const X = (x >>> 2) + n * H * W, Y = (y >>> 2) + n * OH * OW;
    for (let r = 0; r < OH; r++) for (let c = 0; c < OW; c++) h[Y + r * OW + c] = h[X + Math.floor(r / sh) * W + Math.floor(c / sw)];
  }
}

// dy is (N,H·sh,W·sw), dx is (N,H,W): dx[r, c] = the f32 sum of its sh×sw block, from +0 in scan order
export function upsample2dBackward(h: Float32Array, dx: number, dy: number, N: number, H: number, W: number, sh: number, sw: number): void {
  const OW = W * sw;
  for (let n = 0; n < N; n++) {
    const D = (dx >>> 2) + n * H * W, G = (dy >>> 2) + n * H * sh * OW;
    for (let r = 0; r < H; r++)
      for (let c = 0; c < W; c++) {
        let s = 0;
        for (let i = 0; i < sh; i++) for (let j = 0; j < sw; j++) s = fr(s + h[G + (r * sh + i) * OW + c * sw + j]);
        h[D + r * W + c] = s;
      }
  }
}

// x is (N,H·r,W·r), y is (N,r²,H,W): y[n, i·r + j, h, w] = x[n, h·r + i, w·r + j] (PyTorch's pixel_unshuffle)
export function pixelUnshuffle(h: Float32Array, y: number, x: number, N: number, H: number, W: number, r: number): void {
  const G = H * W * r * r;
  for (let n = 0; n < N; n++) {
    const X = (x >>> 2) + n * G, Y = (y >>> 2) + n * G;
    for (let i = 0; i < r; i++)
      for (let j = 0; j < r; j++)
        for (let a = 0; a < H; a++) for (let b = 0; b < W; b++) h[Y + ((i * r + j) * H + a) * W + b] = h[X + (a * r + i) * W * r + b * r + j];
  }
}

// x is (N,r²,H,W), y is (N,H·r,W·r): y[n, h·r + i, w·r + j] = x[n, i·r + j, h, w] (PyTorch's pixel_shuffle)
export function pixelShuffle(h: Float32Array, y: number, x: number, N: number, H: number, W: number, r: number): void {
  const G = H * W * r * r;
  for (let n = 0; n < N; n++) {
    const X = (x >>> 2) + n * G, Y = (y >>> 2) + n * G;
    for (let i = 0; i < r; i++)
      for (let j = 0; j < r; j++)
        for (let a = 0; a < H; a++) for (let b = 0; b < W; b++) h[Y + (a * r + i) * W * r + b * r + j] = h[X + ((i * r + j) * H + a) * W + b];
  }
}
