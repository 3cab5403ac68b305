// The scratch of the conv kernels, per thread: assembly/conv.ts's conv2d_scratch, copied (the wasm module exports
// it; test/conv-kernels.test.ts holds the two equal). The layers declare `backend.threads` of these, the split
// rules (abi.ts) give each thread its own.

/** Floats of gemm_block's scratch (assembly/gemm.ts GEMM_SCRATCH_BYTES: the edge tile, the A and B packs, the A
 *  strips' k lists; test/abi.test.ts checks it against the module's gemm_scratch_bytes). */
export const GEMM_SCRATCH_FLOATS = (4 * 8 * 4 + 128 * 256 * 4 + 256 * 512 * 4 + (128 / 4) * (256 + 1) * 4) / 4;

const up4 = (n: number) => Math.ceil(n / 4) * 4;
const up8 = (n: number) => Math.ceil(n / 8) * 8;
/** the zero-padded copy of a sample (C, HP, WP), the slack its last tile reads, the tile */
const xpFloats = (C: number, HP: number, WP: number, SW: number) => up4(C * HP * WP + 3 * SW + 4) + 64;

/** assembly/winograd.ts's wino_scratch for the 3×3 stride-1 conv NI → NO: the larger of the forward's (U, a block's
 * V and M, the padded sample) and the weight gradient's (dU, a block's V and M̄, the padded sample and dy, the GEMM's) */
function winoScratchFloats(NI: number, NO: number, OH: number, OW: number): number {
  const TW = up4(Math.ceil(OW / 2)), TS = Math.ceil(OW / 2) + 1 & ~1, tilesH = Math.ceil(OH / 2), NOp = up4(NO);
  const most = Math.max(1, Math.min(tilesH, Math.floor(4096 / ((NI + NOp) * TS))));
  let rows = most; // block_rows: rows filling whole 8-tile strips when some do
  for (let r = most; r > 1; r--) if (((r * TS) & 7) === 0) { rows = r; break; }
  const Tb = up8(rows * TS);
  const xp = NI * (2 * tilesH + 2) * (2 * TW + 2);
  const plane = (n: number) => n + 16; // winograd.ts's plane(): a pad that keeps the 16 matrices off the same L1 sets
  const fwd = 16 * (plane(NOp * NI) + plane(NI * Tb) + plane(NOp * Tb)) + xp;
  const Tg = Math.max(1, Math.min(tilesH, Math.floor(16384 / ((NI + NO) * TW)))) * TW;
  const grad = 16 * (plane(NO * NI) + plane(NI * Tg) + plane(NO * Tg)) + xp + NO * 2 * tilesH * 2 * TW + GEMM_SCRATCH_FLOATS;
  return Math.max(fwd, grad);
}

/** f32 elements of one thread's scratch for the conv x (C,H,W) → y (OC,OH,OW), all three passes. */
export function convScratchFloats(C: number, H: number, W: number, OC: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number): number {
  const K = C * KH * KW;
  const fwd = up4(K * up8(OC)) + up8(OC) + up4(K) + xpFloats(C, (OH - 1) * SH + KH, (OW - 1) * SW + KW, SW);
  const K2 = OC * KH * KW;
  const bwd = SH === 1 && SW === 1 ? up4(K2 * up8(C)) + up8(C) + up4(K2) + xpFloats(OC, H + KH - 1, W + KW - 1, 1) : up4(K * OH * OW) + GEMM_SCRATCH_FLOATS;
  const wgt = up4(K) + up4(OH * OW * up8(OC)) + xpFloats(C, (OH - 1) * SH + KH, (OW - 1) * SW + KW, SW);
  // Winograd's part first (3×3 stride 1, ≥ 4 channels each way: winograd.ts WINO_MIN_CHANNELS), with its list of
  // channels to hand back; the direct passes' after it
  const wino = KH === 3 && KW === 3 && SH === 1 && SW === 1 && C >= 4 && OC >= 4 ? Math.max(winoScratchFloats(C, OC, OH, OW), winoScratchFloats(OC, C, H, W)) + up4(C) : 0;
  return wino + Math.max(fwd, bwd, wgt);
}

/** The same for the transposed conv x (IC,IH,IW) → y (OC,OH,OW): the conv from y to x's. */
export function convTransposeScratchFloats(IC: number, IH: number, IW: number, OC: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number): number {
  return convScratchFloats(OC, OH, OW, IC, IH, IW, KH, KW, SH, SW);
}
