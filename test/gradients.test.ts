// Gradient checks (micrograd / tinygrad test_ops style): every analytic gradient the library computes is
// compared with central finite differences of the loss, on every backend.
//
//   * checkModelGradients: a Sequential + loss. Analytic: zeroGrad, forward, loss(B, loss, true), read grads.
//     Numeric: for each parameter w_i, (L(w_i + h) − L(w_i − h)) / (2h), where L is recomputed in float64 in
//     this file from the model's f32 output, and 2h is the actual f32 step (f32(w+h) − f32(w−h)).
//   * checkLayerGradients: one layer alone, with L = Σ R ⊙ y for a fixed random R (so ∂L/∂y = R); checks
//     ∂L/∂x as well as the parameter gradients.
//   * An independent float64 forward (refForward) checks each model's output and loss, and gives the ReLU
//     pre-activations, so no check straddles a kink: a case is only used when every |z| at a ReLU input is
//     above KINK_MARGIN ≫ h.
//   * The autoencoder (12→5 relu→12 sigmoid at batch 3, and 33→16→33 at batch 9 so the SIMD main loops run,
//     not only their scalar tails) also gets a float64 forward AND backward written out by hand.
//
// Tolerances (f32 forward, f64 loss): |analytic − numeric| ≤ ATOL + RTOL·|numeric|, ATOL = 5e-5, RTOL = 5e-3
// with h = 1e-2 (smooth nets) or 1e-3 (nets with ReLU). The f32 rounding noise of the loss is ~1e-7, i.e.
// ~1e-5 in a difference quotient at h = 1e-2; the truncation error is O(h²) ~ 1e-4 relative.

import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { AvgPool2D, Conv2D, ConvTranspose2D, Flatten, Linear, MaxPool2D, PixelShuffle2D, PixelUnshuffle2D, ReLU, Reshape, Sigmoid, Softmax, Tanh, Upsample2D, layerFromSpec, type Layer, type LayerSpec, type Shape } from '../src/layers/index.js';
import { bce, type Loss, type LossName } from '../src/losses.js';
import { Sequential } from '../src/model.js';
import { ParamLayout } from '../src/param-layout.js';
import { shapeSize } from '../src/layers/shapes.js';
import { createJsBackend } from '../src/backend/js.js';
import { autoencoder } from '../src/models.js';
import { Rng } from '../src/random.js';
import { backendCases, errorOf } from './support/backends.js';
import { expectClose } from './support/close.js';
import { loss64, pixelShuffle64, pool2d64, pool2dOutSize, sigmoid64, softmax64, type Pool64Op } from './support/reference.js';
import { refConv, refConvT } from './support/conv-ref.js';

const ATOL = 5e-5;
const RTOL = 5e-3;
const KINK_MARGIN = 0.02;

// =====================================================================================================
// float64 reference: forward of a layer stack and the three losses
// =====================================================================================================

interface RefPass {
  /** acts[0] = input, acts[i+1] = output of layer i, each B×width row-major */
  acts: Float64Array[];
  /** the smallest |pre-activation| over every ReLU input (Infinity without ReLU) */
  reluMargin: number;
  /** which side of each kink we are on: 1 where a ReLU input is > 0, over every ReLU layer in order, then each max
   *  pool output's argmax */
  reluMask: number[];
}

/** `shapes` (the model's: input, then each layer's output) for the layers that need them: pooling, upsampling. */
function refForward(layers: LayerSpec[], weights: ArrayLike<number>, x: ArrayLike<number>, B: number, inputWidth: number, shapes?: readonly Shape[]): RefPass {
  let a: Float64Array = Float64Array.from(x);
  let width = inputWidth;
  const acts: Float64Array[] = [a];
  let reluMargin = Infinity;
  const reluMask: number[] = [];
  // the offsets of each W and b from the one parameter layout; the arithmetic below is float64 and ours
  const layout = new ParamLayout(layers.map((l) => layerFromSpec(l)));
  for (const [i, spec] of layers.entries()) {
    let y: Float64Array;
    if (spec.type === 'linear') {
      const { in: IN, out: OUT } = spec;
      const [w, b] = [layout.slot(i, 'W').offset, layout.slot(i, 'b').offset];
      y = new Float64Array(B * OUT);
      for (let r = 0; r < B; r++)
        for (let j = 0; j < OUT; j++) {
          let s = weights[b + j];
          for (let k = 0; k < IN; k++) s += a[r * IN + k] * weights[w + k * OUT + j];
          y[r * OUT + j] = s;
        }
      width = OUT;
    } else if (spec.type === 'softmax') {
      y = softmax64(a, B, width);
    } else if (spec.type === 'flatten' || spec.type === 'reshape') {
      y = a;
    } else if (spec.type === 'maxpool2d' || spec.type === 'avgpool2d' || spec.type === 'upsample2d') {
      const [C, H, W] = shapes![i];
      const op: Pool64Op =
        spec.type === 'upsample2d' ? { op: 'up', scale: spec.scale } : { op: spec.type === 'maxpool2d' ? 'max' : 'avg', kernel: spec.kernel, stride: spec.stride, pads: spec.padding, countIncludePad: spec.type === 'avgpool2d' ? spec.countIncludePad : true };
      const r = pool2d64(op, a, null, B * C, H, W);
      y = r.y;
      if (r.idx) reluMask.push(...r.idx);
      width = shapeSize(shapes![i + 1]);
    } else if (spec.type === 'pixel-unshuffle2d' || spec.type === 'pixel-shuffle2d') {
      // sizes of the space side's channels and of the depth side's planes
      const [space, depth] = spec.type === 'pixel-unshuffle2d' ? [shapes![i], shapes![i + 1]] : [shapes![i + 1], shapes![i]];
      y = pixelShuffle64(spec.type === 'pixel-unshuffle2d' ? 'unshuffle' : 'shuffle', a, null, B, space[0], depth[1], depth[2], spec.factor).y;
    } else {
      const f = { relu: (v: number) => Math.max(v, 0), tanh: Math.tanh, sigmoid: sigmoid64 }[spec.type];
      if (spec.type === 'relu')
        for (const v of a) {
          reluMargin = Math.min(reluMargin, Math.abs(v));
          reluMask.push(v > 0 ? 1 : 0);
        }
      y = a.map(f);
    }
    acts.push(y);
    a = y;
  }
  return { acts, reluMargin, reluMask };
}


// =====================================================================================================
// The reusable checkers
// =====================================================================================================

/** Central difference of f at v[i] (v an f32 array, restored afterwards), with the actual f32 step. */
function centralDiff(v: Float32Array, i: number, h: number, f: () => number): number {
  const w = v[i];
  v[i] = w + h;
  const up = v[i];
  const lp = f();
  v[i] = w - h;
  const down = v[i];
  const lm = f();
  v[i] = w;
  return (lp - lm) / (up - down);
}

interface GradCase {
  model: Sequential;
  B: number;
  x: Float32Array;
  t: Float32Array;
  /** the loss passed to model.loss (a name, or a Loss object e.g. with fusion disabled) */
  loss: Loss | LossName;
  h: number;
  /** How ReLU kinks are kept out of the differences: 'margin' (default) asserts every |ReLU input| >
   *  KINK_MARGIN; 'skip' leaves out the parameters whose ±h step flips some ReLU (found with the float64
   *  forward at both ends) and asserts they are at most 2% of all. */
  kinks?: 'margin' | 'skip';
}

/** Checks every parameter gradient of a model against central differences; also checks the model's forward
 *  output and loss value against the float64 reference. Returns the number of parameters checked. */
function checkModelGradients({ model, B, x, t, loss, h, kinks = 'margin' }: GradCase): number {
  const be = model.backend;
  const name: LossName = typeof loss === 'string' ? loss : loss.name;
  const spec = model.spec();
  be.write(model.input(B), x);
  be.write(model.target(B), t);

  const w = model.getWeights();
  const ref = refForward(spec.layers, w, x, B, spec.inputWidth, model.shapes);
  if (kinks === 'margin' && spec.layers.some((l) => l.type === 'relu'))
    expect(ref.reluMargin, 'a ReLU input is too close to its kink for finite differences').toBeGreaterThan(KINK_MARGIN);

  // forward and loss value against float64
  model.zeroGrad();
  const out = be.read(model.forward(B));
  const refOut = ref.acts[ref.acts.length - 1];
  expectClose('output', out, refOut, 1e-5, 1e-4);
  const value = model.loss(B, loss, true);
  expect(Math.abs(value - loss64(name, refOut, t, B))).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(value)));
  const analytic = be.read(model.grads);
  expect(analytic.some((g) => g !== 0), 'all gradients are zero').toBe(true);

  // numeric, through the model's own f32 forward with the loss in f64
  const lossAt = () => {
    model.setWeights(w);
    return loss64(name, be.read(model.forward(B)), t, B);
  };
  const numeric = new Float64Array(w.length);
  for (let i = 0; i < w.length; i++) numeric[i] = centralDiff(w, i, h, lossAt);
  model.setWeights(w);
  let skipped = 0;
  if (kinks === 'skip') {
    const mask = (): string => refForward(spec.layers, w, x, B, spec.inputWidth, model.shapes).reluMask.join(',');
    for (let i = 0; i < w.length; i++) {
      const wi = w[i];
      w[i] = wi + h;
      const up = mask();
      w[i] = wi - h;
      const down = mask();
      w[i] = wi;
      if (up !== down) {
        numeric[i] = analytic[i]; // a kink inside [w − h, w + h]: no valid difference quotient here
        skipped++;
      }
    }
    expect(skipped, `${skipped} of ${w.length} parameters straddle a ReLU kink`).toBeLessThanOrEqual(0.02 * w.length);
  }
  expectClose('∂L/∂w', analytic, numeric, ATOL, RTOL);
  return w.length - skipped;
}

/** One layer alone: L = Σ R ⊙ layer(x). Checks ∂L/∂x and ∂L/∂params against central differences, and the
 *  forward against float64. */
function checkLayerGradients(be: Backend, layer: Layer, inWidth: number, B: number, x: Float32Array, h: number, seed: number): void {
  const rng = new Rng(seed);
  const outWidth = shapeSize(layer.outputShape([inWidth], 'test'));
  const layout = new ParamLayout([layer]);
  const P = layout.total;
  const params = be.alloc(1, Math.max(P, 1));
  const grads = be.alloc(1, Math.max(P, 1));
  const X = be.alloc(B, inWidth), Y = be.alloc(B, outWidth), DY = be.alloc(B, outWidth), DX = be.alloc(B, inWidth);
  try {
    layer.bind(be, Object.fromEntries(layout.slots.map((s) => [s.name, { value: params.ptr + 4 * s.offset, grad: grads.ptr + 4 * s.offset }])), [inWidth]);
    const w = new Float32Array(P).map(() => rng.uniform(-1, 1));
    const R = new Float32Array(B * outWidth).map(() => rng.uniform(-1, 1));
    if (P > 0) be.write(params, w);
    be.write(X, x);

    // forward against float64
    layer.forward(X, Y);
    const ref = refForward([layer.spec()], w, x, B, inWidth);
    expectClose('y', be.read(Y), ref.acts[1], 1e-5, 1e-4);
    if (layer.type === 'relu') expect(ref.reluMargin).toBeGreaterThan(KINK_MARGIN);

    // analytic: dy = R
    be.write(DY, R);
    be.kernels.fill(grads.ptr, 0, Math.max(P, 1));
    layer.backward(X, Y, DY, DX);
    const dx = be.read(DX);
    const dw = be.read(grads).subarray(0, P);

    // numeric
    const L = (xs: Float32Array, ws: Float32Array) => {
      be.write(X, xs);
      if (P > 0) be.write(params, ws);
      layer.forward(X, Y);
      const y = be.read(Y);
      let s = 0;
      for (let i = 0; i < y.length; i++) s += R[i] * y[i];
      return s;
    };
    const xs = x.slice();
    const numX = new Float64Array(xs.length);
    for (let i = 0; i < xs.length; i++) numX[i] = centralDiff(xs, i, h, () => L(xs, w));
    const numW = new Float64Array(P);
    for (let i = 0; i < P; i++) numW[i] = centralDiff(w, i, h, () => L(xs, w));
    expectClose('∂L/∂x', dx, numX, ATOL, RTOL);
    expectClose('∂L/∂w', dw, numW, ATOL, RTOL);
    expect(dx.some((g) => g !== 0)).toBe(true);
  } finally {
    for (const t of [params, grads, X, Y, DY, DX]) be.free(t);
  }
}

// =====================================================================================================
// Data helpers
// =====================================================================================================

function uniform(n: number, lo: number, hi: number, rng: Rng): Float32Array {
  return new Float32Array(n).map(() => rng.uniform(lo, hi));
}

/** Rows of soft targets that sum to 1 (for cross-entropy), or a one-hot row when `hard`. */
function distributions(B: number, N: number, rng: Rng, hard = false): Float32Array {
  const t = new Float32Array(B * N);
  for (let r = 0; r < B; r++) {
    if (hard) {
      t[r * N + rng.int(N)] = 1;
      continue;
    }
    let s = 0;
    for (let j = 0; j < N; j++) s += t[r * N + j] = rng.uniform(0.05, 1);
    for (let j = 0; j < N; j++) t[r * N + j] /= s;
  }
  return t;
}

/** The first seed (from `from`) whose model and inputs keep every ReLU input at least KINK_MARGIN from 0. */
function kinkFreeSeed(build: (seed: number) => { layers: LayerSpec[]; weights: Float32Array; x: Float32Array; B: number; inputWidth: number }, from = 1): number {
  for (let seed = from; seed < from + 200; seed++) {
    const c = build(seed);
    if (refForward(c.layers, c.weights, c.x, c.B, c.inputWidth).reluMargin > 2 * KINK_MARGIN) return seed;
  }
  throw new Error('no kink-free seed in 200 tries');
}

// =====================================================================================================
// Tests
// =====================================================================================================

describe.each(backendCases())('gradients on the $label backend', ({ make }) => {
  let be: Backend;
  beforeAll(async () => {
    be = await make();
  });

  /** A model of `layers`, seeded; inputs x ∈ [−1, 1] from the same seed. */
  function setup(layers: () => Layer[], B: number, seed: number) {
    const model = new Sequential(layers(), { backend: be, seed });
    const rng = new Rng(seed + 1000);
    const x = uniform(B * model.inputWidth, -1, 1, rng);
    return { model, x, rng };
  }

  /** Seed search for models with ReLU: build the model for each candidate seed, keep the first without kinks. */
  function setupKinkFree(layers: () => Layer[], B: number) {
    const seed = kinkFreeSeed((s) => {
      const { model, x } = setup(layers, B, s);
      const c = { layers: model.spec().layers, weights: model.getWeights(), x, B, inputWidth: model.inputWidth };
      model.dispose();
      return c;
    });
    return setup(layers, B, seed);
  }

  describe('conv layers through Sequential (mse): the output against float64 (support/conv-ref.ts), every parameter gradient against central differences', () => {
    /** model(x) in float64 from its own weights (by layer and name), per `ref`; then every gradient, as checkModelGradients */
    function checkConv(model: Sequential, B: number, ref: (p: (layer: number, name: string) => Float32Array, x: Float32Array) => Float64Array, seed: number) {
      const rng = new Rng(seed);
      const x = uniform(B * model.inputWidth, -1, 1, rng);
      const t = uniform(B * shapeSize(model.outputShape), 0, 1, rng);
      be.write(model.input(B), x);
      be.write(model.target(B), t);
      const param = (layer: number, name: string) => Float32Array.from(model.getWeights(layer).find((n) => n.name === name)!.values);
      model.zeroGrad();
      expectClose('output', be.read(model.forward(B)), ref(param, x), 1e-5, 1e-4);
      model.loss(B, 'mse', true);
      const analytic = be.read(model.grads);
      const w = model.getWeights();
      const lossAt = () => {
        model.setWeights(w);
        return loss64('mse', be.read(model.forward(B)), t, B);
      };
      const numeric = new Float64Array(w.length);
      for (let i = 0; i < w.length; i++) numeric[i] = centralDiff(w, i, 1e-2, lossAt);
      model.setWeights(w);
      expectClose('∂L/∂w', analytic, numeric, ATOL, RTOL);
    }
    const tanh = (a: Float64Array) => a.map(Math.tanh);
    const sigm = (a: Float64Array) => a.map((v) => 1 / (1 + Math.exp(-v)));

    it('Conv2D(2→3, 3×3, same) → Tanh (fused) → ConvTranspose2D(3→2, 3×3, s2, p1, op1) → Sigmoid on 2×5×4, batch 2', () => {
      const layers = [new Conv2D(2, 3, 3, { padding: 'same' }), new Tanh(), new ConvTranspose2D(3, 2, 3, { stride: 2, padding: 1, outputPadding: 1 }), new Sigmoid()];
      const model = new Sequential(layers, { backend: be, seed: 21, inputShape: [2, 5, 4] });
      expect(model.outputShape).toEqual([2, 10, 8]);
      checkConv(model, 2, (p, x) => {
        const y1 = tanh(refConv({ B: 2, C: 2, H: 5, W: 4, OC: 3, KH: 3, KW: 3, SH: 1, SW: 1, pads: [1, 1, 1, 1] }, x, p(0, 'W'), p(0, 'b')));
        return sigm(refConvT({ B: 2, IC: 3, IH: 5, IW: 4, OC: 2, KH: 3, KW: 3, SH: 2, SW: 2, pads: [1, 1, 1, 1], outPad: [1, 1] }, y1, p(2, 'W'), p(2, 'b')));
      }, 22);
      model.dispose();
    });

    it('Conv2D(3→4, 3×3, p1) → Tanh → Conv2D(4→2, 3×2, s2, p1, no bias) → Sigmoid → Flatten → Linear(32, 3) on 3×7×6, batch 3', () => {
      const layers = [new Conv2D(3, 4, 3, { padding: 1 }), new Tanh(), new Conv2D(4, 2, [3, 2], { stride: 2, padding: 1, bias: false }), new Sigmoid(), new Flatten(), new Linear(32, 3)];
      const model = new Sequential(layers, { backend: be, seed: 23, inputShape: [3, 7, 6] });
      checkConv(model, 3, (p, x) => {
        const y1 = tanh(refConv({ B: 3, C: 3, H: 7, W: 6, OC: 4, KH: 3, KW: 3, SH: 1, SW: 1, pads: [1, 1, 1, 1] }, x, p(0, 'W'), p(0, 'b')));
        const y2 = sigm(refConv({ B: 3, C: 4, H: 7, W: 6, OC: 2, KH: 3, KW: 2, SH: 2, SW: 2, pads: [1, 1, 1, 1] }, y1, p(2, 'W'), null));
        const W = p(5, 'W'), b = p(5, 'b'), out = new Float64Array(3 * 3);
        for (let r = 0; r < 3; r++) for (let j = 0; j < 3; j++) {
          let v = b[j];
          for (let k = 0; k < 32; k++) v += y2[r * 32 + k] * W[k * 3 + j];
          out[r * 3 + j] = v;
        }
        return out;
      }, 24);
      model.dispose();
    });
  });

  describe('single layers: ∂L/∂x and ∂L/∂params for L = Σ R ⊙ y', () => {
    const B = 3;
    it('Linear(5, 4)', () => {
      const rng = new Rng(11);
      checkLayerGradients(be, new Linear(5, 4), 5, B, uniform(B * 5, -1, 1, rng), 1e-2, 12);
    });
    it('Linear(19, 9) at batch 7: SIMD main loops and tails of all three GEMMs', () => {
      const rng = new Rng(21);
      checkLayerGradients(be, new Linear(19, 9), 19, 7, uniform(7 * 19, -1, 1, rng), 1e-2, 22);
    });
    it('ReLU (inputs kept ≥ 0.1 away from the kink)', () => {
      const rng = new Rng(13);
      const x = uniform(B * 6, 0.1, 1, rng).map((v, i) => (i % 3 === 0 ? -v : v));
      checkLayerGradients(be, new ReLU(), 6, B, x, 1e-3, 14);
    });
    it('Tanh', () => {
      checkLayerGradients(be, new Tanh(), 6, B, uniform(B * 6, -2, 2, new Rng(15)), 1e-2, 16);
    });
    it('Sigmoid', () => {
      checkLayerGradients(be, new Sigmoid(), 6, B, uniform(B * 6, -3, 3, new Rng(17)), 1e-2, 18);
    });
    it('Softmax (row-wise)', () => {
      checkLayerGradients(be, new Softmax(), 5, B, uniform(B * 5, -2, 2, new Rng(19)), 1e-2, 20);
    });
  });

  it('Linear alone with mse', () => {
    const { model, x, rng } = setup(() => [new Linear(6, 4)], 5, 3);
    const n = checkModelGradients({ model, B: 5, x, t: uniform(5 * 4, -1, 1, rng), loss: 'mse', h: 1e-2 });
    expect(n).toBe(6 * 4 + 4);
    model.dispose();
  });

  describe('each activation between two Linears (mse)', () => {
    it('relu', () => {
      const { model, x, rng } = setupKinkFree(() => [new Linear(4, 6), new ReLU(), new Linear(6, 3)], 4);
      checkModelGradients({ model, B: 4, x, t: uniform(4 * 3, -1, 1, rng), loss: 'mse', h: 1e-3 });
      model.dispose();
    });
    it('tanh', () => {
      const { model, x, rng } = setup(() => [new Linear(4, 6), new Tanh(), new Linear(6, 3)], 4, 5);
      checkModelGradients({ model, B: 4, x, t: uniform(4 * 3, -1, 1, rng), loss: 'mse', h: 1e-2 });
      model.dispose();
    });
    it('sigmoid', () => {
      const { model, x, rng } = setup(() => [new Linear(4, 6), new Sigmoid(), new Linear(6, 3)], 4, 6);
      checkModelGradients({ model, B: 4, x, t: uniform(4 * 3, -1, 1, rng), loss: 'mse', h: 1e-2 });
      model.dispose();
    });
    it('softmax', () => {
      const { model, x, rng } = setup(() => [new Linear(4, 6), new Softmax(), new Linear(6, 3)], 4, 7);
      checkModelGradients({ model, B: 4, x, t: uniform(4 * 3, -1, 1, rng), loss: 'mse', h: 1e-2 });
      model.dispose();
    });
  });

  describe('each loss', () => {
    it('mse through an output Sigmoid (unfused: mse_backward then sigmoid_backward)', () => {
      const { model, x, rng } = setup(() => [new Linear(5, 4), new Sigmoid()], 3, 8);
      checkModelGradients({ model, B: 3, x, t: uniform(3 * 4, 0, 1, rng), loss: 'mse', h: 1e-2 });
      model.dispose();
    });
    it('bce fused with the output Sigmoid (p − t)', () => {
      const { model, x, rng } = setup(() => [new Linear(5, 4), new Sigmoid()], 3, 9);
      checkModelGradients({ model, B: 3, x, t: uniform(3 * 4, 0, 1, rng), loss: 'bce', h: 1e-2 });
      model.dispose();
    });
    it('bce unfused through Sigmoid (bce_backward then sigmoid_backward)', () => {
      const { model, x, rng } = setup(() => [new Linear(5, 4), new Sigmoid()], 3, 9);
      const unfused: Loss = { ...bce, fusedGradient: undefined };
      checkModelGradients({ model, B: 3, x, t: uniform(3 * 4, 0, 1, rng), loss: unfused, h: 1e-2 });
      model.dispose();
    });
    it('bce unfused through a Softmax output (bce_backward then softmax_backward)', () => {
      const { model, x, rng } = setup(() => [new Linear(5, 4), new Tanh(), new Linear(4, 4), new Softmax()], 3, 10);
      checkModelGradients({ model, B: 3, x, t: uniform(3 * 4, 0, 1, rng), loss: 'bce', h: 1e-2 });
      model.dispose();
    });
    it('crossentropy fused with Softmax, soft targets', () => {
      const { model, x, rng } = setup(() => [new Linear(5, 4), new Tanh(), new Linear(4, 6), new Softmax()], 4, 11);
      checkModelGradients({ model, B: 4, x, t: distributions(4, 6, rng), loss: 'crossentropy', h: 1e-2 });
      model.dispose();
    });
    it('crossentropy fused with Softmax, one-hot targets', () => {
      const { model, x, rng } = setup(() => [new Linear(5, 6), new Softmax()], 4, 12);
      checkModelGradients({ model, B: 4, x, t: distributions(4, 6, rng, true), loss: 'crossentropy', h: 1e-2 });
      model.dispose();
    });
    it('crossentropy without a Softmax output is refused', async () => {
      const { model, x } = setup(() => [new Linear(5, 6), new Sigmoid()], 2, 13);
      be.write(model.input(2), x);
      model.forward(2);
      expect(await errorOf(() => model.loss(2, 'crossentropy', true))).toMatch(/Softmax/);
      model.dispose();
    });
  });

  // pooling and upsampling layers between two Linears: the first Linear's gradients pass through every pool's backward
  // (and the max pool's argmax, kept in its scratch from forward to backward); the parameters whose ±h step moves
  // some argmax (the float64 forward at both ends) are left out, at most 2%
  it('Linear → Tanh → Reshape [2, 6, 5] → MaxPool2D(2, s1) → AvgPool2D(3, s2, pad 1, exclude pad) → Upsample2D([2, 1]) → Flatten → Linear → Sigmoid, mse', () => {
    const { model, x, rng } = setup(() => [new Linear(12, 60), new Tanh(), new Reshape([2, 6, 5]), new MaxPool2D(2, { stride: 1 }), new AvgPool2D(3, { stride: 2, padding: 1, countIncludePad: false }), new Upsample2D([2, 1]), new Flatten(), new Linear(24, 3), new Sigmoid()], 3, 31);
    expect(model.shapes).toEqual([[12], [60], [60], [2, 6, 5], [2, 5, 4], [2, 3, 2], [2, 6, 2], [24], [3], [3]]);
    const checked = checkModelGradients({ model, B: 3, x, t: uniform(3 * 3, 0, 1, rng), loss: 'mse', h: 1e-3, kinks: 'skip' });
    expect(checked).toBeGreaterThan(0.98 * model.paramCount);
  });
  it('Linear → Tanh → Reshape [3, 8, 6] → MaxPool2D(2) → Upsample2D(2) → AvgPool2D(2) → Flatten → Linear → Sigmoid (the 2×2 stride-2 and ×2 fast paths), bce', () => {
    const { model, x, rng } = setup(() => [new Linear(8, 144), new Tanh(), new Reshape([3, 8, 6]), new MaxPool2D(2), new Upsample2D(2), new AvgPool2D(2), new Flatten(), new Linear(36, 5), new Sigmoid()], 4, 41);
    expect(model.shapes.slice(3, 7)).toEqual([[3, 8, 6], [3, 4, 3], [3, 8, 6], [3, 4, 3]]);
    const checked = checkModelGradients({ model, B: 4, x, t: uniform(4 * 5, 0, 1, rng), loss: 'bce', h: 1e-3, kinks: 'skip' });
    expect(checked).toBeGreaterThan(0.98 * model.paramCount);
  });

  // pixel shuffles between two Linears (a permutation each: the forward checks the order against the float64
  // definition, the first Linear's gradients its inverse); depth width 6 at r = 2: the SIMD path and its tail
  it('Linear → Tanh → Reshape [8, 3, 6] → PixelShuffle2D(2) → PixelUnshuffle2D(3) → Flatten → Linear → Sigmoid, mse', () => {
    const { model, x, rng } = setup(() => [new Linear(6, 144), new Tanh(), new Reshape([8, 3, 6]), new PixelShuffle2D(2), new PixelUnshuffle2D(3), new Flatten(), new Linear(144, 5), new Sigmoid()], 3, 51);
    expect(model.shapes.slice(3, 6)).toEqual([[8, 3, 6], [2, 6, 12], [18, 2, 4]]);
    const checked = checkModelGradients({ model, B: 3, x, t: uniform(3 * 5, 0, 1, rng), loss: 'mse', h: 1e-2 });
    expect(checked).toBe(model.paramCount);
  });

  it('a whole Sequential 7→5 tanh→4 relu→7 sigmoid with bce', () => {
    const layers = () => [new Linear(7, 5), new Tanh(), new Linear(5, 4), new ReLU(), new Linear(4, 7), new Sigmoid()];
    const { model, x, rng } = setupKinkFree(layers, 4);
    const n = checkModelGradients({ model, B: 4, x, t: uniform(4 * 7, 0, 1, rng), loss: 'bce', h: 1e-3 });
    expect(n).toBe(7 * 5 + 5 + 5 * 4 + 4 + 4 * 7 + 7);
    model.dispose();
  });

  it('backward(B, dOutput) with a hand-made ∂L/∂output (L = Σ R ⊙ output)', async () => {
    const B = 3;
    const { model, x, rng } = setup(() => [new Linear(5, 4), new Tanh(), new Linear(4, 3), new Sigmoid()], B, 15);
    const R = uniform(B * 3, -1, 1, rng);
    const dOut = be.alloc(B, 3);
    be.write(dOut, R);
    be.write(model.input(B), x);
    model.zeroGrad();
    model.forward(B);
    model.backward(B, dOut);
    const analytic = be.read(model.grads);
    const w = model.getWeights();
    const L = () => {
      model.setWeights(w);
      const y = be.read(model.forward(B));
      return y.reduce((s, v, i) => s + R[i] * v, 0);
    };
    const numeric = Float64Array.from(w, (_, i) => centralDiff(w, i, 1e-2, L));
    expectClose('∂L/∂w', analytic, numeric, ATOL, RTOL);
    expect(await errorOf(() => model.backward(B, model.input(B)))).toMatch(/expected a \(3, 3\) gradient, got \(3, 5\)/);
    const other = await createJsBackend();
    const foreign = other.alloc(B, 3);
    expect(await errorOf(() => model.backward(B, foreign))).toMatch(/gradient tensor belongs to another js backend, not this model's (js|wasm) backend/);
    be.free(dOut);
    model.dispose();
  });

  it('gradients accumulate across backward calls until zeroGrad', () => {
    const { model, x, rng } = setup(() => [new Linear(4, 3), new Sigmoid()], 2, 14);
    be.write(model.input(2), x);
    be.write(model.target(2), uniform(6, 0, 1, rng));
    model.zeroGrad();
    model.forward(2);
    model.loss(2, 'bce', true);
    const once = be.read(model.grads);
    model.forward(2);
    model.loss(2, 'bce', true);
    const twice = be.read(model.grads);
    for (let i = 0; i < once.length; i++) expect(twice[i]).toBeCloseTo(2 * once[i], 6);
    model.zeroGrad();
    expect(be.read(model.grads).every((g) => g === 0)).toBe(true);
    model.dispose();
  });

  // ---------------------------------------------------------------------------------------------------
  // The autoencoder at small size: a float64 forward and backward written out in full
  // ---------------------------------------------------------------------------------------------------

  // 12→5 relu→12 at batch 3 (the small case: every |ReLU input| is kept away from its kink by seed choice),
  // and 33→16 relu→33 at batch 9 (SIMD-width main loops plus odd tails; kink-straddling steps are skipped)
  const AE_CASES = [
    { N: 12, H: 5, B: 3, lossName: 'bce' as const, kinks: 'margin' as const },
    { N: 12, H: 5, B: 3, lossName: 'mse' as const, kinks: 'margin' as const },
    { N: 33, H: 16, B: 9, lossName: 'bce' as const, kinks: 'skip' as const },
  ];
  describe.each(AE_CASES)('$N→$H relu→$N sigmoid autoencoder, batch $B, $lossName: float64 reference forward + backward', ({ N, H, B, lossName, kinks }) => {

    function reference(w: Float32Array, x: Float32Array, t: Float32Array) {
      // the flat block: W1 (N,H) row-major, b1 (H), W2 (H,N), b2 (N)
      const W1 = (k: number, j: number) => w[k * H + j];
      const b1 = (j: number) => w[N * H + j];
      const o2 = N * H + H;
      const W2 = (k: number, j: number) => w[o2 + k * N + j];
      const b2 = (j: number) => w[o2 + H * N + j];
      const z1 = new Float64Array(B * H), a1 = new Float64Array(B * H), p = new Float64Array(B * N);
      for (let r = 0; r < B; r++)
        for (let j = 0; j < H; j++) {
          let s = b1(j);
          for (let k = 0; k < N; k++) s += x[r * N + k] * W1(k, j);
          z1[r * H + j] = s;
          a1[r * H + j] = Math.max(s, 0);
        }
      for (let r = 0; r < B; r++)
        for (let j = 0; j < N; j++) {
          let s = b2(j);
          for (let k = 0; k < H; k++) s += a1[r * H + k] * W2(k, j);
          p[r * N + j] = 1 / (1 + Math.exp(-s));
        }
      let loss = 0;
      const dz2 = new Float64Array(B * N);
      for (let i = 0; i < B * N; i++) {
        if (lossName === 'bce') {
          loss -= t[i] * Math.log(p[i]) + (1 - t[i]) * Math.log(1 - p[i]);
          dz2[i] = (p[i] - t[i]) / (B * N); // d/dz of the mean BCE through the sigmoid
        } else {
          loss += (p[i] - t[i]) ** 2;
          dz2[i] = ((2 * (p[i] - t[i])) / (B * N)) * p[i] * (1 - p[i]);
        }
      }
      loss /= B * N;
      const g = new Float64Array(w.length);
      // layer 2: dW2 = a1ᵀ dz2, db2 = Σ_rows dz2, da1 = dz2 W2ᵀ
      const da1 = new Float64Array(B * H);
      for (let r = 0; r < B; r++)
        for (let j = 0; j < N; j++) {
          const d = dz2[r * N + j];
          g[o2 + H * N + j] += d;
          for (let k = 0; k < H; k++) {
            g[o2 + k * N + j] += a1[r * H + k] * d;
            da1[r * H + k] += d * W2(k, j);
          }
        }
      // ReLU, then layer 1
      for (let r = 0; r < B; r++)
        for (let j = 0; j < H; j++) {
          const d = z1[r * H + j] > 0 ? da1[r * H + j] : 0;
          g[N * H + j] += d;
          for (let k = 0; k < N; k++) g[k * H + j] += x[r * N + k] * d;
        }
      return { loss, p, grads: g, z1 };
    }

    it('loss, output and every gradient match the reference; the gradients match finite differences', () => {
      const rng = new Rng(2024);
      // digit-like inputs: mostly 0, some pixels on; clean target = input (the autoencoder's job)
      const t = new Float32Array(B * N).map(() => (rng.next() < 0.4 ? rng.uniform(0.3, 1) : 0));
      const x = t.map((v) => Math.min(1, Math.max(0, v + 0.3 * rng.normal())));
      let model!: Sequential;
      let ref!: ReturnType<typeof reference>;
      for (let seed = 1; ; seed++) {
        model = autoencoder(be, { width: N, hidden: [H], seed });
        ref = reference(model.getWeights(), x, t);
        if (kinks === 'skip' || ref.z1.every((z) => Math.abs(z) > 2 * KINK_MARGIN)) break;
        model.dispose();
        expect(seed).toBeLessThan(200);
      }
      // f32 and f64 must at least agree on which side of each kink every unit is
      expect(Math.min(...ref.z1.map(Math.abs))).toBeGreaterThan(1e-4);
      expect(model.paramCount).toBe(N * H + H + H * N + N);
      be.write(model.input(B), x);
      be.write(model.target(B), t);
      model.zeroGrad();
      const out = be.read(model.forward(B));
      expectClose('p', out, ref.p, 1e-6, 1e-5);
      const value = model.loss(B, lossName, true);
      expect(Math.abs(value - ref.loss)).toBeLessThanOrEqual(1e-6 * ref.loss);
      const grads = be.read(model.grads);
      // f32 forward/backward vs f64: agreement to ~1e-6 absolute on gradients of size ~1e-2
      expectClose('∂L/∂w', grads, ref.grads, 2e-6, 1e-4);
      // and the same model through the generic finite-difference checker
      const checked = checkModelGradients({ model, B, x, t, loss: lossName, h: 1e-3, kinks });
      expect(checked).toBeGreaterThan(0.98 * model.paramCount);
      model.dispose();
    });
  });
});

// =====================================================================================================
// Pooling and upsampling kernels: ∂L/∂x from each backward kernel against central differences of its forward,
// L = Σ R ⊙ y in float64. Avg pool and upsample are linear in x. Max pool runs on distinct inputs 0.01 apart, so
// no window's argmax changes within ±h (h = 1e-3).
// =====================================================================================================

type PoolGradCase =
  | { op: 'max' | 'avg'; shape: number[]; kernel: [number, number]; stride: [number, number]; pads: [number, number, number, number]; incl?: boolean }
  | { op: 'up'; shape: number[]; scale: [number, number] };

const POOL_GRAD_CASES: PoolGradCase[] = [
  { op: 'avg', shape: [2, 3, 7, 6], kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1], incl: true },
  { op: 'avg', shape: [2, 3, 7, 6], kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1], incl: false },
  { op: 'avg', shape: [1, 3, 6, 5], kernel: [3, 2], stride: [1, 1], pads: [0, 1, 1, 0], incl: false },
  { op: 'avg', shape: [1, 2, 9, 10], kernel: [2, 2], stride: [2, 2], pads: [0, 0, 0, 0] }, // the 2×2 fast path, odd H
  { op: 'max', shape: [1, 3, 6, 5], kernel: [3, 3], stride: [1, 1], pads: [1, 1, 1, 1] }, // overlapping windows
  { op: 'max', shape: [1, 2, 9, 10], kernel: [2, 2], stride: [2, 2], pads: [0, 0, 0, 0] },
  { op: 'up', shape: [1, 3, 5, 4], scale: [2, 2] },
  { op: 'up', shape: [2, 1, 3, 5], scale: [3, 2] },
];

describe.each(backendCases())('pool kernels on the $label backend: ∂L/∂x against central differences', ({ make }) => {
  let be: Backend;
  beforeAll(async () => {
    be = await make();
  });

  it.each(POOL_GRAD_CASES.map((c) => [JSON.stringify(c), c] as const))('%s', (_name, c) => {
    const [B, C, H, W] = c.shape;
    const N = B * C;
    const [OH, OW] = pool2dOutSize(c, H, W);
    const rng = new Rng(77 + N * H * W);
    let x: Float32Array;
    if (c.op === 'max') {
      // distinct values 0.01 apart, shuffled
      x = Float32Array.from({ length: N * H * W }, (_, i) => -1 + 0.01 * i);
      for (let i = x.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [x[i], x[j]] = [x[j], x[i]];
      }
    } else x = uniform(N * H * W, -1, 1, rng);
    const R = uniform(N * OH * OW, -1, 1, rng);
    const X = be.alloc(1, x.length), Y = be.alloc(1, R.length), I = be.alloc(1, R.length), DY = be.alloc(1, R.length), DX = be.alloc(1, x.length);
    try {
      const k = be.kernels;
      const win = c.op === 'up' ? ([0, 0, 0, 0, 0, 0, 0, 0] as const) : ([OH, OW, ...c.kernel, ...c.stride, c.pads[0], c.pads[1]] as const);
      const forward = () => {
        if (c.op === 'up') k.upsample2d_forward(Y.ptr, X.ptr, N, H, W, ...c.scale);
        else if (c.op === 'max') k.maxpool2d_forward(Y.ptr, I.ptr, X.ptr, N, H, W, ...win);
        else k.avgpool2d_forward(Y.ptr, X.ptr, N, H, W, ...win, c.incl === false ? 0 : 1);
      };
      be.write(X, x);
      be.write(DY, R);
      forward();
      if (c.op === 'up') k.upsample2d_backward(DX.ptr, DY.ptr, N, H, W, ...c.scale);
      else if (c.op === 'max') k.maxpool2d_backward(DX.ptr, DY.ptr, I.ptr, N, H, W, ...win);
      else k.avgpool2d_backward(DX.ptr, DY.ptr, N, H, W, ...win, c.incl === false ? 0 : 1);
      const dx = be.read(DX);

      const L = () => {
        be.write(X, x);
        forward();
        const y = be.read(Y);
        let s = 0;
        for (let i = 0; i < y.length; i++) s += R[i] * y[i];
        return s;
      };
      const h = c.op === 'max' ? 1e-3 : 1e-2;
      const numeric = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) numeric[i] = centralDiff(x, i, h, L);
      expectClose('∂L/∂x', dx, numeric, ATOL, RTOL);
      // every input of a window gets a gradient (max: only argmaxes; upsample: all)
      expect(dx.filter((g) => g !== 0).length).toBeGreaterThan(c.op === 'max' ? 0.15 * x.length : 0.8 * x.length);
    } finally {
      for (const t of [X, Y, I, DY, DX]) be.free(t);
    }
  });
});
