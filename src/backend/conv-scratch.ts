// The scratch the conv kernels need (assembly/conv.ts): one im2col panel per kernel thread. The one owner of
// that size: the layers declare it (scratchSize), the threaded kernels cut it into per-thread panels.

/** f32 elements of one thread's panel for the conv x (C,H,W) → y (·,OH,OW): col (or dcol) of one sample, K·P with
 *  K = C·KH·KW and P = OH·OW, rounded up to 16 bytes; 0 for a 1×1, stride-1, unpadded conv (col is x itself). */
export function convPanelFloats(C: number, H: number, W: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, PT: number, PL: number): number {
  if (KH === 1 && KW === 1 && SH === 1 && SW === 1 && PT === 0 && PL === 0 && OH === H && OW === W) return 0;
  return Math.ceil((C * KH * KW * OH * OW) / 4) * 4;
}

/** Scratch (f32 elements) of the conv2d_* kernels for x (C,H,W) → y (OC,OH,OW) on a backend with `threads` threads. */
export function conv2dScratchFloats(threads: number, C: number, H: number, W: number, OC: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, PT: number, PL: number): number {
  return threads * convPanelFloats(C, H, W, OH, OW, KH, KW, SH, SW, PT, PL);
}

/** Scratch (f32 elements) of the conv_transpose2d_* kernels for x (IC,IH,IW) → y (OC,OH,OW): the conv from y to x's. */
export function convTranspose2dScratchFloats(threads: number, IC: number, IH: number, IW: number, OC: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, PT: number, PL: number): number {
  return threads * convPanelFloats(OC, OH, OW, IH, IW, KH, KW, SH, SW, PT, PL);
}
