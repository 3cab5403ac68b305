// Kernel parity: every kernel of every backend this machine runs (each wasm build, forced through the
// `variant` option, and the js backend) against a plain float64 reference written here, on seeded random
// inputs of many shapes. One helper checks every op (tinygrad test_ops style): it writes the inputs, runs the
// kernel, asserts linear memory did not grow, and compares each output (and the return value) with atol/rtol.
//
// Plus: the exp / log / tanh / sigmoid approximation error bounds, saturation (no NaN at ±1000, ±Inf),
// and determinism.

import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimdnetError } from '../src/errors.js';
import { ACT, STRIP_WIDTH, stripFloats, type Backend, type Kernels, type Tensor } from '../src/backend/backend.js';
import { createWasmBackend, availableWasmVariants, type WasmBackendOptions } from '../src/backend/wasm.js';
import { createJsBackend } from '../src/backend/js.js';
import { applyDelta, embeddedWasm } from '../src/backend/embedded.js';
import { Rng } from '../src/random.js';
import { expectClose } from './support/close.js';
import { gemm64, loss64, sigmoid64, softmax64 } from './support/reference.js';

const variants = availableWasmVariants();
const backends: Backend[] = [...(await Promise.all(variants.map((variant) => createWasmBackend({ variant })))), await createJsBackend()];
const label = (be: Backend) => `${be.name}/${be.variant}`;

// =====================================================================================================
// The helper
// =====================================================================================================

type Ptrs = Record<string, number>;
interface OpCase {
  /** Every buffer the kernel touches, with its initial contents (outputs too: they check overwrite vs add). */
  tensors: Record<string, Float32Array>;
  /** Calls the kernel; may return a value (losses). */
  run(k: Kernels, p: Ptrs): number | void;
  /** Expected contents of the buffers named, and `ret` for the return value; float64. */
  want: { [buffer: string]: ArrayLike<number> | number };
  atol: number;
  rtol: number;
}

/** Runs one case on one backend and checks it. */
function checkOn(be: Backend, c: OpCase, name: string): void {
  const live = be.liveAllocations;
  const t: Record<string, Tensor> = {};
  const p: Ptrs = {};
  for (const [k, v] of Object.entries(c.tensors)) {
    t[k] = be.alloc(1, v.length);
    be.write(t[k], v);
    p[k] = t[k].ptr;
  }
  const bytes = be.memory.buffer.byteLength;
  const ret = c.run(be.kernels, p);
  expect(be.memory.buffer.byteLength, `${label(be)} ${name}: a kernel call grew memory`).toBe(bytes);
  for (const [k, w] of Object.entries(c.want)) {
    if (k === 'ret') expectClose(`${label(be)} ${name} → return value`, [ret as number], [w as number], c.atol, c.rtol);
    else expectClose(`${label(be)} ${name} → ${k}`, be.read(t[k]), w as ArrayLike<number>, c.atol, c.rtol);
  }
  for (const k of Object.keys(t)) be.free(t[k]);
  expect(be.liveAllocations).toBe(live);
}

/** The case on every backend. */
function check(name: string, c: OpCase): void {
  for (const be of backends) checkOn(be, c, name);
}

// =====================================================================================================
// Inputs and float64 references
// =====================================================================================================

function uniform(rng: Rng, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(lo, hi);
  return a;
}

const map = (a: ArrayLike<number>, f: (v: number, i: number) => number) => Float64Array.from(a, f);
const clampP = (p: number) => Math.min(Math.max(p, 1e-7), 1 - 1e-7);

// =====================================================================================================
// GEMM: shapes are [M, K, N]; all four transposes, accumulate off and on.
// f32 sums of K products of U(−1,1): atol 1e-6·(K+1), rtol 1e-5.
// =====================================================================================================

const GEMM_SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 5, 1], [1, 1, 7], [7, 1, 1], [2, 3, 4], [3, 5, 7], [4, 4, 8], [5, 9, 3], [8, 16, 32], [13, 1, 29],
  [17, 33, 65], [64, 64, 64], [31, 300, 12], [3, 0, 5], [130, 70, 530], [128, 784, 256],
  // M < 4: the small-M path (B read in place; several K slices, some not multiples of 4; 32- and 8-column
  // blocks, a partial strip)
  [1, 784, 128], [1, 128, 784], [2, 300, 530], [3, 784, 37], [2, 513, 45], [3, 64, 8],
  // 4 ≤ M < 8 with op(B) = B: 4-row tiles with B in place, then 2 or 1 rows (Bᵀ: the packed path)
  [4, 600, 77], [7, 513, 45], [6, 784, 130], [5, 64, 8], [5, 300, 33],
];

describe('gemm', () => {
  for (const [M, K, N] of GEMM_SHAPES) {
    for (const tA of [0, 1]) {
      for (const tB of [0, 1]) {
        for (const acc of [0, 1]) {
          it(`(${M}×${K})·(${K}×${N}) transA=${tA} transB=${tB} accumulate=${acc}`, () => {
            const rng = new Rng(M * 1000003 + K * 1009 + N * 7 + tA * 2 + tB);
            const A = uniform(rng, M * K);
            const B = uniform(rng, K * N);
            const C0 = uniform(rng, M * N); // garbage to overwrite, or the addend
            check(`gemm ${M}×${K}×${N} tA=${tA} tB=${tB} acc=${acc}`, {
              tensors: { a: A, b: B, c: C0 },
              run: (k, p) => k.gemm(p.c, p.a, p.b, M, N, K, tA, tB, acc),
              want: { c: gemm64(A, B, acc ? C0 : null, M, N, K, tA, tB) },
              atol: 1e-6 * (K + 1),
              rtol: 1e-5,
            });
          });
        }
      }
    }
  }

  it('a row does not depend on M: rows of an M = 1 … 7 product (small-M path) equal those of M = 40 (packed), bit for bit', () => {
    // (K = 600: 3 slices of 200; N = 77: three 24-column groups of one row's stream and a partial strip; N = 93: the
    // same and a 16-column remainder in 8-column groups)
    for (const N of [77, 93]) {
      const rng = new Rng(11 + N);
      const [M, K] = [40, 600];
      const A = uniform(rng, M * K), B = uniform(rng, K * N), bias = uniform(rng, N), C0 = uniform(rng, M * N);
      for (const be of backends) {
        const a = be.alloc(M, K), b = be.alloc(K, N), c = be.alloc(M, N), cs = be.alloc(M, N), tb = be.alloc(1, N);
        be.write(a, A);
        be.write(b, B);
        be.write(tb, bias);
        const runs: Array<[string, (out: Tensor, rows: number, row0: number) => void]> = [
          ['gemm', (out, rows, row0) => be.kernels.gemm(out.ptr, a.ptr + 4 * row0 * K, b.ptr, rows, N, K, 0, 0, 0)],
          ['gemm transB', (out, rows, row0) => be.kernels.gemm(out.ptr, a.ptr + 4 * row0 * K, b.ptr, rows, N, K, 0, 1, 0)],
          ['gemm accumulate', (out, rows, row0) => { const c0 = new Float32Array(M * N); c0.set(C0.subarray(row0 * N, (row0 + rows) * N)); be.write(out, c0); be.kernels.gemm(out.ptr, a.ptr + 4 * row0 * K, b.ptr, rows, N, K, 0, 0, 1); }],
          ...[ACT.none, ACT.relu, ACT.sigmoid, ACT.tanh].map((act) => [`linear_act_forward act=${act}`, (out: Tensor, rows: number, row0: number) => be.kernels.linear_act_forward(out.ptr, a.ptr + 4 * row0 * K, b.ptr, tb.ptr, rows, K, N, act)] as [string, (out: Tensor, rows: number, row0: number) => void]),
        ];
        for (const [name, run] of runs) {
          run(c, M, 0);
          const full = new Uint32Array(be.read(c).buffer);
          for (const rows of [1, 2, 3, 4, 5, 7, 8, 15, 16]) {
            for (const row0 of [0, M - rows]) {
              run(cs, rows, row0);
              const part = new Uint32Array(be.read(cs).buffer).subarray(0, rows * N);
              expect(Array.from(part), `${label(be)} ${name}: rows ${row0}..${row0 + rows - 1} alone`).toEqual(Array.from(full.subarray(row0 * N, (row0 + rows) * N)));
            }
          }
        }
        for (const t of [a, b, c, cs, tb]) be.free(t);
      }
    }
  });

  // ZERO_SKIP (assembly/gemm.ts): with op(A) = A, a packed 4-row strip drops the k whose four values are all +0 while
  // the slice of B is finite. op(A) = Aᵀ given the same values (A stored transposed) is never compacted: the same sums
  // in the same order, so the two must agree bit for bit, NaN and ±Inf where 0·Inf or a NaN input puts them too.
  it('zeros of A skipped (op(A) = A) give the bits of the dense sums (op(A) = Aᵀ), B finite or not', () => {
    const shapes: Array<[number, number, number]> = [[8, 9, 13], [17, 300, 33], [64, 784, 40], [130, 515, 8]];
    for (const [M, K, N] of shapes) {
      const rng = new Rng(M * 31 + K * 7 + N);
      // zeros: every row at k ≡ 0..5 mod 16 (runs crossing the 4-k groups), whole rows, a block of 4 rows × 40 k, and
      // a third of the rest; −0 in some places (not skipped: its bits differ); one NaN
      const A = uniform(rng, M * K).map((v, i) => {
        const r = Math.floor(i / K), k = i % K;
        if (k % 16 < 6 || r % 5 === 3 || (r >= 4 && r < 8 && k >= 100 && k < 140) || rng.next() < 0.33) return 0;
        return rng.next() < 0.05 ? -0 : v;
      });
      A[(M >> 1) * K + 7] = NaN;
      const At = new Float32Array(M * K);
      for (let r = 0; r < M; r++) for (let k = 0; k < K; k++) At[k * M + r] = A[r * K + k];
      for (const poison of [0, Infinity, NaN]) {
        const B = uniform(rng, K * N);
        if (poison !== 0) B[(K - 1) * N + (N >> 1)] = poison; // the last slice of one column
        for (const be of backends) {
          const a = be.alloc(M, K), at = be.alloc(K, M), b = be.alloc(K, N), c = be.alloc(M, N), ct = be.alloc(M, N), bias = be.alloc(1, N);
          be.write(a, A);
          be.write(at, At);
          be.write(b, B);
          const bv = uniform(rng, N);
          be.write(bias, bv);
          for (const tB of [0, 1]) {
            const bits = (t: Tensor) => Array.from(new Uint32Array(be.read(t).buffer));
            be.kernels.gemm(c.ptr, a.ptr, b.ptr, M, N, K, 0, tB, 0);
            be.kernels.gemm(ct.ptr, at.ptr, b.ptr, M, N, K, 1, tB, 0);
            expect(bits(c), `${label(be)} gemm ${M}×${K}×${N} transB=${tB} B ${poison}`).toEqual(bits(ct));
          }
          if (be.name === 'wasm') {
            // (the js twin adds its bias in its own order, and skips nothing)
            be.kernels.linear_act_forward(c.ptr, a.ptr, b.ptr, bias.ptr, M, K, N, ACT.relu);
            be.write(ct, Float32Array.from({ length: M * N }, (_, i) => bv[i % N])); // + bias after the first slice, as BIAS
            be.kernels.gemm(ct.ptr, at.ptr, b.ptr, M, N, K, 1, 0, 1);
            be.kernels.relu_forward(ct.ptr, ct.ptr, M * N);
            expect(Array.from(be.read(c)), `${label(be)} linear_act_forward ${M}×${K}×${N} B ${poison}`).toEqual(Array.from(be.read(ct)));
          }
          for (const t of [a, at, b, c, ct, bias]) be.free(t);
        }
      }
    }
  });

  it('is deterministic: the same call twice gives bit-identical results, after other shapes ran', () => {
    const rng = new Rng(5);
    const [M, K, N] = [37, 301, 45];
    const A = uniform(rng, M * K), B = uniform(rng, K * N);
    for (const be of backends) {
      const a = be.alloc(M, K), b = be.alloc(K, N), c = be.alloc(M, N);
      be.write(a, A);
      be.write(b, B);
      be.kernels.gemm(c.ptr, a.ptr, b.ptr, M, N, K, 0, 1, 0);
      const first = be.read(c);
      be.kernels.gemm(c.ptr, b.ptr, a.ptr, 3, 5, 7, 1, 0, 0); // different shape in between (scratch reuse)
      be.kernels.gemm(c.ptr, a.ptr, b.ptr, M, N, K, 0, 1, 0);
      expect(Array.from(be.read(c)), label(be)).toEqual(Array.from(first));
      for (const t of [a, b, c]) be.free(t);
    }
  });
});

// =====================================================================================================
// Linear layer: shapes are [B, IN, OUT]
// =====================================================================================================

const LINEAR_SHAPES: Array<[number, number, number]> = [[1, 1, 1], [3, 5, 7], [2, 9, 4], [17, 33, 65], [5, 300, 9], [128, 784, 256]];

describe('linear', () => {
  for (const [B, IN, OUT] of LINEAR_SHAPES) {
    const tol = { atol: 1e-6 * (Math.max(B, IN, OUT) + 1), rtol: 1e-5 };
    it(`forward (${B}, ${IN}) → ${OUT}`, () => {
      const rng = new Rng(B + IN * 31 + OUT * 977);
      const x = uniform(rng, B * IN), w = uniform(rng, IN * OUT), b = uniform(rng, OUT);
      const want = gemm64(x, w, null, B, OUT, IN, 0, 0).map((v, i) => v + b[i % OUT]);
      check(`linear_forward ${B}×${IN}×${OUT}`, {
        tensors: { out: uniform(rng, B * OUT), x, w, b },
        run: (k, p) => k.linear_forward(p.out, p.x, p.w, p.b, B, IN, OUT),
        want: { out: want },
        ...tol,
      });
    });
    it(`backward (${B}, ${IN}) → ${OUT}, with and without dx`, () => {
      const rng = new Rng(B * 7 + IN * 13 + OUT * 101);
      const x = uniform(rng, B * IN), w = uniform(rng, IN * OUT), dout = uniform(rng, B * OUT);
      const dw0 = uniform(rng, IN * OUT), db0 = uniform(rng, OUT);
      const dw = gemm64(x, dout, dw0, IN, OUT, B, 1, 0);
      const db = map(db0, (v, j) => {
        let s = v;
        for (let r = 0; r < B; r++) s += dout[r * OUT + j];
        return s;
      });
      const dx = gemm64(dout, w, null, B, IN, OUT, 0, 1);
      const tensors = { dx: uniform(rng, B * IN), dw: dw0, db: db0, dout, x, w };
      check(`linear_backward ${B}×${IN}×${OUT}`, {
        tensors,
        run: (k, p) => k.linear_backward(p.dx, p.dw, p.db, p.dout, p.x, p.w, B, IN, OUT),
        want: { dx, dw, db },
        ...tol,
      });
      check(`linear_backward ${B}×${IN}×${OUT} dx=0`, {
        tensors,
        run: (k, p) => k.linear_backward(0, p.dw, p.db, p.dout, p.x, p.w, B, IN, OUT),
        want: { dx: tensors.dx, dw, db },
        ...tol,
      });
    });
  }

  // linear_act_forward: out = act(x·w + b), the activation in the GEMM's write-back. Odd shapes put edge tiles
  // on both sides; IN > 256 takes several K slices (the activation must follow the last one only); B < 4 takes
  // the small-M path; IN = 0 is the empty sum (out = act(b)).
  // Tolerance: the linear one, plus the activation's approximation error (|act'| ≤ 1 does not amplify).
  const FUSED_SHAPES: Array<[number, number, number]> = [[1, 1, 1], [3, 0, 5], [3, 5, 7], [5, 9, 13], [17, 33, 65], [6, 300, 10], [2, 784, 11], [64, 784, 128], [64, 128, 784]];
  const ACT_REFS: Array<[string, number, (v: number) => number, number]> = [
    ['none', ACT.none, (v) => v, 0],
    ['relu', ACT.relu, (v) => Math.max(v, 0), 0],
    ['sigmoid', ACT.sigmoid, sigmoid64, 1e-7],
    ['tanh', ACT.tanh, Math.tanh, 5e-7],
  ];
  const unfused = { [ACT.relu]: 'relu_forward', [ACT.sigmoid]: 'sigmoid_forward', [ACT.tanh]: 'tanh_forward' } as const;
  for (const [B, IN, OUT] of FUSED_SHAPES) {
    it(`linear_act_forward (${B}, ${IN}) → ${OUT}: every activation code, and bit-identical to linear_forward + activation`, () => {
      const rng = new Rng(B * 3 + IN * 37 + OUT * 1013);
      const x = uniform(rng, B * IN), w = uniform(rng, IN * OUT), b = uniform(rng, OUT);
      w.forEach((v, i) => (w[i] = v * 3 / Math.sqrt(IN))); // pre-activations of a few units: every regime of sigmoid and tanh
      const z = gemm64(x, w, null, B, OUT, IN, 0, 0).map((v, i) => v + b[i % OUT]);
      for (const [name, code, f, actTol] of ACT_REFS) {
        check(`linear_act_forward ${B}×${IN}×${OUT} ${name}`, {
          tensors: { out: uniform(rng, B * OUT), x, w, b },
          run: (k, p) => k.linear_act_forward(p.out, p.x, p.w, p.b, B, IN, OUT, code),
          want: { out: map(z, f) },
          atol: 1e-6 * (Math.max(B, IN, OUT) + 1) + actTol,
          rtol: 1e-5,
        });
      }
      // fused == unfused, bit for bit, on every backend (wasm: the same per-element functions in both paths)
      for (const be of backends) {
        const tx = be.alloc(B, IN), tw = be.alloc(IN, OUT), tb = be.alloc(1, OUT), fused = be.alloc(B, OUT), plain = be.alloc(B, OUT);
        be.write(tx, x);
        be.write(tw, w);
        be.write(tb, b);
        for (const [name, code] of ACT_REFS) {
          be.kernels.linear_act_forward(fused.ptr, tx.ptr, tw.ptr, tb.ptr, B, IN, OUT, code);
          be.kernels.linear_forward(plain.ptr, tx.ptr, tw.ptr, tb.ptr, B, IN, OUT);
          if (code !== ACT.none) be.kernels[unfused[code]](plain.ptr, plain.ptr, B * OUT);
          const bits = (t: Tensor) => Array.from(new Uint32Array(be.read(t).buffer));
          expect(bits(fused), `${label(be)} ${name} ${B}×${IN}×${OUT}: fused vs unfused bits`).toEqual(bits(plain));
        }
        for (const t of [tx, tw, tb, fused, plain]) be.free(t);
      }
    });
  }

  for (const [B, N] of [[1, 1], [3, 5], [4, 8], [17, 33], [128, 784]]) {
    it(`bias_add and col_sum (${B}, ${N})`, () => {
      const rng = new Rng(B * 3 + N);
      const x = uniform(rng, B * N), b = uniform(rng, N), out0 = uniform(rng, N);
      const want = map(x, (v, i) => v + b[i % N]);
      check(`bias_add ${B}×${N}`, { tensors: { out: uniform(rng, B * N), x, b }, run: (k, p) => k.bias_add(p.out, p.x, p.b, B, N), want: { out: want }, atol: 1e-7, rtol: 1e-6 });
      check(`bias_add ${B}×${N} in place`, { tensors: { x, b }, run: (k, p) => k.bias_add(p.x, p.x, p.b, B, N), want: { x: want }, atol: 1e-7, rtol: 1e-6 });
      for (const acc of [0, 1]) {
        const sums = map(out0, (v, j) => {
          let s = acc ? v : 0;
          for (let r = 0; r < B; r++) s += x[r * N + j];
          return s;
        });
        check(`col_sum ${B}×${N} acc=${acc}`, { tensors: { out: out0, x }, run: (k, p) => k.col_sum(p.out, p.x, B, N, acc), want: { out: sums }, atol: 1e-6 * (B + 1), rtol: 1e-5 });
      }
    });
  }
});

// =====================================================================================================
// predict's packed weights (strips of 24 columns) for a handful of rows: against float64, and the bits of
// linear_act_forward (the GEMM path) on each backend. M = 1..9: a row alone, 4-row tiles and the rows after them;
// widths below, at and past one strip, odd, and K in 1 to 3 slices; inputs with zeros (the wasm kernels leave out
// each k whose inputs are all +0, in a row or in a 4-row group).
// =====================================================================================================

// (K > 256 takes several K slices, whose sums one row adds to its outputs: [300, 10], [784, 20] and [600, 77] have
// columns past the last multiple of 8, which one row takes from the last strip)
const STRIP_SHAPES: Array<[number, number]> = [[1, 1], [7, 5], [33, 25], [513, 24], [600, 77], [300, 10], [784, 20]];
const ACT_CODES = [ACT.none, ACT.relu, ACT.sigmoid, ACT.tanh] as const;
const act64 = (act: number, z: number) => (act === ACT.relu ? Math.max(0, z) : act === ACT.sigmoid ? sigmoid64(z) : act === ACT.tanh ? Math.tanh(z) : z);

describe('packed weights: pack_strips, linear_strips_forward', () => {
  it('pack_strips lays W (IN, OUT) out as ⌈OUT/24⌉ strips of IN rows × 24 columns, zero-padded', () => {
    for (const [IN, OUT] of [...STRIP_SHAPES, [3, 48], [2, 49]] as const) {
      const rng = new Rng(IN * 7 + OUT);
      const w = uniform(rng, IN * OUT);
      const want = new Float64Array(stripFloats(IN, OUT));
      for (let p = 0; p < IN; p++) for (let j = 0; j < OUT; j++) want[Math.floor(j / STRIP_WIDTH) * IN * STRIP_WIDTH + p * STRIP_WIDTH + (j % STRIP_WIDTH)] = w[p * OUT + j];
      check(`pack_strips ${IN}×${OUT}`, {
        tensors: { wp: uniform(rng, want.length), w }, // garbage in wp: the padding must be written too
        run: (k, p) => k.pack_strips(p.wp, p.w, IN, OUT),
        want: { wp: want },
        atol: 0,
        rtol: 0,
      });
    }
  });

  for (const [IN, OUT] of STRIP_SHAPES) {
    it(`linear_strips_forward (M, ${IN}) → ${OUT}, M = 1..9, every activation: float64, and the bits of linear_act_forward`, () => {
      for (let M = 1; M <= 9; M++) {
        const rng = new Rng(M * 1009 + IN * 31 + OUT);
        const w = uniform(rng, IN * OUT), b = uniform(rng, OUT);
        // zeros, as a digit's blank pixels and ReLU's outputs (the wasm kernels skip them): in every row at
        // k ≡ 0..3 mod 12 (four-aligned from 0, and not from the second slice's start at 513), and half the others
        const x = uniform(rng, M * IN).map((v, i) => ((i % IN) % 12 < 4 || rng.next() < 0.5 ? 0 : v));
        // and in row 0, a whole K slice of zeros when there are several (its sums are empty: + 0 to the outputs)
        if (IN > 256) x.fill(0, Math.floor(IN / 3), Math.floor((2 * IN) / 3) + 1);
        const z = gemm64(x, w, null, M, OUT, IN, 0, 0).map((v, i) => v + b[i % OUT]);
        for (const act of ACT_CODES) {
          check(`linear_strips_forward ${M}×${IN}×${OUT} act ${act}`, {
            tensors: { out: uniform(rng, M * OUT), x, wp: uniform(rng, stripFloats(IN, OUT)), w, b },
            run: (k, p) => {
              k.pack_strips(p.wp, p.w, IN, OUT);
              k.linear_strips_forward(p.out, p.x, p.wp, p.w, p.b, M, IN, OUT, act);
            },
            want: { out: map(z, (v) => act64(act, v)) },
            atol: 1e-6 * (IN + 1),
            rtol: 1e-5,
          });
        }
        for (const be of backends) {
          const tx = be.alloc(M, IN), tw = be.alloc(IN, OUT), tb = be.alloc(1, OUT), wp = be.alloc(1, stripFloats(IN, OUT));
          const gemm = be.alloc(M, OUT), strips = be.alloc(M, OUT);
          be.write(tx, x);
          be.write(tw, w);
          be.write(tb, b);
          be.kernels.pack_strips(wp.ptr, tw.ptr, IN, OUT);
          for (const act of ACT_CODES) {
            be.kernels.linear_act_forward(gemm.ptr, tx.ptr, tw.ptr, tb.ptr, M, IN, OUT, act);
            be.kernels.linear_strips_forward(strips.ptr, tx.ptr, wp.ptr, tw.ptr, tb.ptr, M, IN, OUT, act);
            expect(Array.from(new Uint32Array(be.read(strips).buffer)), `${label(be)} ${M}×${IN}×${OUT} act ${act}`).toEqual(Array.from(new Uint32Array(be.read(gemm).buffer)));
          }
          for (const t of [tx, tw, tb, wp, gemm, strips]) be.free(t);
        }
      }
    });
  }
});

// =====================================================================================================
// Activations: odd sizes exercise the scalar tails. Forward out of place and in place; backward likewise.
// =====================================================================================================

const SIZES = [1, 3, 4, 5, 17, 1000, 4099];

interface Act {
  name: 'relu' | 'tanh' | 'sigmoid';
  f: (x: number) => number;
  df: (y: number) => number; // derivative in terms of the output
  lo: number;
  hi: number;
  atol: number;
  rtol: number;
}
const ACTS: Act[] = [
  { name: 'relu', f: (x) => Math.max(x, 0), df: (y) => (y > 0 ? 1 : 0), lo: -1, hi: 1, atol: 0, rtol: 0 },
  { name: 'tanh', f: Math.tanh, df: (y) => 1 - y * y, lo: -6, hi: 6, atol: 5e-7, rtol: 1e-6 },
  { name: 'sigmoid', f: sigmoid64, df: (y) => y * (1 - y), lo: -12, hi: 12, atol: 1e-7, rtol: 1e-6 },
];

describe('activations', () => {
  for (const act of ACTS) {
    for (const n of SIZES) {
      it(`${act.name} forward and backward, n=${n}`, () => {
        const rng = new Rng(n * 17 + act.name.length);
        const x = uniform(rng, n, act.lo, act.hi);
        const y = Float32Array.from(x, act.f); // the forward output backward gets (f32, as stored)
        const dy = uniform(rng, n);
        const fwd = `${act.name}_forward` as const;
        const bwd = `${act.name}_backward` as const;
        const want = map(x, act.f);
        const dx = map(dy, (g, i) => g * act.df(y[i]));
        check(`${fwd} n=${n}`, { tensors: { y: uniform(rng, n), x }, run: (k, p) => k[fwd](p.y, p.x, n), want: { y: want }, atol: act.atol, rtol: act.rtol });
        check(`${fwd} n=${n} in place`, { tensors: { x }, run: (k, p) => k[fwd](p.x, p.x, n), want: { x: want }, atol: act.atol, rtol: act.rtol });
        check(`${bwd} n=${n}`, { tensors: { dx: uniform(rng, n), dy, y }, run: (k, p) => k[bwd](p.dx, p.dy, p.y, n), want: { dx }, atol: 1e-7, rtol: 1e-6 });
        check(`${bwd} n=${n} in place`, { tensors: { dy, y }, run: (k, p) => k[bwd](p.dy, p.dy, p.y, n), want: { dy: dx }, atol: 1e-7, rtol: 1e-6 });
      });
    }
  }

  for (const [B, N] of [[1, 1], [1, 10], [3, 7], [17, 33], [128, 10], [4, 1000]]) {
    it(`softmax forward and backward (${B}, ${N})`, () => {
      const rng = new Rng(B * 101 + N);
      const x = uniform(rng, B * N, -10, 10);
      const y = Float32Array.from(softmax64(x, B, N));
      const dy = uniform(rng, B * N);
      const dx = new Float64Array(B * N);
      for (let r = 0; r < B; r++) {
        let dot = 0;
        for (let j = 0; j < N; j++) dot += dy[r * N + j] * y[r * N + j];
        for (let j = 0; j < N; j++) dx[r * N + j] = y[r * N + j] * (dy[r * N + j] - dot);
      }
      const want = softmax64(x, B, N);
      check(`softmax_forward ${B}×${N}`, { tensors: { y: uniform(rng, B * N), x }, run: (k, p) => k.softmax_forward(p.y, p.x, B, N), want: { y: want }, atol: 1e-7, rtol: 2e-6 });
      check(`softmax_forward ${B}×${N} in place`, { tensors: { x }, run: (k, p) => k.softmax_forward(p.x, p.x, B, N), want: { x: want }, atol: 1e-7, rtol: 2e-6 });
      check(`softmax_backward ${B}×${N}`, { tensors: { dx: uniform(rng, B * N), dy, y }, run: (k, p) => k.softmax_backward(p.dx, p.dy, p.y, B, N), want: { dx }, atol: 1e-6, rtol: 1e-5 });
      check(`softmax_backward ${B}×${N} in place`, { tensors: { dy, y }, run: (k, p) => k.softmax_backward(p.dy, p.dy, p.y, B, N), want: { dy: dx }, atol: 1e-6, rtol: 1e-5 });
    });
  }

  it('saturate without NaN at ±1000, ±Inf and other extremes', () => {
    const x = Float32Array.from([-Infinity, -1e30, -1000, -89, -88, -87, -20, -0, 0, 20, 87, 88, 89, 1000, 1e30, Infinity, 3.4e38, -3.4e38]);
    const n = x.length;
    check('tanh_forward extremes', { tensors: { y: new Float32Array(n), x }, run: (k, p) => k.tanh_forward(p.y, p.x, n), want: { y: map(x, Math.tanh) }, atol: 1e-7, rtol: 0 });
    check('sigmoid_forward extremes', { tensors: { y: new Float32Array(n), x }, run: (k, p) => k.sigmoid_forward(p.y, p.x, n), want: { y: map(x, sigmoid64) }, atol: 1e-7, rtol: 0 });
    const sx = Float32Array.from([1000, 0, -1000, -Infinity, -1000, -1000, -1000, -1000, 3e38, -3e38, 0, 1]);
    check('softmax_forward extremes', {
      tensors: { y: new Float32Array(12), x: sx },
      run: (k, p) => k.softmax_forward(p.y, p.x, 3, 4),
      want: { y: [1, 0, 0, 0, 0.25, 0.25, 0.25, 0.25, 1, 0, 0, 0] },
      atol: 1e-7,
      rtol: 1e-6,
    });
    for (const be of backends) {
      const t = be.alloc(1, n), y = be.alloc(1, n);
      be.write(t, x);
      for (const op of ['tanh_forward', 'sigmoid_forward'] as const) {
        be.kernels[op](y.ptr, t.ptr, n);
        expect(be.kernels.has_non_finite(y.ptr, n), `${label(be)} ${op}`).toBe(0);
        const out = be.read(y);
        expect([out[0], out[2], out[13], out[15]], `${label(be)} ${op} at −Inf, −1000, 1000, +Inf`).toEqual(op === 'tanh_forward' ? [-1, -1, 1, 1] : [0, 0, 1, 1]);
      }
      be.free(t);
      be.free(y);
    }
  });
});

// =====================================================================================================
// The approximations alone (wasm builds): exp and log through the test-only exports exp_forward /
// log_forward, tanh and sigmoid through their kernels; each build and its scalar tail (n odd).
// =====================================================================================================

describe('approximation error bounds (wasm)', () => {
  const file = { 'relaxed-simd': 'relaxed', simd: 'simd', scalar: 'scalar' } as const;
  function grid(lo: number, hi: number, n: number): Float32Array {
    return Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
  }
  function maxErr(got: Float32Array, x: Float32Array, f: (x: number) => number): { abs: number; rel: number } {
    let abs = 0, rel = 0;
    for (let i = 0; i < x.length; i++) {
      const w = f(x[i]);
      const d = Math.abs(got[i] - w);
      abs = Math.max(abs, d);
      if (w !== 0) rel = Math.max(rel, d / Math.abs(w));
    }
    return { abs, rel };
  }

  for (const variant of variants) {
    it(`${variant}: exp rel ≤ 2e-7 on [−87, 88]; log rel ≤ 2e-7 on [1e-7, 1]; tanh abs ≤ 2e-7, rel ≤ 3e-7 on [−10, 10]; sigmoid rel ≤ 3e-7 on [−80, 30]`, async () => {
      const bytes = readFileSync(new URL(`../build/simdnet.${file[variant]}.wasm`, import.meta.url));
      const { instance } = await WebAssembly.instantiate(bytes, {});
      const ex = instance.exports as Record<string, any>;
      const mem = ex.memory as WebAssembly.Memory;
      const base = ex.heap_base() as number;
      const N = 400_001; // odd: the scalar tail runs too
      if (mem.buffer.byteLength < base + 8 * N + 64) mem.grow(Math.ceil((base + 8 * N + 64 - mem.buffer.byteLength) / 65536));
      const xp = (base + 15) & ~15, yp = xp + 4 * N;
      const run = (fn: string, x: Float32Array) => {
        new Float32Array(mem.buffer, xp, N).set(x);
        ex[fn](yp, xp, N);
        return new Float32Array(mem.buffer, yp, N).slice();
      };
      const errs: Record<string, { abs: number; rel: number }> = {};
      let x = grid(-87, 88, N);
      errs.exp = maxErr(run('exp_forward', x), x, Math.exp);
      x = Float32Array.from(grid(-7, 0, N), (v) => 10 ** v);
      errs.log = maxErr(run('log_forward', x), x, Math.log);
      x = grid(-10, 10, N);
      errs.tanh = maxErr(run('tanh_forward', x), x, Math.tanh);
      x = grid(-0.7, 0.7, N);
      const near0 = maxErr(run('tanh_forward', x), x, Math.tanh);
      errs.tanh = { abs: Math.max(errs.tanh.abs, near0.abs), rel: Math.max(errs.tanh.rel, near0.rel) };
      x = grid(-80, 30, N);
      errs.sigmoid = maxErr(run('sigmoid_forward', x), x, sigmoid64);
      console.log(`${variant} max errors:`, Object.entries(errs).map(([k, e]) => `${k} abs ${e.abs.toExponential(2)} rel ${e.rel.toExponential(2)}`).join('; '));
      // measured (simd, scalar; Node 20): exp rel 7.8e-8 (degree-6 polynomial), log rel 7.8e-8, tanh abs 1.5e-7 rel 1.8e-7
      // (m/(m + 2), m = expm1(2x), one path), sigmoid rel 1.5e-7 (1/(1 + exp(−x))); relaxed-simd: tanh rel 1.7e-7, exp 8.5e-8
      expect(errs.exp.rel).toBeLessThanOrEqual(2e-7);
      expect(errs.log.rel).toBeLessThanOrEqual(2e-7);
      expect(errs.tanh.abs).toBeLessThanOrEqual(2e-7);
      expect(errs.tanh.rel).toBeLessThanOrEqual(3e-7);
      expect(errs.sigmoid.rel).toBeLessThanOrEqual(3e-7);
    });
  }
});

// =====================================================================================================
// Losses
// =====================================================================================================

const LOSS_SHAPES: Array<[number, number]> = [[1, 1], [3, 5], [1, 7], [17, 33], [128, 784]];

describe('losses', () => {
  for (const [B, N] of LOSS_SHAPES) {
    const n = B * N;
    it(`mse, bce, sigmoid+bce (${B}, ${N})`, () => {
      const rng = new Rng(B * 11 + N * 3);
      const p = uniform(rng, n, 0.001, 0.999), t = uniform(rng, n, 0, 1);
      const mse = loss64('mse', p, t, B);
      check(`mse_loss ${B}×${N}`, { tensors: { p, t }, run: (k, q) => k.mse_loss(q.p, q.t, B, N), want: { ret: mse }, atol: 0, rtol: 1e-9 });
      check(`mse_backward ${B}×${N}`, { tensors: { dp: uniform(rng, n), p, t }, run: (k, q) => k.mse_backward(q.dp, q.p, q.t, B, N), want: { dp: map(p, (v, i) => (2 * (v - t[i])) / n) }, atol: 1e-9, rtol: 1e-6 });
      const bce = loss64('bce', p, t, B);
      check(`bce_loss ${B}×${N}`, { tensors: { p, t }, run: (k, q) => k.bce_loss(q.p, q.t, B, N), want: { ret: bce }, atol: 1e-6, rtol: 1e-6 });
      const dbce = map(p, (v, i) => (clampP(v) - t[i]) / (clampP(v) * (1 - clampP(v))) / n);
      check(`bce_backward ${B}×${N}`, { tensors: { dp: uniform(rng, n), p, t }, run: (k, q) => k.bce_backward(q.dp, q.p, q.t, B, N), want: { dp: dbce }, atol: 1e-9, rtol: 1e-6 });
      check(`sigmoid_bce_backward ${B}×${N}`, { tensors: { dz: uniform(rng, n), p, t }, run: (k, q) => k.sigmoid_bce_backward(q.dz, q.p, q.t, B, N), want: { dz: map(p, (v, i) => (v - t[i]) / n) }, atol: 1e-9, rtol: 1e-6 });
    });

    it(`softmax cross-entropy (${B}, ${N})`, () => {
      const rng = new Rng(B * 5 + N * 19);
      const p = Float32Array.from(softmax64(uniform(rng, n, -5, 5), B, N));
      const t = new Float32Array(n);
      for (let r = 0; r < B; r++) t[r * N + rng.int(N)] = 1; // one-hot
      t[0] = 0.25; // and a soft label
      check(`softmax_ce_loss ${B}×${N}`, { tensors: { p, t }, run: (k, q) => k.softmax_ce_loss(q.p, q.t, B, N), want: { ret: loss64('crossentropy', p, t, B) }, atol: 1e-6, rtol: 1e-6 });
      check(`softmax_ce_backward ${B}×${N}`, { tensors: { dz: uniform(rng, n), p, t }, run: (k, q) => k.softmax_ce_backward(q.dz, q.p, q.t, B, N), want: { dz: map(p, (v, i) => (v - t[i]) / B) }, atol: 1e-9, rtol: 1e-6 });
    });
  }

  it('clamp p at 0 and 1: finite losses and gradients', () => {
    const p = Float32Array.from([0, 1, 1e-9, 0.5, 1, 0, 1 - 1e-7, 1e-7, 0.25, 1.5, 3e38]); // above 1: not a probability
    const t = Float32Array.from([0, 1, 1, 0.3, 0.3, 0.7, 1, 0, 1, 1, 0.5]);
    const n = p.length;
    const bce = loss64('bce', p, t, 1);
    check('bce_loss at the clamp', { tensors: { p, t }, run: (k, q) => k.bce_loss(q.p, q.t, 1, n), want: { ret: bce }, atol: 1e-6, rtol: 1e-6 });
    const dbce = map(p, (v, i) => (clampP(v) - t[i]) / (clampP(v) * (1 - clampP(v))) / n);
    check('bce_backward at the clamp', { tensors: { dp: new Float32Array(n), p, t }, run: (k, q) => k.bce_backward(q.dp, q.p, q.t, 1, n), want: { dp: dbce }, atol: 1e-6, rtol: 1e-5 });
    check('softmax_ce_loss at the clamp', { tensors: { p, t }, run: (k, q) => k.softmax_ce_loss(q.p, q.t, 1, n), want: { ret: loss64('crossentropy', p, t, 1) }, atol: 1e-6, rtol: 1e-6 });
  });
});

describe('losses propagate NaN (issue 12: the wasm BCE of a NaN prediction was finite and negative)', () => {
  // a NaN prediction or target at the start, in a vector body, and in the scalar tail; 64×784 splits across threads
  for (const [B, N] of [[1, 9], [3, 7], [64, 784]] as const) {
    const n = B * N;
    for (const where of [0, Math.min(5, n - 1), n - 1]) {
      for (const which of ['p', 't'] as const) {
        it(`${which}[${where}] = NaN of a (${B}, ${N}) batch: every loss value and gradient is NaN there`, () => {
          const rng = new Rng(n + where);
          const p = uniform(rng, n, 0.01, 0.99), t = uniform(rng, n, 0, 1);
          (which === 'p' ? p : t)[where] = NaN;
          for (const be of backends) {
            const k = be.kernels;
            const tp = be.alloc(1, n), tt = be.alloc(1, n), g = be.alloc(1, n);
            be.write(tp, p);
            be.write(tt, t);
            for (const [name, value] of [['mse_loss', k.mse_loss(tp.ptr, tt.ptr, B, N)], ['bce_loss', k.bce_loss(tp.ptr, tt.ptr, B, N)], ['softmax_ce_loss', k.softmax_ce_loss(tp.ptr, tt.ptr, B, N)]] as const)
              expect(value, `${label(be)} ${name}`).toBeNaN();
            for (const name of ['mse_backward', 'bce_backward', 'sigmoid_bce_backward', 'softmax_ce_backward'] as const) {
              k[name](g.ptr, tp.ptr, tt.ptr, B, N);
              expect(be.read(g)[where], `${label(be)} ${name}`).toBeNaN();
            }
            for (const x of [tp, tt, g]) be.free(x);
          }
        });
      }
    }
  }
});

// =====================================================================================================
// Optimizers and utilities
// =====================================================================================================

describe('optimizers', () => {
  for (const n of SIZES) {
    it(`sgd, momentum, adam, n=${n}`, () => {
      const rng = new Rng(n * 29);
      const w = uniform(rng, n), g = uniform(rng, n), v = uniform(rng, n, -0.1, 0.1), m = uniform(rng, n, -0.1, 0.1), s = uniform(rng, n, 0, 0.01);
      const lr = 0.05, mu = 0.9;
      const f32 = Math.fround;
      check(`sgd_update n=${n}`, { tensors: { w, g }, run: (k, p) => k.sgd_update(p.w, p.g, lr, n), want: { w: map(w, (x, i) => x - f32(lr) * g[i]) }, atol: 1e-7, rtol: 1e-6 });
      const nv = map(v, (x, i) => f32(mu) * x + g[i]);
      check(`momentum_update n=${n}`, {
        tensors: { w, v, g },
        run: (k, p) => k.momentum_update(p.w, p.v, p.g, lr, mu, n),
        want: { v: nv, w: map(w, (x, i) => x - f32(lr) * nv[i]) },
        atol: 1e-7,
        rtol: 1e-6,
      });
      for (const t of [1, 2, 50]) {
        const [b1, b2, eps, alr] = [0.9, 0.999, 1e-8, 1e-3].map(f32);
        const nm = map(m, (x, i) => b1 * x + (1 - b1) * g[i]);
        const ns = map(s, (x, i) => b2 * x + (1 - b2) * g[i] * g[i]);
        const nw = map(w, (x, i) => x - (alr * (nm[i] / (1 - b1 ** t))) / (Math.sqrt(ns[i] / (1 - b2 ** t)) + eps));
        check(`adam_update n=${n} t=${t}`, {
          tensors: { w, m, v: s, g },
          run: (k, p) => k.adam_update(p.w, p.m, p.v, p.g, alr, b1, b2, eps, t, n),
          want: { w: nw, m: nm, v: ns },
          atol: 1e-7,
          rtol: 1e-5,
        });
      }
    });

    it(`adamw, rmsprop, grad_scale_decay, sum_squares, n=${n}`, () => {
      const rng = new Rng(n * 31);
      const w = uniform(rng, n), g = uniform(rng, n), m = uniform(rng, n, -0.1, 0.1), s = uniform(rng, n, 0, 0.01);
      const f32 = Math.fround;
      const [b1, b2, eps, lr, decay, rho] = [0.9, 0.999, 1e-8, 1e-3, 0.3, 0.9].map(f32);
      const t = 3;
      const nm = map(m, (x, i) => b1 * x + (1 - b1) * g[i]);
      const ns = map(s, (x, i) => b2 * x + (1 - b2) * g[i] * g[i]);
      const nw = map(w, (x, i) => x * (1 - lr * decay) - (lr * (nm[i] / (1 - b1 ** t))) / (Math.sqrt(ns[i] / (1 - b2 ** t)) + eps));
      check(`adamw_update n=${n}`, { tensors: { w, m, v: s, g }, run: (k, p) => k.adamw_update(p.w, p.m, p.v, p.g, lr, b1, b2, eps, decay, t, n), want: { w: nw, m: nm, v: ns }, atol: 1e-7, rtol: 1e-5 });
      const rv = map(s, (x, i) => rho * x + (1 - rho) * g[i] * g[i]);
      check(`rmsprop_update n=${n}`, { tensors: { w, v: s, g }, run: (k, p) => k.rmsprop_update(p.w, p.v, p.g, lr, rho, eps, n), want: { v: rv, w: map(w, (x, i) => x - (lr * g[i]) / (Math.sqrt(rv[i]) + eps)) }, atol: 1e-7, rtol: 1e-5 });
      check(`grad_scale_decay n=${n}`, { tensors: { g, w }, run: (k, p) => k.grad_scale_decay(p.g, p.w, 0.37, decay, n), want: { g: map(g, (x, i) => f32(0.37) * x + decay * w[i]) }, atol: 1e-7, rtol: 1e-6 });
      check(`sum_squares n=${n}`, { tensors: { g }, run: (k, p) => k.sum_squares(p.g, n), want: { ret: g.reduce((a, x) => a + x * x, 0) }, atol: 1e-12, rtol: 1e-12 });
    });
  }
});

describe('utilities', () => {
  for (const n of [1, 3, 4, 5, 17, 1000, 4099]) {
    it(`fill and has_non_finite, n=${n}`, () => {
      check(`fill n=${n}`, { tensors: { x: uniform(new Rng(n), n) }, run: (k, p) => k.fill(p.x, -2.5, n), want: { x: new Float64Array(n).fill(-2.5) }, atol: 0, rtol: 0 });
      const clean = uniform(new Rng(n + 1), n, -3e38, 3e38);
      check(`has_non_finite clean n=${n}`, { tensors: { x: clean }, run: (k, p) => k.has_non_finite(p.x, n), want: { ret: 0 }, atol: 0, rtol: 0 });
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (const at of new Set([0, n >> 1, n - 1])) {
          const x = clean.slice();
          x[at] = bad;
          check(`has_non_finite ${bad} at ${at} of ${n}`, { tensors: { x }, run: (k, p) => k.has_non_finite(p.x, n), want: { ret: 1 }, atol: 0, rtol: 0 });
        }
      }
      // only the first n elements count
      check(`has_non_finite bound n=${n}`, { tensors: { x: Float32Array.from([...clean, NaN]) }, run: (k, p) => k.has_non_finite(p.x, n), want: { ret: 0 }, atol: 0, rtol: 0 });
    });
  }
});

// =====================================================================================================
// The wasm loader
// =====================================================================================================

describe('wasm backend loader', () => {
  it('probes the runtime: scalar always, simd on Node ≥ 16; the default is the best', async () => {
    expect(variants).toContain('scalar');
    expect(variants).toContain('simd');
    const be = await createWasmBackend();
    expect(be.name).toBe('wasm');
    expect(be.variant).toBe(variants[0]);
  });

  it('refuses a variant the runtime cannot run, or does not know, naming it', async () => {
    if (!variants.includes('relaxed-simd')) await expect(createWasmBackend({ variant: 'relaxed-simd' })).rejects.toThrow(/'relaxed-simd' is not supported by this runtime/);
    await expect(createWasmBackend({ variant: 'avx512' as never })).rejects.toThrow(/unknown variant 'avx512'/);
  });

  it('loads from bytes, a URL and a file path; a missing file is a clear error', async () => {
    const url = new URL('../build/simdnet.scalar.wasm', import.meta.url);
    const bytes = readFileSync(url);
    for (const wasm of [new Uint8Array(bytes), bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), url, url.href, url.pathname]) {
      const be = await createWasmBackend({ variant: 'scalar', wasm });
      const t = be.alloc(1, 5);
      be.kernels.fill(t.ptr, 3, 5);
      expect(Array.from(be.read(t))).toEqual([3, 3, 3, 3, 3]);
    }
    await expect(createWasmBackend({ variant: 'scalar', wasm: '/nonexistent/simdnet.wasm' })).rejects.toThrow(/could not load the kernels from \/nonexistent\/simdnet\.wasm/);
  });

  it('by default uses the embedded build: each of the five decodes to the bytes asc wrote, build/simdnet.<build>.wasm', async () => {
    for (const build of ['simd', 'relaxed', 'scalar', 'simd-threads', 'relaxed-threads'] as const) {
      const asc = readFileSync(new URL(`../build/simdnet.${build}.wasm`, import.meta.url));
      expect(Buffer.from(embeddedWasm(build)).equals(asc), build).toBe(true);
    }
    for (const variant of ['simd', 'scalar'] as const) expect((await createWasmBackend({ variant, threads: 1 })).variant).toBe(variant);
  });

  it('SIMDNET_NO_RELAXED=1 makes the default build simd (an explicit variant still wins); unset, the best build', async () => {
    const best = availableWasmVariants()[0];
    const variant = async (options: WasmBackendOptions) => {
      const b = await createWasmBackend({ threads: 1, ...options });
      b.dispose();
      return b.variant;
    };
    const saved = process.env.SIMDNET_NO_RELAXED;
    try {
      process.env.SIMDNET_NO_RELAXED = '1';
      expect(await variant({})).toBe(best === 'relaxed-simd' ? 'simd' : best);
      if (best === 'relaxed-simd') expect(await variant({ variant: 'relaxed-simd' })).toBe('relaxed-simd');
      process.env.SIMDNET_NO_RELAXED = '0';
      expect(await variant({})).toBe(best);
    } finally {
      if (saved === undefined) delete process.env.SIMDNET_NO_RELAXED;
      else process.env.SIMDNET_NO_RELAXED = saved;
    }
  });

  it('a delta copies from the base and inserts literals, both ways of the copy offset', () => {
    // 8 bytes: literal "xy", copy 3 from base 1 ("BCD": start 1 − 0 → zigzag 2), literal "z", copy 2 from base 0
    // ("AB": start 0 − 4 → zigzag 7), no literal
    const base = new Uint8Array([65, 66, 67, 68, 69]);
    const delta = new Uint8Array([8, 2, 120, 121, 3, 2, 1, 122, 2, 7, 0]);
    expect(Array.from(applyDelta(base, delta))).toEqual([120, 121, 66, 67, 68, 122, 65, 66]);
  });

  it('a URL that answers with a page, or bytes that are not wasm: the error names the URL, what came back and the option', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>app</title>');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/simdnet.simd.wasm`;
    try {
      const err = await createWasmBackend({ variant: 'simd', threads: 1, wasm: url }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SimdnetError);
      expect((err as SimdnetError).code).toBe('E_FILE_CORRUPT');
      expect((err as Error).message).toContain(`from ${url}: expected a WebAssembly module, got text/html starting '<!do' (33 bytes)`);
      expect((err as Error).message).toContain('set the `wasm` option to the URL, path or bytes of simdnet.simd.wasm');
    } finally {
      server.close();
    }
    const text = new TextEncoder().encode('not wasm');
    await expect(createWasmBackend({ variant: 'scalar', wasm: text })).rejects.toThrow(/the `wasm` bytes are not a WebAssembly module: expected '\\x00asm', got starting 'not ' \(8 bytes\)/);
  });
});
