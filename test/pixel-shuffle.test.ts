// PixelUnshuffle2D and PixelShuffle2D (space ↔ depth): the kernels (assembly/pool.ts, their js twins in
// src/backend/pool-js.ts) and the layers.
//
//   * kernels on every backend (and the one-thread builds) against a float64 reference written as PyTorch defines
//     the ops (a view and a permute, test/support/reference.ts): a permutation, so the same bits, forward and back;
//     factors 1 to 4, depth widths that take the r = 2 SIMD path with and without its tail, odd sizes;
//   * PyTorch 1.13 (F.pixel_unshuffle, F.pixel_shuffle and their autograd), one python start-up in beforeAll
//     (test/support/shuffle_peer.py): the same bits;
//   * the layers: shapes, refusals (a factor that does not divide H, W or the channels names the layer, the shape
//     and the factor), specs, summary; a conv denoiser PixelUnshuffle(2) → convs → PixelShuffle(2) → Sigmoid that fit
//     trains, whose model file and checkpoint bring back the same outputs.
// Gradients by finite differences: test/gradients.test.ts; thread-count bit identity: test/threads.test.ts.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend, Tensor } from '../src/backend/backend.js';
import { availableWasmVariants, createWasmBackend } from '../src/backend/wasm.js';
import { loadBundledMnist } from '../src/data/mnist-bundled.js';
import { decodeCheckpoint, encodeCheckpoint, restoreCheckpoint } from '../src/formats/checkpoint.js';
import { deserializeModel, serializeModel } from '../src/formats/model-file.js';
import { Conv2D, PixelShuffle2D, PixelUnshuffle2D, ReLU, Sigmoid, layerFromSpec, type LayerSpec } from '../src/layers/index.js';
import { layerShapes } from '../src/layers/shapes.js';
import { Sequential } from '../src/model.js';
import { specChain } from '../src/model-spec.js';
import { convAutoencoderSpec } from '../src/models.js';
import { checkTrainConfig, runModelSpec } from '../src/training/run.js';
import { createOptimizer } from '../src/optimizers.js';
import { Rng } from '../src/random.js';
import { evaluate } from '../src/training/evaluate.js';
import { fit } from '../src/training/fit.js';
import { backendCases, errorOf, simdnetErrorOf } from './support/backends.js';
import { pixelShuffle64 } from './support/reference.js';

const cases = [
  ...backendCases(),
  ...availableWasmVariants().filter((v) => v !== 'scalar').map((variant) => ({ label: `wasm ${variant}, 1 thread`, make: () => createWasmBackend({ variant, threads: 1 }) })),
];
const backends: Backend[] = await Promise.all(cases.map((c) => c.make()));

// =====================================================================================================
// Kernels
// =====================================================================================================

interface Case {
  op: 'unshuffle' | 'shuffle';
  /** B, C (the space side's channels), H, W (the depth side's size), r */
  B: number;
  C: number;
  H: number;
  W: number;
  r: number;
}
// depth widths 4, 8 (the r = 2 SIMD path alone), 7, 5 (with a tail), 3 (the tail alone); odd sizes; r 1, 3, 4
const DIMS: Array<[number, number, number, number, number]> = [
  [2, 3, 5, 7, 2], [1, 1, 14, 14, 2], [3, 2, 4, 8, 2], [2, 1, 3, 3, 2], [1, 17, 2, 5, 2], [2, 3, 13, 11, 1], [2, 2, 5, 4, 3], [1, 3, 3, 7, 4],
];
const CASES: Case[] = DIMS.flatMap(([B, C, H, W, r]) => (['unshuffle', 'shuffle'] as const).map((op) => ({ op, B, C, H, W, r })));
const name = (c: Case) => `${c.op} r${c.r}: ${c.op === 'unshuffle' ? `${c.B}×${c.C}×${c.H * c.r}×${c.W * c.r}` : `${c.B}×${c.C * c.r * c.r}×${c.H}×${c.W}`}`;

function inputs(c: Case, seed: number): { x: Float32Array; dy: Float32Array } {
  const rng = new Rng(seed);
  const n = c.B * c.C * c.H * c.W * c.r * c.r;
  return { x: Float32Array.from({ length: n }, () => rng.uniform(-1, 1)), dy: Float32Array.from({ length: n }, () => rng.uniform(-1, 1)) };
}

/** The case's kernel on x, then its backward (the other kernel) on dy; outputs start as NaN (they must be
 *  overwritten); memory does not grow and every allocation is freed. */
function run(be: Backend, c: Case, x: Float32Array, dy: Float32Array): { y: Float32Array; dx: Float32Array } {
  const live = be.liveAllocations;
  const t = () => {
    const a = be.alloc(1, x.length);
    be.write(a, new Float32Array(x.length).fill(NaN));
    return a;
  };
  const [tx, ty, tdy, tdx] = [t(), t(), t(), t()];
  be.write(tx, x);
  be.write(tdy, dy);
  const bytes = be.memory.buffer.byteLength;
  const k = be.kernels;
  const N = c.B * c.C;
  if (c.op === 'unshuffle') {
    k.pixel_unshuffle(ty.ptr, tx.ptr, N, c.H, c.W, c.r);
    k.pixel_shuffle(tdx.ptr, tdy.ptr, N, c.H, c.W, c.r);
  } else {
    k.pixel_shuffle(ty.ptr, tx.ptr, N, c.H, c.W, c.r);
    k.pixel_unshuffle(tdx.ptr, tdy.ptr, N, c.H, c.W, c.r);
  }
  expect(be.memory.buffer.byteLength, 'a kernel call grew memory').toBe(bytes);
  const got = { y: be.read(ty), dx: be.read(tdx) };
  for (const a of [tx, ty, tdy, tdx] as Tensor[]) be.free(a);
  expect(be.liveAllocations).toBe(live);
  return got;
}

function expectSameBits(what: string, got: Float32Array, want: Float32Array): void {
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length), b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  expect(a.length, `${what}: length`).toBe(b.length);
  let first = -1;
  for (let i = 0; i < b.length && first < 0; i++) if (a[i] !== b[i]) first = i;
  expect(first, `${what}: first element with other bits (got ${got[first]}, want ${want[first]})`).toBe(-1);
}

describe.each(cases.map((c, i) => [c.label, backends[i]] as const))('%s: pixel shuffle kernels against the float64 reference', (_label, be) => {
  it.each(CASES.map((c, i) => [name(c), c, i] as const))('%s', (what, c, i) => {
    const { x, dy } = inputs(c, 100 + i);
    const ref = pixelShuffle64(c.op, x, dy, c.B, c.C, c.H, c.W, c.r);
    const got = run(be, c, x, dy);
    // a permutation of f32 values: exactly the reference's, forward and backward
    expectSameBits(`${what} y`, got.y, Float32Array.from(ref.y));
    expectSameBits(`${what} dx`, got.dx, Float32Array.from(ref.dx));
  });
});

// =====================================================================================================
// PyTorch 1.13
// =====================================================================================================

const b64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const f32 = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const TORCH = CASES.map((c, i) => ({ c, ...inputs(c, 500 + i) }));
let torch: { version: string; results: Array<{ y: Float32Array; dx: Float32Array; shape: number[] }> };

beforeAll(() => {
  const request = TORCH.map(({ c, x, dy }) => ({
    op: c.op, r: c.r, x: b64(x), dy: b64(dy),
    shape: c.op === 'unshuffle' ? [c.B, c.C, c.H * c.r, c.W * c.r] : [c.B, c.C * c.r * c.r, c.H, c.W],
  }));
  const out = execFileSync('/usr/bin/python3', [join(import.meta.dirname, 'support/shuffle_peer.py')], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 1 << 26 });
  const parsed = JSON.parse(out) as { torch: string; results: Array<{ y: string; dx: string; shape: number[] }> };
  torch = { version: parsed.torch, results: parsed.results.map((r) => ({ y: f32(r.y), dx: f32(r.dx), shape: r.shape })) };
});

describe('PyTorch 1.13', () => {
  it('is PyTorch 1.13', () => expect(torch.version).toMatch(/^1\.13/));
  it.each(cases.map((c, i) => [c.label, backends[i]] as const))('%s: every case gives the bits of F.pixel_unshuffle / F.pixel_shuffle and their autograd', (_label, be) => {
    for (const [i, { c, x, dy }] of TORCH.entries()) {
      const t = torch.results[i];
      const what = name(c);
      expect(t.shape, `${what}: output shape`).toEqual(c.op === 'unshuffle' ? [c.B, c.C * c.r * c.r, c.H, c.W] : [c.B, c.C, c.H * c.r, c.W * c.r]);
      const got = run(be, c, x, dy);
      expectSameBits(`${what} y`, got.y, t.y);
      expectSameBits(`${what} dx`, got.dx, t.dx);
    }
  });
});

// =====================================================================================================
// Layers
// =====================================================================================================

describe('the layers', () => {
  it('shapes as PyTorch: [C, H, W] → [C·r², H/r, W/r] and back; no parameters, no scratch, not in place', () => {
    expect(layerShapes([new PixelUnshuffle2D(2)], [1, 28, 28])).toEqual([[1, 28, 28], [4, 14, 14]]);
    expect(layerShapes([new PixelUnshuffle2D(3), new PixelShuffle2D(3)], [2, 9, 12])).toEqual([[2, 9, 12], [18, 3, 4], [2, 9, 12]]);
    expect(layerShapes([new PixelShuffle2D(2)], [12, 5, 7])).toEqual([[12, 5, 7], [3, 10, 14]]);
    for (const l of [new PixelUnshuffle2D(2), new PixelShuffle2D(2)]) {
      expect(l.params).toEqual([]);
      expect((l as { scratchSize?: unknown }).scratchSize).toBeUndefined();
      expect((l as { inPlace?: boolean }).inPlace).toBeFalsy();
    }
  });

  it('refuse a factor that does not divide the input, naming the layer, the shape and the factor', async () => {
    expect(await errorOf(() => layerShapes([new PixelUnshuffle2D(2)], [1, 27, 28]))).toBe('layer 0 (pixel-unshuffle2d): PixelUnshuffle2D needs H and W divisible by its factor 2, got [1, 27, 28] (27×28)');
    expect(await errorOf(() => layerShapes([new PixelUnshuffle2D(3)], [1, 9, 10]))).toBe('layer 0 (pixel-unshuffle2d): PixelUnshuffle2D needs H and W divisible by its factor 3, got [1, 9, 10] (9×10)');
    expect(await errorOf(() => layerShapes([new PixelShuffle2D(2)], [6, 4, 4]))).toBe('layer 0 (pixel-shuffle2d): PixelShuffle2D needs channels divisible by its factor² 4, got [6, 4, 4] (6 channels)');
    expect(await errorOf(() => layerShapes([new PixelShuffle2D(2)], [16]))).toMatch(/^layer 0 \(pixel-shuffle2d\): PixelShuffle2D expects an input of shape \[C, H, W\], got \[16\]/);
    expect((await simdnetErrorOf(() => layerShapes([new PixelUnshuffle2D(2)], [1, 3, 4]))).code).toBe('E_SHAPE');
  });

  it('refuse a factor that is not an integer ≥ 1, also from a spec (naming the layer)', async () => {
    expect(await errorOf(() => new PixelUnshuffle2D(0))).toBe('PixelUnshuffle2D factor: expected an integer ≥ 1, got 0');
    expect(await errorOf(() => new PixelShuffle2D(1.5))).toBe('PixelShuffle2D factor: expected an integer ≥ 1, got 1.5');
    expect(await errorOf(() => new PixelShuffle2D([2, 2] as never))).toBe('PixelShuffle2D factor: expected an integer ≥ 1, got [2,2]');
    expect(await errorOf(() => layerFromSpec({ type: 'pixel-unshuffle2d', factor: '2' as never }, 'layer 3'))).toBe('layer 3: PixelUnshuffle2D factor: expected an integer ≥ 1, got "2"');
  });

  it('come back from their specs, and summary() names them', () => {
    const specs: LayerSpec[] = [{ type: 'pixel-unshuffle2d', factor: 2 }, { type: 'pixel-shuffle2d', factor: 3 }];
    for (const s of specs) expect(layerFromSpec(s).spec()).toEqual(s);
    expect(new PixelUnshuffle2D(2).describe()).toBe('PixelUnshuffle2D(2)');
    expect(new PixelShuffle2D(4).describe()).toBe('PixelShuffle2D(4)');
  });
});

// the lead's recipe, small: 1×28×28 → PixelUnshuffle(2) → 4×14×14 → conv 3×3 → ReLU → conv 3×3 → 4 → PixelShuffle(2) → Sigmoid
const denoiser = () => [new PixelUnshuffle2D(2), new Conv2D(4, 8, 3, { padding: 'same' }), new ReLU(), new Conv2D(8, 4, 3, { padding: 'same' }), new PixelShuffle2D(2), new Sigmoid()];
const digits = loadBundledMnist().train.images.subarray(0, 160 * 784);
const options = { epochs: 2, batchSize: 32, loss: 'bce' as const, seed: 4, noise: { kind: 'gaussian' as const, factor: 0.3 } };

describe.each(backendCases())('a PixelUnshuffle → conv → PixelShuffle denoiser on the $label backend', ({ make }) => {
  it('fit lowers its loss; its model file and a checkpoint bring back the same outputs', async () => {
    const be = await make();
    const model = new Sequential(denoiser(), { backend: be, inputShape: [1, 28, 28], seed: 1 });
    expect(model.shapes).toEqual([[1, 28, 28], [4, 14, 14], [8, 14, 14], [8, 14, 14], [4, 14, 14], [1, 28, 28], [1, 28, 28]]);
    expect(model.summary()).toContain('PixelUnshuffle2D(2)');
    const opt = createOptimizer('adam', { lr: 3e-3 });
    let saved: Uint8Array | undefined;
    const before = evaluate(model, { x: digits, y: digits }, { loss: 'bce' }).testLoss;
    const h = await fit(model, { train: { x: digits, y: digits } }, { ...options, optimizer: opt, checkpointEvery: 5, onCheckpoint: (p) => void (saved = encodeCheckpoint(model, opt, p, {})) });
    expect(h.epochs[0].trainLoss).toBeLessThan(before);
    expect(h.epochs[1].trainLoss).toBeLessThan(h.epochs[0].trainLoss);

    const x = digits.subarray(0, 3 * 784);
    const out = model.predict(x);
    const back = deserializeModel(serializeModel(model), be).model;
    expect(back.spec()).toEqual(model.spec());
    expect(back.spec().layers.map((l) => l.type)).toEqual(['pixel-unshuffle2d', 'conv2d', 'relu', 'conv2d', 'pixel-shuffle2d', 'sigmoid']);
    expect(back.predict(x)).toEqual(out);
    back.dispose();
    const restored = restoreCheckpoint(decodeCheckpoint(saved!, 'c'), be, createOptimizer('adam', { lr: 3e-3 }), 'c');
    expect(restored.spec()).toEqual(model.spec());
    expect(restored.inputShape).toEqual([1, 28, 28]);
    restored.dispose();
    model.dispose();
    be.dispose();
  });
});

describe('the denoiser: the same model bytes with 1, 2, 3 and 8 threads', () => {
  it.each(availableWasmVariants().filter((v) => v !== 'scalar'))('%s build', async (variant) => {
    const runs: string[] = [];
    for (const threads of [1, 2, 3, 8]) {
      const be = await createWasmBackend({ variant, threads });
      const model = new Sequential(denoiser(), { backend: be, inputShape: [1, 28, 28], seed: 2 });
      await fit(model, { train: { x: digits, y: digits } }, { ...options, epochs: 1, optimizer: 'adam', lr: 3e-3 });
      runs.push(Buffer.from(serializeModel(model)).toString('hex'));
      model.dispose();
      be.dispose();
    }
    for (const r of runs.slice(1)) expect(r === runs[0]).toBe(true);
  });
});

describe('the conv denoiser with pixelShuffle (convAutoencoderSpec, a run\'s settings)', () => {
  it("wraps the convolutions in PixelUnshuffle2D(r) … PixelShuffle2D(r), the Sigmoid last; 1 or absent changes nothing", () => {
    const spec = convAutoencoderSpec({ channels: [64, 64], pixelShuffle: 2 });
    expect(spec.layers.map((l) => (l.type === 'conv2d' ? `conv ${l.in}→${l.out}` : 'factor' in l ? `${l.type} ${l.factor}` : l.type))).toEqual(['pixel-unshuffle2d 2', 'conv 4→64', 'relu', 'conv 64→64', 'relu', 'conv 64→4', 'pixel-shuffle2d 2', 'sigmoid']);
    expect(specChain(spec).shapes.slice(1, 3)).toEqual([[4, 14, 14], [64, 14, 14]]);
    expect(convAutoencoderSpec({ pixelShuffle: 1 })).toEqual(convAutoencoderSpec());
    expect(runModelSpec({ model: 'conv', hidden: [128], activation: 'relu' })).toEqual(convAutoencoderSpec());
    expect(runModelSpec({ model: 'conv', hidden: [128], activation: 'relu', pixelShuffle: 4, channels: [8] }).layers[0]).toEqual({ type: 'pixel-unshuffle2d', factor: 4 });
  });

  it('refuses a factor that does not divide the image, and pixelShuffle in a dense run', async () => {
    expect(await errorOf(() => convAutoencoderSpec({ pixelShuffle: 3 }))).toBe("conv autoencoder: pixelShuffle 3 must divide the image's height and width, got 28×28");
    expect(await errorOf(() => convAutoencoderSpec({ pixelShuffle: 0 }))).toBe('conv autoencoder: pixelShuffle must be an integer ≥ 1 (1: none), got 0');
    const base = { epochs: 1, batchSize: 8, lr: 1e-3, optimizer: 'adam', hidden: [128], activation: 'relu', loss: 'bce', noise: 'gaussian', noiseFactor: 0.3, seed: 0 };
    expect(await errorOf(() => checkTrainConfig({ ...base, pixelShuffle: 2 }, 'c'))).toBe(`c: config.pixelShuffle: expected nothing for a dense model (it is the conv model's), got 2`);
    expect(await errorOf(() => checkTrainConfig({ ...base, model: 'conv', pixelShuffle: 5 }, 'c'))).toBe("c: config.pixelShuffle: expected a factor of the digits' 28×28 (1, 2, 4, 7, 14, 28), got 5");
    expect(checkTrainConfig({ ...base, model: 'conv', pixelShuffle: 2 }, 'c').pixelShuffle).toBe(2);
  });
});
