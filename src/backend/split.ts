// How a kernel is cut across threads: the rule kinds of abi.ts's SPLIT table (one line per kernel), run by
// threaded.ts. Every rule keeps results bit-identical for any thread count: each output element is computed by one
// thread with the one-thread arithmetic, and sums over a batch are never cut where the thread count decides.

/** A call's arguments by position (the threaded kernels copy them here: no array per call). */
export type Args = Float64Array;
/** A size: a constant, or a function of the call's arguments (e.g. a row's floats from its width argument). */
export type Size = number | ((a: Args) => number);

/** Smallest share of work worth a thread: below it a call runs on the calling thread. Measured on 2 cores (relaxed
 *  build, 1 vs 2 threads, hot loop): GEMM breaks even near 32³ (32 K multiply-adds) and gains 1.4× at 48³, 1.9× at
 *  (1,784)·(784,128); relu near 16 K elements per thread; sigmoid and Adam near 2-4 K. GEMM in multiply-adds per
 *  thread, the rest in elements per thread. */
export const MIN_PER_THREAD = {
  gemm: 1 << 15,
  /** one pass of cheap arithmetic: relu, fill, sgd, bias, diffs, a plain gather */
  light: 1 << 14,
  /** transcendentals or several streams: sigmoid, tanh, softmax, bce, adam, noise */
  heavy: 1 << 12,
};

/** Units `[0, n)` (elements, or rows / samples of a batch) cut into one range per thread. Part [lo, hi): every
 *  pointer of `steps` moves lo·`by` floats (a null pointer stays null), argument `n` becomes hi − lo, `counter`
 *  (a row or element counter, e.g. dropout's) moves by lo, `scratch` moves t·`scratchBytes` (a panel per thread). */
export interface Parts {
  readonly kind: 'parts';
  readonly min: Size;
  /** argument index of the count that is cut; −1: the last argument (sizes last) */
  readonly n: number;
  /** part boundaries are multiples of this many units (16 elements: 64-byte lines; 1 row) */
  readonly align: number;
  readonly steps: readonly (readonly [arg: number, by: Size])[];
  readonly counter: number;
  readonly scratch: number;
  readonly scratchBytes: Size;
  /** the kernel returns a flag: the call returns 1 when any part does */
  readonly any: boolean;
}

/** Output columns (or channels) cut into ranges: part t runs `piece(…the kernel's arguments, lo, hi)`, which
 *  computes columns [lo, hi) over the whole batch in the one-thread order (a sum over the batch is never cut);
 *  `scratch` moves t·`scratchBytes` (a panel per thread), as in Parts. */
export interface Range<P extends string = string> {
  readonly kind: 'range';
  readonly piece: P;
  readonly min: Size;
  /** work of the whole call (min is per thread) */
  readonly work: (a: Args) => number;
  /** argument index of the column count, and the alignment of the cuts */
  readonly n: number;
  readonly align: number;
  readonly scratch: number;
  readonly scratchBytes: Size;
  /** the piece takes the thread's GEMM scratch after (lo, hi) (the k lists of the strips' ZERO_SKIP) */
  readonly gemmScratch: boolean;
}

/** A scalar sum over the first `ptrs` arrays (of the product of the size arguments), in fixed chunks of
 *  LOSS_CHUNK elements whose sums (`loss_sums` of `sumKind`) the caller adds in order, as the one-thread kernel
 *  does; `finish` turns the total into the kernel's value. */
export interface Chunks {
  readonly kind: 'chunks';
  readonly sumKind: number;
  readonly ptrs: number;
  readonly finish: (total: number, a: Args) => number;
}

/** (out, p, t, B, N) elementwise with the whole batch's scale: part [lo, hi) runs `piece(out, p, t, hi − lo, s)`. */
export interface Scaled<P extends string = string> {
  readonly kind: 'scaled';
  readonly piece: P;
  readonly min: Size;
  readonly scale: (a: Args) => number;
}

/** GEMM blocks: written out in threaded.ts (rows or columns, whichever packs less per thread; K is never cut). */
export interface Gemm {
  readonly kind: 'gemm';
}

/** A rule; P: the names of the module's pieces (abi.ts's Pieces), so a rule naming a missing piece fails to compile. */
export type Split<P extends string = string> = Parts | Range<P> | Chunks | Scaled<P> | Gemm;

interface PartsOptions {
  counter?: number;
  scratch?: readonly [arg: number, bytes: Size];
  any?: boolean;
}

function parts(n: number, align: number, min: Size, steps: Parts['steps'], o: PartsOptions): Parts {
  return { kind: 'parts', min, n, align, steps, counter: o.counter ?? -1, scratch: o.scratch?.[0] ?? -1, scratchBytes: o.scratch?.[1] ?? 0, any: o.any ?? false };
}

/** Elementwise over n, the last argument: the first `ptrs` arguments are f32 arrays of n, cut together. */
export function elements(ptrs: number, min: Size, o: PartsOptions = {}): Parts {
  return parts(-1, 16, min, Array.from({ length: ptrs }, (_, i) => [i, 1] as const), o);
}

/** Rows (samples) of a batch: argument `n` is the row count; `steps` lists each pointer with its floats per row. */
export function rows(n: number, min: Size, steps: Parts['steps'], o: PartsOptions = {}): Parts {
  return parts(n, 1, min, steps, o);
}

/** Columns [lo, hi) of argument `n` per part, by `piece` (the kernel's arguments then lo, hi). */
export function columns<P extends string>(piece: P, n: number, align: number, min: Size, work: (a: Args) => number, o: { scratch?: readonly [arg: number, bytes: Size]; gemmScratch?: boolean } = {}): Range<P> {
  return { kind: 'range', piece, min, work, n, align, scratch: o.scratch?.[0] ?? -1, scratchBytes: o.scratch?.[1] ?? 0, gemmScratch: o.gemmScratch ?? false };
}

export function chunks(sumKind: number, ptrs: number, finish: Chunks['finish']): Chunks {
  return { kind: 'chunks', sumKind, ptrs, finish };
}

export function scaled<P extends string>(piece: P, min: Size, scale: Scaled['scale']): Scaled<P> {
  return { kind: 'scaled', piece, min, scale };
}

export const GEMM: Gemm = { kind: 'gemm' };

/** A Size for this call. */
export const sizeOf = (s: Size, a: Args): number => (typeof s === 'number' ? s : s(a));
