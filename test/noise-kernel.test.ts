// gather_noise: the batch gather fused with counter-based input noise (assembly/noise.ts, src/backend/noise-js.ts),
// on every backend this machine runs (each wasm build, forced through `variant`, and the js backend).
//
// - the stream's definition: an independent float64 / BigInt reimplementation of rand, u1, u2 and z written here,
//   against every backend (normals within 2e-6·(1 + |z|), the salt-pepper / mask uniforms bit for bit);
// - the distribution: ≥ 1e6 normals (mean, variance, Kolmogorov–Smirnov against an erf-based normal CDF), the clip
//   fractions, the salt-pepper / mask hit fractions;
// - independence of batch order and of the split into row ranges (the thread pool's), key sensitivity, repeatability;
// - odd widths, count 0, kind 0 as an exact copy, NaN; wasm vs js for every kind.
//
// The kernel's f32 normal z itself is recovered exactly from clean 0 and factor ±1/8: clip(0 + z/8) = z/8 for
// 0 < z < 8 (a power-of-two scale is exact), so 8·out is z where z > 0 (factor +1/8) and −8·out where z < 0 (−1/8).

import { describe, it, expect } from 'vitest';
import { NOISE, type Backend } from '../src/backend/backend.js';
import { createWasmBackend, availableWasmVariants } from '../src/backend/wasm.js';
import { createJsBackend } from '../src/backend/js.js';
import { noiseKey } from '../src/backend/noise-js.js';
import { Rng } from '../src/random.js';

const variants = availableWasmVariants();
const backends: Backend[] = [...(await Promise.all(variants.map((variant) => createWasmBackend({ variant })))), await createJsBackend()];
const jsBe = backends[backends.length - 1];
const label = (be: Backend) => `${be.name}/${be.variant}`;

const K0 = 0x243f6a88, K1 = 0x85a308d3; // any keys
const GAUSS = NOISE.gaussian, SP = NOISE['salt-pepper'], MASK = NOISE.mask;

// =====================================================================================================
// The helper: one source matrix, a dst with a guard row, optional idx; `calls` runs the kernel (any number of times)
// =====================================================================================================

interface Ptrs { dst: number; src: number; idx: number }
interface Setup {
  src: Float32Array;
  width: number;
  /** rows of dst to return (a guard row after them is checked untouched) */
  rows: number;
  idx?: ArrayLike<number>;
}
const SENTINEL = 7.25;

function run(be: Backend, s: Setup, calls: (k: Backend['kernels'], p: Ptrs) => void): Float32Array {
  const live = be.liveAllocations;
  const tS = be.alloc(s.src.length / s.width, s.width);
  const tD = be.alloc(s.rows + 1, s.width);
  const tI = s.idx ? be.alloc(1, Math.max(1, s.idx.length)) : null;
  be.write(tS, s.src);
  be.write(tD, new Float32Array((s.rows + 1) * s.width).fill(SENTINEL));
  if (tI && s.idx) new Int32Array(be.memory.buffer).set(Array.from(s.idx), tI.ptr >>> 2); // views after the allocs
  const bytes = be.memory.buffer.byteLength;
  calls(be.kernels, { dst: tD.ptr, src: tS.ptr, idx: tI ? tI.ptr : 0 });
  expect(be.memory.buffer.byteLength, `${label(be)}: a kernel call grew memory`).toBe(bytes);
  const all = be.read(tD);
  const guard = all.subarray(s.rows * s.width);
  expect(guard.every((v) => v === SENTINEL), `${label(be)}: wrote past the last row`).toBe(true);
  be.free(tS);
  be.free(tD);
  if (tI) be.free(tI);
  expect(be.liveAllocations).toBe(live);
  return all.slice(0, s.rows * s.width);
}

/** One whole call: rows = count. */
function gather(be: Backend, src: Float32Array, width: number, idx: ArrayLike<number> | null, row0: number, count: number, kind: number, factor: number, k0 = K0, k1 = K1): Float32Array {
  return run(be, { src, width, rows: count, idx: idx ?? undefined }, (k, p) =>
    k.gather_noise(p.dst, p.src, p.idx, row0, count, width, kind, factor, k0, k1));
}

/** The kernel's f32 normals of rows idx (each `width` wide), exactly (see the header). */
function normalsOf(be: Backend, width: number, idx: number[], k0 = K0, k1 = K1): Float64Array {
  const src = new Float32Array((Math.max(...idx) + 1) * width);
  const pos = gather(be, src, width, idx, 0, idx.length, GAUSS, 0.125, k0, k1);
  const neg = gather(be, src, width, idx, 0, idx.length, GAUSS, -0.125, k0, k1);
  return Float64Array.from(pos, (p, i) => (p > 0 ? 8 * p : -8 * neg[i]));
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
function expectSameBits(what: string, got: Float32Array, want: Float32Array): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const g = bits(got), w = bits(want);
  let bad = 0, first = -1;
  for (let i = 0; i < g.length; i++) if (g[i] !== w[i]) { bad++; if (first < 0) first = i; }
  if (bad) throw new Error(`${what}: ${bad}/${g.length} elements differ; first at [${first}]: ${got[first]} vs ${want[first]}`);
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

// =====================================================================================================
// The independent reference: BigInt integers, float64 normals
// =====================================================================================================

const M32 = 0xffffffffn;
function refHash(x: bigint): bigint {
  x ^= x >> 16n;
  x = (x * 0x7feb352dn) & M32;
  x ^= x >> 15n;
  x = (x * 0x846ca68bn) & M32;
  return x ^ (x >> 16n);
}
const refRand = (c: bigint, k0: number, k1: number) => refHash(refHash((c + BigInt(k0 >>> 0)) & M32) ^ BigInt(k1 >>> 0));

/** z of pixel j of source row s, width W, from the definition */
function refNormal(s: number, j: number, W: number, k0: number, k1: number): number {
  const P = Math.ceil(W / 8) * 4;
  const b = j >> 3, l = j & 3, half = (j >> 2) & 1;
  const cp = (BigInt(s) * BigInt(P) + BigInt(b * 4 + l)) & M32;
  const h1 = refRand((2n * cp) & M32, k0, k1), h2 = refRand((2n * cp + 1n) & M32, k0, k1);
  const u1 = (Number(h1 >> 8n) + 1) / 2 ** 24;
  const u2 = Number(h2 >> 8n) / 2 ** 24;
  const rho = Math.sqrt(-2 * Math.log(u1));
  return half === 0 ? rho * Math.cos(2 * Math.PI * u2) : rho * Math.sin(2 * Math.PI * u2);
}

/** u of pixel j of source row s (salt-pepper, mask), exactly */
const refUniform = (s: number, j: number, W: number, k0: number, k1: number) =>
  Number(refRand((BigInt(s) * BigInt(W) + BigInt(j)) & M32, k0, k1) >> 8n) / 2 ** 24;

/** tolerance on a normal z: 2e-6·(1 + |z|) absolute */
const zTol = (z: number) => 2e-6 * (1 + Math.abs(z));

// The normal CDF through erfc: Numerical Recipes' erfcc (a Chebyshev fit, fractional error < 1.2e-7 everywhere),
// far below the KS statistic's resolution (~1e-3)
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}
const normalCdf = (x: number) => 0.5 * erfc(-x / Math.SQRT2);

// =====================================================================================================
// The stream's definition
// =====================================================================================================

describe('gather_noise: the stream, against an independent reference', () => {
  // keys near 2^32 make c + k0 wrap; rows out of order; widths with every kind of tail
  const keys: [number, number][] = [[K0, K1], [0xfffffff0, 0xdeadbeef], [0, 0]];
  const widths = [1, 3, 7, 8, 9, 13, 784];
  const idx = [2, 0, 5, 1];

  for (const be of backends) {
    it(`${label(be)}: gaussian normals within 2e-6·(1 + |z|) of the float64 formula`, () => {
      let worst = 0, worstAbs = 0;
      for (const W of widths) {
        for (const [k0, k1] of keys) {
          const z = normalsOf(be, W, idx, k0, k1);
          for (let r = 0; r < idx.length; r++) {
            for (let j = 0; j < W; j++) {
              const want = refNormal(idx[r], j, W, k0, k1);
              const got = z[r * W + j];
              const d = Math.abs(got - want);
              worstAbs = Math.max(worstAbs, d);
              worst = Math.max(worst, d / zTol(want));
              if (!(d <= zTol(want))) throw new Error(`${label(be)} W=${W} keys ${k0},${k1} row ${idx[r]} pixel ${j}: z ${got}, want ${want}`);
            }
          }
        }
      }
      expect(worst).toBeLessThanOrEqual(1);
      console.log(`${label(be)}: max |z − z_f64| ${worstAbs.toExponential(2)} (${(worst * 100).toFixed(1)}% of the tolerance)`);
    });

    it(`${label(be)}: salt-pepper and mask follow the uniforms bit for bit`, () => {
      for (const W of widths) {
        for (const [k0, k1] of keys) {
          const src = Float32Array.from({ length: 6 * W }, (_, i) => 0.25 + (i % 7) / 16);
          for (const [kind, factor] of [[SP, 0.3], [MASK, 0.45], [SP, 1], [MASK, 0]] as const) {
            const out = gather(be, src, W, idx, 0, idx.length, kind, factor, k0, k1);
            const F = Math.fround(factor), half = Math.fround(factor / 2);
            for (let r = 0; r < idx.length; r++) {
              for (let j = 0; j < W; j++) {
                const u = refUniform(idx[r], j, W, k0, k1);
                const x = src[idx[r] * W + j];
                const want = u < F ? (kind === SP && u >= half ? 1 : 0) : x;
                if (out[r * W + j] !== want) throw new Error(`${label(be)} kind ${kind} W=${W} row ${idx[r]} pixel ${j}: ${out[r * W + j]}, want ${want} (u ${u})`);
              }
            }
          }
        }
      }
    });
  }
});

// =====================================================================================================
// The distribution
// =====================================================================================================

describe('gather_noise: distribution', () => {
  const W = 784, ROWS = 1276; // 1,000,384 values
  const n = W * ROWS;
  const half = new Float32Array(n).fill(0.5);
  const zeros = new Float32Array(n);
  const ones = new Float32Array(n).fill(1);
  const rowIdx = null;

  for (const be of backends) {
    it(`${label(be)}: 1e6 normals: mean, variance, Kolmogorov–Smirnov`, () => {
      const F = Math.fround(1e-3);
      const out = gather(be, half, W, rowIdx, 0, ROWS, GAUSS, 1e-3);
      const z = Float64Array.from(out, (v) => (v - 0.5) / F);
      let m = 0;
      for (let i = 0; i < n; i++) m += z[i];
      m /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (z[i] - m) ** 2;
      v /= n - 1;
      z.sort();
      let D = 0;
      for (let i = 0; i < n; i++) {
        const c = normalCdf(z[i]);
        D = Math.max(D, (i + 1) / n - c, c - i / n);
      }
      console.log(`${label(be)}: n ${n}, mean ${m.toFixed(5)}, variance ${v.toFixed(5)}, KS D ${D.toExponential(3)} (1% critical ${(1.63 / Math.sqrt(n)).toExponential(3)})`);
      expect(Math.abs(m)).toBeLessThan(0.005);
      expect(Math.abs(v - 1)).toBeLessThan(0.01);
      expect(D).toBeLessThan(1.63 / Math.sqrt(n));
    });

    it(`${label(be)}: clip fractions of clip(0 + 0.3z) and clip(1 + 0.3z) are ½`, () => {
      const lo = gather(be, zeros, W, rowIdx, 0, ROWS, GAUSS, 0.3);
      const hi = gather(be, ones, W, rowIdx, 0, ROWS, GAUSS, 0.3);
      let c0 = 0, c1 = 0, outside = 0;
      for (let i = 0; i < n; i++) {
        if (lo[i] === 0) c0++;
        if (hi[i] === 1) c1++;
        if (!(lo[i] >= 0 && lo[i] <= 1 && hi[i] >= 0 && hi[i] <= 1)) outside++;
      }
      expect(outside).toBe(0);
      expect(Math.abs(c0 / n - 0.5)).toBeLessThan(0.003);
      expect(Math.abs(c1 / n - 0.5)).toBeLessThan(0.003);
    });

    it(`${label(be)}: salt-pepper and mask hit fractions`, () => {
      const sp = gather(be, half, W, rowIdx, 0, ROWS, SP, 0.2);
      let salt = 0, pepper = 0, other = 0;
      for (let i = 0; i < n; i++) {
        if (sp[i] === 1) salt++;
        else if (sp[i] === 0) pepper++;
        else if (sp[i] !== 0.5) other++;
      }
      expect(other).toBe(0);
      expect(Math.abs((salt + pepper) / n - 0.2)).toBeLessThan(0.003);
      expect(Math.abs(salt / n - 0.1)).toBeLessThan(0.003);
      expect(Math.abs(pepper / n - 0.1)).toBeLessThan(0.003);
      const mk = gather(be, half, W, rowIdx, 0, ROWS, MASK, 0.3);
      let hit = 0;
      for (let i = 0; i < n; i++) if (mk[i] === 0) hit++;
      expect(Math.abs(hit / n - 0.3)).toBeLessThan(0.003);
    });
  }
});

// =====================================================================================================
// Independence of order and split; keys
// =====================================================================================================

describe('gather_noise: order, split, keys', () => {
  const rng = new Rng(7);
  const SRC_ROWS = 80;
  const kinds = [GAUSS, SP, MASK, NOISE.none];
  const factorOf = (kind: number) => (kind === GAUSS ? 0.3 : 0.25);

  for (const be of backends) {
    for (const W of [784, 9]) {
      const src = Float32Array.from({ length: SRC_ROWS * W }, () => rng.next());
      it(`${label(be)} W=${W}: rows [5, 3, 9] equal rows 3, 5, 9 gathered one at a time`, () => {
        for (const kind of kinds) {
          const f = factorOf(kind);
          const batch = gather(be, src, W, [5, 3, 9], 0, 3, kind, f);
          const one = (s: number) => gather(be, src, W, [s], 0, 1, kind, f);
          expectSameBits(`kind ${kind} row 5`, batch.subarray(0, W), one(5));
          expectSameBits(`kind ${kind} row 3`, batch.subarray(W, 2 * W), one(3));
          expectSameBits(`kind ${kind} row 9`, batch.subarray(2 * W, 3 * W), one(9));
          // row0 (no idx) draws the same noise for the same source row
          expectSameBits(`kind ${kind} rows 3.. by row0`, gather(be, src, W, null, 3, 7, kind, f).subarray(0, W), one(3));
        }
      });

      it(`${label(be)} W=${W}: sub-range calls are bit-identical to the whole call`, () => {
        const COUNT = 64;
        const perm = range(0, SRC_ROWS);
        for (let i = perm.length - 1; i > 0; i--) {
          const j = rng.int(i + 1);
          [perm[i], perm[j]] = [perm[j], perm[i]];
        }
        const idx = perm.slice(0, COUNT);
        const cuts = [0, 1, 17, 40, 63, 64];
        for (const kind of kinds) {
          const f = factorOf(kind);
          for (const withIdx of [true, false]) {
            const setup = { src, width: W, rows: COUNT, idx: withIdx ? idx : undefined };
            const row0 = withIdx ? 0 : 11;
            const whole = run(be, setup, (k, p) => k.gather_noise(p.dst, p.src, p.idx, row0, COUNT, W, kind, f, K0, K1));
            const split = run(be, setup, (k, p) => {
              for (let c = 0; c + 1 < cuts.length; c++) {
                const r0 = cuts[c], r1 = cuts[c + 1];
                k.gather_noise(p.dst + r0 * W * 4, p.src, withIdx ? p.idx + r0 * 4 : 0, row0 + r0, r1 - r0, W, kind, f, K0, K1);
              }
            });
            expectSameBits(`kind ${kind} ${withIdx ? 'idx' : 'row0'} split`, split, whole);
          }
        }
      });

      it(`${label(be)} W=${W}: same keys give the same bits, other keys other noise`, () => {
        for (const kind of [GAUSS, SP, MASK]) {
          const f = factorOf(kind);
          const a = gather(be, src, W, null, 0, 8, kind, f);
          expectSameBits(`kind ${kind} repeated`, gather(be, src, W, null, 0, 8, kind, f), a);
          for (const [k0, k1] of [[K0 + 1, K1], [K0, K1 ^ 1]]) {
            const b = gather(be, src, W, null, 0, 8, kind, f, k0, k1);
            let same = 0, changed = 0;
            for (let i = 0; i < a.length; i++) {
              if (a[i] === b[i]) same++;
              if (a[i] !== src[i] || b[i] !== src[i]) changed++;
            }
            // gaussian: almost every pixel differs (some clip to the same 0/1); impulse: only where either was hit
            expect(same, `kind ${kind} keys ${k0},${k1}`).toBeLessThan(kind === GAUSS ? 0.5 * a.length : a.length - 0.5 * changed);
          }
        }
      });
    }
  }

  it('noiseKey: deterministic u32 pairs, different for different seeds and streams', () => {
    const seen = new Set<string>();
    for (const seed of [0, 1, 42, 0xffffffff]) {
      for (const stream of [0, 1, 2, 3, 1000]) {
        const [k0, k1] = noiseKey(seed, stream);
        expect(noiseKey(seed, stream)).toEqual([k0, k1]);
        for (const k of [k0, k1]) expect(Number.isInteger(k) && k >= 0 && k <= 0xffffffff).toBe(true);
        expect(k0).not.toBe(k1);
        seen.add(`${k0},${k1}`);
      }
    }
    expect(seen.size).toBe(20);
  });
});

// =====================================================================================================
// Shapes, kind 0, NaN, wasm vs js
// =====================================================================================================

describe('gather_noise: shapes and edge cases', () => {
  const rng = new Rng(11);

  for (const be of backends) {
    it(`${label(be)}: count 0 writes nothing`, () => {
      const src = new Float32Array(4 * 9).fill(0.5);
      for (const kind of [NOISE.none, GAUSS, SP, MASK]) {
        const out = run(be, { src, width: 9, rows: 2 }, (k, p) => k.gather_noise(p.dst, p.src, 0, 0, 0, 9, kind, 0.5, K0, K1));
        expect(out.every((v) => v === SENTINEL)).toBe(true);
      }
    });

    it(`${label(be)}: kind 0 is an exact copy of the gathered rows, widths 1..784`, () => {
      for (const W of [1, 3, 7, 8, 9, 784]) {
        const src = Float32Array.from({ length: 6 * W }, () => rng.uniform(-3, 3));
        src[0] = -0;
        src[W] = Number.NaN;
        const idx = [4, 1, 0, 5, 1];
        const out = gather(be, src, W, idx, 0, idx.length, NOISE.none, 0.7);
        const want = new Float32Array(idx.length * W);
        idx.forEach((s, r) => want.set(src.subarray(s * W, (s + 1) * W), r * W));
        expectSameBits(`W=${W}`, out, want);
      }
    });

    it(`${label(be)}: a NaN pixel stays NaN under gaussian noise; every output is in [0, 1] otherwise`, () => {
      const W = 21;
      const src = Float32Array.from({ length: 3 * W }, () => rng.uniform(-0.5, 1.5));
      for (const j of [0, 5, 20, 30, 62]) src[j] = Number.NaN;
      const out = gather(be, src, W, null, 0, 3, GAUSS, 0.3);
      for (let i = 0; i < out.length; i++) {
        if (Number.isNaN(src[i])) expect(out[i], `pixel ${i}`).toBeNaN();
        else expect(out[i] >= 0 && out[i] <= 1, `pixel ${i}: ${out[i]}`).toBe(true);
      }
    });
  }

  // the simd build computes every pixel with the vector code (partial blocks too), the scalar build with the scalar
  // form of the same polynomials in the same order: bit-identical (the relaxed build's FMA rounds differently)
  const simd = backends.find((b) => b.variant === 'simd'), scalar = backends.find((b) => b.variant === 'scalar');
  it.runIf(simd && scalar)('wasm simd and scalar builds give the same bits for every kind', () => {
    for (const W of [1, 3, 7, 8, 9, 784]) {
      const src = Float32Array.from({ length: 40 * W }, () => rng.uniform(-0.2, 1.2));
      src[0] = -0;
      for (const [kind, f] of [[GAUSS, 0.3], [GAUSS, -0.125], [SP, 0.2], [MASK, 0.3]] as const)
        expectSameBits(`kind ${kind} W=${W}`, gather(simd!, src, W, null, 3, 37, kind, f), gather(scalar!, src, W, null, 3, 37, kind, f));
    }
  });

  for (const be of backends.filter((b) => b !== jsBe)) {
    it(`${label(be)} vs js: every kind, widths 1..784`, () => {
      let worstZ = 0;
      for (const W of [1, 3, 7, 8, 9, 784]) {
        const rows = W === 784 ? 256 : 40;
        const src = Float32Array.from({ length: rows * W }, () => rng.next());
        const idx = range(0, rows).reverse();
        // the normals themselves
        const zw = normalsOf(be, W, idx), zj = normalsOf(jsBe, W, idx);
        for (let i = 0; i < zw.length; i++) {
          const d = Math.abs(zw[i] - zj[i]);
          worstZ = Math.max(worstZ, d);
          if (!(d <= zTol(zj[i]))) throw new Error(`W=${W} [${i}]: z ${zw[i]} vs js ${zj[i]}`);
        }
        // gaussian outputs: factor·Δz, and a rounding step of the f32 sum either way (≤ 2^-24 each side)
        const gw = gather(be, src, W, idx, 0, rows, GAUSS, 0.3), gj = gather(jsBe, src, W, idx, 0, rows, GAUSS, 0.3);
        for (let i = 0; i < gw.length; i++) {
          const tol = 0.3 * 2e-6 * 7 + 2 ** -23;
          if (!(Math.abs(gw[i] - gj[i]) <= tol)) throw new Error(`gaussian W=${W} [${i}]: ${gw[i]} vs js ${gj[i]}`);
        }
        for (const [kind, f] of [[SP, 0.2], [MASK, 0.3], [NOISE.none, 0]] as const)
          expectSameBits(`kind ${kind} W=${W}`, gather(be, src, W, idx, 0, rows, kind, f), gather(jsBe, src, W, idx, 0, rows, kind, f));
      }
      console.log(`${label(be)} vs js: max |z_wasm − z_js| ${worstZ.toExponential(2)} over widths 1..784`);
    });
  }
});
