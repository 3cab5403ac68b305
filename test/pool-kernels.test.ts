// Pooling and upsampling kernels (assembly/pool.ts and their js twins, src/backend/pool-js.ts) on every backend:
//
//   * against a float64 direct-loop reference written here: max pool's values and argmax indices exactly (a max is
//     a selection), avg pool and upsample within f32 rounding of a sum, every backward against the reference's
//     scatter of a random dy;
//   * every backend gives the js backend's bits (the kernels define one summation order; SIMD fast paths keep it);
//   * PyTorch 1.13 (F.max_pool2d with return_indices, F.avg_pool2d, F.interpolate nearest, and autograd for dx),
//     one python start-up in beforeAll (test/support/pool_peer.py): the same bits, outputs, indices and gradients;
//   * the tie rule (first maximum in scan order) and NaN (propagates; the argmax is the last NaN, as PyTorch's
//     `v > max || isnan(v)`), on inputs full of ties and NaNs, against the reference and PyTorch.
// Shapes: kernel 2 and 3, stride 1 and 2, padding 0 and 1, odd sizes (13×11), channels 1, 3 and 17, the 2×2
// stride-2 and ×2 fast paths with and without their scalar tails, asymmetric pads and rectangular windows.

import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Backend, Tensor } from '../src/backend/backend.js';
import { Rng } from '../src/random.js';
import { availableWasmVariants, createWasmBackend } from '../src/backend/wasm.js';
import { backendCases } from './support/backends.js';
import { expectClose } from './support/close.js';
import { pool2d64, pool2dOutSize, type Pool64 } from './support/reference.js';

// every backend, and the one-thread builds too (a wasm backend with threads loads the -threads build)
const cases = [
  ...backendCases(),
  ...availableWasmVariants().filter((v) => v !== 'scalar').map((variant) => ({ label: `wasm ${variant}, 1 thread`, make: () => createWasmBackend({ variant, threads: 1 }) })),
];
const backends: Backend[] = await Promise.all(cases.map((c) => c.make()));
const js = backends[cases.findIndex((c) => c.label === 'js')];

// =====================================================================================================
// Cases and the float64 reference
// =====================================================================================================

type Pads = [number, number, number, number];
interface PoolCase {
  op: 'max' | 'avg';
  shape: [number, number, number, number]; // B, C, H, W
  kernel: [number, number];
  stride: [number, number];
  pads: Pads; // top, left, bottom, right
  countIncludePad: boolean;
}
interface UpCase {
  op: 'up';
  shape: [number, number, number, number];
  scale: [number, number];
}
type Case = PoolCase | UpCase;

const SHAPES: Array<[number, number, number, number]> = [
  [2, 3, 13, 11], // odd sizes
  [1, 17, 8, 12], // even: the 2×2 stride-2 fast path, 4 outputs a vector and a 2-wide tail
  [3, 1, 9, 7],
  [2, 3, 16, 16], // the fast path with no tail
];

const name = (c: Case) =>
  c.op === 'up'
    ? `upsample ×${c.scale.join('×')} on ${c.shape.join('×')}`
    : `${c.op} ${c.kernel.join('×')} s${c.stride.join(',')} pads ${c.pads.join(',')}${c.op === 'avg' ? (c.countIncludePad ? ' incl' : ' excl') : ''} on ${c.shape.join('×')}`;

function poolCases(): PoolCase[] {
  const out: PoolCase[] = [];
  for (const shape of SHAPES)
    for (const k of [2, 3])
      for (const s of [1, 2])
        for (const p of [0, 1]) {
          const base = { shape, kernel: [k, k] as [number, number], stride: [s, s] as [number, number], pads: [p, p, p, p] as Pads };
          out.push({ op: 'max', ...base, countIncludePad: true });
          for (const incl of p ? [true, false] : [true]) out.push({ op: 'avg', ...base, countIncludePad: incl });
        }
  // asymmetric pads and rectangular windows (ONNX's pads; not PyTorch's): bottom / right padding makes the last
  // 2×2 window part padding, which the fast path must not take
  const extra: Array<Omit<PoolCase, 'op' | 'countIncludePad'>> = [
    { shape: [2, 3, 13, 11], kernel: [2, 2], stride: [2, 2], pads: [0, 0, 1, 1] },
    { shape: [1, 17, 8, 12], kernel: [2, 2], stride: [2, 2], pads: [1, 1, 0, 0] },
    { shape: [2, 3, 13, 11], kernel: [2, 3], stride: [2, 1], pads: [1, 0, 0, 1] },
    { shape: [1, 3, 13, 11], kernel: [3, 2], stride: [3, 2], pads: [0, 1, 1, 0] },
    { shape: [2, 1, 5, 9], kernel: [5, 3], stride: [1, 3], pads: [2, 1, 2, 1] },
  ];
  for (const e of extra) for (const c of [{ op: 'max', countIncludePad: true }, { op: 'avg', countIncludePad: true }, { op: 'avg', countIncludePad: false }] as const) out.push({ ...e, ...c });
  return out;
}
const POOL_CASES = poolCases();
const UP_CASES: UpCase[] = SHAPES.flatMap((shape) => ([[1, 1], [2, 2], [3, 2], [2, 3], [1, 2]] as const).map((s) => ({ op: 'up' as const, shape, scale: [s[0], s[1]] as [number, number] })));

const outSize = (c: Case) => pool2dOutSize(c, c.shape[2], c.shape[3]);
const reference = (c: Case, x: Float32Array, dy: Float32Array) => pool2d64(c, x, dy, c.shape[0] * c.shape[1], c.shape[2], c.shape[3]);

// =====================================================================================================
// Running a case on a backend
// =====================================================================================================

interface Got {
  y: Float32Array;
  idx?: Int32Array;
  dx: Float32Array;
}

/** Forward then backward of the case; linear memory must not grow and every allocation is freed. */
function run(be: Backend, c: Case, x: Float32Array, dy: Float32Array): Got {
  const [B, C, H, W] = c.shape;
  const N = B * C;
  const [OH, OW] = outSize(c);
  const live = be.liveAllocations;
  const alloc = (n: number, fillWith = NaN) => {
    const t = be.alloc(1, n);
    be.write(t, new Float32Array(n).fill(fillWith)); // outputs start as garbage: the kernels must overwrite it
    return t;
  };
  const tx = alloc(x.length), ty = alloc(N * OH * OW), tdy = alloc(dy.length), tdx = alloc(x.length), tidx = alloc(N * OH * OW, 12345.5);
  be.write(tx, x);
  be.write(tdy, dy);
  const bytes = be.memory.buffer.byteLength;
  const k = be.kernels;
  if (c.op === 'up') {
    k.upsample2d_forward(ty.ptr, tx.ptr, N, H, W, c.scale[0], c.scale[1]);
    k.upsample2d_backward(tdx.ptr, tdy.ptr, N, H, W, c.scale[0], c.scale[1]);
  } else {
    const win = [OH, OW, c.kernel[0], c.kernel[1], c.stride[0], c.stride[1], c.pads[0], c.pads[1]] as const;
    if (c.op === 'max') {
      k.maxpool2d_forward(ty.ptr, tidx.ptr, tx.ptr, N, H, W, ...win);
      k.maxpool2d_backward(tdx.ptr, tdy.ptr, tidx.ptr, N, H, W, ...win);
    } else {
      k.avgpool2d_forward(ty.ptr, tx.ptr, N, H, W, ...win, c.countIncludePad ? 1 : 0);
      k.avgpool2d_backward(tdx.ptr, tdy.ptr, N, H, W, ...win, c.countIncludePad ? 1 : 0);
    }
  }
  expect(be.memory.buffer.byteLength, 'a kernel call grew memory').toBe(bytes);
  const got: Got = { y: be.read(ty), dx: be.read(tdx) };
  if (c.op === 'max') got.idx = new Int32Array(be.read(tidx).buffer);
  for (const t of [tx, ty, tdy, tdx, tidx] as Tensor[]) be.free(t);
  expect(be.liveAllocations).toBe(live);
  return got;
}

function inputs(c: Case, seed: number, kind: 'uniform' | 'ties' | 'nan' = 'uniform'): { x: Float32Array; dy: Float32Array } {
  const rng = new Rng(seed);
  const [B, C, H, W] = c.shape;
  const [OH, OW] = outSize(c);
  const x = new Float32Array(B * C * H * W);
  for (let i = 0; i < x.length; i++) {
    if (kind === 'uniform') x[i] = rng.uniform(-1, 1);
    // three values: most windows hold ties; -0 and +0 both appear (equal, so a tie, not a new maximum)
    else if (kind === 'ties') x[i] = [-1, 0, -0, 1][rng.nextU32() % 4];
    // a NaN in about one window in three, sometimes two in one window, -Inf too
    else x[i] = rng.next() < 0.08 ? NaN : rng.next() < 0.05 ? -Infinity : rng.uniform(-1, 1);
  }
  const dy = new Float32Array(B * C * OH * OW);
  for (let i = 0; i < dy.length; i++) dy[i] = rng.uniform(-1, 1);
  return { x, dy };
}

// =====================================================================================================
// Comparisons
// =====================================================================================================

function expectSameBits(what: string, got: Float32Array | Int32Array, want: Float32Array | Int32Array): void {
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length), b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  let first = -1;
  for (let i = 0; i < b.length && first < 0; i++) if (a[i] !== b[i]) first = i;
  expect(first, `${what}: first element with other bits (got ${got[first]}, want ${want[first]})`).toBe(-1);
}

/** Tolerance of an f32 sum of n terms of magnitude ≤ 1 against float64: n roundings of at most 2^-24·(partial sum). */
const sumTol = (n: number) => n * n * 2 ** -24;

function checkAgainstReference(c: Case, got: Got, ref: Pool64, what: string): void {
  if (c.op === 'max') {
    expectSameBits(`${what} y`, got.y, Float32Array.from(ref.y));
    expectSameBits(`${what} idx`, got.idx!, ref.idx!);
    // dx: each element sums the dy of the outputs whose argmax it is (several when windows overlap)
    const overlaps = c.kernel[0] > c.stride[0] || c.kernel[1] > c.stride[1];
    const most = Math.ceil(c.kernel[0] / c.stride[0]) * Math.ceil(c.kernel[1] / c.stride[1]);
    expectClose(`${what} dx`, got.dx, ref.dx, overlaps ? sumTol(most) : 0, 0);
  } else if (c.op === 'avg') {
    const n = c.kernel[0] * c.kernel[1];
    expectClose(`${what} y`, got.y, ref.y, sumTol(n), 0);
    const most = Math.ceil(c.kernel[0] / c.stride[0]) * Math.ceil(c.kernel[1] / c.stride[1]);
    expectClose(`${what} dx`, got.dx, ref.dx, sumTol(most + 1), 0);
  } else {
    expectSameBits(`${what} y`, got.y, Float32Array.from(ref.y));
    expectClose(`${what} dx`, got.dx, ref.dx, sumTol(c.scale[0] * c.scale[1]), 0);
  }
}

// =====================================================================================================
// float64 reference, and the same bits on every backend
// =====================================================================================================

describe.each(cases.map((c, i) => [c.label, backends[i]] as const))('%s: against the float64 reference', (_label, be) => {
  it.each([...POOL_CASES, ...UP_CASES].map((c, i) => [name(c), c, i] as const))('%s', (what, c, i) => {
    const { x, dy } = inputs(c, 1000 + i);
    const got = run(be, c, x, dy);
    checkAgainstReference(c, got, reference(c, x, dy), what);
    if (be !== js) {
      const want = run(js, c, x, dy);
      expectSameBits(`${what} y vs js`, got.y, want.y);
      expectSameBits(`${what} dx vs js`, got.dx, want.dx);
      if (got.idx) expectSameBits(`${what} idx vs js`, got.idx, want.idx!);
    }
  });
});

describe('max pool: ties and NaN', () => {
  const TIE_CASES = POOL_CASES.filter((c) => c.op === 'max');
  it.each(cases.map((c, i) => [c.label, backends[i]] as const))('%s: ties keep the first maximum in scan order', (_label, be) => {
    for (const [i, c] of TIE_CASES.entries()) {
      const { x, dy } = inputs(c, 2000 + i, 'ties');
      const ref = reference(c, x, dy);
      checkAgainstReference(c, run(be, c, x, dy), ref, `${name(c)} ties`);
    }
  });
  it.each(cases.map((c, i) => [c.label, backends[i]] as const))('%s: NaN propagates, its gradient goes to the last NaN; a window of -Inf points at its first element', (_label, be) => {
    let nanOut = 0;
    for (const [i, c] of TIE_CASES.entries()) {
      const { x, dy } = inputs(c, 3000 + i, 'nan');
      const ref = reference(c, x, dy);
      const got = run(be, c, x, dy);
      checkAgainstReference(c, got, ref, `${name(c)} NaN`);
      nanOut += got.y.filter(Number.isNaN).length;
    }
    expect(nanOut, 'outputs that are NaN').toBeGreaterThan(100);
    // a 2×2 plane of −∞ only: y = −∞, idx 0 (PyTorch's start), the gradient goes there
    const c: PoolCase = { op: 'max', shape: [1, 1, 2, 2], kernel: [2, 2], stride: [2, 2], pads: [0, 0, 0, 0], countIncludePad: true };
    const got = run(be, c, new Float32Array(4).fill(-Infinity), Float32Array.of(0.5));
    expect([...got.y, ...got.idx!, ...got.dx]).toEqual([-Infinity, 0, 0.5, 0, 0, 0]);
  });
});

// =====================================================================================================
// PyTorch 1.13
// =====================================================================================================

interface TorchResult {
  y: Float32Array;
  idx?: Int32Array;
  dx: Float32Array;
  shape: number[];
}

const b64 = (a: Float32Array | Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const f32 = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

// PyTorch pads symmetrically: the cases with t = b and l = r, on uniform inputs, inputs with ties and with NaN
const symmetric = (c: Case) => c.op === 'up' || (c.pads[0] === c.pads[2] && c.pads[1] === c.pads[3]);
const TORCH: Array<{ c: Case; kind: 'uniform' | 'ties' | 'nan'; x: Float32Array; dy: Float32Array }> = [
  ...[...POOL_CASES, ...UP_CASES].filter(symmetric).map((c, i) => ({ c, kind: 'uniform' as const, ...inputs(c, 4000 + i) })),
  ...POOL_CASES.filter((c) => c.op === 'max' && symmetric(c)).flatMap((c, i) => [
    { c, kind: 'ties' as const, ...inputs(c, 5000 + i, 'ties') },
    { c, kind: 'nan' as const, ...inputs(c, 6000 + i, 'nan') },
  ]),
];
let torch: { version: string; results: TorchResult[] };

beforeAll(() => {
  const request = TORCH.map(({ c, x, dy }) => ({ ...c, x: b64(x), dy: b64(dy) }));
  const out = execFileSync('/usr/bin/python3', [join(import.meta.dirname, 'support/pool_peer.py')], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 1 << 26 });
  const parsed = JSON.parse(out) as { torch: string; results: Array<{ y: string; idx?: string; dx: string; shape: number[] }> };
  torch = {
    version: parsed.torch,
    results: parsed.results.map((r) => ({ y: f32(r.y), dx: f32(r.dx), shape: r.shape, idx: r.idx ? new Int32Array(f32(r.idx).buffer) : undefined })),
  };
});

describe('PyTorch 1.13', () => {
  it('is PyTorch 1.13', () => expect(torch.version).toMatch(/^1\.13/));
  it.each(cases.map((c, i) => [c.label, backends[i]] as const))('%s: every case gives the bits of F.max_pool2d / F.avg_pool2d / F.interpolate and their autograd', (_label, be) => {
    for (const [i, { c, kind, x, dy }] of TORCH.entries()) {
      const t = torch.results[i];
      const what = `${name(c)} (${kind})`;
      expect(t.shape, `${what}: output shape`).toEqual([c.shape[0], c.shape[1], ...outSize(c)]);
      const got = run(be, c, x, dy);
      // the same bits: the same f32 sums in the same order as PyTorch's CPU kernels (measured: no element differs)
      expectSameBits(`${what} y`, got.y, t.y);
      expectSameBits(`${what} dx`, got.dx, t.dx);
      if (c.op === 'max') expectSameBits(`${what} idx`, got.idx!, t.idx!);
    }
  });
});
