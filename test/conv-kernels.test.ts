// Conv2D and ConvTranspose2D kernels (assembly/conv.ts and its js twin src/backend/conv-js.ts): forward (with
// each fused activation), backward-data and backward-weights (+ bias) of every case, on every backend, against
//   * a float64 direct-loop reference written in test/support/conv-ref.ts, whose backward is itself checked
//     against central differences of its forward (exact up to rounding: L = Σ dy ⊙ y is linear in x and in w);
//   * PyTorch 1.13 in float64 (F.conv2d / F.conv_transpose2d and autograd), one python start-up
//     (test/support/conv_peer.py);
// and the threaded wasm builds give the same bits with 1, 2, 3 and 8 threads (test/threads.test.ts does the same
// on the recipe's shapes). Cases: stride 1, 2 (and [2,1], [2,3]); padding 0, 1, 'same' (symmetric and not),
// asymmetric pads; kernels 1, 3, 5 and 3×5; 13×11 and other odd sizes; channels 1, 3 and 17; the 1×1 path.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ACT, type Backend, type Tensor } from '../src/backend/backend.js';
import { convScratchFloats, convTransposeScratchFloats } from '../src/backend/conv-scratch.js';
import { readFileSync } from 'node:fs';
import { availableWasmVariants, createWasmBackend } from '../src/backend/wasm.js';
import { Rng } from '../src/random.js';
import { backendCases } from './support/backends.js';
import { expectClose, maxAbsError } from './support/close.js';
import {
  convShape, convTShape, refConv, refConvBackward, refConvT, refConvTBackward, samePads,
  type ConvGeom, type ConvTGeom,
} from './support/conv-ref.js';

// =====================================================================================================
// Cases
// =====================================================================================================

type Case = { name: string; kind: 'conv'; g: ConvGeom } | { name: string; kind: 'convT'; g: ConvTGeom };

const conv = (name: string, B: number, C: number, H: number, W: number, OC: number, k: [number, number], s: [number, number], pads: [number, number, number, number] | 'same'): Case => ({
  name, kind: 'conv',
  g: { B, C, H, W, OC, KH: k[0], KW: k[1], SH: s[0], SW: s[1], pads: pads === 'same' ? samePads(H, W, k[0], k[1], s[0], s[1]) : pads },
});
const convT = (name: string, B: number, IC: number, IH: number, IW: number, OC: number, k: [number, number], s: [number, number], pads: [number, number, number, number], outPad: [number, number]): Case => ({
  name, kind: 'convT', g: { B, IC, IH, IW, OC, KH: k[0], KW: k[1], SH: s[0], SW: s[1], pads, outPad },
});

const CASES: Case[] = [
  conv('conv 1→3 13×11 k3 s1 p1', 3, 1, 13, 11, 3, [3, 3], [1, 1], [1, 1, 1, 1]),
  conv('conv 3→17 13×11 k5 s2 p0', 3, 3, 13, 11, 17, [5, 5], [2, 2], [0, 0, 0, 0]),
  conv('conv 17→3 13×11 k1 s1 p0 (col is x)', 3, 17, 13, 11, 3, [1, 1], [1, 1], [0, 0, 0, 0]),
  conv('conv 3→5 13×11 k1 s2 p0', 2, 3, 13, 11, 5, [1, 1], [2, 2], [0, 0, 0, 0]),
  conv('conv 17→17 13×11 k3 s1 same', 3, 17, 13, 11, 17, [3, 3], [1, 1], 'same'),
  conv('conv 3→3 13×11 k5 s1 same', 2, 3, 13, 11, 3, [5, 5], [1, 1], 'same'),
  conv('conv 3→4 14×10 k3 s2 same (pads 0,0,1,1)', 3, 3, 14, 10, 4, [3, 3], [2, 2], 'same'),
  conv('conv 3→4 13×11 k3×5 s2×1 pads 1,2,0,1', 2, 3, 13, 11, 4, [3, 5], [2, 1], [1, 2, 0, 1]),
  conv('conv 17→1 13×11 k3 s2 p1', 3, 17, 13, 11, 1, [3, 3], [2, 2], [1, 1, 1, 1]),
  // 3×3 stride 1 with ≥ 4 channels: Winograd F(2×2, 3×3) on the wasm builds (odd sizes: partial 2×2 tiles and
  // tile rows that end mid-vector; asymmetric pads; the thinnest channel counts it takes)
  conv('conv 5→6 9×7 k3 s1 p0 (winograd, odd output 7×5)', 2, 5, 9, 7, 6, [3, 3], [1, 1], [0, 0, 0, 0]),
  conv('conv 4→9 10×17 k3 s1 pads 0,2,1,1 (winograd)', 2, 4, 10, 17, 9, [3, 3], [1, 1], [0, 2, 1, 1]),
  conv('conv 4→4 5×3 k3 s1 same (winograd, one tile column)', 2, 4, 5, 3, 4, [3, 3], [1, 1], 'same'),
  conv('conv 32→32 28×28 k3 s1 same (the recipe)', 2, 32, 28, 28, 32, [3, 3], [1, 1], 'same'),
  convT('convT 3→17 7×5 k3 s2 p1 op1', 3, 3, 7, 5, 17, [3, 3], [2, 2], [1, 1, 1, 1], [1, 1]),
  convT('convT 6→5 9×7 k3 s1 p1 (winograd both ways)', 2, 6, 9, 7, 5, [3, 3], [1, 1], [1, 1, 1, 1], [0, 0]),
  convT('convT 17→3 13×11 k5 s1 p2', 3, 17, 13, 11, 3, [5, 5], [1, 1], [2, 2, 2, 2], [0, 0]),
  convT('convT 1→3 13×11 k1 s1 p0 (col is x)', 3, 1, 13, 11, 3, [1, 1], [1, 1], [0, 0, 0, 0], [0, 0]),
  convT('convT 3→1 7×6 k3 s2 p0', 2, 3, 7, 6, 1, [3, 3], [2, 2], [0, 0, 0, 0], [0, 0]),
  convT('convT 3→4 6×5 k3×2 s2×3 pads 1,0,0,1 op 1,2', 2, 3, 6, 5, 4, [3, 2], [2, 3], [1, 0, 0, 1], [1, 2]),
  convT('convT 32→32 7×7 k3 s2 p1 op1 (the decoder)', 2, 32, 7, 7, 32, [3, 3], [2, 2], [1, 1, 1, 1], [1, 1]),
];

interface Data {
  x: Float32Array; w: Float32Array; b: Float32Array; dy: Float32Array; dw0: Float32Array; db0: Float32Array;
  /** the kernels' size arguments after the pointers: B, C|IC, H|IH, W|IW, OC, OH, OW, KH, KW, SH, SW, PT, PL */
  dims: number[];
  xLen: number; yLen: number; wLen: number; bLen: number;
  ref: { y: Float64Array; dx: Float64Array; dw: Float64Array; db: Float64Array };
}

function uniform(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
}

/** The kernels' size arguments after the pointers, and the float64 references, of either kind. */
function geometry(c: Case): { dims: number[]; forward: (x: Float32Array, w: Float32Array, b: Float32Array) => Float64Array; backward: (dy: Float32Array, x: Float32Array, w: Float32Array) => Omit<Data['ref'], 'y'> } {
  if (c.kind === 'conv') {
    const g = c.g, { OH, OW } = convShape(g);
    return { dims: [g.B, g.C, g.H, g.W, g.OC, OH, OW, g.KH, g.KW, g.SH, g.SW, g.pads[0], g.pads[1]], forward: (x, w, b) => refConv(g, x, w, b), backward: (dy, x, w) => refConvBackward(g, dy, x, w) };
  }
  const g = c.g, { OH, OW } = convTShape(g);
  return { dims: [g.B, g.IC, g.IH, g.IW, g.OC, OH, OW, g.KH, g.KW, g.SH, g.SW, g.pads[0], g.pads[1]], forward: (x, w, b) => refConvT(g, x, w, b), backward: (dy, x, w) => refConvTBackward(g, dy, x, w) };
}

function prepare(c: Case, seed: number): Data {
  const rng = new Rng(seed);
  const { dims, forward, backward } = geometry(c);
  const [B, C, H, W, OC, OH, OW, KH, KW] = dims; // w is (OC,C,KH,KW) or (IC,OC,KH,KW): as many either way
  const xLen = B * C * H * W, yLen = B * OC * OH * OW, wLen = OC * C * KH * KW, bLen = OC;
  const x = uniform(rng, xLen), w = uniform(rng, wLen), b = uniform(rng, bLen), dy = uniform(rng, yLen);
  const back = backward(dy, x, w);
  return { x, w, b, dy, dw0: uniform(rng, wLen), db0: uniform(rng, bLen), xLen, yLen, wLen, bLen, dims, ref: { y: forward(x, w, b), ...back } };
}

const DATA = CASES.map((c, i) => prepare(c, 100 + i));

// f32 kernels vs float64: sums of up to 32·9 products of values in ±1 (atol), and sigmoid/tanh's approximations
const ATOL = 3e-5;
const RTOL = 1e-5;
const worst = { ref: 0, torch: 0, refGrad: 0 };

// =====================================================================================================
// PyTorch, once for every case
// =====================================================================================================

interface TorchOut { shape: number[]; y: number[]; dx: number[]; dw: number[]; db: number[] }
let torch: TorchOut[];

beforeAll(() => {
  const cases = CASES.map((c, i) => ({ kind: c.kind, ...c.g, x: [...DATA[i].x], w: [...DATA[i].w], b: [...DATA[i].b], dy: [...DATA[i].dy] }));
  const out = execFileSync('/usr/bin/python3', [join(import.meta.dirname, 'support/conv_peer.py')], { input: JSON.stringify({ cases }), encoding: 'utf8', maxBuffer: 1 << 28 });
  torch = JSON.parse(out);
}, 120_000);

afterAll(() => {
  console.log(`conv kernels: largest |kernel − float64 reference| ${worst.ref.toExponential(2)}, |kernel − PyTorch float64| ${worst.torch.toExponential(2)}; |reference backward − central differences| ${worst.refGrad.toExponential(2)}`);
});

// =====================================================================================================
// The reference against PyTorch and against finite differences of itself
// =====================================================================================================

describe('the float64 reference', () => {
  it.each(CASES.map((c, i) => [c.name, i] as const))('%s: equals PyTorch (float64) forward and autograd', (_n, i) => {
    const d = DATA[i], t = torch[i];
    const { OH, OW } = CASES[i].kind === 'conv' ? convShape(CASES[i].g as ConvGeom) : convTShape(CASES[i].g as ConvTGeom);
    expect(t.shape).toEqual([d.dims[0], d.dims[4], OH, OW]);
    for (const k of ['y', 'dx', 'dw', 'db'] as const) expectClose(`reference ${k} vs PyTorch`, d.ref[k], t[k], 1e-12, 1e-12);
  });

  // (the two recipe-sized cases are left to PyTorch: 18 float64 forwards of theirs take seconds)
  it.each(CASES.map((c, i) => [c.name, i] as const).filter(([, i]) => DATA[i].wLen * DATA[i].yLen < 2e7))('%s: backward equals central differences of the forward', (_n, i) => {
    const c = CASES[i], d = DATA[i];
    const fwd = (x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>) => (c.kind === 'conv' ? refConv(c.g, x, w, b) : refConvT(c.g, x, w, b));
    const L = (x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>) => fwd(x, w, b).reduce((s, v, j) => s + v * d.dy[j], 0);
    const x = Float64Array.from(d.x), w = Float64Array.from(d.w), b = Float64Array.from(d.b);
    const h = 1e-3;
    const rng = new Rng(7 + i);
    for (const [name, v, grad] of [['x', x, d.ref.dx], ['w', w, d.ref.dw], ['b', b, d.ref.db]] as const) {
      for (let s = 0; s < 6; s++) {
        const j = Math.floor(rng.next() * v.length);
        const v0 = v[j];
        v[j] = v0 + h;
        const up = L(x, w, b);
        v[j] = v0 - h;
        const down = L(x, w, b);
        v[j] = v0;
        const num = (up - down) / (2 * h);
        worst.refGrad = Math.max(worst.refGrad, Math.abs(num - grad[j]));
        expect(Math.abs(num - grad[j]), `∂L/∂${name}[${j}]: analytic ${grad[j]}, numeric ${num}`).toBeLessThan(1e-8 * (1 + Math.abs(num)));
      }
    }
  });
});

// =====================================================================================================
// Every kernel on every backend
// =====================================================================================================

it("the scratch size the layers declare (conv-scratch.ts) is the module's own (assembly/conv.ts conv2d_scratch)", async () => {
  const { instance } = await WebAssembly.instantiate(readFileSync(join(import.meta.dirname, '../build/simdnet.simd.wasm')), { env: { abort() {} } });
  const wasm = instance.exports.conv2d_scratch as (...a: number[]) => number;
  const rng = new Rng(3);
  const int = (lo: number, hi: number) => lo + Math.floor(rng.next() * (hi - lo + 1));
  const geoms = CASES.map((c) => (c.kind === 'conv' ? [c.g.C, c.g.H, c.g.W, c.g.OC, convShape(c.g).OH, convShape(c.g).OW, c.g.KH, c.g.KW, c.g.SH, c.g.SW] : [c.g.OC, convTShape(c.g).OH, convTShape(c.g).OW, c.g.IC, c.g.IH, c.g.IW, c.g.KH, c.g.KW, c.g.SH, c.g.SW]));
  for (let i = 0; i < 200; i++) geoms.push([int(1, 70), int(1, 40), int(1, 40), int(1, 70), int(1, 40), int(1, 40), int(1, 7), int(1, 7), int(1, 3), int(1, 3)]);
  for (const g of geoms) expect(convScratchFloats(...(g as [number, number, number, number, number, number, number, number, number, number])), g.join(',')).toBe(wasm(...g));
});

function scratchFloats(be: Backend, c: Case, d: Data): number {
  const [, ...dims] = d.dims;
  const [C, H, W, OC, OH, OW, KH, KW, SH, SW] = dims;
  return be.threads * (c.kind === 'conv' ? convScratchFloats : convTransposeScratchFloats)(C, H, W, OC, OH, OW, KH, KW, SH, SW);
}

const GUARD = 8; // floats after the scratch that no kernel may touch
const SENTINEL = 12345.5;

interface Run { y: Float32Array; yAct: Float32Array[]; dx: Float32Array; dw: Float32Array; db: Float32Array; dwNoBias: Float32Array; yNoBias: Float32Array }

/** Every kernel of a case on one backend, from the same inputs; asserts memory did not grow and the scratch's guard. */
function runCase(be: Backend, c: Case, d: Data): Run {
  const live = be.liveAllocations;
  const t: Tensor[] = [];
  const put = (data: ArrayLike<number>) => {
    const tt = be.alloc(1, data.length);
    be.write(tt, data);
    t.push(tt);
    return tt;
  };
  const fresh = (n: number, v: number) => put(new Float32Array(n).fill(v)); // outputs start as garbage: overwrite
  const S = scratchFloats(be, c, d);
  const scratch = put(new Float32Array(S + GUARD).fill(SENTINEL));
  const x = put(d.x), w = put(d.w), b = put(d.b), dy = put(d.dy);
  const y = fresh(d.yLen, -7), dx = fresh(d.xLen, -7), dw = put(d.dw0), db = put(d.db0), dw2 = put(d.dw0);
  const k = be.kernels;
  const dims = d.dims as [number, number, number, number, number, number, number, number, number, number, number, number, number];
  const bytes = be.memory.buffer.byteLength;
  const fwd = c.kind === 'conv' ? k.conv2d_forward : k.conv_transpose2d_forward;
  const bwdData = c.kind === 'conv' ? k.conv2d_backward_data : k.conv_transpose2d_backward_data;
  const bwdW = c.kind === 'conv' ? k.conv2d_backward_weights : k.conv_transpose2d_backward_weights;
  const out: Run = { y: new Float32Array(), yAct: [], dx: new Float32Array(), dw: new Float32Array(), db: new Float32Array(), dwNoBias: new Float32Array(), yNoBias: new Float32Array() };
  fwd(y.ptr, x.ptr, w.ptr, b.ptr, scratch.ptr, ...dims, ACT.none);
  out.y = be.read(y);
  fwd(y.ptr, x.ptr, w.ptr, 0, scratch.ptr, ...dims, ACT.none);
  out.yNoBias = be.read(y);
  for (const act of [ACT.relu, ACT.sigmoid, ACT.tanh]) {
    be.write(y, new Float32Array(d.yLen).fill(-7));
    fwd(y.ptr, x.ptr, w.ptr, b.ptr, scratch.ptr, ...dims, act);
    out.yAct.push(be.read(y));
  }
  bwdData(dx.ptr, dy.ptr, w.ptr, scratch.ptr, ...dims);
  out.dx = be.read(dx);
  bwdW(dw.ptr, db.ptr, dy.ptr, x.ptr, scratch.ptr, ...dims);
  out.dw = be.read(dw);
  out.db = be.read(db);
  bwdW(dw2.ptr, 0, dy.ptr, x.ptr, scratch.ptr, ...dims);
  out.dwNoBias = be.read(dw2);
  expect(be.memory.buffer.byteLength, 'a conv kernel grew memory').toBe(bytes);
  const tail = be.read(scratch).subarray(S);
  expect([...tail], 'the floats after the declared scratch').toEqual(new Array(GUARD).fill(SENTINEL));
  for (const tt of t) be.free(tt);
  expect(be.liveAllocations).toBe(live);
  return out;
}

const ACTS: [string, (v: number) => number][] = [
  ['relu', (v) => Math.max(v, 0)],
  ['sigmoid', (v) => 1 / (1 + Math.exp(-v))],
  ['tanh', Math.tanh],
];

function checkRun(label: string, r: Run, d: Data, t: TorchOut): void {
  const track = (got: ArrayLike<number>, ref: ArrayLike<number>, tor: ArrayLike<number>) => {
    worst.ref = Math.max(worst.ref, maxAbsError(got, ref));
    worst.torch = Math.max(worst.torch, maxAbsError(got, tor));
  };
  const plus = (a: ArrayLike<number>, b: ArrayLike<number>) => Float64Array.from(a, (v, i) => v + b[i]);
  expectClose(`${label} forward y`, r.y, d.ref.y, ATOL, RTOL);
  expectClose(`${label} forward y vs PyTorch`, r.y, t.y, ATOL, RTOL);
  track(r.y, d.ref.y, t.y);
  // without a bias: the reference's y minus its bias
  const P = d.yLen / (d.dims[0] * d.dims[4]);
  expectClose(`${label} forward without bias`, r.yNoBias, Float64Array.from(d.ref.y, (v, i) => v - d.b[Math.floor(i / P) % d.dims[4]]), ATOL, RTOL);
  ACTS.forEach(([name, f], i) => expectClose(`${label} forward fused ${name}`, r.yAct[i], Float64Array.from(d.ref.y, f), ATOL, RTOL));
  expectClose(`${label} backward-data dx`, r.dx, d.ref.dx, ATOL, RTOL);
  expectClose(`${label} backward-data dx vs PyTorch`, r.dx, t.dx, ATOL, RTOL);
  track(r.dx, d.ref.dx, t.dx);
  // dw and db accumulate onto what was there
  const dw = plus(d.ref.dw, d.dw0), db = plus(d.ref.db, d.db0);
  expectClose(`${label} backward-weights dw (accumulated)`, r.dw, dw, ATOL, RTOL);
  expectClose(`${label} backward-weights dw vs PyTorch`, r.dw, plus(t.dw, d.dw0), ATOL, RTOL);
  expectClose(`${label} bias gradient db (accumulated)`, r.db, db, ATOL, RTOL);
  expectClose(`${label} bias gradient db vs PyTorch`, r.db, plus(t.db, d.db0), ATOL, RTOL);
  expectClose(`${label} backward-weights without db`, r.dwNoBias, dw, ATOL, RTOL);
  track(r.dw, dw, plus(t.dw, d.dw0));
  track(r.db, db, plus(t.db, d.db0));
}

describe.each(backendCases())('conv kernels on the $label backend', ({ make }) => {
  let be: Backend;
  beforeAll(async () => {
    be = await make();
  });
  afterAll(() => be.dispose());
  it.each(CASES.map((c, i) => [c.name, i] as const))('%s: forward (bias, no bias, relu/sigmoid/tanh), backward-data, backward-weights', (_n, i) => {
    checkRun(`${be.name}/${be.variant} ${CASES[i].name}`, runCase(be, CASES[i], DATA[i]), DATA[i], torch[i]);
  });
});

// =====================================================================================================
// Threads: the same bits with 1, 2, 3 and 8 threads (and still the reference's values)
// =====================================================================================================

const threadVariants = availableWasmVariants().filter((v) => v !== 'scalar');

describe.each(threadVariants)('%s build: conv kernels give the same bits with 1, 2, 3 and 8 threads', (variant) => {
  let bes: Backend[];
  beforeAll(async () => {
    bes = await Promise.all([1, 2, 3, 8].map((threads) => createWasmBackend({ variant, threads })));
  });
  afterAll(() => bes.forEach((b) => b.dispose()));
  it.each(CASES.map((c, i) => [c.name, i] as const))('%s', (_n, i) => {
    const runs = bes.map((be) => runCase(be, CASES[i], DATA[i]));
    checkRun(`${variant} ×8 ${CASES[i].name}`, runs[3], DATA[i], torch[i]);
    for (let r = 1; r < runs.length; r++)
      for (const k of ['y', 'dx', 'dw', 'db', 'dwNoBias', 'yNoBias'] as const) {
        const a = new Uint32Array(runs[0][k].buffer), b = new Uint32Array(runs[r][k].buffer);
        let first = -1;
        for (let j = 0; j < a.length && first < 0; j++) if (a[j] !== b[j]) first = j;
        expect(first, `${k} with ${bes[r].threads} threads: first differing element`).toBe(-1);
      }
  });
});

// A conv to 1-3 channels (assembly/conv.ts NARROW: an output row of one channel at a time; the weight gradient's tap
// rows in vectors) sums each element as the 4×8 tile does: it must give the bits of the same channels of a wider
// conv (≥ 4 channels each way would take Winograd: these shapes do not). Forward (stride 1 across), the weight
// gradient (any stride, kernel width ≤ 4) and the backward-data of a conv from 1-3 input channels (stride 1).
describe.each(threadVariants)('%s build: the narrow conv paths give the bits of the 4×8 tile', (variant) => {
  const shapes: Array<{ name: string; C: number; H: number; W: number; k: [number, number]; s: [number, number]; p: [number, number, number, number] }> = [
    { name: '3×3 s1 p1, 13×11', C: 3, H: 13, W: 11, k: [3, 3], s: [1, 1], p: [1, 1, 1, 1] },
    { name: '5×2 s2×1, 9×37 (two 32-position groups)', C: 5, H: 9, W: 37, k: [5, 2], s: [2, 1], p: [2, 0, 1, 0] },
    { name: '3×3 s2, 13×11', C: 3, H: 13, W: 11, k: [3, 3], s: [2, 2], p: [1, 1, 1, 1] },
    { name: '1×4 s1, 6×35', C: 2, H: 6, W: 35, k: [1, 4], s: [1, 1], p: [0, 1, 0, 2] },
  ];
  it.each(shapes.map((sh) => [sh.name, sh] as const))('%s', async (_n, sh) => {
    const be = await createWasmBackend({ variant, threads: 2 });
    try {
      const B = 3, WIDE = 8;
      const [KH, KW] = sh.k, [SH, SW] = sh.s, [PT, PL, PB, PR] = sh.p;
      const OH = Math.floor((sh.H + PT + PB - KH) / SH) + 1, OW = Math.floor((sh.W + PL + PR - KW) / SW) + 1;
      const rng = new Rng(sh.C * 131 + sh.W);
      const put = (a: Float32Array) => {
        const t = be.alloc(1, a.length);
        be.write(t, a);
        return t;
      };
      const bits = (t: Tensor, from = 0, n = t.cols) => Array.from(new Uint32Array(be.read(t).buffer)).slice(from, from + n);
      const K = sh.C * KH * KW, P = OH * OW, X = sh.C * sh.H * sh.W;
      const x = uniform(rng, B * X), wWide = uniform(rng, WIDE * K), bWide = uniform(rng, WIDE), dyWide = uniform(rng, B * WIDE * P);
      for (const OC of [1, 2, 3]) {
        // the thin conv's weights, bias and output gradient are the wide one's first OC channels
        const w = wWide.slice(0, OC * K), b = bWide.slice(0, OC);
        const dy = new Float32Array(B * OC * P);
        for (let s = 0; s < B; s++) dy.set(dyWide.subarray(s * WIDE * P, s * WIDE * P + OC * P), s * OC * P);
        const run = (oc: number, wt: Float32Array, bt: Float32Array, dyt: Float32Array) => {
          const scratch = be.alloc(1, be.threads * convScratchFloats(sh.C, sh.H, sh.W, oc, OH, OW, KH, KW, SH, SW));
          const tx = put(x), tw = put(wt), tb = put(bt), tdy = put(dyt), y = be.alloc(1, B * oc * P), dw = put(new Float32Array(oc * K).fill(0.25));
          // each thin width with another fused activation (the narrow path activates a row, the tile a tile)
          be.kernels.conv2d_forward(y.ptr, tx.ptr, tw.ptr, tb.ptr, scratch.ptr, B, sh.C, sh.H, sh.W, oc, OH, OW, KH, KW, SH, SW, PT, PL, [ACT.relu, ACT.sigmoid, ACT.tanh][OC - 1]);
          be.kernels.conv2d_backward_weights(dw.ptr, 0, tdy.ptr, tx.ptr, scratch.ptr, B, sh.C, sh.H, sh.W, oc, OH, OW, KH, KW, SH, SW, PT, PL);
          const out = { y, dw, all: [scratch, tx, tw, tb, tdy, y, dw] };
          return out;
        };
        const thin = run(OC, w, b, dy), wide = run(WIDE, wWide, bWide, dyWide);
        for (let s = 0; s < B; s++) expect(bits(thin.y, s * OC * P, OC * P), `forward ${OC} channels, sample ${s}`).toEqual(bits(wide.y, s * WIDE * P, OC * P));
        expect(bits(thin.dw), `weight gradient, ${OC} channels`).toEqual(bits(wide.dw, 0, OC * K));
        for (const t of [...thin.all, ...wide.all]) be.free(t);
        if (SH !== 1 || SW !== 1) continue;
        // backward-data of a conv from OC (1-3) channels to 3 (the narrow forward of the flipped conv): dx against
        // the first channels of the conv from 8 channels (the flipped conv's weights are w[o][c], per input channel c)
        const O2 = 3, K2 = KH * KW;
        const w2 = uniform(rng, O2 * WIDE * K2), dy2 = uniform(rng, B * O2 * P);
        const back = (c: number) => {
          const wt = new Float32Array(O2 * c * K2);
          for (let o = 0; o < O2; o++) wt.set(w2.subarray(o * WIDE * K2, o * WIDE * K2 + c * K2), o * c * K2);
          const scratch = be.alloc(1, be.threads * convScratchFloats(c, sh.H, sh.W, O2, OH, OW, KH, KW, SH, SW));
          const tw = put(wt), tdy = put(dy2), dx = be.alloc(1, B * c * sh.H * sh.W);
          be.kernels.conv2d_backward_data(dx.ptr, tdy.ptr, tw.ptr, scratch.ptr, B, c, sh.H, sh.W, O2, OH, OW, KH, KW, SH, SW, PT, PL);
          return { dx, all: [scratch, tw, tdy, dx] };
        };
        const thinB = back(OC), wideB = back(WIDE);
        const HW = sh.H * sh.W;
        for (let s = 0; s < B; s++) expect(bits(thinB.dx, s * OC * HW, OC * HW), `backward-data to ${OC} channels, sample ${s}`).toEqual(bits(wideB.dx, s * WIDE * HW, OC * HW));
        for (const t of [...thinB.all, ...wideB.all]) be.free(t);
      }
    } finally {
      be.dispose();
    }
  });
});
