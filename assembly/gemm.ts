// GEMM: C(M,N) = op(A)·op(B) (+ C), the four transpose cases through one packed 4×8 micro-kernel.
//
// Layout follows BLIS (Van Zee & van de Geijn, "BLIS: A Framework for Rapidly Instantiating BLAS
// Functionality", 2015): loop over NC-wide column panels of C, KC-deep slices of K, MC-tall row panels;
// pack the (KC × NC) slice of op(B) into 8-column strips and the (MC × KC) slice of op(A) into 4-row strips,
// so the micro-kernel reads both with unit stride whatever the transposes were, and the strips it streams
// stay in L1/L2. Edges are zero-padded in the packs: the micro-kernel always computes a full 4×8 tile, and
// an edge tile goes through a small buffer so only its valid part is written.
//
// Measured (Node 20, 2-core Zen 3, process CPU time), (128×784)·(784×256), all four transpose cases alike:
// relaxed ≈ 50 GFLOP/s (= a register-only 4×8 relaxed_madd loop), simd ≈ 39-40 (above a register-only mul+add
// loop, ≈ 30), scalar ≈ 9.5. Shapes ≥ 16 rows are within 10% of that. Packed, M = 1 is packing-bound (≈ 6):
// M < 4 (and M < SMALL_M without transB) takes gemm_small instead (B read in place), (1,784)·(784,128) 4-5× faster,
// M = 2 3×, M = 3 2×, (1,128)·(128,784)ᵀ 3× (simd build, loaded machine).
//
// Fused activation (linear_act_forward): with act ≠ ACT_NONE, the last K slice's write-back applies it to each
// tile right after storing it (+ bias / + C), while the tile is in L1: no second pass over C. The per-element
// functions are the activation kernels' own (activations.ts), so the result is bit-identical to the GEMM
// followed by the activation kernel. (Applying it to the 8 accumulators before the store measured slower: the
// transcendental code spills them.)
//
// Threads: gemm_block computes a block of C (rows [m0, m1) × columns [n0, n1)) with caller-given scratch; nothing
// global is written except that scratch, so workers each take a block with their own scratch.

import { madd4 } from './math';
import { act_tile, act_forward, ACT_NONE } from './activations';
import { non_finite4 } from './util';

// =====================================================================================================
// Block sizes (bytes of packed data: A panel MC·KC·4 = 128 KiB ≈ L2, one B strip KC·NR·4 = 8 KiB ≈ L1)
// =====================================================================================================

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 128; // multiple of MR
const NC: i32 = 512; // multiple of NR
/** Below this many rows, op(B) = B is read in place (gemm_small), not packed: a few rows use each element of B too
 *  few times to pay for writing a pack of it. Measured (simd, one thread, process CPU time, M rows in place / packed):
 *  (M,784)·(784,128) M = 4 1.54×, 8 1.22×, 12 1.03×, 16 0.98×; (M,128)·(128,784) 1.30×, 1.10×, 1.00×, 0.98×;
 *  (M,784)·(784,512), B in L3, 1.13×, 0.96×, 0.83×: in place up to 7 rows. */
const SMALL_M: i32 = 8;

const TILE_BYTES: usize = <usize>(MR * NR * 4);
const AP_BYTES: usize = <usize>(MC * KC * 4);
const BP_BYTES: usize = <usize>(KC * NC * 4);
/** Each A strip's k list (ZERO_SKIP in pack_a): its count, then each kept k·4. */
const LIST_INTS: i32 = KC + 1;
const LISTS_BYTES: usize = <usize>((MC / MR) * LIST_INTS * 4);
/** Scratch one gemm_block call needs: the edge tile, the A pack, the B pack, the A strips' k lists. */
export const GEMM_SCRATCH_BYTES: usize = TILE_BYTES + AP_BYTES + BP_BYTES + LISTS_BYTES;

// The scratch of the single-threaded exported kernels (gemm, linear_*); static, so no call allocates.
export const GEMM_SCRATCH: usize = memory.data(<i32>GEMM_SCRATCH_BYTES, 64);

// Write-back modes for the first K slice (later slices always add to C).
export const STORE: i32 = 0; // C = op(A)·op(B)
export const ADD: i32 = 1; // C += op(A)·op(B)
export const BIAS: i32 = 2; // C = op(A)·op(B) + bias (bias is a row vector of N, broadcast over rows)

// =====================================================================================================
// Exported kernel
// =====================================================================================================

// op(A) is (M,K), op(B) is (K,N), C is (M,N)
export function gemm(c: usize, a: usize, b: usize, M: usize, N: usize, K: usize, transA: i32, transB: i32, accumulate: i32): void {
  gemm_block(c, a, b, 0, <i32>M, <i32>N, <i32>K, transA, transB, accumulate != 0 ? ADD : STORE, ACT_NONE, 0, <i32>M, 0, <i32>N, GEMM_SCRATCH);
}

// The block rows [m0, m1) × columns [n0, n1) of C = act(op(A)·op(B) per `mode` (STORE / ADD / BIAS with `bias`)),
// act an ACT_* code; op(A) is (M,K), op(B) is (K,N). Each element's sum runs in the same order whatever the block
// (K slices depend on K only), so threads that each take a block give the one-thread result bit for bit.
export function gemm_block(c: usize, a: usize, b: usize, bias: usize, M: i32, N: i32, K: i32, transA: i32, transB: i32, mode: i32, act: i32, m0: i32, m1: i32, n0: i32, n1: i32, scratch: usize): void {
  if (m1 <= m0 || n1 <= n0) return;
  if (K <= 0) {
    if (mode != ADD) init_block(c, bias, N, mode, m0, m1, n0, n1); // empty sum: C = 0 (or the bias)
    if (act != ACT_NONE) {
      for (let i = m0; i < m1; i++) {
        const row = c + (<usize>(i * N + n0) << 2);
        act_forward(row, row, <usize>(n1 - n0), act);
      }
    }
    return;
  }
  if (ASC_FEATURE_SIMD) {
    if (m1 - m0 < MR || (!transB && m1 - m0 < SMALL_M)) {
      gemm_small(c, a, b, bias, M, N, K, transA, transB, mode, act, m0, m1, n0, n1, scratch);
      return;
    }
  }
  const tile = scratch;
  const ap = scratch + TILE_BYTES;
  const bp = ap + AP_BYTES;
  const lists = bp + BP_BYTES;
  // equal-sized blocks (784 = 4·196, not 3·256 + 16): no thin slice paying a full C write-back
  const kc0 = even_block(K, KC, 1);
  const mc0 = even_block(m1 - m0, MC, MR);
  const nc0 = even_block(n1 - n0, NC, NR);
  const ldc = <usize>N << 2;

  for (let jc = n0; jc < n1; jc += nc0) {
    const nc = min(nc0, n1 - jc);
    for (let pc = 0; pc < K; pc += kc0) {
      const kc = min(kc0, K - pc);
      const m = pc == 0 ? mode : ADD;
      const f = pc + kc >= K ? act : ACT_NONE; // activate after the last slice only
      // ZERO_SKIP (below): A strips drop the k whose 4 values are all +0 while this slice of B is finite
      const finite = pack_b(bp, b, N, K, transB, pc, kc, jc, nc);
      const skip = ASC_FEATURE_SIMD && !transA && finite != 0;
      for (let ic = m0; ic < m1; ic += mc0) {
        const mc = min(mc0, m1 - ic);
        pack_a(ap, a, M, K, transA, ic, mc, pc, kc, skip ? lists : 0);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bstrip = bp + (<usize>(jr * kc) << 2);
          const bb = bias + (<usize>(jc + jr) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const astrip = ap + (<usize>(ir * kc) << 2);
            const list = skip ? lists + <usize>(ir / MR * LIST_INTS) * 4 : 0;
            const cc = c + <usize>(ic + ir) * ldc + (<usize>(jc + jr) << 2);
            if (mr == MR && nr == NR) {
              product(astrip, bstrip, kc, list, cc, ldc, m, bb);
              if (f != ACT_NONE) act_tile(cc, ldc, f);
            } else {
              product(astrip, bstrip, kc, list, tile, <usize>(NR << 2), STORE, 0);
              write_tile(cc, ldc, tile, mr, nr, m, bb, f);
            }
          }
        }
      }
    }
  }
}

/** Splits n into ⌈n/max⌉ near-equal blocks, each rounded up to a multiple of `mult`. */
// @ts-ignore: decorator
@inline function even_block(n: i32, max: i32, mult: i32): i32 {
  const blocks = (n + max - 1) / max;
  const size = (n + blocks - 1) / blocks;
  return min(max, (size + mult - 1) / mult * mult);
}

// rows [m0, m1) × columns [n0, n1) of C(·,N) = 0, or = bias
function init_block(c: usize, bias: usize, N: i32, mode: i32, m0: i32, m1: i32, n0: i32, n1: i32): void {
  const bytes = <usize>(n1 - n0) << 2;
  for (let i = m0; i < m1; i++) {
    const row = c + (<usize>(i * N + n0) << 2);
    if (mode == BIAS) memory.copy(row, bias + (<usize>n0 << 2), bytes);
    else memory.fill(row, 0, bytes);
  }
}

// =====================================================================================================
// Small M (SIMD builds; fewer than MR rows, or fewer than SMALL_M with op(B) = B): predict of one row or a handful
// (x·W), and the backward's ∇·Wᵀ of fewer than 4 rows. Each element of B is used by so few rows that packing B
// (read + write) costs as much as the product: read A and B in place. op(B) = B: 4 rows × 8 columns at a time (8
// accumulators, as the micro-kernel; B read once per 4 rows), 16 columns of two rows at a time, and a single row
// by row_stream (B in memory order; measured, one thread, CPU time, M = 1 over 32-column strips: (784,1024) 1.9×,
// (1024,784) 1.4×, (512,784) 1.3×, (784,512) 1.2×, (784,128) 1.3×); Bᵀ 8 columns of one row at a time, transposed
// 4×4 in registers as pack_b does. Only the last partial
// 8-column strip is packed (zero-padded). Per element the same sum in the same order as the packed path (from 0
// over each K slice, then + C or + bias, the activation after the last slice): a row's result does not depend on
// M or on which path it took, and fused == unfused still holds.
// =====================================================================================================

// rows [m0, m1) (few) × columns [n0, n1) of C = act(op(A)·op(B) per mode); op(A) is (M,K), op(B) is (K,N)
function gemm_small(c: usize, a: usize, b: usize, bias: usize, M: i32, N: i32, K: i32, transA: i32, transB: i32, mode: i32, act: i32, m0: i32, m1: i32, n0: i32, n1: i32, scratch: usize): void {
  const tile = scratch;
  const bp = scratch + TILE_BYTES + AP_BYTES;
  const kc0 = even_block(K, KC, 1); // the packed path's slices
  const ldc = <usize>N << 2;
  const n8 = n0 + ((n1 - n0) & ~(NR - 1)); // [n0, n8) in full strips, [n8, n1) one partial strip
  // op(A)[i][k] is at a + i·sa + k·sk
  const sa: usize = transA ? 4 : <usize>K << 2;
  const sk: usize = transA ? <usize>M << 2 : 4;
  for (let pc = 0; pc < K; pc += kc0) {
    const kc = min(kc0, K - pc);
    const m = pc == 0 ? mode : ADD;
    const f = pc + kc >= K ? act : ACT_NONE;
    if (n8 < n1) pack_b(bp, b, N, K, transB, pc, kc, n8, n1 - n8);
    const bk = b + <usize>pc * ldc;
    for (let i = m0; i < m1;) {
      // the full strips of one row, or of four or two rows at once (op(B) = B: each B vector loaded once for all)
      const rows = transB ? 1 : i + MR <= m1 ? MR : i + 1 < m1 ? 2 : 1;
      const ai = a + <usize>i * sa + <usize>pc * sk;
      const ci = c + <usize>i * ldc;
      let j = n0;
      if (transB) {
        // op(B)[k][j] = B[j·K + k]
        const ldb = <usize>K << 2;
        for (; j < n8; j += NR) row8t(ci + (<usize>j << 2), ai, sk, b + <usize>j * ldb + (<usize>pc << 2), ldb, kc, m, bias + (<usize>j << 2));
      } else if (rows == MR) {
        for (; j < n8; j += NR) rows4x8(ci + (<usize>j << 2), ldc, ai, sa, sk, bk + (<usize>j << 2), ldc, kc, m, bias + (<usize>j << 2));
      } else if (rows == 2) {
        for (; j + 16 <= n8; j += 16) rows2x16(ci + (<usize>j << 2), ldc, ai, sa, sk, bk + (<usize>j << 2), ldc, kc, m, bias + (<usize>j << 2));
        for (; j < n8; j += NR) {
          row8(ci + (<usize>j << 2), ai, sk, bk + (<usize>j << 2), ldc, kc, m, bias + (<usize>j << 2));
          row8(ci + ldc + (<usize>j << 2), ai + sa, sk, bk + (<usize>j << 2), ldc, kc, m, bias + (<usize>j << 2));
        }
      } else if (n8 - n0 <= <i32>(AP_BYTES >> 2)) {
        const list = bp + BP_BYTES;
        all_list(list, kc);
        row_stream(ci + (<usize>n0 << 2), ai, sk, bk + (<usize>n0 << 2), ldc, list, n8 - n0, m, bias + (<usize>n0 << 2), scratch + TILE_BYTES);
        j = n8;
      } else {
        for (; j + 32 <= n8; j += 32) row32(ci + (<usize>j << 2), ai, sk, bk + (<usize>j << 2), ldc, kc, m, bias + (<usize>j << 2));
        for (; j < n8; j += NR) row8(ci + (<usize>j << 2), ai, sk, bk + (<usize>j << 2), ldc, kc, m, bias + (<usize>j << 2));
      }
      // then row by row: the activation, and the partial strip
      for (let r = 0; r < rows; r++) {
        const cr = ci + <usize>r * ldc;
        if (f != ACT_NONE) act_forward(cr + (<usize>n0 << 2), cr + (<usize>n0 << 2), <usize>(n8 - n0), f);
        if (n8 < n1) {
          row8(tile, ai + <usize>r * sa, sk, bp, <usize>(NR << 2), kc, STORE, 0);
          write_tile(cr + (<usize>n8 << 2), ldc, tile, 1, n1 - n8, m, bias + (<usize>n8 << 2), f);
        }
      }
      i += rows;
    }
  }
}

// c (n, a multiple of 8) per mode from a (kc, stride sk bytes) · b (kc,n) (row stride ldb bytes), B read row after row:
// KS rows of B at a time across all n columns, the sums kept in acc (n floats) between those chunks. row32 walks a
// 32-column strip down all kc rows instead, one row of B per 4 KiB page or so for wide layers, which no prefetcher
// follows across pages; here B streams in order. Each sum is the same fma chain, from 0, in k order.
// 24 columns (6 sums) at a time: 6 independent add chains keep the two vector adders busy (an add takes 3 cycles),
// and 6 sums + 6 B vectors + the splat fit V8's 15 xmm registers; with 8 (32 columns) V8 loads every B vector of the
// step first and spills a sum to the stack, a store-to-load chain in the loop (measured, simd, one thread, CPU time,
// M = 1: (784,1032) 16 columns 98 µs → 24 columns 87 µs, (784,504) 46 → 45 µs; 32 columns in packed strips 103 µs).
const KS: i32 = 8;
// list: the k to sum (keep_list's count, then each k·4), in k order; op(A)[k] is at a + k·sk, row k of B at b + k·ldb
function row_stream(c: usize, a: usize, sk: usize, b: usize, ldb: usize, list: usize, n: i32, mode: i32, bias: usize, acc: usize): void {
  if (ASC_FEATURE_SIMD) {
    const count = load<i32>(list);
    if (count == 0) {
      // the empty sum: +0, then + C or + bias, as every other path writes it
      const z = f32x4.splat(0);
      for (let j = 0; j < n; j += NR) store8(c + (<usize>j << 2), z, z, mode, bias + (<usize>j << 2));
      return;
    }
    const first = list + 4;
    const end = first + (<usize>count << 2);
    for (let l0 = first; l0 < end; l0 += KS << 2) {
      const l1 = min(l0 + (KS << 2), end);
      const last = l1 >= end;
      let j = 0;
      for (; j + 24 <= n; j += 24) {
        const o = <usize>j << 2;
        let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0), c4 = f32x4.splat(0), c5 = f32x4.splat(0);
        if (l0 != first) {
          c0 = v128.load(acc + o); c1 = v128.load(acc + o, 16); c2 = v128.load(acc + o, 32);
          c3 = v128.load(acc + o, 48); c4 = v128.load(acc + o, 64); c5 = v128.load(acc + o, 80);
        }
        const bj = b + o;
        for (let l = l0; l < l1; l += 4) {
          const k = <usize>(load<u32>(l) >> 2);
          const v = v128.load32_splat(a + k * sk);
          const bp = bj + k * ldb;
          c0 = madd4(v, v128.load(bp), c0); c1 = madd4(v, v128.load(bp, 16), c1);
          c2 = madd4(v, v128.load(bp, 32), c2); c3 = madd4(v, v128.load(bp, 48), c3);
          c4 = madd4(v, v128.load(bp, 64), c4); c5 = madd4(v, v128.load(bp, 80), c5);
        }
        if (last) {
          store8(c + o, c0, c1, mode, bias + o);
          store8(c + o + 32, c2, c3, mode, bias + o + 32);
          store8(c + o + 64, c4, c5, mode, bias + o + 64);
        } else {
          v128.store(acc + o, c0); v128.store(acc + o, c1, 16); v128.store(acc + o, c2, 32);
          v128.store(acc + o, c3, 48); v128.store(acc + o, c4, 64); v128.store(acc + o, c5, 80);
        }
      }
      for (; j < n; j += NR) {
        const o = <usize>j << 2;
        let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
        if (l0 != first) {
          c0 = v128.load(acc + o); c1 = v128.load(acc + o, 16);
        }
        const bj = b + o;
        for (let l = l0; l < l1; l += 4) {
          const k = <usize>(load<u32>(l) >> 2);
          const v = v128.load32_splat(a + k * sk);
          const bp = bj + k * ldb;
          c0 = madd4(v, v128.load(bp), c0); c1 = madd4(v, v128.load(bp, 16), c1);
        }
        if (last) store8(c + o, c0, c1, mode, bias + o);
        else {
          v128.store(acc + o, c0); v128.store(acc + o, c1, 16);
        }
      }
    }
  }
}

// list ← every k of [0, kc) (keep_list's layout): the GEMM's sums over B that may not be finite
function all_list(list: usize, kc: i32): void {
  store<i32>(list, kc);
  for (let k = 0; k < kc; k++) store<i32>(list + 4 + (<usize>k << 2), k << 2);
}

// c (32) per mode from a (kc, stride sk bytes) · b (kc,32) (row stride ldb bytes)
function row32(c: usize, a: usize, sk: usize, b: usize, ldb: usize, kc: i32, mode: i32, bias: usize): void {
  if (ASC_FEATURE_SIMD) {
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
    let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
    for (let k = 0; k < kc; k++) {
      const v = v128.load32_splat(a);
      c0 = madd4(v, v128.load(b), c0); c1 = madd4(v, v128.load(b, 16), c1);
      c2 = madd4(v, v128.load(b, 32), c2); c3 = madd4(v, v128.load(b, 48), c3);
      c4 = madd4(v, v128.load(b, 64), c4); c5 = madd4(v, v128.load(b, 80), c5);
      c6 = madd4(v, v128.load(b, 96), c6); c7 = madd4(v, v128.load(b, 112), c7);
      a += sk;
      b += ldb;
    }
    if (mode != STORE) {
      const s = mode == ADD ? c : bias;
      c0 = f32x4.add(c0, v128.load(s)); c1 = f32x4.add(c1, v128.load(s, 16));
      c2 = f32x4.add(c2, v128.load(s, 32)); c3 = f32x4.add(c3, v128.load(s, 48));
      c4 = f32x4.add(c4, v128.load(s, 64)); c5 = f32x4.add(c5, v128.load(s, 80));
      c6 = f32x4.add(c6, v128.load(s, 96)); c7 = f32x4.add(c7, v128.load(s, 112));
    }
    v128.store(c, c0); v128.store(c, c1, 16); v128.store(c, c2, 32); v128.store(c, c3, 48);
    v128.store(c, c4, 64); v128.store(c, c5, 80); v128.store(c, c6, 96); v128.store(c, c7, 112);
  }
}

// four rows of c (8 each, row stride ldc bytes) per mode from four rows of a (row stride sa, k stride sk bytes)
// · b (kc,8) (row stride ldb bytes): the micro-kernel's 4×8 tile with B read in place
function rows4x8(c: usize, ldc: usize, a: usize, sa: usize, sk: usize, b: usize, ldb: usize, kc: i32, mode: i32, bias: usize): void {
  if (ASC_FEATURE_SIMD) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    const a2 = 2 * sa;
    const a3 = 3 * sa;
    for (let k = 0; k < kc; k++) {
      const b0 = v128.load(b);
      const b1 = v128.load(b, 16);
      let v = v128.load32_splat(a);
      c00 = madd4(v, b0, c00); c01 = madd4(v, b1, c01);
      v = v128.load32_splat(a + sa);
      c10 = madd4(v, b0, c10); c11 = madd4(v, b1, c11);
      v = v128.load32_splat(a + a2);
      c20 = madd4(v, b0, c20); c21 = madd4(v, b1, c21);
      v = v128.load32_splat(a + a3);
      c30 = madd4(v, b0, c30); c31 = madd4(v, b1, c31);
      a += sk;
      b += ldb;
    }
    store8(c, c00, c01, mode, bias);
    store8(c + ldc, c10, c11, mode, bias);
    store8(c + 2 * ldc, c20, c21, mode, bias);
    store8(c + 3 * ldc, c30, c31, mode, bias);
  }
}

// two rows of c (16 each, row stride ldc bytes) per mode from two rows of a (row stride sa, k stride sk bytes)
// · b (kc,16) (row stride ldb bytes)
function rows2x16(c: usize, ldc: usize, a: usize, sa: usize, sk: usize, b: usize, ldb: usize, kc: i32, mode: i32, bias: usize): void {
  if (ASC_FEATURE_SIMD) {
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
    let d0 = f32x4.splat(0), d1 = f32x4.splat(0), d2 = f32x4.splat(0), d3 = f32x4.splat(0);
    for (let k = 0; k < kc; k++) {
      const u = v128.load32_splat(a);
      const v = v128.load32_splat(a + sa);
      let w = v128.load(b);
      c0 = madd4(u, w, c0); d0 = madd4(v, w, d0);
      w = v128.load(b, 16);
      c1 = madd4(u, w, c1); d1 = madd4(v, w, d1);
      w = v128.load(b, 32);
      c2 = madd4(u, w, c2); d2 = madd4(v, w, d2);
      w = v128.load(b, 48);
      c3 = madd4(u, w, c3); d3 = madd4(v, w, d3);
      a += sk;
      b += ldb;
    }
    store8(c, c0, c1, mode, bias);
    store8(c + 32, c2, c3, mode, bias + 32);
    store8(c + ldc, d0, d1, mode, bias);
    store8(c + ldc + 32, d2, d3, mode, bias + 32);
  }
}

// c (8) per mode from a (kc, stride sk bytes) · b (kc,8) (row stride ldb bytes)
function row8(c: usize, a: usize, sk: usize, b: usize, ldb: usize, kc: i32, mode: i32, bias: usize): void {
  if (ASC_FEATURE_SIMD) {
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
    for (let k = 0; k < kc; k++) {
      const v = v128.load32_splat(a);
      c0 = madd4(v, v128.load(b), c0);
      c1 = madd4(v, v128.load(b, 16), c1);
      a += sk;
      b += ldb;
    }
    store8(c, c0, c1, mode, bias);
  }
}

// c (8) per mode from a (kc, stride sk bytes) · bᵀ, b (8,kc) (row stride ldb bytes)
function row8t(c: usize, a: usize, sk: usize, b: usize, ldb: usize, kc: i32, mode: i32, bias: usize): void {
  if (ASC_FEATURE_SIMD) {
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
    const b4 = b + 4 * ldb;
    let k = 0;
    for (; k + 4 <= kc; k += 4) {
      // B[0..8)[k..k+4) → for each of the 4 k, the 8 columns (lo: columns 0-3, hi: 4-7)
      const o = <usize>k << 2;
      let r0 = v128.load(b + o), r1 = v128.load(b + ldb + o), r2 = v128.load(b + 2 * ldb + o), r3 = v128.load(b + 3 * ldb + o);
      let t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
      let t2 = f32x4.shuffle(r0, r1, 2, 6, 3, 7), t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
      const lo0 = f32x4.shuffle(t0, t1, 0, 1, 4, 5), lo1 = f32x4.shuffle(t0, t1, 2, 3, 6, 7);
      const lo2 = f32x4.shuffle(t2, t3, 0, 1, 4, 5), lo3 = f32x4.shuffle(t2, t3, 2, 3, 6, 7);
      r0 = v128.load(b4 + o); r1 = v128.load(b4 + ldb + o); r2 = v128.load(b4 + 2 * ldb + o); r3 = v128.load(b4 + 3 * ldb + o);
      t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5); t1 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
      t2 = f32x4.shuffle(r0, r1, 2, 6, 3, 7); t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
      const hi0 = f32x4.shuffle(t0, t1, 0, 1, 4, 5), hi1 = f32x4.shuffle(t0, t1, 2, 3, 6, 7);
      const hi2 = f32x4.shuffle(t2, t3, 0, 1, 4, 5), hi3 = f32x4.shuffle(t2, t3, 2, 3, 6, 7);
      let v = v128.load32_splat(a);
      c0 = madd4(v, lo0, c0); c1 = madd4(v, hi0, c1);
      v = v128.load32_splat(a + sk);
      c0 = madd4(v, lo1, c0); c1 = madd4(v, hi1, c1);
      v = v128.load32_splat(a + 2 * sk);
      c0 = madd4(v, lo2, c0); c1 = madd4(v, hi2, c1);
      v = v128.load32_splat(a + 3 * sk);
      c0 = madd4(v, lo3, c0); c1 = madd4(v, hi3, c1);
      a += 4 * sk;
    }
    for (; k < kc; k++) {
      // the last kc % 4: gather the 8 columns
      const o = <usize>k << 2;
      let lo = f32x4.splat(load<f32>(b + o)), hi = f32x4.splat(load<f32>(b4 + o));
      lo = f32x4.replace_lane(lo, 1, load<f32>(b + ldb + o)); hi = f32x4.replace_lane(hi, 1, load<f32>(b4 + ldb + o));
      lo = f32x4.replace_lane(lo, 2, load<f32>(b + 2 * ldb + o)); hi = f32x4.replace_lane(hi, 2, load<f32>(b4 + 2 * ldb + o));
      lo = f32x4.replace_lane(lo, 3, load<f32>(b + 3 * ldb + o)); hi = f32x4.replace_lane(hi, 3, load<f32>(b4 + 3 * ldb + o));
      const v = v128.load32_splat(a);
      c0 = madd4(v, lo, c0);
      c1 = madd4(v, hi, c1);
      a += sk;
    }
    store8(c, c0, c1, mode, bias);
  }
}

// c (8) = (c0, c1), + C (ADD) or + bias (BIAS) first
// @ts-ignore: decorator
@inline function store8(c: usize, c0: v128, c1: v128, mode: i32, bias: usize): void {
  if (mode != STORE) {
    const s = mode == ADD ? c : bias;
    c0 = f32x4.add(c0, v128.load(s));
    c1 = f32x4.add(c1, v128.load(s, 16));
  }
  v128.store(c, c0);
  v128.store(c, c1, 16);
}

// =====================================================================================================
// Strips (inference, few rows): the weights of a Linear packed once into strips of SW = 24 columns, each strip's K
// rows contiguous ((⌈N/24⌉, K, 24), the last strip zero-padded), so a product of one row or a handful streams each
// strip in memory order with its 6 sums in registers over a whole K slice: no sums spilled to memory between rows
// of B (row_stream), no packing per call (gemm_block), and a thread that takes a range of strips streams one
// contiguous block. The rows of a batch take turns over a strip's slice, which is in L1 after the first. Per
// element the same sums as gemm_block (its K slices, each from 0 in k order, then + bias or + C, the activation
// after the last): the same bits. Four rows or more take 4×8 tiles of a strip (the micro-kernel's, B from L1 after
// the first tile). Measured (simd, one thread, CPU time, loaded machine; GEMM path / strips, linear_act_forward):
// M = 1 (784,512) 41 / 35 µs, (784,1024) 80 / 69, (1024,784) 83 / 69 (a plain sum over (784,1032)'s bytes: 53-59);
// M = 8 (784,128) 68 / 57, (512,784) 274 / 233, (784,1024) 743 / 480; M = 16 1.02-1.17×; M = 64 0.86-0.96×.
// =====================================================================================================

export const SW: i32 = 24;

// ZERO_SKIP: a k whose inputs are all +0 (a blank stretch of a digit, ReLU's zeros) — in one row, or in all four
// rows of a 4-row group — is left out of the sums: its row of the weights is not read. The same bits when the
// weights are finite: a 0·w term is ±0, and a sum that starts at +0 never becomes −0 (round to nearest gives +0 for
// x + (−x)), so adding ±0 leaves every sum as it was. (0·±Inf would be NaN: Sequential uses the strips only while
// its weights are finite; the packed GEMM path checks each B slice as it packs it.) The k kept are listed per K
// slice, once for all strips: the loops then run over the list, with no branch on the data.

// b is (K,N), bp is (⌈N/24⌉,K,24): strips of columns [n0, n1) (n0 a multiple of 24), zero-padded past N
export function pack_strips_cols(bp: usize, b: usize, K: i32, N: i32, n0: i32, n1: i32): void {
  // row by row of b (read in order; each strip's rows written in order): strip by strip, each strip would read 96
  // bytes of every row of b, 4 KiB apart for wide layers (measured, (784,1024): 814 → 232 µs)
  const ld = <usize>N << 2;
  const sstep = <usize>K * <usize>SW << 2; // one strip
  for (let k = 0; k < K; k++) {
    const r = b + <usize>k * ld;
    for (let s = n0; s < n1; s += SW) {
      const w = min(SW, N - s);
      const d = bp + <usize>(s / SW) * sstep + (<usize>(k * SW) << 2);
      const rs = r + (<usize>s << 2);
      let j = 0;
      if (ASC_FEATURE_SIMD) {
        for (; j + 4 <= w; j += 4) v128.store(d + (<usize>j << 2), v128.load(rs + (<usize>j << 2)));
      }
      for (; j < w; j++) store<f32>(d + (<usize>j << 2), load<f32>(rs + (<usize>j << 2)));
      for (; j < SW; j++) store<f32>(d + (<usize>j << 2), 0);
    }
  }
}

// rows [0, M) × columns [n0, n1) of C(M,N) = act(A·B + bias), A is (M,K), bp is B (K,N) in strips (pack_strips_cols),
// b is B itself (one row streams B's kept rows in memory order: row_stream); n0 a multiple of 24; scratch:
// GEMM_SCRATCH_BYTES (the k lists, and row_stream's sums)
export function strips_block(c: usize, a: usize, bp: usize, b: usize, bias: usize, M: i32, N: i32, K: i32, act: i32, n0: i32, n1: i32, scratch: usize): void {
  if (n1 <= n0 || M <= 0) return;
  if (K <= 0) {
    gemm_block(c, a, a, bias, M, N, K, 0, 0, BIAS, act, 0, M, n0, n1, scratch); // the empty sum: the bias
    return;
  }
  const kc0 = even_block(K, KC, 1); // gemm_block's slices
  const ldc = <usize>N << 2;
  const lda = <usize>K << 2;
  const sstep = <usize>K * <usize>SW << 2; // one strip
  const perList = <usize>(kc0 + 1) << 2;
  if (ASC_FEATURE_SIMD) {
    if (M == 1 && perList + (<usize>(n1 - n0) << 2) <= GEMM_SCRATCH_BYTES) {
      one_row(c, a, bp, b, bias, N, K, act, n0, n1, scratch);
      return;
    }
  }
  // SIMD: rows in 4-row groups, then single rows; each group's list of kept k per slice (at most kc0 + 1 words)
  const M4 = ASC_FEATURE_SIMD ? M & ~(MR - 1) : 0;
  const chunk = max(1, <i32>(GEMM_SCRATCH_BYTES / perList)); // groups whose lists fit the scratch at once
  for (let g0 = 0; g0 < M; ) {
    // groups from row g0: as many as fit, 4-row ones while rows [.., M4) last
    let g1 = g0;
    for (let n = 0; n < chunk && g1 < M; n++) g1 += g1 < M4 ? MR : 1;
    for (let pc = 0; pc < K; pc += kc0) {
      const kc = min(kc0, K - pc);
      const m = pc == 0 ? BIAS : ADD;
      const last = pc + kc >= K;
      if (ASC_FEATURE_SIMD) {
        let list = scratch;
        for (let i = g0; i < g1; i += i < M4 ? MR : 1, list += perList) {
          keep_list(list, a + <usize>i * lda + (<usize>pc << 2), lda, i < M4 ? MR : 1, kc);
        }
      }
      for (let s = n0; s < n1; s += SW) {
        const w = min(SW, n1 - s);
        const bk = bp + <usize>(s / SW) * sstep + (<usize>(pc * SW) << 2);
        const bs = bias + (<usize>s << 2);
        let list = scratch;
        for (let i = g0; i < g1; list += perList) {
          const ci = c + <usize>i * ldc + (<usize>s << 2);
          const ai = a + <usize>i * lda + (<usize>pc << 2);
          if (i < M4) {
            // four rows, a third of the strip (8 columns) at a time: the micro-kernel's 4×8 tile, each B vector used
            // by four rows (the strip's slice is in L1 after the first third's pass)
            for (let t = 0; t < w; t += NR) strip_tile4(ci + (<usize>t << 2), ldc, ai, lda, bk + (<usize>t << 2), list, w - t, m, bs + (<usize>t << 2));
            i += MR;
          } else {
            strip_row(ci, ai, bk, list, kc, w, m, bs);
            i++;
          }
        }
        if (last && act != ACT_NONE) {
          for (let r = g0; r < g1; r++) {
            const cr = c + <usize>r * ldc + (<usize>s << 2);
            act_forward(cr, cr, <usize>w, act);
          }
        }
      }
    }
    g0 = g1;
  }
}

// strips_block of one row (SIMD builds): per K slice, its kept k listed, then B's kept rows streamed in memory order
// (row_stream: a strip's rows are 96 bytes each, and a row's kept ones scattered over the whole packed copy, which
// the prefetchers do not follow); when the columns are not a multiple of 8, the last strip from the copy
// (strip_row), the same sums. The sums between row_stream's chunks go to scratch after the list.
function one_row(c: usize, a: usize, bp: usize, b: usize, bias: usize, N: i32, K: i32, act: i32, n0: i32, n1: i32, scratch: usize): void {
  const kc0 = even_block(K, KC, 1);
  const list = scratch;
  const acc = scratch + (<usize>(kc0 + 1) << 2);
  const ldb = <usize>N << 2;
  const sl = (n1 - 1) / SW * SW; // the last strip (its columns [sl, n1))
  // row_stream takes columns [n0, n8) in 8s: all of them, or all but the last strip, which strip_row takes (the two
  // must not overlap: after the first K slice a column's slice sums are added to it)
  const n8 = (n1 - n0) % NR == 0 ? n1 : sl;
  for (let pc = 0; pc < K; pc += kc0) {
    const kc = min(kc0, K - pc);
    const m = pc == 0 ? BIAS : ADD;
    const ak = a + (<usize>pc << 2);
    keep_list(list, ak, 0, 1, kc);
    if (n8 > n0) row_stream(c + (<usize>n0 << 2), ak, 4, b + <usize>pc * ldb + (<usize>n0 << 2), ldb, list, n8 - n0, m, bias + (<usize>n0 << 2), acc);
    if (n8 < n1) {
      const strip = bp + <usize>(sl / SW) * (<usize>K * <usize>SW << 2) + (<usize>(pc * SW) << 2);
      strip_row(c + (<usize>sl << 2), ak, strip, list, kc, n1 - sl, m, bias + (<usize>sl << 2));
    }
  }
  if (act != ACT_NONE) act_forward(c + (<usize>n0 << 2), c + (<usize>n0 << 2), <usize>(n1 - n0), act);
}

// list ← the k of [0, kc) where one of `rows` rows of a (row stride lda bytes) is not +0: their count, then each k·4
// (SIMD builds). Every k is written at the next place, which advances only for a kept one: no branch on the data.
function keep_list(list: usize, a: usize, lda: usize, rows: i32, kc: i32): void {
  if (ASC_FEATURE_SIMD) {
    let l = list + 4;
    let k = 0;
    for (; k + 4 <= kc; k += 4) {
      const p = a + (<usize>k << 2);
      let v = v128.load(p);
      if (rows == MR) v = v128.or(v128.or(v, v128.load(p + lda)), v128.or(v128.load(p + 2 * lda), v128.load(p + 3 * lda)));
      const bits = i32x4.bitmask(i32x4.ne(v, i32x4.splat(0)));
      const o = k << 2;
      store<i32>(l, o); l += <usize>(bits & 1) << 2;
      store<i32>(l, o + 4); l += <usize>((bits >> 1) & 1) << 2;
      store<i32>(l, o + 8); l += <usize>((bits >> 2) & 1) << 2;
      store<i32>(l, o + 12); l += <usize>((bits >> 3) & 1) << 2;
    }
    for (; k < kc; k++) {
      const p = a + (<usize>k << 2);
      let v = load<i32>(p);
      if (rows == MR) v = v | load<i32>(p + lda) | load<i32>(p + 2 * lda) | load<i32>(p + 3 * lda);
      store<i32>(l, k << 2);
      l += <usize>(v != 0) << 2;
    }
    store<i32>(list, <i32>((l - list - 4) >> 2));
  }
}

// c (w ≤ 24 columns) per mode from a (kc) · b (kc,24) (one strip's slice, rows of 24 contiguous); SIMD: over the k
// of `list` (keep_list)
function strip_row(c: usize, a: usize, b: usize, list: usize, kc: i32, w: i32, mode: i32, bias: usize): void {
  if (ASC_FEATURE_SIMD) {
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0), c4 = f32x4.splat(0), c5 = f32x4.splat(0);
    // 6 sums + 6 B vectors + the splat fit V8's 15 xmm registers (with 8 sums, V8 loads all 8 B vectors of a step
    // first and spills a sum: a store-to-load chain through the loop, 1.6× slower).
    const end = list + 4 + (<usize>load<i32>(list) << 2);
    for (let l = list + 4; l < end; l += 4) {
      const o = <usize>load<u32>(l); // k·4
      const v = v128.load32_splat(a + o);
      const bk = b + o * 24; // k·96
      c0 = madd4(v, v128.load(bk), c0); c1 = madd4(v, v128.load(bk, 16), c1);
      c2 = madd4(v, v128.load(bk, 32), c2); c3 = madd4(v, v128.load(bk, 48), c3);
      c4 = madd4(v, v128.load(bk, 64), c4); c5 = madd4(v, v128.load(bk, 80), c5);
    }
    if (w == SW) {
      store8(c, c0, c1, mode, bias);
      store8(c + 32, c2, c3, mode, bias + 32);
      store8(c + 64, c4, c5, mode, bias + 64);
    } else {
      store_lanes(c, c0, w, mode, bias);
      store_lanes(c + 16, c1, w - 4, mode, bias + 16);
      store_lanes(c + 32, c2, w - 8, mode, bias + 32);
      store_lanes(c + 48, c3, w - 12, mode, bias + 48);
      store_lanes(c + 64, c4, w - 16, mode, bias + 64);
      store_lanes(c + 80, c5, w - 20, mode, bias + 80);
    }
  } else {
    // scalar build: 4 columns at a time, each sum from 0 in k order, as micro_scalar_2x4
    for (let j = 0; j < w; j += 4) {
      let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
      let p = b + (<usize>j << 2);
      for (let k = 0; k < kc; k++) {
        const x = load<f32>(a + (<usize>k << 2));
        s0 += x * load<f32>(p); s1 += x * load<f32>(p, 4); s2 += x * load<f32>(p, 8); s3 += x * load<f32>(p, 12);
        p += 96;
      }
      const o = <usize>j << 2;
      store1(c + o, s0, mode, bias + o);
      if (j + 1 < w) store1(c + o + 4, s1, mode, bias + o + 4);
      if (j + 2 < w) store1(c + o + 8, s2, mode, bias + o + 8);
      if (j + 3 < w) store1(c + o + 12, s3, mode, bias + o + 12);
    }
  }
}

// four rows of c (n ≤ 8 valid columns of 8, row stride ldc bytes) per mode from four rows of a (row stride lda bytes)
// · b (kc,8) (8 columns of a strip: row stride 96 bytes), over the k of `list` (keep_list; SIMD builds)
function strip_tile4(c: usize, ldc: usize, a: usize, lda: usize, b: usize, list: usize, n: i32, mode: i32, bias: usize): void {
  if (ASC_FEATURE_SIMD) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    const a2 = 2 * lda;
    const a3 = 3 * lda;
    const end = list + 4 + (<usize>load<i32>(list) << 2);
    for (let l = list + 4; l < end; l += 4) {
      const o = <usize>load<u32>(l); // k·4
      const bk = b + o * 24; // k·96
      const ak = a + o;
      const b0 = v128.load(bk);
      const b1 = v128.load(bk, 16);
      let v = v128.load32_splat(ak);
      c00 = madd4(v, b0, c00); c01 = madd4(v, b1, c01);
      v = v128.load32_splat(ak + lda);
      c10 = madd4(v, b0, c10); c11 = madd4(v, b1, c11);
      v = v128.load32_splat(ak + a2);
      c20 = madd4(v, b0, c20); c21 = madd4(v, b1, c21);
      v = v128.load32_splat(ak + a3);
      c30 = madd4(v, b0, c30); c31 = madd4(v, b1, c31);
    }
    if (n >= NR) {
      store8(c, c00, c01, mode, bias);
      store8(c + ldc, c10, c11, mode, bias);
      store8(c + 2 * ldc, c20, c21, mode, bias);
      store8(c + 3 * ldc, c30, c31, mode, bias);
    } else {
      store_lanes(c, c00, n, mode, bias); store_lanes(c + 16, c01, n - 4, mode, bias + 16);
      store_lanes(c + ldc, c10, n, mode, bias); store_lanes(c + ldc + 16, c11, n - 4, mode, bias + 16);
      store_lanes(c + 2 * ldc, c20, n, mode, bias); store_lanes(c + 2 * ldc + 16, c21, n - 4, mode, bias + 16);
      store_lanes(c + 3 * ldc, c30, n, mode, bias); store_lanes(c + 3 * ldc + 16, c31, n - 4, mode, bias + 16);
    }
  }
}

// the first n (≤ 4; none when n ≤ 0) lanes of v → c, + C (ADD) or + bias (BIAS) first
// @ts-ignore: decorator
@inline export function store_lanes(c: usize, v: v128, n: i32, mode: i32, bias: usize): void {
  if (n >= 4) {
    if (mode != STORE) v = f32x4.add(v, v128.load(mode == ADD ? c : bias));
    v128.store(c, v);
  } else if (n > 0) {
    store1(c, f32x4.extract_lane(v, 0), mode, bias);
    if (n > 1) store1(c + 4, f32x4.extract_lane(v, 1), mode, bias + 4);
    if (n > 2) store1(c + 8, f32x4.extract_lane(v, 2), mode, bias + 8);
  }
}

// @ts-ignore: decorator
@inline function store1(c: usize, x: f32, mode: i32, bias: usize): void {
  if (mode == ADD) x += load<f32>(c);
  else if (mode == BIAS) x += load<f32>(bias);
  store<f32>(c, x);
}

// =====================================================================================================
// Packing. A strip: 4 rows of op(A), for each k the 4 values contiguous (ap[k·4 + i]).
// B strip: 8 columns of op(B), for each k the 8 values contiguous (bp[k·8 + j]). Edges are zero-padded.
// =====================================================================================================

// op(A) rows [ic, ic+mc) × cols [pc, pc+kc) → ap; A is (M,K), or (K,M) when transA. With `lists` (op(A) = A, SIMD
// builds), each full strip keeps only its k whose 4 values are not all +0, in k order, and writes their count and
// B offsets to its list (ZERO_SKIP); other strips keep every k (count = kc).
function pack_a(ap: usize, a: usize, M: i32, K: i32, transA: i32, ic: i32, mc: i32, pc: i32, kc: i32, lists: usize): void {
  if (ASC_FEATURE_SIMD) {
    if (transA) {
      // op(A)[i][k] = A[k·M + i]: 4 consecutive floats per k and strip. Four k (rows of A) at a time across
      // every full strip, so each cache line of A is used up while in L1. Strip by strip, a strip reads kc
      // lines ld = 4M bytes apart, which for M = 1024 all fall in one L1 set (and, with 4 KiB pages, in as few
      // L2 sets as the physical pages allow), and the next strip fetches the same lines again for their next
      // 16 bytes. Measured (simd, 1024³, same process): TN/TT 84-85% → 85-87% of the mul+add limit with the
      // caches flushed before each call, equal warm; the 63%/71% of one bench run did not reproduce
      // (warm, cold, pages touched in random order, a memory-streaming neighbour: 83-87% either way)
      const full = mc & ~(MR - 1);
      const ld = <usize>M << 2;
      const src = a + (<usize>(pc * M + ic) << 2);
      const sstep = <usize>(MR * kc) << 2; // one strip
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const p = src + <usize>k * ld;
        let d = ap + (<usize>k << 4);
        for (let i = 0; i < full; i += MR, d += sstep) {
          const q = p + (<usize>i << 2);
          const r0 = v128.load(q), r1 = v128.load(q + ld), r2 = v128.load(q + 2 * ld), r3 = v128.load(q + 3 * ld);
          v128.store(d, r0); v128.store(d, r1, 16); v128.store(d, r2, 32); v128.store(d, r3, 48);
        }
      }
      for (; k < kc; k++) {
        const p = src + <usize>k * ld;
        let d = ap + (<usize>k << 4);
        for (let i = 0; i < full; i += MR, d += sstep) v128.store(d, v128.load(p + (<usize>i << 2)));
      }
      if (full < mc) pack_a_strips(ap, a, M, K, transA, ic, mc, pc, kc, full, lists);
      return;
    }
  }
  pack_a_strips(ap, a, M, K, transA, ic, mc, pc, kc, 0, lists);
}

// pack_a from row s0 on, strip by strip
function pack_a_strips(ap: usize, a: usize, M: i32, K: i32, transA: i32, ic: i32, mc: i32, pc: i32, kc: i32, s0: i32, lists: usize): void {
  let kept = 0; // the last compacted strip's count: a strip that kept every k (dense data, a training batch with
  // noise) stops the compacting for the next 7 strips, which pack plainly (the same bits either way)
  for (let s = s0; s < mc; s += MR) {
    const rows = min(MR, mc - s);
    const dst = ap + (<usize>(s * kc) << 2);
    const list = lists + <usize>(s / MR * LIST_INTS) * 4;
    if (lists != 0) store<i32>(list, kc); // every k, unless the compacting pack below counts fewer
    if (ASC_FEATURE_SIMD) {
      if (lists != 0 && rows == MR && !transA && (kept < kc || (s / MR & 7) == 0)) {
        pack_a_compact(dst, list, a + (<usize>((ic + s) * K + pc) << 2), <usize>K << 2, kc);
        kept = load<i32>(list);
        continue;
      }
    }
    if (transA) {
      // op(A)[i][k] = A[k·M + i] (a partial strip, or the scalar build)
      const src = a + (<usize>(pc * M + ic + s) << 2);
      const ld = <usize>M << 2;
      for (let k = 0; k < kc; k++) {
        const sk = src + <usize>k * ld;
        const dk = dst + (<usize>k << 4);
        for (let i = 0; i < MR; i++) store<f32>(dk + (<usize>i << 2), i < rows ? load<f32>(sk + (<usize>i << 2)) : 0);
      }
    } else {
      // op(A)[i][k] = A[i·K + k]: 4 rows, transposed 4×4 at a time
      const ld = <usize>K << 2;
      const src = a + (<usize>((ic + s) * K + pc) << 2);
      let k = 0;
      if (ASC_FEATURE_SIMD) {
        if (rows == MR) {
          for (; k + 4 <= kc; k += 4) {
            const p = src + (<usize>k << 2);
            const r0 = v128.load(p);
            const r1 = v128.load(p + ld);
            const r2 = v128.load(p + 2 * ld);
            const r3 = v128.load(p + 3 * ld);
            const t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5);
            const t1 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
            const t2 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
            const t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
            const d = dst + (<usize>k << 4);
            v128.store(d, f32x4.shuffle(t0, t1, 0, 1, 4, 5));
            v128.store(d, f32x4.shuffle(t0, t1, 2, 3, 6, 7), 16);
            v128.store(d, f32x4.shuffle(t2, t3, 0, 1, 4, 5), 32);
            v128.store(d, f32x4.shuffle(t2, t3, 2, 3, 6, 7), 48);
          }
        }
      }
      for (; k < kc; k++) {
        const sk = src + (<usize>k << 2);
        const dk = dst + (<usize>k << 4);
        for (let i = 0; i < MR; i++) store<f32>(dk + (<usize>i << 2), i < rows ? load<f32>(sk + <usize>i * ld) : 0);
      }
    }
  }
}

// One strip of 4 full rows of A (src, row stride ld bytes) over kc columns → dst, keeping only the k whose 4
// values are not all +0 (ZERO_SKIP), in k order; list: their count, then each k·4 (keep_list's layout).
// Every k is stored at the next place and the place advances only for a kept one: no branch on the data.
function pack_a_compact(dst: usize, list: usize, src: usize, ld: usize, kc: i32): void {
  if (ASC_FEATURE_SIMD) {
    let d = dst;
    let l = list + 4;
    let k = 0;
    for (; k + 4 <= kc; k += 4) {
      const p = src + (<usize>k << 2);
      const r0 = v128.load(p);
      const r1 = v128.load(p + ld);
      const r2 = v128.load(p + 2 * ld);
      const r3 = v128.load(p + 3 * ld);
      const t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5);
      const t1 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
      const t2 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
      const t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
      const v0 = f32x4.shuffle(t0, t1, 0, 1, 4, 5);
      const v1 = f32x4.shuffle(t0, t1, 2, 3, 6, 7);
      const v2 = f32x4.shuffle(t2, t3, 0, 1, 4, 5);
      const v3 = f32x4.shuffle(t2, t3, 2, 3, 6, 7);
      const o = k << 2;
      v128.store(d, v0); store<i32>(l, o);
      let kept = <usize>v128.any_true(v0);
      d += kept << 4; l += kept << 2;
      v128.store(d, v1); store<i32>(l, o + 4);
      kept = <usize>v128.any_true(v1);
      d += kept << 4; l += kept << 2;
      v128.store(d, v2); store<i32>(l, o + 8);
      kept = <usize>v128.any_true(v2);
      d += kept << 4; l += kept << 2;
      v128.store(d, v3); store<i32>(l, o + 12);
      kept = <usize>v128.any_true(v3);
      d += kept << 4; l += kept << 2;
    }
    for (; k < kc; k++) {
      const p = src + (<usize>k << 2);
      const v = f32x4(load<f32>(p), load<f32>(p + ld), load<f32>(p + 2 * ld), load<f32>(p + 3 * ld));
      v128.store(d, v); store<i32>(l, k << 2);
      const kept = <usize>v128.any_true(v);
      d += kept << 4; l += kept << 2;
    }
    store<i32>(list, <i32>((d - dst) >> 4));
  }
}

// op(B) rows [pc, pc+kc) × cols [jc, jc+nc) → bp; B is (K,N), or (N,K) when transB. Returns 1 when every value
// packed is finite (ZERO_SKIP's condition; checked in registers on the way, not by a second pass).
export function pack_b(bp: usize, b: usize, N: i32, K: i32, transB: i32, pc: i32, kc: i32, jc: i32, nc: i32): i32 {
  let bad = false; // a value whose exponent bits were all ones (NaN, ±Inf)
  for (let s = 0; s < nc; s += NR) {
    const cols = min(NR, nc - s);
    const dst = bp + (<usize>(s * kc) << 2);
    if (!transB) {
      // op(B)[k][j] = B[k·N + j]: 8 consecutive floats per k
      const src = b + (<usize>(pc * N + jc + s) << 2);
      const ld = <usize>N << 2;
      if (ASC_FEATURE_SIMD) {
        if (cols == NR) {
          let nf = i32x4.splat(0);
          for (let k = 0; k < kc; k++) {
            const sk = src + <usize>k * ld;
            const dk = dst + (<usize>k << 5);
            const v0 = v128.load(sk);
            const v1 = v128.load(sk, 16);
            v128.store(dk, v0);
            v128.store(dk, v1, 16);
            nf = v128.or(nf, v128.or(non_finite4(v0), non_finite4(v1)));
          }
          bad = bad || v128.any_true(nf);
          continue;
        }
      }
      for (let k = 0; k < kc; k++) {
        const sk = src + <usize>k * ld;
        const dk = dst + (<usize>k << 5);
        for (let j = 0; j < NR; j++) {
          const x = j < cols ? load<f32>(sk + (<usize>j << 2)) : 0;
          bad = bad || !isFinite(x);
          store<f32>(dk + (<usize>j << 2), x);
        }
      }
    } else {
      // op(B)[k][j] = B[j·K + k]: 8 rows of B, transposed 4×4 at a time
      const ld = <usize>K << 2;
      const src = b + (<usize>((jc + s) * K + pc) << 2);
      let k = 0;
      if (ASC_FEATURE_SIMD) {
        if (cols == NR) {
          let nf = i32x4.splat(0);
          for (; k + 4 <= kc; k += 4) {
            const d = dst + (<usize>k << 5);
            for (let h: usize = 0; h < 2; h++) {
              const p = src + (<usize>k << 2) + h * 4 * ld;
              const r0 = v128.load(p);
              const r1 = v128.load(p + ld);
              const r2 = v128.load(p + 2 * ld);
              const r3 = v128.load(p + 3 * ld);
              const t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5);
              const t1 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
              const t2 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
              const t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
              const dh = d + (h << 4);
              nf = v128.or(nf, v128.or(v128.or(non_finite4(r0), non_finite4(r1)), v128.or(non_finite4(r2), non_finite4(r3))));
              v128.store(dh, f32x4.shuffle(t0, t1, 0, 1, 4, 5));
              v128.store(dh, f32x4.shuffle(t0, t1, 2, 3, 6, 7), 32);
              v128.store(dh, f32x4.shuffle(t2, t3, 0, 1, 4, 5), 64);
              v128.store(dh, f32x4.shuffle(t2, t3, 2, 3, 6, 7), 96);
            }
          }
          bad = bad || v128.any_true(nf);
        }
      }
      for (; k < kc; k++) {
        const sk = src + (<usize>k << 2);
        const dk = dst + (<usize>k << 5);
        for (let j = 0; j < NR; j++) {
          const x = j < cols ? load<f32>(sk + <usize>j * ld) : 0;
          bad = bad || !isFinite(x);
          store<f32>(dk + (<usize>j << 2), x);
        }
      }
    }
  }
  return bad ? 0 : 1;
}

// =====================================================================================================
// Micro-kernel: one 4×8 tile of C from a 4-row A strip and an 8-column B strip, kc deep.
// 8 f32x4 accumulators + 2 B vectors + 1 A splat = 11 of x64's 16 vector registers. The A values come in by
// v128.load32_splat (V8 does not hoist or fold a splat of a scalar load).
// =====================================================================================================

// ap is (kc,4) packed, bp is (kc,8) packed, c is a 4×8 tile with row stride ldc bytes
export function micro(ap: usize, bp: usize, kc: i32, c: usize, ldc: usize, mode: i32, bias: usize): void {
  if (ASC_FEATURE_SIMD) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    const end = ap + (<usize>kc << 4);
    // not unrolled: binaryen would interleave two k steps per accumulator (4 live B vectors), and V8 then
    // spills accumulators to the stack
    while (ap < end) {
      const b0 = v128.load(bp);
      const b1 = v128.load(bp, 16);
      let a = v128.load32_splat(ap);
      c00 = madd4(a, b0, c00); c01 = madd4(a, b1, c01);
      a = v128.load32_splat(ap, 4);
      c10 = madd4(a, b0, c10); c11 = madd4(a, b1, c11);
      a = v128.load32_splat(ap, 8);
      c20 = madd4(a, b0, c20); c21 = madd4(a, b1, c21);
      a = v128.load32_splat(ap, 12);
      c30 = madd4(a, b0, c30); c31 = madd4(a, b1, c31);
      ap += 16;
      bp += 32;
    }
    finish_4x8(c, ldc, mode, bias, c00, c01, c10, c11, c20, c21, c30, c31);
  } else {
    // scalar build: four 2×4 quarters, 8 accumulators each (with 16, V8 spills half of them to the stack)
    const c2 = c + 2 * ldc;
    micro_scalar_2x4(ap, bp, kc, c, ldc, mode, bias);
    micro_scalar_2x4(ap, bp + 16, kc, c + 16, ldc, mode, bias + 16);
    micro_scalar_2x4(ap + 8, bp, kc, c2, ldc, mode, bias);
    micro_scalar_2x4(ap + 8, bp + 16, kc, c2 + 16, ldc, mode, bias + 16);
  }
}

// micro over an A strip compacted by pack_a_compact (SIMD builds): ap holds n kept k (4 values each), list each k·4;
// the skipped terms are all ±0, so each sum is micro's, bit for bit (ZERO_SKIP)
function micro_list(ap: usize, bp: usize, list: usize, n: i32, c: usize, ldc: usize, mode: i32, bias: usize): void {
  if (ASC_FEATURE_SIMD) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    const end = ap + (<usize>n << 4);
    while (ap < end) {
      const bk = bp + (<usize>load<u32>(list) << 3); // k·4 → row k of the 8-column strip
      const b0 = v128.load(bk);
      const b1 = v128.load(bk, 16);
      let a = v128.load32_splat(ap);
      c00 = madd4(a, b0, c00); c01 = madd4(a, b1, c01);
      a = v128.load32_splat(ap, 4);
      c10 = madd4(a, b0, c10); c11 = madd4(a, b1, c11);
      a = v128.load32_splat(ap, 8);
      c20 = madd4(a, b0, c20); c21 = madd4(a, b1, c21);
      a = v128.load32_splat(ap, 12);
      c30 = madd4(a, b0, c30); c31 = madd4(a, b1, c31);
      ap += 16;
      list += 4;
    }
    finish_4x8(c, ldc, mode, bias, c00, c01, c10, c11, c20, c21, c30, c31);
  }
}

// a 4×8 tile from an A strip (compacted when its list says fewer than kc k) and a B strip, kc deep
// @ts-ignore: decorator
@inline function product(ap: usize, bp: usize, kc: i32, list: usize, c: usize, ldc: usize, mode: i32, bias: usize): void {
  const n = list != 0 ? load<i32>(list) : kc;
  if (n < kc) micro_list(ap, bp, list + 4, n, c, ldc, mode, bias);
  else micro(ap, bp, kc, c, ldc, mode, bias);
}

// the 8 accumulators of a 4×8 tile (+ C for ADD, + bias for BIAS) → c (row stride ldc bytes)
// @ts-ignore: decorator
@inline function finish_4x8(c: usize, ldc: usize, mode: i32, bias: usize, c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128): void {
  const c1 = c + ldc;
  const c2 = c1 + ldc;
  const c3 = c2 + ldc;
  if (mode == ADD) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c1)); c11 = f32x4.add(c11, v128.load(c1, 16));
    c20 = f32x4.add(c20, v128.load(c2)); c21 = f32x4.add(c21, v128.load(c2, 16));
    c30 = f32x4.add(c30, v128.load(c3)); c31 = f32x4.add(c31, v128.load(c3, 16));
  } else if (mode == BIAS) {
    const v0 = v128.load(bias);
    const v1 = v128.load(bias, 16);
    c00 = f32x4.add(c00, v0); c01 = f32x4.add(c01, v1);
    c10 = f32x4.add(c10, v0); c11 = f32x4.add(c11, v1);
    c20 = f32x4.add(c20, v0); c21 = f32x4.add(c21, v1);
    c30 = f32x4.add(c30, v0); c31 = f32x4.add(c31, v1);
  }
  store_4x8(c, c1, c2, c3, c00, c01, c10, c11, c20, c21, c30, c31);
}

// ap is (kc,4) packed (the 2 rows at ap used), bp is (kc,8) packed (the 4 columns at bp used),
// c is a 2×4 tile with row stride ldc
function micro_scalar_2x4(ap: usize, bp: usize, kc: i32, c: usize, ldc: usize, mode: i32, bias: usize): void {
  let c00: f32 = 0, c01: f32 = 0, c02: f32 = 0, c03: f32 = 0;
  let c10: f32 = 0, c11: f32 = 0, c12: f32 = 0, c13: f32 = 0;
  for (let k = 0; k < kc; k++) {
    const b0 = load<f32>(bp), b1 = load<f32>(bp, 4), b2 = load<f32>(bp, 8), b3 = load<f32>(bp, 12);
    let a = load<f32>(ap);
    c00 += a * b0; c01 += a * b1; c02 += a * b2; c03 += a * b3;
    a = load<f32>(ap, 4);
    c10 += a * b0; c11 += a * b1; c12 += a * b2; c13 += a * b3;
    ap += 16;
    bp += 32;
  }
  const c1 = c + ldc;
  if (mode == ADD) {
    c00 += load<f32>(c); c01 += load<f32>(c, 4); c02 += load<f32>(c, 8); c03 += load<f32>(c, 12);
    c10 += load<f32>(c1); c11 += load<f32>(c1, 4); c12 += load<f32>(c1, 8); c13 += load<f32>(c1, 12);
  } else if (mode == BIAS) {
    const v0 = load<f32>(bias), v1 = load<f32>(bias, 4), v2 = load<f32>(bias, 8), v3 = load<f32>(bias, 12);
    c00 += v0; c01 += v1; c02 += v2; c03 += v3;
    c10 += v0; c11 += v1; c12 += v2; c13 += v3;
  }
  store<f32>(c, c00); store<f32>(c, c01, 4); store<f32>(c, c02, 8); store<f32>(c, c03, 12);
  store<f32>(c1, c10); store<f32>(c1, c11, 4); store<f32>(c1, c12, 8); store<f32>(c1, c13, 12);
}

// the valid mr×nr corner of a computed 4×8 tile (row stride 32 bytes) → C, per mode, then act
function write_tile(c: usize, ldc: usize, tile: usize, mr: i32, nr: i32, mode: i32, bias: usize, act: i32): void {
  if (act != ACT_NONE) {
    // finish the valid corner in the tile (+ C or + bias, the same f32 adds as below), activate, then store it
    if (mode != STORE) {
      for (let i = 0; i < mr; i++) {
        const ci = c + <usize>i * ldc;
        const ti = tile + (<usize>i << 5);
        for (let j = 0; j < nr; j++) {
          const o = <usize>j << 2;
          store<f32>(ti + o, load<f32>(ti + o) + load<f32>((mode == ADD ? ci : bias) + o));
        }
      }
    }
    act_tile(tile, <usize>(NR << 2), act);
    mode = STORE;
  }
  store_tile(c, ldc, 4, tile, mr, nr, mode, bias);
}

// The micro-kernels' 8 accumulators (row i: ci0 its columns 0-3, ci1 its columns 4-7) → the 4×8 tile's rows r0..r3
// (rows of C itself, or of conv.ts's tile buffer)
// @ts-ignore: decorator
@inline export function store_4x8(r0: usize, r1: usize, r2: usize, r3: usize, c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128): void {
  v128.store(r0, c00); v128.store(r0, c01, 16);
  v128.store(r1, c10); v128.store(r1, c11, 16);
  v128.store(r2, c20); v128.store(r2, c21, 16);
  v128.store(r3, c30); v128.store(r3, c31, 16);
}

// The one store of a tile's valid corner: element (i, j) of a 4×8 tile (row stride 32 bytes), i < mr, j < nr, to
// c + i·rs + j·cs, + what is there first (ADD) or + bias[j] (BIAS). C's own layout is rs = ldc, cs = 4; conv.ts
// stores its tiles transposed into NCHW (rs = 4, cs = the plane's bytes).
// @ts-ignore: decorator
@inline export function store_tile(c: usize, rs: usize, cs: usize, tile: usize, mr: i32, nr: i32, mode: i32, bias: usize): void {
  for (let i = 0; i < mr; i++) {
    const ci = c + <usize>i * rs;
    const ti = tile + (<usize>i << 5);
    for (let j = 0; j < nr; j++) {
      const d = ci + <usize>j * cs;
      let v = load<f32>(ti + (<usize>j << 2));
      if (mode == ADD) v += load<f32>(d);
      else if (mode == BIAS) v += load<f32>(bias + (<usize>j << 2));
      store<f32>(d, v);
    }
  }
}
