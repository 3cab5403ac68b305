// The kernels of a threaded wasm backend: each call is cut into parts that the pool's threads run at once, or runs on
// the calling thread when it is too small for the split to pay.
//
// Bit-identical whatever the thread count: every output element is computed by exactly one thread with the same
// arithmetic, in the same order, as the one-thread kernel. GEMM blocks keep each element's K order (slices depend
// on K only); column sums split columns, never rows; softmax splits rows; losses sum fixed chunks of LOSS_CHUNK
// elements (loss_sums) that are added here in order, as the one-thread loss does (the gradients' squared norm too); the scaled gradients get the whole
// batch's scale.

import type { Kernels } from './backend.js';
import { FN, type ThreadPool } from './threads.js';

/** What the threaded kernels call directly: the module's exports. */
export type RawExports = Kernels & {
  gemm_block(c: number, a: number, b: number, bias: number, M: number, N: number, K: number, transA: number, transB: number, mode: number, act: number, m0: number, m1: number, n0: number, n1: number, scratch: number): void;
  col_sum_cols(out: number, x: number, B: number, N: number, accumulate: number, j0: number, j1: number): void;
  loss_sums(sums: number, kind: number, p: number, t: number, n: number): void;
  diff_scaled(out: number, p: number, t: number, n: number, s: number): void;
  bce_backward_scaled(dp: number, p: number, t: number, n: number, inv: number): void;
  gemm_scratch(): number;
  gemm_scratch_bytes(): number;
  loss_chunk(): number;
};

// gemm_block write-back modes (assembly/gemm.ts)
const STORE = 0;
const ADD = 1;
const BIAS = 2;
// loss_sums kinds (assembly/loss.ts)
const LOSS_MSE = 0;
const LOSS_BCE = 1;
const LOSS_CE = 2;
const SUM_SQUARES = 3;

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

const ALIGN = 16; // elementwise cuts on 64-byte lines

export interface ThreadedParts {
  pool: ThreadPool;
  /** GEMM scratch of each thread (thread 0: the module's static one). */
  scratch: number[];
  /** f64 buffer for loss chunk sums and its capacity in chunks. */
  sums: number;
  sumsCapacity: number;
  f64: () => Float64Array;
}

/** The Kernels of a threaded backend over `ex`. */
export function threadedKernels(ex: RawExports, ctx: ThreadedParts): Kernels {
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

  // ---- elementwise: one range of [0, n) per thread, pointers offset -------------------------------------------
  // each returns false when the call is too small to split: the caller then runs the one-thread kernel (no closure
  // per call: a step allocates nothing)
  function split1(fn: number, min: number, n: number, y: number, x: number): boolean {
    const p = count(n, min);
    if (p === 1) return false;
    for (let t = 0; t < p; t++) {
      const lo = cut(n, p, ALIGN, t), hi = cut(n, p, ALIGN, t + 1);
      pool.set(t, fn, y + 4 * lo, x + 4 * lo, hi - lo);
    }
    pool.run(p);
    return true;
  }
  function split2(fn: number, min: number, n: number, a: number, b: number, c: number): boolean {
    const p = count(n, min);
    if (p === 1) return false;
    for (let t = 0; t < p; t++) {
      const lo = cut(n, p, ALIGN, t), hi = cut(n, p, ALIGN, t + 1);
      pool.set(t, fn, a + 4 * lo, b + 4 * lo, c + 4 * lo, hi - lo);
    }
    pool.run(p);
    return true;
  }
  /** dst = f(p, t)·scale over n elements, the scale of the whole batch */
  function splitScaled(fn: number, min: number, n: number, d: number, pp: number, tt: number, scale: number): boolean {
    const p = count(n, min);
    if (p === 1) return false;
    for (let t = 0; t < p; t++) {
      const lo = cut(n, p, ALIGN, t), hi = cut(n, p, ALIGN, t + 1);
      pool.set(t, fn, d + 4 * lo, pp + 4 * lo, tt + 4 * lo, hi - lo, scale);
    }
    pool.run(p);
    return true;
  }
  /** Row-wise kernels (B,N): whole rows per thread. */
  function splitRows(fn: number, min: number, B: number, N: number, a: number, b: number, c: number): boolean {
    const p = Math.min(count(B * N, min), B);
    if (p <= 1) return false;
    for (let t = 0; t < p; t++) {
      const r0 = cut(B, p, 1, t), r1 = cut(B, p, 1, t + 1);
      const o = 4 * r0 * N;
      pool.set(t, fn, a + o, b + o, c + o, r1 - r0, N);
    }
    pool.run(p);
    return true;
  }

  // ---- losses: fixed chunks, their sums added in order --------------------------------------------------------
  /** The chunk sums added in order, or undefined when the call is too small (or too large for the sums buffer) to
   *  split: the caller then runs the one-thread kernel, which adds the same chunks. */
  function lossSum(kind: number, p: number, t: number, n: number): number | undefined {
    const chunks = Math.ceil(n / CHUNK);
    const parts = Math.min(count(n, MIN_PER_THREAD.heavy), chunks);
    if (parts <= 1 || chunks > sumsCapacity) return undefined;
    for (let th = 0; th < parts; th++) {
      const c0 = cut(chunks, parts, 1, th), c1 = cut(chunks, parts, 1, th + 1);
      const lo = Math.min(n, c0 * CHUNK), hi = Math.min(n, c1 * CHUNK);
      pool.set(th, FN.loss_sums, sums + 8 * c0, kind, p + 4 * lo, t + 4 * lo, hi - lo);
    }
    pool.run(parts);
    const f = ctx.f64();
    let total = 0;
    for (let c = 0; c < chunks; c++) total += f[(sums >>> 3) + c];
    return total;
  }

  // ---- pooling and upsampling: a range of planes per thread ----------------------------------------------------
  /** Parts for N planes of `work` elements each (input plus output), at most N. */
  const planeParts = (N: number, work: number) => Math.min(count(N * work, MIN_PER_THREAD.light), N);

  const k: Kernels = {
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
    bias_add(out, x, b, B, N) {
      const p = Math.min(count(B * N, MIN_PER_THREAD.light), B);
      if (p <= 1) return ex.bias_add(out, x, b, B, N);
      for (let t = 0; t < p; t++) {
        const r0 = cut(B, p, 1, t), r1 = cut(B, p, 1, t + 1);
        pool.set(t, FN.bias_add, out + 4 * r0 * N, x + 4 * r0 * N, b, r1 - r0, N);
      }
      pool.run(p);
    },
    col_sum(out, x, B, N, accumulate) {
      const p = Math.min(count(B * N, MIN_PER_THREAD.light), Math.floor(N / 4));
      if (p <= 1) return ex.col_sum(out, x, B, N, accumulate);
      for (let t = 0; t < p; t++) pool.set(t, FN.col_sum_cols, out, x, B, N, accumulate, cut(N, p, 4, t), cut(N, p, 4, t + 1));
      pool.run(p);
    },

    relu_forward(y, x, n) {
      if (!split1(FN.relu_forward, MIN_PER_THREAD.light, n, y, x)) ex.relu_forward(y, x, n);
    },
    relu_backward(dx, dy, y, n) {
      if (!split2(FN.relu_backward, MIN_PER_THREAD.light, n, dx, dy, y)) ex.relu_backward(dx, dy, y, n);
    },
    tanh_forward(y, x, n) {
      if (!split1(FN.tanh_forward, MIN_PER_THREAD.heavy, n, y, x)) ex.tanh_forward(y, x, n);
    },
    tanh_backward(dx, dy, y, n) {
      if (!split2(FN.tanh_backward, MIN_PER_THREAD.light, n, dx, dy, y)) ex.tanh_backward(dx, dy, y, n);
    },
    sigmoid_forward(y, x, n) {
      if (!split1(FN.sigmoid_forward, MIN_PER_THREAD.heavy, n, y, x)) ex.sigmoid_forward(y, x, n);
    },
    sigmoid_backward(dx, dy, y, n) {
      if (!split2(FN.sigmoid_backward, MIN_PER_THREAD.light, n, dx, dy, y)) ex.sigmoid_backward(dx, dy, y, n);
    },
    softmax_forward(y, x, B, N) {
      const p = Math.min(count(B * N, MIN_PER_THREAD.heavy), B);
      if (p <= 1) return ex.softmax_forward(y, x, B, N);
      for (let t = 0; t < p; t++) {
        const r0 = cut(B, p, 1, t), r1 = cut(B, p, 1, t + 1);
        pool.set(t, FN.softmax_forward, y + 4 * r0 * N, x + 4 * r0 * N, r1 - r0, N);
      }
      pool.run(p);
    },
    softmax_backward(dx, dy, y, B, N) {
      if (!splitRows(FN.softmax_backward, MIN_PER_THREAD.heavy, B, N, dx, dy, y)) ex.softmax_backward(dx, dy, y, B, N);
    },

    mse_loss(p, t, B, N) {
      const s = lossSum(LOSS_MSE, p, t, B * N);
      return s === undefined ? ex.mse_loss(p, t, B, N) : s / (B * N);
    },
    mse_backward(dp, p, t, B, N) {
      if (!splitScaled(FN.diff_scaled, MIN_PER_THREAD.light, B * N, dp, p, t, Math.fround(2 / (B * N)))) ex.mse_backward(dp, p, t, B, N);
    },
    bce_loss(p, t, B, N) {
      const s = lossSum(LOSS_BCE, p, t, B * N);
      return s === undefined ? ex.bce_loss(p, t, B, N) : -s / (B * N);
    },
    bce_backward(dp, p, t, B, N) {
      if (!splitScaled(FN.bce_backward_scaled, MIN_PER_THREAD.heavy, B * N, dp, p, t, 1 / (B * N))) ex.bce_backward(dp, p, t, B, N);
    },
    sigmoid_bce_backward(dz, p, t, B, N) {
      if (!splitScaled(FN.diff_scaled, MIN_PER_THREAD.light, B * N, dz, p, t, Math.fround(1 / (B * N)))) ex.sigmoid_bce_backward(dz, p, t, B, N);
    },
    softmax_ce_loss(p, t, B, N) {
      const s = lossSum(LOSS_CE, p, t, B * N);
      return s === undefined ? ex.softmax_ce_loss(p, t, B, N) : -s / B;
    },
    softmax_ce_backward(dz, p, t, B, N) {
      if (!splitScaled(FN.diff_scaled, MIN_PER_THREAD.light, B * N, dz, p, t, Math.fround(1 / B))) ex.softmax_ce_backward(dz, p, t, B, N);
    },

    sgd_update(w, g, lr, n) {
      const p = count(n, MIN_PER_THREAD.light);
      if (p === 1) return ex.sgd_update(w, g, lr, n);
      for (let t = 0; t < p; t++) {
        const lo = cut(n, p, ALIGN, t), hi = cut(n, p, ALIGN, t + 1);
        pool.set(t, FN.sgd_update, w + 4 * lo, g + 4 * lo, lr, hi - lo);
      }
      pool.run(p);
    },
    momentum_update(w, v, g, lr, mu, n) {
      const p = count(n, MIN_PER_THREAD.light);
      if (p === 1) return ex.momentum_update(w, v, g, lr, mu, n);
      for (let t = 0; t < p; t++) {
        const lo = cut(n, p, ALIGN, t), hi = cut(n, p, ALIGN, t + 1);
        pool.set(t, FN.momentum_update, w + 4 * lo, v + 4 * lo, g + 4 * lo, lr, mu, hi - lo);
      }
      pool.run(p);
    },
    adam_update(w, m, v, g, lr, beta1, beta2, eps, step, n) {
      const p = count(n, MIN_PER_THREAD.heavy);
      if (p === 1) return ex.adam_update(w, m, v, g, lr, beta1, beta2, eps, step, n);
      for (let t = 0; t < p; t++) {
        const lo = cut(n, p, ALIGN, t), hi = cut(n, p, ALIGN, t + 1);
        pool.set(t, FN.adam_update, w + 4 * lo, m + 4 * lo, v + 4 * lo, g + 4 * lo, lr, beta1, beta2, eps, step, hi - lo);
      }
      pool.run(p);
    },

    adamw_update(w, m, v, g, lr, beta1, beta2, eps, decay, step, n) {
      const p = count(n, MIN_PER_THREAD.heavy);
      if (p === 1) return ex.adamw_update(w, m, v, g, lr, beta1, beta2, eps, decay, step, n);
      for (let t = 0; t < p; t++) {
        const lo = cut(n, p, ALIGN, t), hi = cut(n, p, ALIGN, t + 1);
        pool.set(t, FN.adamw_update, w + 4 * lo, m + 4 * lo, v + 4 * lo, g + 4 * lo, lr, beta1, beta2, eps, decay, step, hi - lo);
      }
      pool.run(p);
    },
    rmsprop_update(w, v, g, lr, rho, eps, n) {
      const p = count(n, MIN_PER_THREAD.heavy);
      if (p === 1) return ex.rmsprop_update(w, v, g, lr, rho, eps, n);
      for (let t = 0; t < p; t++) {
        const lo = cut(n, p, ALIGN, t), hi = cut(n, p, ALIGN, t + 1);
        pool.set(t, FN.rmsprop_update, w + 4 * lo, v + 4 * lo, g + 4 * lo, lr, rho, eps, hi - lo);
      }
      pool.run(p);
    },
    grad_scale_decay(g, w, scale, decay, n) {
      const p = count(n, MIN_PER_THREAD.light);
      if (p === 1) return ex.grad_scale_decay(g, w, scale, decay, n);
      for (let t = 0; t < p; t++) {
        const lo = cut(n, p, ALIGN, t), hi = cut(n, p, ALIGN, t + 1);
        pool.set(t, FN.grad_scale_decay, g + 4 * lo, w + 4 * lo, scale, decay, hi - lo);
      }
      pool.run(p);
    },
    sum_squares(x, n) {
      return lossSum(SUM_SQUARES, x, 0, n) ?? ex.sum_squares(x, n);
    },

    dropout_apply(y, x, rate, k0, k1, c0, n) {
      // the counter of element i is c0 + i: a part from lo starts at c0 + lo (u32, as the kernel wraps it)
      const p = count(n, MIN_PER_THREAD.heavy);
      if (p === 1) return ex.dropout_apply(y, x, rate, k0, k1, c0, n);
      for (let t = 0; t < p; t++) {
        const lo = cut(n, p, ALIGN, t), hi = cut(n, p, ALIGN, t + 1);
        pool.set(t, FN.dropout_apply, y + 4 * lo, x + 4 * lo, rate, k0, k1, (c0 + lo) >>> 0, hi - lo);
      }
      pool.run(p);
    },

    gather_noise(dst, src, idx, row0, count_, width, kind, factor, k0, k1) {
      const p = Math.min(count(count_ * width, kind === 0 ? MIN_PER_THREAD.light : MIN_PER_THREAD.heavy), count_);
      if (p <= 1) return ex.gather_noise(dst, src, idx, row0, count_, width, kind, factor, k0, k1);
      for (let t = 0; t < p; t++) {
        const r0 = cut(count_, p, 1, t), r1 = cut(count_, p, 1, t + 1);
        pool.set(t, FN.gather_noise, dst + 4 * r0 * width, src, idx === 0 ? 0 : idx + 4 * r0, row0 + r0, r1 - r0, width, kind, factor, k0, k1);
      }
      pool.run(p);
    },

    maxpool2d_forward(y, idx, x, N, H, W, OH, OW, kh, kw, sh, sw, pt, pl) {
      const p = planeParts(N, H * W + OH * OW);
      if (p <= 1) return ex.maxpool2d_forward(y, idx, x, N, H, W, OH, OW, kh, kw, sh, sw, pt, pl);
      for (let t = 0; t < p; t++) {
        const n0 = cut(N, p, 1, t), n1 = cut(N, p, 1, t + 1), o = 4 * n0 * OH * OW;
        pool.set(t, FN.maxpool2d_forward, y + o, idx + o, x + 4 * n0 * H * W, n1 - n0, H, W, OH, OW, kh, kw, sh, sw, pt, pl);
      }
      pool.run(p);
    },
    maxpool2d_backward(dx, dy, idx, N, H, W, OH, OW, kh, kw, sh, sw, pt, pl) {
      const p = planeParts(N, H * W + OH * OW);
      if (p <= 1) return ex.maxpool2d_backward(dx, dy, idx, N, H, W, OH, OW, kh, kw, sh, sw, pt, pl);
      for (let t = 0; t < p; t++) {
        const n0 = cut(N, p, 1, t), n1 = cut(N, p, 1, t + 1), o = 4 * n0 * OH * OW;
        pool.set(t, FN.maxpool2d_backward, dx + 4 * n0 * H * W, dy + o, idx + o, n1 - n0, H, W, OH, OW, kh, kw, sh, sw, pt, pl);
      }
      pool.run(p);
    },
    avgpool2d_forward(y, x, N, H, W, OH, OW, kh, kw, sh, sw, pt, pl, include) {
      const p = planeParts(N, H * W + OH * OW);
      if (p <= 1) return ex.avgpool2d_forward(y, x, N, H, W, OH, OW, kh, kw, sh, sw, pt, pl, include);
      for (let t = 0; t < p; t++) {
        const n0 = cut(N, p, 1, t), n1 = cut(N, p, 1, t + 1);
        pool.set(t, FN.avgpool2d_forward, y + 4 * n0 * OH * OW, x + 4 * n0 * H * W, n1 - n0, H, W, OH, OW, kh, kw, sh, sw, pt, pl, include);
      }
      pool.run(p);
    },
    avgpool2d_backward(dx, dy, N, H, W, OH, OW, kh, kw, sh, sw, pt, pl, include) {
      const p = planeParts(N, H * W + OH * OW);
      if (p <= 1) return ex.avgpool2d_backward(dx, dy, N, H, W, OH, OW, kh, kw, sh, sw, pt, pl, include);
      for (let t = 0; t < p; t++) {
        const n0 = cut(N, p, 1, t), n1 = cut(N, p, 1, t + 1);
        pool.set(t, FN.avgpool2d_backward, dx + 4 * n0 * H * W, dy + 4 * n0 * OH * OW, n1 - n0, H, W, OH, OW, kh, kw, sh, sw, pt, pl, include);
      }
      pool.run(p);
    },
    upsample2d_forward(y, x, N, H, W, sh, sw) {
      const p = planeParts(N, H * W * (1 + sh * sw));
      if (p <= 1) return ex.upsample2d_forward(y, x, N, H, W, sh, sw);
      for (let t = 0; t < p; t++) {
        const n0 = cut(N, p, 1, t), n1 = cut(N, p, 1, t + 1);
        pool.set(t, FN.upsample2d_forward, y + 4 * n0 * H * W * sh * sw, x + 4 * n0 * H * W, n1 - n0, H, W, sh, sw);
      }
      pool.run(p);
    },
    upsample2d_backward(dx, dy, N, H, W, sh, sw) {
      const p = planeParts(N, H * W * (1 + sh * sw));
      if (p <= 1) return ex.upsample2d_backward(dx, dy, N, H, W, sh, sw);
      for (let t = 0; t < p; t++) {
        const n0 = cut(N, p, 1, t), n1 = cut(N, p, 1, t + 1);
        pool.set(t, FN.upsample2d_backward, dx + 4 * n0 * H * W, dy + 4 * n0 * H * W * sh * sw, n1 - n0, H, W, sh, sw);
      }
      pool.run(p);
    },

    fill(x, value, n) {
      const p = count(n, MIN_PER_THREAD.light);
      if (p === 1) return ex.fill(x, value, n);
      for (let t = 0; t < p; t++) {
        const lo = cut(n, p, ALIGN, t), hi = cut(n, p, ALIGN, t + 1);
        pool.set(t, FN.fill, x + 4 * lo, value, hi - lo);
      }
      pool.run(p);
    },
    has_non_finite(x, n) {
      const p = count(n, MIN_PER_THREAD.light);
      if (p === 1) return ex.has_non_finite(x, n);
      for (let t = 0; t < p; t++) {
        const lo = cut(n, p, ALIGN, t), hi = cut(n, p, ALIGN, t + 1);
        pool.set(t, FN.has_non_finite, x + 4 * lo, hi - lo);
      }
      pool.run(p);
      for (let t = 0; t < p; t++) if (pool.result(t) !== 0) return 1;
      return 0;
    },
  };
  return k;
}
