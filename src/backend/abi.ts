// The wasm module's interface, in one place: what it exports (the `Kernels`, the pieces a thread runs, a few
// facts), the numbers its kernels take (copied from assembly/, checked against it by test/abi.test.ts), and how each
// kernel is cut across threads (SPLIT: one line per kernel, the rule kinds in split.ts, run by threaded.ts).
//
// The compiler holds the lists together: SPLIT is a Record over the `Kernels` names, PIECES over `Pieces`, so a
// kernel missing from either fails to compile; the loader's export check, the one-thread kernels and the pool's
// thread functions are derived from them.

import { NOISE, STRIP_WIDTH, type Kernels } from './backend.js';
import { convScratchFloats, convTransposeScratchFloats } from './conv-scratch.js';
import { GEMM, MIN_PER_THREAD, chunks, columns, elements, rows, scaled, type Args, type Split } from './split.js';

// =====================================================================================================
// Numbers the pieces take (assembly/ owns them; test/abi.test.ts reads them there, and the public codes ACT and
// NOISE that backend.ts declares beside the Kernels)
// =====================================================================================================

/** gemm_block write-back modes (assembly/gemm.ts). */
export const GEMM_MODE = { STORE: 0, ADD: 1, BIAS: 2 } as const;

/** loss_sums kinds (assembly/loss.ts). The chunk length is the module's `loss_chunk()`. */
export const SUM_KIND = { LOSS_MSE: 0, LOSS_BCE: 1, LOSS_CE: 2, SUM_SQUARES: 3 } as const;

// =====================================================================================================
// Exports besides the Kernels
// =====================================================================================================

/** The pieces a thread runs that are not Kernels: a block of a GEMM, a range of weight strips (packed, or used by a
 *  product), a column range of a column sum, chunked loss
 *  sums, and the scaled loss gradients with the whole batch's scale. */
export interface Pieces {
  gemm_block(c: number, a: number, b: number, bias: number, M: number, N: number, K: number, transA: number, transB: number, mode: number, act: number, m0: number, m1: number, n0: number, n1: number, scratch: number): void;
  /** pack_strips of the columns [lo, hi) (whole strips) */
  pack_strips_cols(wp: number, w: number, IN: number, OUT: number, lo: number, hi: number): void;
  /** linear_strips_forward of the columns [lo, hi) (whole strips), with a GEMM scratch (its k lists) */
  linear_strips_cols(out: number, x: number, wp: number, w: number, b: number, B: number, IN: number, OUT: number, act: number, lo: number, hi: number, scratch: number): void;
  col_sum_cols(out: number, x: number, B: number, N: number, accumulate: number, j0: number, j1: number): void;
  loss_sums(sums: number, kind: number, p: number, t: number, n: number): void;
  diff_scaled(out: number, p: number, t: number, n: number, s: number): void;
  bce_backward_scaled(dp: number, p: number, t: number, n: number, inv: number): void;
  /** conv2d_backward_weights for the input channels [c0, c1) (their taps of dw, and db's channels ⌊c·OC/C⌋ of them) */
  conv2d_backward_weights_cols(dw: number, db: number, dy: number, x: number, scratch: number, B: number, C: number, H: number, W: number, OC: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, PT: number, PL: number, c0: number, c1: number): void;
  /** conv_transpose2d_backward_weights for the output channels [c0, c1) (their taps of dw, and of db) */
  conv_transpose2d_backward_weights_cols(dw: number, db: number, dy: number, x: number, scratch: number, B: number, IC: number, IH: number, IW: number, OC: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, PT: number, PL: number, c0: number, c1: number): void;
}
const PIECES: Record<keyof Pieces, true> = {
  gemm_block: true, pack_strips_cols: true, linear_strips_cols: true, col_sum_cols: true, loss_sums: true, diff_scaled: true, bce_backward_scaled: true,
  conv2d_backward_weights_cols: true, conv_transpose2d_backward_weights_cols: true,
};

/** Facts the loader reads once: the static GEMM scratch (thread 0's) and each further thread's bytes, the loss
 *  chunk, the first byte above the static data. */
export interface Facts {
  gemm_scratch(): number;
  gemm_scratch_bytes(): number;
  loss_chunk(): number;
  heap_base(): number;
}
const FACTS: Record<keyof Facts, true> = { gemm_scratch: true, gemm_scratch_bytes: true, loss_chunk: true, heap_base: true };

/** Everything the backend calls on the module. */
export type RawExports = Kernels & Pieces & Facts;

// =====================================================================================================
// How each kernel splits across threads (split.ts has the rule kinds). Arguments by position, as in Kernels.
// =====================================================================================================

const { light: LIGHT, heavy: HEAVY, gemm: MACS } = MIN_PER_THREAD;
const col = (i: number) => (a: Args) => a[i]; // floats per row: argument i (the row's width)
const plane = (h: number, w: number) => (a: Args) => a[h] * a[w]; // floats per plane: arguments h × w
const group = (a: Args) => a[3] * a[4] * a[5] * a[5]; // pixel shuffle's floats per group: H·W·r²
// conv: a sample's floats (C·H·W from arguments c, c+1, c+2), multiply-adds per sample, one thread's scratch bytes
// from the geometry at argument g (C, H, W, OC, OH, OW, KH, KW, SH, SW); the transposed kernels' from (IC, …)
const vol = (c: number) => (a: Args) => a[c] * a[c + 1] * a[c + 2];
const convMacs = (g: number) => (a: Args) => a[g + 3] * a[g + 4] * a[g + 5] * a[g] * a[g + 6] * a[g + 7]; // OC·OH·OW·C·KH·KW
const convTMacs = (g: number) => (a: Args) => a[g] * a[g + 1] * a[g + 2] * a[g + 3] * a[g + 6] * a[g + 7]; // IC·IH·IW·OC·KH·KW
const convPanel = (g: number) => (a: Args) => 4 * convScratchFloats(a[g], a[g + 1], a[g + 2], a[g + 3], a[g + 4], a[g + 5], a[g + 6], a[g + 7], a[g + 8], a[g + 9]);
const convTPanel = (g: number) => (a: Args) => 4 * convTransposeScratchFloats(a[g], a[g + 1], a[g + 2], a[g + 3], a[g + 4], a[g + 5], a[g + 6], a[g + 7], a[g + 8], a[g + 9]);
/** the least share of a thread in floats of the first pointer (argument `out`'s plane per sample), which costs
 *  macs(a) multiply-adds per sample */
const convMin = (out: number, macs: (a: Args) => number) => {
  const p = vol(out); // (built once: a kernel call allocates nothing)
  return (a: Args) => (MACS * p(a)) / macs(a);
};
/** a call's multiply-adds: samples (argument 5) times macs per sample */
const convWork = (macs: (a: Args) => number) => (a: Args) => a[5] * macs(a);

export const SPLIT = {
  gemm: GEMM,
  linear_forward: GEMM,
  linear_act_forward: GEMM,
  linear_backward: GEMM,
  // (wp, w, IN, OUT) and (out, x, wp, w, b, B, IN, OUT, act): whole strips of 24 columns per thread, each a
  // contiguous block of wp
  pack_strips: columns('pack_strips_cols', 3, STRIP_WIDTH, LIGHT, (a) => a[2] * a[3]),
  linear_strips_forward: columns('linear_strips_cols', 7, STRIP_WIDTH, MACS, (a) => a[5] * a[6] * a[7], { gemmScratch: true }),
  bias_add: rows(3, LIGHT, [[0, col(4)], [1, col(4)]]), // (out, x, b, B, N): b whole
  col_sum: columns('col_sum_cols', 3, 4, LIGHT, (a) => a[2] * a[3]), // (out, x, B, N, acc)

  // activations: (y, x, n), (dx, dy, y, n); softmax (y, x, B, N), (dx, dy, y, B, N)
  relu_forward: elements(2, LIGHT),
  relu_backward: elements(3, LIGHT),
  tanh_forward: elements(2, HEAVY),
  tanh_backward: elements(3, LIGHT),
  sigmoid_forward: elements(2, HEAVY),
  sigmoid_backward: elements(3, LIGHT),
  softmax_forward: rows(2, HEAVY, [[0, col(3)], [1, col(3)]]),
  softmax_backward: rows(3, HEAVY, [[0, col(4)], [1, col(4)], [2, col(4)]]),

  // losses (p, t, B, N) and their gradients (d, p, t, B, N)
  mse_loss: chunks(SUM_KIND.LOSS_MSE, 2, (s, a) => s / (a[2] * a[3])),
  mse_backward: scaled('diff_scaled', LIGHT, (a) => Math.fround(2 / (a[3] * a[4]))),
  bce_loss: chunks(SUM_KIND.LOSS_BCE, 2, (s, a) => -s / (a[2] * a[3])),
  bce_backward: scaled('bce_backward_scaled', HEAVY, (a) => 1 / (a[3] * a[4])),
  sigmoid_bce_backward: scaled('diff_scaled', LIGHT, (a) => Math.fround(1 / (a[3] * a[4]))),
  softmax_ce_loss: chunks(SUM_KIND.LOSS_CE, 2, (s, a) => -s / a[2]),
  softmax_ce_backward: scaled('diff_scaled', LIGHT, (a) => Math.fround(1 / a[3])),

  // optimizers: (w, state…, g, scalars…, n)
  sgd_update: elements(2, LIGHT),
  momentum_update: elements(3, LIGHT),
  adam_update: elements(4, HEAVY),
  adamw_update: elements(4, HEAVY),
  rmsprop_update: elements(3, HEAVY),
  grad_scale_decay: elements(2, LIGHT),
  sum_squares: chunks(SUM_KIND.SUM_SQUARES, 1, (s) => s),

  // the counter of element i is c0 + i: a part from lo starts at c0 + lo
  dropout_apply: elements(2, HEAVY, { counter: 5 }),
  // (dst, src, idx, row0, count, width, kind, …): src whole, idx (i32 per row) and row0 move with the rows
  gather_noise: rows(4, (a) => (a[6] === NOISE.none ? LIGHT : HEAVY), [[0, col(5)], [2, 1]], { counter: 3 }),

  // pooling and upsampling over N = B·C planes: a range of planes per thread (each plane's outputs, the gradient's
  // sums included, are computed by one thread); the first step (the larger plane) measures the work
  maxpool2d_forward: rows(3, LIGHT, [[2, plane(4, 5)], [0, plane(6, 7)], [1, plane(6, 7)]]), // (y, idx, x, N, H, W, OH, OW, …)
  maxpool2d_backward: rows(3, LIGHT, [[0, plane(4, 5)], [1, plane(6, 7)], [2, plane(6, 7)]]), // (dx, dy, idx, N, H, W, OH, OW, …)
  avgpool2d_forward: rows(2, LIGHT, [[1, plane(3, 4)], [0, plane(5, 6)]]), // (y, x, N, H, W, OH, OW, …)
  avgpool2d_backward: rows(2, LIGHT, [[0, plane(3, 4)], [1, plane(5, 6)]]), // (dx, dy, N, H, W, OH, OW, …)
  upsample2d_forward: rows(2, LIGHT, [[0, (a) => a[3] * a[4] * a[5] * a[6]], [1, plane(3, 4)]]), // (y, x, N, H, W, sh, sw)
  upsample2d_backward: rows(2, LIGHT, [[1, (a) => a[3] * a[4] * a[5] * a[6]], [0, plane(3, 4)]]), // (dx, dy, N, H, W, sh, sw)
  // pixel shuffle (y, x, N, H, W, r): a range of groups per thread, each H·W·r² floats on both sides
  pixel_unshuffle: rows(2, LIGHT, [[0, group], [1, group]]),
  pixel_shuffle: rows(2, LIGHT, [[0, group], [1, group]]),

  fill: elements(1, LIGHT),
  has_non_finite: elements(1, LIGHT, { any: true }),

  // conv (y, x, w, b, scratch, B, C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL, act), backward-data (dx, dy, w, scratch,
  // B, C, …), backward-weights (dw, db, dy, x, scratch, B, C, …): samples per thread, each with its scratch panel;
  // the weight gradients (sums over the batch) by channel ranges, every thread over every sample in order
  conv2d_forward: rows(5, convMin(9, convMacs(6)), [[0, vol(9)], [1, vol(6)]], { scratch: [4, convPanel(6)] }),
  conv2d_backward_data: rows(4, convMin(5, convMacs(5)), [[0, vol(5)], [1, vol(8)]], { scratch: [3, convPanel(5)] }),
  conv2d_backward_weights: columns('conv2d_backward_weights_cols', 6, 1, MACS, convWork(convMacs(6)), { scratch: [4, convPanel(6)] }),
  conv_transpose2d_forward: rows(5, convMin(9, convTMacs(6)), [[0, vol(9)], [1, vol(6)]], { scratch: [4, convTPanel(6)] }),
  conv_transpose2d_backward_data: rows(4, convMin(5, convTMacs(5)), [[0, vol(5)], [1, vol(8)]], { scratch: [3, convTPanel(5)] }),
  conv_transpose2d_backward_weights: columns('conv_transpose2d_backward_weights_cols', 9, 1, MACS, convWork(convTMacs(6)), { scratch: [4, convTPanel(6)] }),
} as const satisfies Record<keyof Kernels, Split<keyof Pieces>>;

/** The kernels whose GEMM blocks threaded.ts writes out. */
export type GemmKernel = { [K in keyof typeof SPLIT]: (typeof SPLIT)[K] extends { kind: 'gemm' } ? K : never }[keyof typeof SPLIT];

// =====================================================================================================
// Names
// =====================================================================================================

/** The Kernels, in SPLIT's order. */
export const KERNEL_NAMES = Object.keys(SPLIT) as (keyof Kernels)[];

/** The exports a thread may run, by index: the pool sends this list to each worker; a task names its index. */
export const THREAD_FNS = [...KERNEL_NAMES, ...(Object.keys(PIECES) as (keyof Pieces)[])];
export type ThreadFn = keyof Kernels | keyof Pieces;
/** Index of each thread function, e.g. FN.gemm_block. */
export const FN = Object.fromEntries(THREAD_FNS.map((name, i) => [name, i])) as Record<ThreadFn, number>;

/** Every export the backend needs (the loader checks a module has them all). */
export const EXPORT_NAMES: readonly (keyof RawExports)[] = [...THREAD_FNS, ...(Object.keys(FACTS) as (keyof Facts)[])];
