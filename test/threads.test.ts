// The threaded wasm builds: results are bit-identical whatever the thread count, the pool leaves nothing running,
// and threaded training allocates nothing per step.
//
//   * every kernel, on shapes large enough to be split, gives the same bits with 1, 2, 3 and 8 threads;
//   * fit gives the same model bytes (and losses) with 1, 2, 3 and 8 threads: the autoencoder (BCE, Adam, gaussian
//     noise), a classifier (softmax + cross-entropy, momentum, salt-and-pepper) and an MSE/SGD/tanh net with masking;
//   * backend.threads / threadsNote say what runs; dispose() stops every worker; a Node process that trained
//     exits by itself;
//   * 2,000 threaded steps leave liveAllocations and the memory size where they were.

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { ACT, stripFloats, type Backend, type Kernels } from '../src/backend/backend.js';
import { convScratchFloats, convTransposeScratchFloats } from '../src/backend/conv-scratch.js';
import { availableWasmVariants, createWasmBackend, type WasmVariant } from '../src/backend/wasm.js';
import { oneHot } from '../src/data/dataset.js';
import { loadBundledMnist } from '../src/data/mnist-bundled.js';
import { AvgPool2D, Flatten, Linear, MaxPool2D, ReLU, Reshape, Sigmoid, Softmax, Tanh, Upsample2D } from '../src/layers/index.js';
import { Sequential } from '../src/model.js';
import { serializeModel } from '../src/formats/model-file.js';
import { autoencoder } from '../src/models.js';
import { Rng } from '../src/random.js';
import { fit } from '../src/training/fit.js';
import type { FitOptions } from '../src/training/types.js';

const variants = availableWasmVariants().filter((v): v is Exclude<WasmVariant, 'scalar'> => v !== 'scalar');
const COUNTS = [1, 2, 3, 8];
const data = loadBundledMnist();

async function backends(variant: WasmVariant): Promise<Backend[]> {
  return Promise.all(COUNTS.map((threads) => createWasmBackend({ variant, threads })));
}

// =====================================================================================================
// Kernels
// =====================================================================================================

interface KernelCase {
  name: string;
  /** buffers and their sizes (floats); all start from the same seeded values */
  sizes: Record<string, number>;
  run(k: Kernels, p: Record<string, number>): number | void;
  /** f32 elements of scratch the kernel needs at 8 threads (buffer `s`, not compared), checked against its size */
  scratch?(): number;
}

const B = 96, IN = 784, H = 136, OUT = 784; // odd-ish sizes: partial tiles and uneven cuts
const PLANES = 64 * 17; // B·C planes of the pooling kernels
const UP_PLANES = 16 * 17; // upsample's: enough work for 8 parts
const CASES: KernelCase[] = [
  ...([[0, 0], [1, 0], [0, 1], [1, 1]] as const).map(([ta, tb]) => ({
    name: `gemm transA=${ta} transB=${tb} accumulate`,
    sizes: { c: 200 * 136, a: 200 * 300, b: 300 * 136 },
    run: (k: Kernels, p: Record<string, number>) => k.gemm(p.c, p.a, p.b, 200, 136, 300, ta, tb, 1),
  })),
  { name: 'gemm M = 3 (small-M path, split by columns)', sizes: { c: 3 * 784, a: 3 * 512, b: 512 * 784 }, run: (k, p) => k.gemm(p.c, p.a, p.b, 3, 784, 512, 0, 0, 0) },
  ...[ACT.none, ACT.relu, ACT.sigmoid, ACT.tanh].map((act) => ({
    name: `linear_act_forward act ${act}`,
    sizes: { out: B * H, x: B * IN, w: IN * H, b: H },
    run: (k: Kernels, p: Record<string, number>) => k.linear_act_forward(p.out, p.x, p.w, p.b, B, IN, H, act),
  })),
  // predict's packed weights (strips of 24 columns): 1,000 columns = 41 strips and a partial one; 5 rows = a 4-row tile
  // and a row alone
  { name: 'pack_strips', sizes: { wp: stripFloats(IN, 1000), w: IN * 1000 }, run: (k, p) => k.pack_strips(p.wp, p.w, IN, 1000) },
  ...[ACT.none, ACT.relu, ACT.sigmoid, ACT.tanh].flatMap((act) => [5, 1].map((rows) => ({
    name: `linear_strips_forward act ${act}, ${rows} row${rows > 1 ? 's' : ''}`,
    sizes: { out: rows * 1003, x: rows * IN, wp: stripFloats(IN, 1003), w: IN * 1003, b: 1003 },
    run: (k: Kernels, p: Record<string, number>) => {
      k.pack_strips(p.wp, p.w, IN, 1003);
      k.linear_strips_forward(p.out, p.x, p.wp, p.w, p.b, rows, IN, 1003, act);
    },
  }))),
  { name: 'linear_forward', sizes: { out: B * OUT, x: B * H, w: H * OUT, b: OUT }, run: (k, p) => k.linear_forward(p.out, p.x, p.w, p.b, B, H, OUT) },
  { name: 'linear_backward', sizes: { dx: B * H, dw: H * OUT, db: OUT, dout: B * OUT, x: B * H, w: H * OUT }, run: (k, p) => k.linear_backward(p.dx, p.dw, p.db, p.dout, p.x, p.w, B, H, OUT) },
  { name: 'bias_add', sizes: { out: B * OUT, x: B * OUT, b: OUT }, run: (k, p) => k.bias_add(p.out, p.x, p.b, B, OUT) },
  { name: 'col_sum', sizes: { out: OUT, x: B * OUT }, run: (k, p) => k.col_sum(p.out, p.x, B, OUT, 1) },
  ...(['relu', 'tanh', 'sigmoid'] as const).flatMap((f) => [
    { name: `${f}_forward`, sizes: { y: B * OUT, x: B * OUT }, run: (k: Kernels, p: Record<string, number>) => k[`${f}_forward`](p.y, p.x, B * OUT - 5) },
    { name: `${f}_backward`, sizes: { dx: B * OUT, dy: B * OUT, y: B * OUT }, run: (k: Kernels, p: Record<string, number>) => k[`${f}_backward`](p.dx, p.dy, p.y, B * OUT - 5) },
  ]),
  { name: 'softmax_forward', sizes: { y: B * OUT, x: B * OUT }, run: (k, p) => k.softmax_forward(p.y, p.x, B, OUT) },
  { name: 'softmax_backward', sizes: { dx: B * OUT, dy: B * OUT, y: B * OUT }, run: (k, p) => k.softmax_backward(p.dx, p.dy, p.y, B, OUT) },
  { name: 'mse_loss', sizes: { p: B * OUT, t: B * OUT }, run: (k, p) => k.mse_loss(p.p, p.t, B, OUT) },
  { name: 'bce_loss', sizes: { p: B * OUT, t: B * OUT }, run: (k, p) => k.bce_loss(p.p, p.t, B, OUT) },
  { name: 'softmax_ce_loss', sizes: { p: B * OUT, t: B * OUT }, run: (k, p) => k.softmax_ce_loss(p.p, p.t, B, OUT) },
  { name: 'mse_backward', sizes: { d: B * OUT, p: B * OUT, t: B * OUT }, run: (k, p) => k.mse_backward(p.d, p.p, p.t, B, OUT) },
  { name: 'bce_backward', sizes: { d: B * OUT, p: B * OUT, t: B * OUT }, run: (k, p) => k.bce_backward(p.d, p.p, p.t, B, OUT) },
  { name: 'sigmoid_bce_backward', sizes: { d: B * OUT, p: B * OUT, t: B * OUT }, run: (k, p) => k.sigmoid_bce_backward(p.d, p.p, p.t, B, OUT) },
  { name: 'softmax_ce_backward', sizes: { d: B * OUT, p: B * OUT, t: B * OUT }, run: (k, p) => k.softmax_ce_backward(p.d, p.p, p.t, B, OUT) },
  { name: 'sgd_update', sizes: { w: 300_001, g: 300_001 }, run: (k, p) => k.sgd_update(p.w, p.g, 0.01, 300_001) },
  { name: 'momentum_update', sizes: { w: 300_001, v: 300_001, g: 300_001 }, run: (k, p) => k.momentum_update(p.w, p.v, p.g, 0.01, 0.9, 300_001) },
  { name: 'adam_update', sizes: { w: 300_001, m: 300_001, v: 300_001, g: 300_001 }, run: (k, p) => k.adam_update(p.w, p.m, p.v, p.g, 1e-3, 0.9, 0.999, 1e-7, 7, 300_001) },
  { name: 'fill', sizes: { x: 300_001 }, run: (k, p) => k.fill(p.x, 0.25, 300_001) },
  { name: 'has_non_finite (clean)', sizes: { x: 300_001 }, run: (k, p) => k.has_non_finite(p.x, 300_001) },
  { name: 'adamw_update', sizes: { w: 300_001, m: 300_001, v: 300_001, g: 300_001 }, run: (k, p) => k.adamw_update(p.w, p.m, p.v, p.g, 1e-3, 0.9, 0.999, 1e-7, 0.01, 7, 300_001) },
  { name: 'rmsprop_update', sizes: { w: 300_001, v: 300_001, g: 300_001 }, run: (k, p) => k.rmsprop_update(p.w, p.v, p.g, 1e-3, 0.9, 1e-7, 300_001) },
  { name: 'grad_scale_decay', sizes: { g: 300_001, w: 300_001 }, run: (k, p) => k.grad_scale_decay(p.g, p.w, 0.37, 1e-4, 300_001) },
  { name: 'sum_squares', sizes: { x: 300_001 }, run: (k, p) => k.sum_squares(p.x, 300_001) },
  { name: 'dropout_apply (counters from 2^32 − 5000: wrapping)', sizes: { y: 300_001, x: 300_001 }, run: (k, p) => k.dropout_apply(p.y, p.x, 0.3, 12345, 678910, 2 ** 32 - 5000, 300_001) },
  // conv at the denoiser's shapes (28×28, 32 channels, batch 12: uneven sample cuts) and the decoder's stride-2
  // transposed conv; scratch for 8 threads (the most any backend here has)
  ...convCases(),
  // pooling and upsampling, forward then backward: 64·17 planes cut into ranges; two settings a case, on their own
  // buffers (13×11: odd sizes and the 2×2 fast path's tails)
  ...(['max', 'avg'] as const).map((op) => {
    const settings = [[13, 11, 2, 2, 0], [13, 11, 3, op === 'max' ? 1 : 2, 1]] as const; // 2×2 s2 (fast path); 3×3 pad 1
    const dims = settings.map(([Hp, Wp, kp, sp, pp]) => [Hp, Wp, Math.floor((Hp + 2 * pp - kp) / sp) + 1, Math.floor((Wp + 2 * pp - kp) / sp) + 1] as const);
    return {
      name: `${op}pool2d 2×2 s2 and 3×3 pad 1 (${op === 'max' ? 's1: overlapping windows' : 's2, count_include_pad false'}) on 13×11, forward and backward`,
      sizes: Object.fromEntries(dims.flatMap(([Hp, Wp, OHp, OWp], i) => [[`y${i}`, PLANES * OHp * OWp], [`idx${i}`, PLANES * OHp * OWp], [`x${i}`, PLANES * Hp * Wp], [`dx${i}`, PLANES * Hp * Wp], [`dy${i}`, PLANES * OHp * OWp]])),
      run: (k: Kernels, p: Record<string, number>) => {
        for (const [i, [Hp, Wp, kp, sp, pp]] of settings.entries()) {
          const win = [dims[i][2], dims[i][3], kp, kp, sp, sp, pp, pp] as const;
          if (op === 'max') {
            k.maxpool2d_forward(p[`y${i}`], p[`idx${i}`], p[`x${i}`], PLANES, Hp, Wp, ...win);
            k.maxpool2d_backward(p[`dx${i}`], p[`dy${i}`], p[`idx${i}`], PLANES, Hp, Wp, ...win);
          } else {
            k.avgpool2d_forward(p[`y${i}`], p[`x${i}`], PLANES, Hp, Wp, ...win, pp ? 0 : 1);
            k.avgpool2d_backward(p[`dx${i}`], p[`dy${i}`], PLANES, Hp, Wp, ...win, pp ? 0 : 1);
          }
        }
      },
    };
  }),
  {
    name: 'upsample2d ×2 on 14×14 and ×3×2 on 13×11, forward and backward',
    sizes: { y0: UP_PLANES * 14 * 14 * 4, x0: UP_PLANES * 14 * 14, dx0: UP_PLANES * 14 * 14, dy0: UP_PLANES * 14 * 14 * 4, y1: UP_PLANES * 13 * 11 * 6, x1: UP_PLANES * 13 * 11, dx1: UP_PLANES * 13 * 11, dy1: UP_PLANES * 13 * 11 * 6 },
    run: (k, p) => {
      k.upsample2d_forward(p.y0, p.x0, UP_PLANES, 14, 14, 2, 2);
      k.upsample2d_backward(p.dx0, p.dy0, UP_PLANES, 14, 14, 2, 2);
      k.upsample2d_forward(p.y1, p.x1, UP_PLANES, 13, 11, 3, 2);
      k.upsample2d_backward(p.dx1, p.dy1, UP_PLANES, 13, 11, 3, 2);
    },
  },
  {
    // 64·17 groups: 28×28 ↔ 4×14×14 (r = 2, the SIMD path) and 15×12 ↔ 9×5×4 (r = 3)
    name: 'pixel_unshuffle and pixel_shuffle, r = 2 on 14×14 and r = 3 on 5×4',
    sizes: { y0: PLANES * 784, x0: PLANES * 784, dx0: PLANES * 784, dy0: PLANES * 784, y1: PLANES * 180, x1: PLANES * 180, dx1: PLANES * 180, dy1: PLANES * 180 },
    run: (k, p) => {
      k.pixel_unshuffle(p.y0, p.x0, PLANES, 14, 14, 2);
      k.pixel_shuffle(p.dx0, p.dy0, PLANES, 14, 14, 2);
      k.pixel_shuffle(p.y1, p.x1, PLANES, 5, 4, 3);
      k.pixel_unshuffle(p.dx1, p.dy1, PLANES, 5, 4, 3);
    },
  },
  {
    name: 'gather_noise gaussian (identity rows from 5)',
    sizes: { dst: B * OUT, src: 200 * OUT },
    run: (k, p) => k.gather_noise(p.dst, p.src, 0, 5, B, OUT, 1, 0.3, 12345, 678910),
  },
];

/** Conv kernels: conv 32→32 3×3 same, a stride-2 conv and the stride-2 transposed conv, each pass. */
function convCases(): KernelCase[] {
  const CB = 12;
  // [name, transposed, C|IC, H|IH, W|IW, OC, OH, OW, K, S, P]
  const shapes = [
    ['conv 32→32 3×3 same 28×28', false, 32, 28, 28, 32, 28, 28, 3, 1, 1],
    ['conv 32→16 3×3 s2 p1 28×28', false, 32, 28, 28, 16, 14, 14, 3, 2, 1],
    ['convT 32→32 3×3 s2 p1 op1 7×7', true, 32, 7, 7, 32, 14, 14, 3, 2, 1],
  ] as const;
  return shapes.flatMap(([name, tr, C, H, W, OC, OH, OW, K, S, P]) => {
    const g = [CB, C, H, W, OC, OH, OW, K, K, S, S, P, P] as const;
    const scratch = () => 8 * (tr ? convTransposeScratchFloats : convScratchFloats)(C, H, W, OC, OH, OW, K, K, S, S);
    const sizes = { x: CB * C * H * W, y: CB * OC * OH * OW, w: OC * C * K * K, b: OC, s: scratch() };
    const pre = tr ? 'conv_transpose2d' : 'conv2d';
    return [
      { name: `${pre}_forward ${name} + bias, relu`, sizes, scratch, run: (k: Kernels, p: Record<string, number>) => k[`${pre}_forward`](p.y, p.x, p.w, p.b, p.s, ...g, ACT.relu) },
      { name: `${pre}_backward_data ${name}`, sizes, scratch, run: (k: Kernels, p: Record<string, number>) => k[`${pre}_backward_data`](p.x, p.y, p.w, p.s, ...g) },
      { name: `${pre}_backward_weights ${name}`, sizes: { ...sizes, dw: sizes.w, db: OC }, scratch, run: (k: Kernels, p: Record<string, number>) => k[`${pre}_backward_weights`](p.dw, p.db, p.y, p.x, p.s, ...g) },
    ];
  });
}

describe.each(variants)('%s build: every kernel gives the same bits with 1, 2, 3 and 8 threads', (variant) => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, kc) => {
    const bes = await backends(variant);
    expect(bes.map((b) => b.threads)).toEqual(COUNTS);
    if (kc.scratch) expect(kc.scratch(), `${kc.name}: the scratch fits 8 threads`).toBeLessThanOrEqual(kc.sizes.s);
    const results: { ret: number | void; out: Record<string, Uint32Array> }[] = [];
    for (const be of bes) {
      const rng = new Rng(42);
      const p: Record<string, number> = {};
      const tensors = Object.entries(kc.sizes).map(([name, n]) => {
        const t = be.alloc(1, n);
        // probabilities in (0, 1) suit every kernel (losses, log, sqrt of Adam's v)
        be.write(t, Float32Array.from({ length: n }, () => 0.001 + 0.998 * rng.next()));
        p[name] = t.ptr;
        return [name, t] as const;
      });
      const ret = kc.run(be.kernels, p);
      const out: Record<string, Uint32Array> = {};
      for (const [name, t] of tensors) out[name] = new Uint32Array(be.read(t).buffer);
      results.push({ ret, out });
      for (const [, t] of tensors) be.free(t);
      be.dispose();
    }
    for (let i = 1; i < results.length; i++) {
      expect(results[i].ret, `return value with ${COUNTS[i]} threads`).toBe(results[0].ret);
      for (const name of Object.keys(kc.sizes)) {
        if (kc.scratch && name === 's') continue; // scratch: each thread's part of it, not a result
        const a = results[0].out[name], b = results[i].out[name];
        let first = -1;
        for (let j = 0; j < a.length && first < 0; j++) if (a[j] !== b[j]) first = j;
        expect(first, `${name} with ${COUNTS[i]} threads: first differing element`).toBe(-1);
      }
    }
  });
});

// =====================================================================================================
// Training
// =====================================================================================================

const ROWS = 1200;
const x = data.train.images.subarray(0, ROWS * 784);
const tx = data.test.images.subarray(0, 300 * 784);

interface RunCase {
  name: string;
  model: (be: Backend) => Sequential;
  data: () => { train: { x: Float32Array; y: Float32Array }; test: { x: Float32Array; y: Float32Array } };
  options: FitOptions;
}

const RUNS: RunCase[] = [
  {
    name: 'autoencoder 784-128-784, BCE, Adam, gaussian 0.3, batch 64 (partial last batch)',
    model: (be) => autoencoder(be, { hidden: [128], seed: 3 }),
    data: () => ({ train: { x: x.subarray(0, 1000 * 784), y: x.subarray(0, 1000 * 784) }, test: { x: tx, y: tx } }),
    options: { epochs: 2, batchSize: 64, loss: 'bce', optimizer: 'adam', seed: 5, noise: { kind: 'gaussian', factor: 0.3 } },
  },
  {
    name: 'classifier 784-64-10 softmax, cross-entropy, momentum, salt-and-pepper, batch 100',
    model: (be) => new Sequential([new Linear(784, 64, { init: 'heNormal' }), new ReLU(), new Linear(64, 10), new Softmax()], { backend: be, seed: 4 }),
    data: () => ({ train: { x, y: oneHot(data.train.labels.subarray(0, ROWS)) }, test: { x: tx, y: oneHot(data.test.labels.subarray(0, 300)) } }),
    options: { epochs: 2, batchSize: 100, loss: 'crossentropy', optimizer: 'momentum', seed: 6, noise: { kind: 'salt-pepper', factor: 0.1 } },
  },
  {
    name: 'MSE, SGD, tanh 784-96-784 with masking, batch 128',
    model: (be) => autoencoder(be, { hidden: [96], activation: 'tanh', seed: 8 }),
    data: () => ({ train: { x, y: x }, test: { x: tx, y: tx } }),
    options: { epochs: 1, batchSize: 128, loss: 'mse', optimizer: 'sgd', seed: 9, noise: { kind: 'mask', factor: 0.3 } },
  },
  {
    // 64·8 planes of 14×14 a batch: every pool kernel is cut into parts
    name: 'pooling autoencoder 784-[8,14,14] relu, MaxPool2D(2), Upsample2D(2), AvgPool2D(3, s1, pad 1), 784 sigmoid, BCE, Adam, batch 64',
    model: (be) =>
      new Sequential([new Linear(784, 8 * 14 * 14), new ReLU(), new Reshape([8, 14, 14]), new MaxPool2D(2), new Upsample2D(2), new AvgPool2D(3, { stride: 1, padding: 1 }), new Flatten(), new Linear(8 * 14 * 14, 784), new Sigmoid()], { backend: be, seed: 10 }),
    data: () => ({ train: { x: x.subarray(0, 400 * 784), y: x.subarray(0, 400 * 784) }, test: { x: tx, y: tx } }),
    options: { epochs: 1, batchSize: 64, loss: 'bce', optimizer: 'adam', seed: 11, noise: { kind: 'gaussian', factor: 0.3 } },
  },
];

describe.each(variants)('%s build: fit gives the same model bytes with 1, 2, 3 and 8 threads', (variant) => {
  it.each(RUNS.map((r) => [r.name, r] as const))('%s', async (_name, run) => {
    const outputs: { bytes: Uint8Array; losses: number[] }[] = [];
    for (const be of await backends(variant)) {
      const model = run.model(be);
      const history = await fit(model, run.data(), run.options);
      outputs.push({ bytes: serializeModel(model), losses: history.epochs.flatMap((m) => [m.trainLoss, m.testLoss]) });
      model.dispose();
      expect(be.liveAllocations, 'fit and dispose hand every block back').toBe(0);
      be.dispose();
    }
    for (let i = 1; i < outputs.length; i++) {
      expect(outputs[i].losses, `losses with ${COUNTS[i]} threads`).toEqual(outputs[0].losses);
      expect(Buffer.compare(outputs[i].bytes, outputs[0].bytes), `model bytes with ${COUNTS[i]} threads`).toBe(0);
    }
  });
});

// =====================================================================================================
// The pool
// =====================================================================================================

describe('the thread pool', () => {
  it('runs the threads asked for, says why when it cannot, and dispose() stops every worker', async () => {
    const be = (await createWasmBackend({ threads: 3 })) as Backend & { workers: number };
    expect(be.threads).toBe(3);
    expect(be.threadsNote).toBeUndefined();
    expect(be.workers).toBe(2);
    be.dispose();
    expect(be.workers).toBe(0);
    const one = await createWasmBackend({ threads: 1 });
    expect(one.threads).toBe(1);
    const scalar = await createWasmBackend({ variant: 'scalar', threads: 4 });
    expect(scalar.threads).toBe(1);
    expect(scalar.threadsNote).toMatch(/scalar build has no threads/);
    for (const bad of [0, -1, 1.5, NaN, 5000]) await expect(createWasmBackend({ threads: bad })).rejects.toThrow(/threads must be an integer from 1 to 1024/);
  });

  it('a kernel called on a disposed threaded backend is an error, not a hang', async () => {
    const be = await createWasmBackend({ threads: 2 });
    const t = be.alloc(1, 1 << 20);
    be.dispose();
    expect(() => be.kernels.fill(t.ptr, 1, 1 << 20)).toThrow(/disposed/);
  });

  it('a Node process that trained with threads exits by itself, without dispose()', () => {
    const script = `
      import { createWasmBackend } from './dist/backend/wasm.js';
      import { autoencoder } from './dist/models.js';
      import { fit } from './dist/training/fit.js';
      const be = await createWasmBackend({ threads: 4 });
      const model = autoencoder(be, { hidden: [32] });
      const x = new Float32Array(256 * 784).fill(0.5);
      await fit(model, { train: { x, y: x } }, { epochs: 1, loss: 'bce' });
      console.log('trained', be.threads);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8', timeout: 30_000 });
    expect(r.error, 'the process did not exit within 30 s').toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('trained 4');
    expect(r.status).toBe(0);
  });

  it('2,000 threaded training steps leave liveAllocations and the memory size unchanged', async () => {
    const be = await createWasmBackend({ threads: 2 });
    const model = autoencoder(be, { hidden: [32], seed: 1 });
    const xs = x.subarray(0, 64 * 784);
    // a first fit sees every batch size; then 2,000 steps in one more fit
    await fit(model, { train: { x: xs, y: xs } }, { epochs: 1, batchSize: 64, loss: 'bce', noise: { kind: 'gaussian', factor: 0.3 } });
    const live = be.liveAllocations;
    const bytes = be.memory.buffer.byteLength;
    await fit(model, { train: { x: xs, y: xs } }, { epochs: 2000, batchSize: 64, loss: 'bce', noise: { kind: 'gaussian', factor: 0.3 } });
    expect(be.liveAllocations).toBe(live);
    expect(be.memory.buffer.byteLength).toBe(bytes);
    model.dispose();
    be.dispose();
  });
});
