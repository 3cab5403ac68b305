// MaxPool2D, AvgPool2D and Upsample2D as layers: PyTorch's constructor defaults, what they refuse (a SimdnetError
// naming the argument, the expected and the actual), their names in summary(), their specs through layerFromSpec and
// a model file, the argmax scratch MaxPool2D declares, and a model's forward and backward against the float64
// reference on every backend (the gradients themselves: test/gradients.test.ts).

import { describe, expect, it } from 'vitest';
import { AvgPool2D, Flatten, Linear, MaxPool2D, Reshape, Upsample2D, layerFromSpec, type LayerSpec } from '../src/layers/index.js';
import { deserializeModel, serializeModel } from '../src/formats/model-file.js';
import { layerShapes } from '../src/layers/shapes.js';
import { Sequential } from '../src/model.js';
import { Rng } from '../src/random.js';
import { backendCases, errorOf, simdnetErrorOf } from './support/backends.js';
import { expectClose } from './support/close.js';
import { pool2d64 } from './support/reference.js';

describe('constructors', () => {
  it('take PyTorch defaults: stride = kernel, padding 0, countIncludePad true', () => {
    const m = new MaxPool2D(2);
    expect([m.kernel, m.stride, m.padding]).toEqual([[2, 2], [2, 2], [0, 0, 0, 0]]);
    const a = new AvgPool2D([3, 2], { stride: 1, padding: [1, 0] });
    expect([a.kernel, a.stride, a.padding, a.countIncludePad]).toEqual([[3, 2], [1, 1], [1, 0, 1, 0], true]);
    expect(new AvgPool2D(3, { padding: [1, 1, 0, 2], countIncludePad: false }).spec()).toEqual({ type: 'avgpool2d', kernel: [3, 3], stride: [3, 3], padding: [1, 1, 0, 2], countIncludePad: false });
    expect(new Upsample2D([2, 3]).spec()).toEqual({ type: 'upsample2d', scale: [2, 3] });
  });

  it('name themselves as summary() prints them', () => {
    expect(new MaxPool2D(2).describe()).toBe('MaxPool2D(2×2)');
    expect(new MaxPool2D(3, { stride: 1, padding: 1 }).describe()).toBe('MaxPool2D(3×3, s1, pad 1)');
    expect(new AvgPool2D(3, { stride: [2, 1], padding: [1, 0, 0, 1], countIncludePad: false }).describe()).toBe('AvgPool2D(3×3, s2×1, pad [1, 0, 0, 1], exclude pad)');
    expect(new Upsample2D(2).describe()).toBe('Upsample2D(×2)');
    expect(new Upsample2D([2, 1]).describe()).toBe('Upsample2D(×2×1)');
  });

  it('refuse bad arguments with an error naming the argument, the expected and the actual', async () => {
    expect(await errorOf(() => new MaxPool2D(0))).toBe('MaxPool2D kernel: expected an integer ≥ 1 or [h, w] of them, got 0');
    expect(await errorOf(() => new AvgPool2D(2, { stride: [1, 1.5] }))).toBe('AvgPool2D stride: expected an integer ≥ 1 or [h, w] of them, got [1,1.5]');
    expect(await errorOf(() => new MaxPool2D(2, { padding: 'same' as never }))).toBe('MaxPool2D padding: expected an integer ≥ 0, [ph, pw], [top, left, bottom, right], got "same"');
    expect(await errorOf(() => new MaxPool2D(2, { padding: [0, 0, 2, 0] }))).toBe('MaxPool2D padding: each pad must be smaller than the 2×2 kernel on its axis (a window would hold padding only), got [0, 0, 2, 0]');
    expect(await errorOf(() => new AvgPool2D(2, { countIncludePad: 1 as never }))).toBe('AvgPool2D countIncludePad: expected true or false, got 1');
    expect(await errorOf(() => new Upsample2D([2, 0]))).toBe('Upsample2D scale: expected an integer ≥ 1 or [h, w] of them, got [2,0]');
  });

  it('refuse an input that is not [C, H, W], or too small for the window, naming the layer', async () => {
    expect(await errorOf(() => layerShapes([new MaxPool2D(2)], [784]))).toMatch(/^layer 0 \(maxpool2d\): MaxPool2D expects an input of shape \[C, H, W\], got \[784\]/);
    expect(await errorOf(() => layerShapes([new Reshape([1, 2, 2]), new AvgPool2D(3)], [4]))).toMatch(/^layer 1 \(avgpool2d\): AvgPool2D on a 2×2 input/);
    expect((await simdnetErrorOf(() => layerShapes([new Upsample2D(2)], [3]))).code).toBe('E_SHAPE');
  });

  it('come back from their specs (layerFromSpec), which are checked the same way, naming the layer', async () => {
    const specs: LayerSpec[] = [
      { type: 'maxpool2d', kernel: [3, 2], stride: [1, 2], padding: [1, 0, 1, 1] },
      { type: 'avgpool2d', kernel: [2, 2], stride: [2, 2], padding: [0, 0, 1, 1], countIncludePad: false },
      { type: 'upsample2d', scale: [3, 1] },
    ];
    for (const s of specs) expect(layerFromSpec(s).spec()).toEqual(s);
    expect(await errorOf(() => layerFromSpec({ type: 'maxpool2d', kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0] as never }, 'layer 4'))).toBe(
      'layer 4: MaxPool2D padding: expected an integer ≥ 0, [ph, pw], [top, left, bottom, right], got [0,0,0]',
    );
    expect(await errorOf(() => layerFromSpec({ type: 'upsample2d', scale: 'x' as never }, 'layer 2'))).toBe('layer 2: Upsample2D scale: expected an integer ≥ 1 or [h, w] of them, got "x"');
  });

  it('MaxPool2D declares one scratch element a output element (its argmax), the others none', () => {
    expect(new MaxPool2D(2).scratchSize(5, [3, 13, 11])).toBe(5 * 3 * 6 * 5);
    expect((new AvgPool2D(2) as { scratchSize?: unknown }).scratchSize).toBeUndefined();
    expect((new Upsample2D(2) as { scratchSize?: unknown }).scratchSize).toBeUndefined();
  });
});

describe.each(backendCases())('a pooling model on the $label backend', ({ make }) => {
  const layers = () => [new Reshape([3, 9, 8]), new MaxPool2D(3, { stride: 2, padding: 1 }), new Upsample2D(2), new AvgPool2D(2, { stride: 1, padding: [0, 1, 1, 0], countIncludePad: false }), new Flatten()];

  it('forward and the input gradient equal the float64 chain; a model file brings back the same layers and outputs', async () => {
    const be = await make();
    const model = new Sequential(layers(), { backend: be, inputShape: [216] });
    expect(model.shapes).toEqual([[216], [3, 9, 8], [3, 5, 4], [3, 10, 8], [3, 10, 8], [240]]);
    expect(model.summary()).toContain('MaxPool2D(3×3, s2, pad 1)');
    const B = 4;
    const rng = new Rng(9);
    const x = Float32Array.from({ length: B * 216 }, () => rng.uniform(-1, 1));
    const dy = Float32Array.from({ length: B * 240 }, () => rng.uniform(-1, 1));
    // float64: the same three ops, forward, then the gradient back through them
    const N = B * 3;
    const ops = [
      { op: 'max', kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1], H: 9, W: 8 },
      { op: 'up', scale: [2, 2], H: 5, W: 4 },
      { op: 'avg', kernel: [2, 2], stride: [1, 1], pads: [0, 1, 1, 0], countIncludePad: false, H: 10, W: 8 },
    ] as const;
    const acts: ArrayLike<number>[] = [x];
    for (const o of ops) acts.push(pool2d64(o, acts.at(-1)!, null, N, o.H, o.W).y);
    let g: ArrayLike<number> = dy;
    for (let i = ops.length - 1; i >= 0; i--) g = pool2d64(ops[i], acts[i], g, N, ops[i].H, ops[i].W).dx;

    be.write(model.input(B), x);
    const out = be.read(model.forward(B));
    expectClose('output', out, acts.at(-1)!, 1e-6, 1e-6);
    const dOut = be.alloc(B, 240);
    be.write(dOut, dy);
    model.backward(B, dOut);
    be.free(dOut);

    const back = deserializeModel(serializeModel(model), be).model;
    expect(back.spec()).toEqual(model.spec());
    be.write(back.input(B), x);
    expect(be.read(back.forward(B))).toEqual(out);
    back.dispose();
    model.dispose();
    be.dispose();
    // the input gradient: a model whose first layer has an input gradient to give (a Linear with W = I, b = 0)
    const be2 = await make();
    const withInput = new Sequential([new Linear(216, 216), ...layers()], { backend: be2 });
    const eye = new Float32Array(216 * 216 + 216);
    for (let i = 0; i < 216; i++) eye[i * 216 + i] = 1;
    withInput.setWeights(eye);
    be2.write(withInput.input(B), x);
    withInput.zeroGrad();
    expectClose('output through an identity Linear', be2.read(withInput.forward(B)), acts.at(-1)!, 1e-6, 1e-6);
    const d2 = be2.alloc(B, 240);
    be2.write(d2, dy);
    withInput.backward(B, d2);
    be2.free(d2);
    // ∂L/∂b of the identity Linear is the column sum of the input gradient
    const db = be2.read(withInput.grads).subarray(216 * 216);
    const want = new Float64Array(216);
    for (let r = 0; r < B; r++) for (let j = 0; j < 216; j++) want[j] += g[r * 216 + j];
    expectClose('∂L/∂b = Σ_rows ∂L/∂x', db, want, 1e-5, 1e-5);
    withInput.dispose();
    be2.dispose();
  });
});
