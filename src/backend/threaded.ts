// The kernels of a threaded wasm backend: each call is cut into parts that the pool's threads run at once, or runs on
// the calling thread when it is too small for the split to pay. How is each kernel's line in abi.ts's SPLIT table;
// this file runs the rule kinds of split.ts (and writes out the GEMM blocks).
//
// Bit-identical whatever the thread count: every output element is computed by exactly one thread with the same
// arithmetic, in the same order, as the one-thread kernel. GEMM blocks keep each element's K order (slices depend
// on K only); column sums split columns, never rows; softmax splits rows; losses sum fixed chunks of LOSS_CHUNK
// elements (loss_sums) that are added here in order, as the one-thread loss does (the gradients' squared norm
// too); the scaled gradients get the whole batch's scale.

import type { Kernels } from './backend.js';
import { FN, GEMM_MODE, SPLIT, type GemmKernel, type Pieces, type RawExports } from './abi.js';
import { MIN_PER_THREAD, sizeOf, type Chunks, type Parts, type Range, type Scaled, type Split } from './split.js';
import type { ThreadPool } from './threads.js';

const { STORE, ADD, BIAS } = GEMM_MODE;
/** Most arguments a kernel takes (a task slot holds 20: a conv kernel takes 19, a conv weight-gradient piece 20). */
const MAX_ARGS = 20;
type Fn = (...a: number[]) => number | undefined;

export interface ThreadedParts {
  pool: ThreadPool;
  /** GEMM scratch of each thread (thread 0: the module's static one). */
  scratch: number[];
  /** f64 buffer for loss chunk sums and its capacity in chunks. */
  sums: number;
  sumsCapacity: number;
  f64: () => Float64Array;
}

/** The Kernels of a threaded backend over `ex`, split by `rules` (abi.ts's SPLIT; a test passes others). */
export function threadedKernels(ex: RawExports, ctx: ThreadedParts, rules: Partial<Record<keyof Kernels, Split<keyof Pieces>>> = SPLIT): Kernels {
  const { pool, scratch, sums, sumsCapacity } = ctx;
  const T = pool.size;
  const CHUNK = ex.loss_chunk();

  /** Parts for `work` units, at most T, each at least `min`. */
  const count = (work: number, min: number) => Math.max(1, Math.min(T, Math.floor(work / min)));
  /** Start of part t of n items cut into `p` parts, each a multiple of `align` (the last takes the rest). */
  const cut = (n: number, p: number, align: number, t: number) => (t >= p ? n : Math.min(n, Math.ceil(n / p / align) * align * t));

  // ---- GEMM: a block of rows or of columns per thread, whichever packs less per thread ----------------------
  function gemmBlocks(c: number, a: number, b: number, bias: number, M: number, N: number, K: number, transA: number, transB: number, mode: number, act: number): void {
    const p = count(M * N * K, MIN_PER_THREAD.gemm);
    if (p === 1) {
      ex.gemm_block(c, a, b, bias, M, N, K, transA, transB, mode, act, 0, M, 0, N, scratch[0]);
      return;
    }
    pool.run(gemmParts(0, p, c, a, b, bias, M, N, K, transA, transB, mode, act));
  }

  /** Writes the tasks of one GEMM cut into p parts into slots first.. (first + p); returns first + p. */
  function gemmParts(first: number, p: number, c: number, a: number, b: number, bias: number, M: number, N: number, K: number, transA: number, transB: number, mode: number, act: number): number {
    // a thread packs its share of one operand and all of the other
    const byRows = (M / p) * K + K * N <= M * K + K * (N / p) && M >= 4 * p;
    for (let t = 0; t < p; t++) {
      const m0 = byRows ? cut(M, p, 4, t) : 0, m1 = byRows ? cut(M, p, 4, t + 1) : M;
      const n0 = byRows ? 0 : cut(N, p, 8, t), n1 = byRows ? N : cut(N, p, 8, t + 1);
      pool.set(first + t, FN.gemm_block, c, a, b, bias, M, N, K, transA, transB, mode, act, m0, m1, n0, n1, scratch[first + t]);
    }
    return first + p;
  }

  // ---- the rule kinds (split.ts) ---------------------------------------------------------------------------------
  const A = new Float64Array(MAX_ARGS);
  const by = new Float64Array(MAX_ARGS); // this call's floats per unit of each pointer of a Parts rule

  // A kernel's wrapper copies the call's arguments into A (no closure, no array per call: a step allocates nothing),
  // asks its rule kind's `plan` for the part count and calls the one-thread export when there is one part, else
  // `exec`. Two widths: 12 arguments (most kernels: ~20 ns cheaper a call) and 20 (a task slot's most: conv's).
  function wrap(raw: Fn, plan: () => number, exec: (p: number) => number | undefined): Fn {
    if (raw.length <= 12)
      return function (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11) {
        A[0] = a0; A[1] = a1; A[2] = a2; A[3] = a3; A[4] = a4; A[5] = a5; A[6] = a6; A[7] = a7; A[8] = a8; A[9] = a9; A[10] = a10; A[11] = a11;
        const p = plan();
        return p <= 1 ? raw(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11) : exec(p);
      };
    if (raw.length > MAX_ARGS) throw new Error(`threaded kernels: an export takes ${raw.length} arguments, at most ${MAX_ARGS} fit a task`);
    return function (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19) {
      A[0] = a0; A[1] = a1; A[2] = a2; A[3] = a3; A[4] = a4; A[5] = a5; A[6] = a6; A[7] = a7; A[8] = a8; A[9] = a9;
      A[10] = a10; A[11] = a11; A[12] = a12; A[13] = a13; A[14] = a14; A[15] = a15; A[16] = a16; A[17] = a17; A[18] = a18; A[19] = a19;
      const p = plan();
      return p <= 1 ? raw(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19) : exec(p);
    };
  }

  /** A size argument product, arguments [from, to). */
  const product = (from: number, to: number) => {
    let n = 1;
    for (let i = from; i < to; i++) n *= A[i];
    return n;
  };

  function partsKernel(name: keyof Kernels, r: Parts): Fn {
    const raw = ex[name] as Fn, fn = FN[name], arity = raw.length;
    const n = r.n < 0 ? arity - 1 : r.n;
    const unit = r.steps.length > 0 ? r.steps[0][1] : 1, min = r.min;
    const plan = () => {
      const units = A[n];
      return Math.min(count(units * (typeof unit === 'number' ? unit : unit(A)), typeof min === 'number' ? min : min(A)), units);
    };
    return wrap(raw, plan, (p) => runParts(r, fn, arity, n, p));
  }

  function runParts(r: Parts, fn: number, arity: number, n: number, p: number): number | undefined {
    const units = A[n];
    for (let i = 0; i < r.steps.length; i++) by[i] = sizeOf(r.steps[i][1], A);
    const panel = r.scratch >= 0 ? sizeOf(r.scratchBytes, A) : 0;
    for (let t = 0; t < p; t++) {
      const lo = cut(units, p, r.align, t), hi = cut(units, p, r.align, t + 1);
      pool.setArgs(t, fn, A, arity);
      for (let i = 0; i < r.steps.length; i++) {
        const arg = r.steps[i][0];
        if (A[arg] !== 0) pool.setArg(t, arg, A[arg] + 4 * lo * by[i]); // a null pointer stays null
      }
      pool.setArg(t, n, hi - lo);
      if (r.counter >= 0) pool.setArg(t, r.counter, (A[r.counter] + lo) >>> 0); // u32, as the kernels wrap it
      if (r.scratch >= 0) pool.setArg(t, r.scratch, A[r.scratch] + t * panel);
    }
    pool.run(p);
    if (!r.any) return undefined; // a void kernel, as the export
    for (let t = 0; t < p; t++) if (pool.result(t) !== 0) return 1;
    return 0;
  }

  function rangeKernel(name: keyof Kernels, r: Range): Fn {
    const raw = ex[name] as Fn, piece = FN[r.piece as keyof typeof FN], arity = raw.length;
    const { n, align, min, work } = r;
    const plan = () => Math.min(count(work(A), typeof min === 'number' ? min : min(A)), Math.floor(A[n] / align));
    return wrap(raw, plan, (p) => {
      const panel = r.scratch >= 0 ? sizeOf(r.scratchBytes, A) : 0;
      for (let t = 0; t < p; t++) {
        pool.setArgs(t, piece, A, arity);
        pool.setArg(t, arity, cut(A[n], p, align, t));
        pool.setArg(t, arity + 1, cut(A[n], p, align, t + 1));
        if (r.scratch >= 0) pool.setArg(t, r.scratch, A[r.scratch] + t * panel); // a panel per thread
        if (r.gemmScratch) pool.setArg(t, arity + 2, scratch[t]); // task t's, whichever thread claims it
      }
      pool.run(p);
      return undefined;
    });
  }

  // losses: fixed chunks, their sums added in order; a call too small (or too large for the sums buffer) to split
  // runs the one-thread kernel, which adds the same chunks
  function chunksKernel(name: keyof Kernels, r: Chunks): Fn {
    const raw = ex[name] as Fn, arity = raw.length;
    const plan = () => {
      const n = product(r.ptrs, arity), chunks = Math.ceil(n / CHUNK);
      return chunks > sumsCapacity ? 1 : Math.min(count(n, MIN_PER_THREAD.heavy), chunks);
    };
    return wrap(raw, plan, (parts) => {
      const n = product(r.ptrs, arity), chunks = Math.ceil(n / CHUNK);
      const p = A[0], q = r.ptrs > 1 ? A[1] : 0;
      for (let th = 0; th < parts; th++) {
        const c0 = cut(chunks, parts, 1, th), c1 = cut(chunks, parts, 1, th + 1);
        const lo = Math.min(n, c0 * CHUNK), hi = Math.min(n, c1 * CHUNK);
        pool.set(th, FN.loss_sums, sums + 8 * c0, r.sumKind, p + 4 * lo, q === 0 ? 0 : q + 4 * lo, hi - lo);
      }
      pool.run(parts);
      const f = ctx.f64();
      let total = 0;
      for (let c = 0; c < chunks; c++) total += f[(sums >>> 3) + c];
      return r.finish(total, A);
    });
  }

  /** (out, p, t, sizes…) → piece(out, p, t, n, scale of the whole batch) over parts of n */
  function scaledKernel(name: keyof Kernels, r: Scaled): Fn {
    const raw = ex[name] as Fn, piece = FN[r.piece as keyof typeof FN], arity = raw.length;
    const { min, scale } = r;
    const plan = () => count(product(3, arity), typeof min === 'number' ? min : min(A));
    return wrap(raw, plan, (p) => {
      const n = product(3, arity), s = scale(A);
      for (let t = 0; t < p; t++) {
        const lo = cut(n, p, 16, t), hi = cut(n, p, 16, t + 1);
        pool.set(t, piece, A[0] + 4 * lo, A[1] + 4 * lo, A[2] + 4 * lo, hi - lo, s);
      }
      pool.run(p);
      return undefined;
    });
  }

  const gemms: { [K in GemmKernel]: Kernels[K] } = {
    gemm(c, a, b, M, N, K, transA, transB, accumulate) {
      gemmBlocks(c, a, b, 0, M, N, K, transA, transB, accumulate ? ADD : STORE, 0);
    },
    linear_forward(out, x, w, b, B, IN, OUT) {
      gemmBlocks(out, x, w, b, B, OUT, IN, 0, 0, BIAS, 0);
    },
    linear_act_forward(out, x, w, b, B, IN, OUT, act) {
      if (!(act >= 0 && act <= 3)) throw new RangeError(`linear_act_forward: unknown activation code ${act}, expected 0-3`);
      gemmBlocks(out, x, w, b, B, OUT, IN, 0, 0, BIAS, act);
    },
    linear_backward(dx, dw, db, dout, x, w, B, IN, OUT) {
      // dW += Xᵀ·∇ and dX = ∇·Wᵀ are independent and the same size (B·IN·OUT multiply-adds): half the threads take
      // each, so each GEMM is cut in half as many parts (less packing done twice; on 2 threads, none)
      const p = count(B * IN * OUT, MIN_PER_THREAD.gemm);
      if (dx !== 0 && p >= 2) {
        const pw = p >> 1;
        const used = gemmParts(0, pw, dw, x, dout, 0, IN, OUT, B, 1, 0, ADD, 0);
        pool.run(gemmParts(used, p - pw, dx, dout, w, 0, B, IN, OUT, 0, 1, STORE, 0));
      } else {
        gemmBlocks(dw, x, dout, 0, IN, OUT, B, 1, 0, ADD, 0); // dW += Xᵀ·∇
        if (dx !== 0) gemmBlocks(dx, dout, w, 0, B, IN, OUT, 0, 1, STORE, 0); // dX = ∇·Wᵀ
      }
      k.col_sum(db, dout, B, OUT, 1); // db += Σ_rows ∇
    },
  };

  const built: Record<string, unknown> = {};
  for (const name of Object.keys(rules) as (keyof Kernels)[]) {
    const r = rules[name]!;
    built[name] =
      r.kind === 'gemm' ? gemms[name as GemmKernel]
      : r.kind === 'parts' ? partsKernel(name, r)
      : r.kind === 'range' ? rangeKernel(name, r)
      : r.kind === 'chunks' ? chunksKernel(name, r)
      : scaledKernel(name, r);
  }
  const k = built as unknown as Kernels;
  return k;
}
