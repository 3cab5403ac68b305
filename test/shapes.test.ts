// Shapes through the layer chain (issue 16 item 1, issue 17 item 4): the output-size formulas against brute-force
// counting, the chain and its errors, Flatten and Reshape, summary(), the input shape in specs and model files, and
// the per-batch scratch layers declare: allocated once per workspace, kept from forward to backward, counted by the
// memory estimate, and nothing allocated in steady state.

import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend, Tensor } from '../src/backend/backend.js';
import { createJsBackend } from '../src/backend/js.js';
import { Flatten, Linear, ReLU, Reshape, Sigmoid, Softmax, type Layer, type LayerSpec } from '../src/layers/index.js';
import type { Shape } from '../src/layers/layer.js';
import { convOutSize, convTransposeOutSize, layerShapes, samePadding, shapeSize, conv2dOutputShape, pool2dOutputShape, upsample2dOutputShape, convTranspose2dOutputShape, toPads, toPair } from '../src/layers/shapes.js';
import { trainingParts, workspaceBytes } from '../src/memory.js';
import { Sequential } from '../src/model.js';
import { specChain, type ModelSpec } from '../src/model-spec.js';
import { decodeModelFile, deserializeModel, encodeModelFile, serializeModel } from '../src/formats/model-file.js';
import { decodeCheckpoint, encodeCheckpoint, restoreCheckpoint } from '../src/formats/checkpoint.js';
import { createOptimizer } from '../src/optimizers.js';
import { Rng } from '../src/random.js';
import { backendCases, errorOf, simdnetErrorOf } from './support/backends.js';

// ---- formulas: each against counting the window positions one by one ---------------------------------------

/** Window positions along one axis: starts p = −padBegin, −padBegin + s, … with the window inside the padded input. */
function countWindows(n: number, k: number, s: number, pb: number, pe: number): number {
  let count = 0;
  for (let start = -pb; start + k <= n + pe; start += s) count++;
  return count;
}

describe('output-size formulas', () => {
  it('conv / pool: floor((n + pb + pe − k)/s) + 1 equals the number of window positions', () => {
    let cases = 0;
    for (let n = 1; n <= 30; n++)
      for (const k of [1, 2, 3, 5, 7])
        for (const s of [1, 2, 3])
          for (const [pb, pe] of [[0, 0], [1, 1], [2, 2], [0, 1], [1, 2]]) {
            if (n + pb + pe < k) continue;
            expect(convOutSize(n, k, s, pb, pe), `n ${n} k ${k} s ${s} pads ${pb},${pe}`).toBe(countWindows(n, k, s, pb, pe));
            cases++;
          }
    expect(cases).toBeGreaterThan(1500);
  });

  it("'same': output ceil(n/s), the padding split begin ≤ end (SAME_UPPER), the least that makes it", () => {
    for (let n = 1; n <= 30; n++)
      for (const k of [1, 2, 3, 4, 5])
        for (const s of [1, 2, 3]) {
          const [pb, pe] = samePadding(n, k, s);
          expect(countWindows(n, k, s, pb, pe), `n ${n} k ${k} s ${s}`).toBe(Math.ceil(n / s));
          expect(pe - pb === 0 || pe - pb === 1).toBe(true);
          // one less in total would lose the last window (or there is no padding at all)
          if (pb + pe > 0) expect(countWindows(n, k, s, Math.floor((pb + pe - 1) / 2), pb + pe - 1 - Math.floor((pb + pe - 1) / 2))).toBeLessThan(Math.ceil(n / s));
        }
    expect(samePadding(28, 3, 1)).toEqual([1, 1]);
    expect(samePadding(13, 4, 2)).toEqual([1, 2]); // total (7−1)·2 + 4 − 13 = 3
  });

  it('transposed conv: (n − 1)·s − pb − pe + k + op is the size a conv with the same settings maps back to n', () => {
    for (let n = 1; n <= 20; n++)
      for (const k of [1, 2, 3, 5])
        for (const s of [1, 2, 3])
          for (const [pb, pe] of [[0, 0], [1, 1], [0, 1]])
            for (let op = 0; op < s; op++) {
              const o = convTransposeOutSize(n, k, s, pb, pe, op);
              if (o < 1 || o + pb + pe < k) continue;
              // PyTorch's definition: the conv of an o-sized input gives n, and op extra rows are the ones it drops
              expect(countWindows(o, k, s, pb, pe), `n ${n} k ${k} s ${s} pads ${pb},${pe} op ${op}`).toBe(n);
              if (op > 0) expect(countWindows(o - op, k, s, pb, pe)).toBe(n);
            }
    expect(convTransposeOutSize(14, 3, 2, 1, 1, 1)).toBe(28); // the Keras example's upsampling step
  });

  it('2-D shapes: conv, same, transposed, pool, upsample; E_SHAPE naming where, expected and actual', async () => {
    expect(conv2dOutputShape([1, 28, 28], 'l', 'Conv2D', { in: 1, out: 32, kernel: [3, 3], stride: [1, 1], padding: 'same' })).toEqual([32, 28, 28]);
    expect(conv2dOutputShape([3, 13, 11], 'l', 'Conv2D', { in: 3, out: 17, kernel: [5, 3], stride: [2, 2], padding: [1, 0, 1, 0] })).toEqual([17, 6, 5]);
    expect(conv2dOutputShape([3, 13, 11], 'l', 'Conv2D', { in: 3, out: 4, kernel: [3, 3], stride: [2, 2], padding: 'same' })).toEqual([4, 7, 6]);
    expect(convTranspose2dOutputShape([32, 7, 7], 'l', 'T', { in: 32, out: 32, kernel: [3, 3], stride: [2, 2], padding: [1, 1, 1, 1], outputPadding: [1, 1] })).toEqual([32, 14, 14]);
    expect(pool2dOutputShape([32, 28, 28], 'l', 'MaxPool2D', { kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0] })).toEqual([32, 14, 14]);
    expect(pool2dOutputShape([8, 13, 11], 'l', 'MaxPool2D', { kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0] })).toEqual([8, 6, 5]);
    expect(upsample2dOutputShape([8, 7, 5], 'l', 'Upsample2D', [2, 3])).toEqual([8, 14, 15]);
    expect(await errorOf(() => conv2dOutputShape([784], 'layer 0 (conv2d)', 'Conv2D(1→32)', { in: 1, out: 32, kernel: [3, 3], stride: [1, 1], padding: 'same' })))
      .toBe('layer 0 (conv2d): Conv2D(1→32) expects an input of shape [C, H, W], got [784] (a Reshape before it makes one)');
    expect(await errorOf(() => conv2dOutputShape([3, 28, 28], 'layer 2 (conv2d)', 'Conv2D(1→32)', { in: 1, out: 32, kernel: [3, 3], stride: [1, 1], padding: 0 as never })))
      .toBe('layer 2 (conv2d): Conv2D(1→32) expects 1 input channels, got [3, 28, 28] (3 channels)');
    const small = await simdnetErrorOf(() => pool2dOutputShape([4, 2, 2], 'layer 5 (maxpool2d)', 'MaxPool2D(3×3)', { kernel: [3, 3], stride: [1, 1], padding: [0, 0, 0, 0] }));
    expect(small.code).toBe('E_SHAPE');
    expect(small.message).toBe('layer 5 (maxpool2d): MaxPool2D(3×3) on a 2×2 input with pads [0, 0, 0, 0] gives a 0×0 output; the 3×3 window must fit in the padded input');
  });

  it('constructor arguments as PyTorch takes them: n or [h, w]; padding n, [ph, pw], [t, l, b, r] or same', async () => {
    expect(toPair(3, 'k')).toEqual([3, 3]);
    expect(toPair([5, 3], 'k')).toEqual([5, 3]);
    expect(toPair(0, 'outputPadding', 0)).toEqual([0, 0]);
    expect(toPads(1, 'p', true)).toEqual([1, 1, 1, 1]);
    expect(toPads([1, 2], 'p', true)).toEqual([1, 2, 1, 2]);
    expect(toPads([0, 1, 2, 3], 'p', false)).toEqual([0, 1, 2, 3]);
    expect(toPads('same', 'p', true)).toBe('same');
    expect(await errorOf(() => toPads('same', 'ConvTranspose2D: padding', false))).toMatch(/^ConvTranspose2D: padding: expected .* got "same"$/);
    expect(await errorOf(() => toPair(0, 'Conv2D: stride'))).toBe('Conv2D: stride: expected an integer ≥ 1 or [h, w] of them, got 0');
    expect(await errorOf(() => toPair([2, 2.5], 'Conv2D: kernel'))).toMatch(/Conv2D: kernel: .*got \[2,2\.5\]/);
  });
});

// ---- the chain --------------------------------------------------------------------------------------------

describe('the shape chain', () => {
  let be: Backend;
  beforeAll(async () => {
    be = await createJsBackend();
  });

  it('[1, 28, 28] → ReLU → Flatten → Linear → Softmax: shapes, widths, inputShape and outputShape', () => {
    const model = new Sequential([new ReLU(), new Flatten(), new Linear(784, 10), new Softmax()], { backend: be, inputShape: [1, 28, 28] });
    expect(model.shapes).toEqual([[1, 28, 28], [1, 28, 28], [784], [10], [10]]);
    expect(model.widths).toEqual([784, 784, 784, 10, 10]);
    expect(model.inputShape).toEqual([1, 28, 28]);
    expect(model.outputShape).toEqual([10]);
    expect([model.inputWidth, model.outputWidth]).toEqual([784, 10]);
    model.dispose();
  });

  it('Reshape: a fixed shape, -1 for the rest, and the same values row for row', () => {
    const shapes = layerShapes([new Reshape([-1, 7, 7]), new Flatten(), new Reshape([2, 392])], [784]);
    expect(shapes).toEqual([[784], [16, 7, 7], [784], [2, 392]]);
  });

  it('a Linear after [C, H, W] without Flatten: E_SHAPE naming the layer index, the shape expected and the one given', async () => {
    const e = await simdnetErrorOf(() => new Sequential([new ReLU(), new Linear(784, 10)], { backend: be, inputShape: [1, 28, 28] }));
    expect(e.code).toBe('E_SHAPE');
    expect(e.message).toBe('layer 1 (linear): Linear(784, 10) expects an input of shape [784], got [1, 28, 28] (a Flatten before it makes [784])');
    expect(be.liveAllocations).toBe(0);
  });

  it('Reshape to a size that does not match names both; a bad shape, two -1, inputShape against inputWidth', async () => {
    const e = await simdnetErrorOf(() => new Sequential([new Reshape([3, 5]), new Flatten()], { backend: be, inputWidth: 784 }));
    expect(e.code).toBe('E_SHAPE');
    expect(e.message).toBe('layer 0 (reshape): Reshape to [3, 5] holds 15 values a sample, its input [784] holds 784');
    expect(await errorOf(() => new Sequential([new ReLU(), new Reshape([-1, 5])], { backend: be, inputShape: [2, 3, 4] })))
      .toBe('layer 1 (reshape): Reshape to [-1, 5]: its input [2, 3, 4] holds 24 values a sample, not a multiple of 5');
    expect(await errorOf(() => new Reshape([-1, -1]))).toMatch(/^Reshape: .*one of them may be -1, got \[-1,-1\]$/);
    expect(await errorOf(() => new Reshape([0, 4]))).toMatch(/^Reshape: .*got \[0,4\]$/);
    expect(await errorOf(() => new Sequential([new ReLU()], { backend: be, inputShape: [1, 28, 28], inputWidth: 28 })))
      .toBe('Sequential: options.inputShape [1, 28, 28] holds 784 values, options.inputWidth says 28');
    expect(await errorOf(() => new Sequential([new ReLU()], { backend: be, inputShape: [1, 0, 28] }))).toMatch(/^Sequential: options.inputShape: expected a shape of 1 to 3 positive integers .*got \[1,0,28\]$/);
    expect(await errorOf(() => new Sequential([new ReLU(), new Softmax()], { backend: be, inputShape: [2, 3, 4] })))
      .toBe('layer 1 (softmax): Softmax expects an input of shape [features], got [2, 3, 4] (a Flatten before it makes one)');
    expect(be.liveAllocations).toBe(0);
  });

  it('summary() prints each batch shape as (B, C, H, W)', () => {
    const model = new Sequential([new Reshape([1, 28, 28]), new ReLU(), new Flatten(), new Linear(784, 10), new Softmax()], { backend: be, inputWidth: 784 });
    expect(model.summary().split('\n')).toEqual([
      'layer                 output shape    params',
      '────────────────────────────────────────────',
      'input                 (B, 784)              ',
      '0 Reshape(1, 28, 28)  (B, 1, 28, 28)       0',
      '1 ReLU                (B, 1, 28, 28)       0',
      '2 Flatten             (B, 784)             0',
      '3 Linear(784, 10)     (B, 10)          7,850', // 784·10 + 10
      '4 Softmax             (B, 10)              0',
      '────────────────────────────────────────────',
      'total 7,850 parameters (0.0 MiB of float32)',
    ]);
    const image = new Sequential([new ReLU(), new Flatten()], { backend: be, inputShape: [3, 13, 11] });
    expect(image.summary().split('\n')[2]).toBe('input      (B, 3, 13, 11)        ');
    expect(String(image)).toBe('Sequential([3, 13, 11] → ReLU → Flatten; 0 params)');
    model.dispose();
    image.dispose();
  });

  it('Flatten and Reshape take no memory and change no value: the same outputs and gradients as the model without them', () => {
    const rng = new Rng(4);
    const B = 5;
    const x = new Float32Array(B * 24).map(() => rng.uniform(-1, 1));
    const y = new Float32Array(B * 6).map(() => rng.next());
    const run = (model: Sequential) => {
      model.setWeights(new Float32Array(model.paramCount).map((_, i) => Math.sin(i + 1) / 4));
      be.write(model.input(B), x);
      be.write(model.target(B), y);
      model.zeroGrad();
      const out = be.read(model.forward(B));
      const loss = model.loss(B, 'mse', true);
      return { out, loss, grads: be.read(model.grads) };
    };
    const before = be.liveAllocations;
    const plain = new Sequential([new Linear(24, 6), new Sigmoid()], { backend: be });
    const plainRun = run(plain);
    const plainBlocks = be.liveAllocations - before;
    // a Flatten first (no grads[0] to share), a Reshape last (the loss gradient written through it), two in a row
    const viewed = new Sequential([new Flatten(), new Reshape([4, 6]), new Flatten(), new Linear(24, 6), new Sigmoid(), new Reshape([2, 3]), new Flatten()], { backend: be, inputShape: [2, 3, 4] });
    const viewedRun = run(viewed);
    expect(be.liveAllocations - before - plainBlocks).toBe(plainBlocks + 1); // grads[1]: the only block of their own
    expect(viewedRun.out).toEqual(plainRun.out);
    expect(viewedRun.loss).toBe(plainRun.loss);
    expect(viewedRun.grads).toEqual(plainRun.grads);
    // backward from a gradient of one's own, through the trailing Reshape and Flatten
    const dOut = be.alloc(B, 6);
    be.write(dOut, y);
    const external = (model: Sequential) => {
      model.zeroGrad();
      model.forward(B);
      model.backward(B, dOut);
      return be.read(model.grads);
    };
    const plainGrads = external(plain);
    expect(plainGrads.some((g) => g !== 0)).toBe(true);
    expect(external(viewed)).toEqual(plainGrads);
    be.free(dOut);
    // the fused Sigmoid + BCE gradient (p − y) reaches through the trailing views: the same bits again
    const bce = (model: Sequential) => {
      model.zeroGrad();
      model.forward(B);
      return [model.loss(B, 'bce', true), ...be.read(model.grads)];
    };
    expect(bce(viewed)).toEqual(bce(plain));
    plain.dispose();
    viewed.dispose();
    expect(be.liveAllocations).toBe(before);
  });
});

describe("Linear's init 'pytorch' (nn.Linear's default, the conv layers' too)", () => {
  it('W and b from U(±1/√in): inside the bound, spread as a uniform (std bound/√3 within 5 %), b not zero', async () => {
    const be = await createJsBackend();
    const model = new Sequential([new Linear(400, 300, { init: 'pytorch' })], { backend: be, seed: 9 });
    const [W, b] = model.getWeights(0).map((t) => t.values);
    const bound = 1 / Math.sqrt(400);
    for (const v of [W, b]) {
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(bound);
      const std = Math.sqrt(v.reduce((n, x) => n + x * x, 0) / v.length);
      expect(Math.abs(std / (bound / Math.sqrt(3)) - 1)).toBeLessThan(0.05);
    }
    expect(model.spec().layers[0]).toEqual({ type: 'linear', in: 400, out: 300, init: 'pytorch' });
    model.dispose();
  });
});

// ---- specs and model files -------------------------------------------------------------------------------

describe('the input shape in specs, model files and checkpoints', () => {
  let be: Backend;
  beforeAll(async () => {
    be = await createJsBackend();
  });
  const imageSpec: ModelSpec = { inputWidth: 784, inputShape: [1, 28, 28], layers: [{ type: 'relu' }, { type: 'flatten' }, { type: 'linear', in: 784, out: 10, init: 'glorotUniform' }, { type: 'reshape', shape: [2, 5] }, { type: 'flatten' }] };

  it('spec() records the input shape when it is not flat; fromSpec and the file round trip keep it, and the weights', () => {
    const model = Sequential.fromSpec(imageSpec, { backend: be, seed: 3 });
    expect(model.spec()).toEqual(imageSpec);
    const bytes = serializeModel(model, { note: 'x' });
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + new DataView(bytes.buffer).getUint32(12, true))));
    expect(header.inputShape).toEqual([1, 28, 28]);
    const { model: back } = deserializeModel(bytes, be, 'image.simdnet');
    expect(back.inputShape).toEqual([1, 28, 28]);
    expect(back.shapes).toEqual(model.shapes);
    expect(back.getWeights()).toEqual(model.getWeights());
    expect(serializeModel(back, { note: 'x' })).toEqual(bytes);
    model.dispose();
    back.dispose();
  });

  it('a dense model records no inputShape (its bytes do not move); a file without one loads as [inputWidth]', () => {
    const model = new Sequential([new Linear(6, 3), new Sigmoid()], { backend: be, seed: 1 });
    expect(model.spec()).toEqual({ inputWidth: 6, layers: [{ type: 'linear', in: 6, out: 3, init: 'glorotUniform' }, { type: 'sigmoid' }] });
    const bytes = serializeModel(model);
    const text = new TextDecoder().decode(bytes.subarray(16, 16 + new DataView(bytes.buffer).getUint32(12, true)));
    expect(text.startsWith('{"inputWidth":6,"layers":[')).toBe(true);
    const file = decodeModelFile(bytes);
    expect(file.spec.inputShape).toBeUndefined();
    const { model: back } = deserializeModel(bytes, be);
    expect(back.inputShape).toEqual([6]);
    model.dispose();
    back.dispose();
  });

  it('a header whose inputShape does not fit inputWidth or the layers is refused, naming both', async () => {
    const bytes = encodeModelFile({ spec: { ...imageSpec, inputWidth: 784 }, blocks: { weights: new Float32Array(7850) }, meta: {} });
    expect(decodeModelFile(bytes).spec.inputShape).toEqual([1, 28, 28]);
    const bad = encodeModelFile({ spec: { ...imageSpec, inputShape: [1, 28, 27] }, blocks: { weights: new Float32Array(7850) }, meta: {} });
    expect(await errorOf(() => decodeModelFile(bad, 'm.simdnet'))).toBe('m.simdnet: shapes do not match the declared layers: header: inputShape [1, 28, 27] holds 756 values, inputWidth says 784');
    const unflat = encodeModelFile({ spec: { ...imageSpec, layers: imageSpec.layers.filter((l) => l.type !== 'flatten') }, blocks: { weights: new Float32Array(7850) }, meta: {} });
    const e = await simdnetErrorOf(() => decodeModelFile(unflat, 'm.simdnet'));
    expect(e.code).toBe('E_FILE_CORRUPT');
    expect(e.message).toBe('m.simdnet: shapes do not match the declared layers: layer 1 (linear): Linear(784, 10) expects an input of shape [784], got [1, 28, 28] (a Flatten before it makes [784])');
  });

  it('a checkpoint records the input shape, and a resumed model has it', () => {
    const model = new Sequential([new Flatten(), new Linear(16, 3), new Sigmoid()], { backend: be, inputShape: [1, 4, 4], seed: 2 });
    const opt = createOptimizer('adam');
    be.write(model.input(2), new Float32Array(32).fill(0.5));
    be.write(model.target(2), new Float32Array(6).fill(0.25));
    model.forward(2);
    model.loss(2, 'mse', true);
    opt.step(model);
    const bytes = encodeCheckpoint(model, opt, { epoch: 0, batch: 1, lossSum: 0, seen: 2, seconds: 0, epochs: [] }, {});
    const decoded = decodeCheckpoint(bytes, 'ckpt.simdnet');
    expect(decoded.file.spec.inputShape).toEqual([1, 4, 4]);
    const opt2 = createOptimizer('adam');
    const back = restoreCheckpoint(decoded, be, opt2, 'ckpt.simdnet');
    expect(back.inputShape).toEqual([1, 4, 4]);
    expect(back.getWeights()).toEqual(model.getWeights());
    for (const o of [opt, opt2]) o.dispose();
    model.dispose();
    back.dispose();
  });

  it('specChain: the one way from a spec to its layers, shapes and parameter layout', () => {
    const chain = specChain(imageSpec);
    expect(chain.shapes).toEqual([[1, 28, 28], [1, 28, 28], [784], [10], [2, 5], [10]]);
    expect(chain.layout.total).toBe(7850);
    expect(chain.layers.map((l) => l.type)).toEqual(['relu', 'flatten', 'linear', 'reshape', 'flatten']);
  });
});

// ---- scratch ---------------------------------------------------------------------------------------------

/** ReLU through its scratch: forward copies x into scratch and writes y = relu(scratch); backward takes the mask
 *  from what forward left in scratch. Right only if the scratch is the layer's own, sized as declared, and kept
 *  from forward to backward. Declares an odd size (3 floats more than the batch's values) that depends on the shape. */
class ScratchReLU implements Layer {
  readonly type = 'relu';
  readonly params = [];
  private be!: Backend;
  seen: { inShape: Shape; scratch: number[] }[] = [];
  record = false;
  outputShape(inShape: Shape): Shape {
    return inShape;
  }
  bind(backend: Backend): void {
    this.be = backend;
  }
  scratchSize(batch: number, inShape: Shape): number {
    return batch * shapeSize(inShape) + 3;
  }
  forward(x: Tensor, y: Tensor, scratch: Tensor | null): void {
    if (this.record) this.seen.push({ inShape: [x.rows, x.cols], scratch: [scratch!.rows, scratch!.cols] });
    const n = x.rows * x.cols;
    this.be.kernels.dropout_apply(scratch!.ptr, x.ptr, 0, 0, 0, 0, n); // rate 0: a copy
    this.be.kernels.relu_forward(y.ptr, scratch!.ptr, n);
  }
  backward(_x: Tensor, _y: Tensor, dy: Tensor, dx: Tensor | null, scratch: Tensor | null): void {
    if (dx) this.be.kernels.relu_backward(dx.ptr, dy.ptr, scratch!.ptr, dy.rows * dy.cols); // x > 0 ⇔ relu(x) > 0
  }
  spec(): LayerSpec {
    return { type: 'relu' };
  }
}

describe.each(backendCases())('scratch on the $label backend', ({ make }) => {
  let be: Backend;
  beforeAll(async () => {
    be = await make();
  });

  const build = (relu: () => Layer, seed: number) => new Sequential([new Linear(12, 16), relu(), new Linear(16, 8), relu(), new Linear(8, 12), new Sigmoid()], { backend: be, seed, fuse: false });

  it('each layer gets its own scratch of the declared size, kept from forward to backward: the same bits as ReLU', () => {
    const rng = new Rng(7);
    const x = new Float32Array(9 * 12).map(() => rng.uniform(-1, 1));
    const results = [() => new ReLU(), () => new ScratchReLU()].map((relu) => {
      const model = build(relu, 5);
      const B = 9;
      be.write(model.input(B), x);
      be.write(model.target(B), x.map((v) => (v + 1) / 2));
      model.zeroGrad();
      const out = be.read(model.forward(B));
      model.loss(B, 'bce', true);
      const grads = be.read(model.grads);
      const layers = model.layers.filter((l): l is ScratchReLU => l instanceof ScratchReLU);
      for (const l of layers) l.record = true;
      model.forward(4);
      const seen = layers.map((l) => l.seen);
      model.dispose();
      return { out, grads, seen };
    });
    expect(results[1].out).toEqual(results[0].out);
    expect(results[1].grads).toEqual(results[0].grads);
    expect(results[1].seen).toEqual([[{ inShape: [4, 16], scratch: [1, 4 * 16 + 3] }], [{ inShape: [4, 8], scratch: [1, 4 * 8 + 3] }]]);
  });

  it('the memory estimate counts the scratch: what a workspace allocates, within alignment', () => {
    const model = build(() => new ScratchReLU(), 1);
    const plain = build(() => new ReLU(), 1);
    for (const B of [1, 7, 64]) {
      expect(workspaceBytes(model, B) - workspaceBytes(plain, B)).toBe(4 * (B * 16 + 3 + B * 8 + 3));
      const start = be.availableBytes!;
      model.input(B);
      const used = start - be.availableBytes!;
      // 14 blocks (7 acts, 6 grads, the target) and 2 scratch blocks, each rounded up to 16 bytes
      expect(used - workspaceBytes(model, B)).toBeGreaterThanOrEqual(0);
      expect(used - workspaceBytes(model, B)).toBeLessThan(16 * 16);
    }
    const parts = trainingParts({ paramCount: model.paramCount, chain: model, batchSize: 64, rows: 100, sameTargets: true, optimizer: { name: 'adam', slots: 2 }, withModel: false });
    expect(parts.find((p) => p.what === 'batches of 64')!.bytes).toBe(workspaceBytes(model, 64) + workspaceBytes(model, 36));
    // and before any model is built (the CLI's check), from layers that are not bound
    const chain = { layers: model.layers.map((l) => (l instanceof ScratchReLU ? new ScratchReLU() : l)), shapes: model.shapes };
    expect(workspaceBytes(chain, 64)).toBe(workspaceBytes(model, 64));
    model.dispose();
    plain.dispose();
  });

  it('a steady-state training step with scratch-declaring layers allocates nothing: 100 steps after warm-up', () => {
    const model = build(() => new ScratchReLU(), 2);
    const opt = createOptimizer('adam');
    const rng = new Rng(2);
    const pool = new Float32Array(60 * 12).map(() => rng.next());
    const order = Int32Array.from({ length: 60 }, (_, i) => (i * 7) % 60);
    const step = (i: number) => {
      const rows = i % 4 === 3 ? 5 : 16; // a full and a partial batch, as fit's epochs end
      be.gatherRows(model.input(rows), pool, order, (i * 16) % 40, rows);
      be.gatherRows(model.target(rows), pool, order, (i * 16) % 40, rows);
      model.zeroGrad();
      model.forward(rows);
      const loss = model.loss(rows, 'bce', true);
      opt.step(model);
      return loss;
    };
    for (let i = 0; i < 8; i++) step(i);
    const live = be.liveAllocations, bytes = be.memory.buffer.byteLength, buffer = be.memory.buffer;
    const first = step(8);
    let last = first;
    for (let i = 9; i < 108; i++) {
      last = step(i);
      if (be.liveAllocations !== live || be.memory.buffer.byteLength !== bytes) throw new Error(`step ${i} allocated: ${be.liveAllocations} live (was ${live})`);
    }
    expect(be.liveAllocations).toBe(live);
    expect(be.memory.buffer).toBe(buffer);
    expect(last).toBeLessThan(first);
    opt.dispose();
    model.dispose();
  });
});
