// Dropout: the kernel (keep rate, scale, wasm = js bit for bit), the layer in a model (finite-difference gradient
// with the mask fixed, training off = identity, the mask a function of (seed, step) only: the same after a model
// file round trip, on resume — by hand and through fit's trainStep — and with 1 or 2 threads) and its errors.
//
// Keep-rate bound: n = 200,003 draws, each kept with p = 1 − rate (up to 2^-24); the kept count is binomial with
// σ = √(n·p·(1−p)) ≈ 205 at rate 0.3; the test allows 6σ (a false failure about once in 10^9 runs).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { createJsBackend } from '../src/backend/js.js';
import { createWasmBackend } from '../src/backend/wasm.js';
import { decodeCheckpoint, encodeCheckpoint, restoreCheckpoint } from '../src/formats/checkpoint.js';
import { Dropout, Linear, ReLU, Sigmoid, Tanh, layerFromSpec } from '../src/layers/index.js';
import { Sequential } from '../src/model.js';
import { autoencoder, describeLayers } from '../src/models.js';
import { decodeModelFile, deserializeModel, serializeModel } from '../src/formats/model-file.js';
import { createOptimizer } from '../src/optimizers.js';
import { loadBundledMnist } from '../src/data/mnist-bundled.js';
import { Rng } from '../src/random.js';
import { backendCases, errorOf } from './support/backends.js';
import { crashAndResume, straightRun, type Run } from './support/resume.js';

const cases = backendCases();
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** dropout_apply on a fresh copy of x; returns y. */
function apply(be: Backend, x: Float32Array, rate: number, k0: number, k1: number, c0 = 0): Float32Array {
  const tx = be.alloc(1, x.length), ty = be.alloc(1, x.length);
  be.write(tx, x);
  be.kernels.dropout_apply(ty.ptr, tx.ptr, rate, k0, k1, c0, x.length);
  const y = be.read(ty);
  be.free(tx);
  be.free(ty);
  return y;
}

describe('the dropout_apply kernel', () => {
  const n = 200_003;
  const rng = new Rng(1);
  const x = new Float32Array(n).map(() => rng.uniform(0.5, 2)); // no zeros: a zero output means dropped

  it.each([0.1, 0.3, 0.5, 0.9])('rate %s: keeps 1 − rate of the elements (within 6σ), each scaled by f32(1/(1 − rate)); every backend gives the same bits', async (rate) => {
    const scale = Math.fround(1 / (1 - Math.fround(rate)));
    const outs: Float32Array[] = [];
    for (const c of cases) outs.push(apply(await c.make(), x, rate, 0x1234567, 0x89abcdef));
    const y = outs[0];
    let kept = 0;
    for (let i = 0; i < n; i++) {
      if (y[i] === 0) continue;
      kept++;
      if (y[i] !== Math.fround(x[i] * scale)) throw new Error(`y[${i}] = ${y[i]}, expected x·scale = ${Math.fround(x[i] * scale)}`);
    }
    const p = 1 - rate, sigma = Math.sqrt(n * p * (1 - p));
    expect(Math.abs(kept - n * p)).toBeLessThanOrEqual(6 * sigma);
    for (let b = 1; b < outs.length; b++) expect(bits(outs[b]), cases[b].label).toEqual(bits(y));
  });

  it('rate 0 is the identity (bit for bit); other keys give another mask; an offset c0 continues the same stream', async () => {
    const be = await createWasmBackend();
    expect(bits(apply(be, x, 0, 5, 6))).toEqual(bits(x));
    const a = apply(be, x, 0.5, 5, 6), b = apply(be, x, 0.5, 5, 7);
    let same = 0;
    for (let i = 0; i < n; i++) if ((a[i] === 0) === (b[i] === 0)) same++;
    expect(same / n).toBeGreaterThan(0.48); // unrelated masks agree on about half the elements
    expect(same / n).toBeLessThan(0.52);
    // elements 1000.. of the whole call = a call from c0 = 1000 on the rest (how the threads split it)
    expect(bits(apply(be, x.subarray(1000), 0.5, 5, 6, 1000))).toEqual(bits(a.subarray(1000)));
  });
});

describe.each(cases)('the Dropout layer on the $label backend', ({ make }) => {
  let be: Backend;
  beforeAll(async () => {
    be = await make();
  });
  const B = 4;
  const net = (seed = 3) => new Sequential([new Linear(6, 10), new Tanh(), new Dropout(0.4), new Linear(10, 3)], { backend: be, seed });
  const inputs = () => {
    const rng = new Rng(2);
    return { x: new Float32Array(B * 6).map(() => rng.uniform(-1, 1)), t: new Float32Array(B * 3).map(() => rng.uniform(-1, 1)) };
  };

  /** MSE of the model's output in float64, training on at `step`. */
  function loss(model: Sequential, x: Float32Array, t: Float32Array): number {
    be.write(model.input(B), x);
    const y = be.read(model.forward(B));
    let s = 0;
    for (let i = 0; i < y.length; i++) s += (y[i] - t[i]) ** 2;
    return s / y.length;
  }

  it('gradients match central finite differences with the mask of the step fixed (and some units are dropped)', () => {
    const model = net();
    const { x, t } = inputs();
    model.setTraining(true, 11);
    be.write(model.input(B), x);
    be.write(model.target(B), t);
    model.zeroGrad();
    model.forward(B);
    model.loss(B, 'mse', true);
    const analytic = be.read(model.grads);
    const w = model.getWeights();
    const h = 1e-2;
    let checked = 0;
    for (let i = 0; i < w.length; i++) {
      const plus = Float32Array.from(w), minus = Float32Array.from(w);
      plus[i] += h;
      minus[i] -= h;
      model.setWeights(plus);
      const lp = loss(model, x, t);
      model.setWeights(minus);
      const lm = loss(model, x, t);
      const numeric = (lp - lm) / (plus[i] - minus[i]);
      expect(Math.abs(analytic[i] - numeric), `parameter ${i}`).toBeLessThanOrEqual(5e-5 + 5e-3 * Math.abs(numeric));
      checked++;
    }
    model.setWeights(w);
    expect(checked).toBe(w.length);
    // the mask is in the backward pass: with training off the gradients are others
    model.setTraining(false);
    model.zeroGrad();
    model.forward(B);
    model.loss(B, 'mse', true);
    expect(bits(be.read(model.grads))).not.toEqual(bits(analytic));
    model.dispose();
  });

  it('training off (the default, and in predict whatever the mode) is the identity: the outputs of the model without the layer', () => {
    const model = net();
    const plain = new Sequential([new Linear(6, 10), new Tanh(), new Linear(10, 3)], { backend: be, seed: 3 });
    plain.setWeights(model.getWeights());
    const { x } = inputs();
    const want = bits(plain.predict(x));
    expect(bits(model.predict(x))).toEqual(want);
    model.setTraining(true, 5);
    expect(bits(model.predict(x))).toEqual(want);
    expect(model.training).toEqual({ on: true, step: 5 }); // put back after predict
    // and on, the forward pass differs (units dropped, the rest scaled)
    expect(bits(Float32Array.from(be.read(model.forward(B)).slice(0, B * 3)))).not.toEqual(want.slice(0, B * 3));
    model.dispose();
    plain.dispose();
  });

  it('the mask is a function of (seed, step): the same step twice, after a model file round trip too; another step or seed differs', () => {
    const model = net(3);
    const { x } = inputs();
    const at = (m: Sequential, step: number) => {
      m.setTraining(true, step);
      be.write(m.input(B), x);
      return bits(be.read(m.forward(B)));
    };
    const s7 = at(model, 7);
    expect(at(model, 8)).not.toEqual(s7);
    expect(at(model, 7)).toEqual(s7);
    const spec = model.spec().layers[2];
    expect(spec).toMatchObject({ type: 'dropout', rate: 0.4 });
    expect(Number.isInteger((spec as { seed?: number }).seed)).toBe(true);
    const { model: loaded } = deserializeModel(serializeModel(model), be);
    expect(at(loaded, 7)).toEqual(s7);
    const other = net(4);
    other.setWeights(model.getWeights());
    expect(at(other, 7)).not.toEqual(s7);
    for (const m of [model, loaded, other]) m.dispose();
  });
});

describe('Dropout in training', () => {
  it('a run stopped at step 6 (checkpoint) and resumed gives the same bits as 12 straight steps (adamw, threads 2)', async () => {
    const rng = new Rng(8);
    const B = 16;
    const x = new Float32Array(12 * B * 20).map(() => rng.next());
    const build = (be: Backend) => new Sequential([new Linear(20, 32), new ReLU(), new Dropout(0.3), new Linear(32, 20), new Sigmoid()], { backend: be, seed: 9 });
    const step = (model: Sequential, opt: ReturnType<typeof createOptimizer>, s: number) => {
      model.setTraining(true, s);
      const batch = x.subarray(s * B * 20, (s + 1) * B * 20);
      model.backend.write(model.input(B), batch);
      model.backend.write(model.target(B), batch);
      model.zeroGrad();
      model.forward(B);
      model.loss(B, 'bce', true);
      opt.step(model);
    };
    const be = await createWasmBackend({ threads: 2 });
    const straight = build(be);
    const opt = createOptimizer('adamw', { lr: 0.01 });
    for (let s = 0; s < 12; s++) step(straight, opt, s);
    const first = build(be);
    const opt1 = createOptimizer('adamw', { lr: 0.01 });
    for (let s = 0; s < 6; s++) step(first, opt1, s);
    const saved = encodeCheckpoint(first, opt1, { epoch: 0, batch: 6, lossSum: 0, seen: 6 * B, seconds: 0, epochs: [] }, {});
    const be2 = await createWasmBackend({ threads: 1 });
    const opt2 = createOptimizer('adamw', { lr: 0.01 });
    const resumed = restoreCheckpoint(decodeCheckpoint(saved, 'c'), be2, opt2, 'c');
    for (let s = 6; s < 12; s++) step(resumed, opt2, s);
    expect(bits(resumed.getWeights())).toEqual(bits(straight.getWeights()));
    // and dropout did act: the same run without the layer (the same initial weights: it has no parameters) ends elsewhere
    const noDrop = new Sequential([new Linear(20, 32), new ReLU(), new Linear(32, 20), new Sigmoid()], { backend: be, seed: 9 });
    expect(bits(noDrop.getWeights())).toEqual(bits(build(be).getWeights()));
    const opt3 = createOptimizer('adamw', { lr: 0.01 });
    for (let s = 0; s < 12; s++) step(noDrop, opt3, s);
    expect(bits(noDrop.getWeights())).not.toEqual(bits(straight.getWeights()));
    be.dispose();
    be2.dispose();
  });
});

describe('Dropout through fit', () => {
  it('stopped mid-epoch at a checkpoint and resumed: the same bits as straight; 1 and 2 threads alike; dropout acted', async () => {
    const digits = loadBundledMnist({ seed: 0 }).train.images.subarray(0, 320 * 784);
    const train = { x: digits, y: digits };
    const layers = (rate: number) => [new Linear(784, 64), new ReLU(), ...(rate > 0 ? [new Dropout(rate)] : []), new Linear(64, 784), new Sigmoid()];
    const options = { epochs: 2, batchSize: 64, loss: 'bce' as const, seed: 4, noise: { kind: 'gaussian' as const, factor: 0.3 } };
    const run = (rate: number): Run => ({ build: (backend) => new Sequential(layers(rate), { backend, seed: 2 }), input: { train }, options, optimizer: 'adam' });
    const weights = (m: Sequential) => bits(m.getWeights());
    const ref = await straightRun(run(0.25), 2, weights);
    expect(await straightRun(run(0.25), 1, weights)).toEqual(ref);
    expect(await straightRun(run(0), 2, weights)).not.toEqual(ref);
    expect(await crashAndResume(run(0.25), { threads: 2, every: 2, at: (p) => p.epoch === 1 && p.batch === 2 }, 1, weights)).toEqual(ref);
  });
});

describe('autoencoder({ dropout })', () => {
  it('puts a Dropout after each hidden activation, each with its own seed; describeLayers names the rate', async () => {
    const be = await createJsBackend();
    const m = autoencoder(be, { hidden: [16, 8], dropout: 0.2, width: 20, seed: 1 });
    const spec = m.spec();
    expect(describeLayers(spec)).toBe('linear 20→16, relu, dropout 0.2, linear 16→8, relu, dropout 0.2, linear 8→20, sigmoid');
    const seeds = spec.layers.filter((l) => l.type === 'dropout').map((l) => (l as { seed?: number }).seed);
    expect(new Set(seeds).size).toBe(2);
    expect(describeLayers(autoencoder(be, { hidden: [16], width: 20 }).spec())).toBe('linear 20→16, relu, linear 16→20, sigmoid');
    expect(await errorOf(() => autoencoder(be, { dropout: 1 }))).toBe('autoencoder: dropout must be a rate in [0, 1), got 1');
    m.dispose();
  });
});

describe('simdnet train --dropout', () => {
  const CLI = join(__dirname, '..', 'dist', 'cli', 'main.js');
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  it('trains a model with a Dropout after each hidden activation (saved in model.simdnet); a bad rate exits 2 naming the flag', () => {
    const out = mkdtempSync(join(tmpdir(), 'simdnet-dropout-'));
    try {
      const r = cli('train', '--epochs', '1', '--hidden', '16,8', '--dropout', '0.25', '--out', out, '--threads', '1');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('dropout 0.25');
      const be = new Uint8Array(readFileSync(join(out, 'model.simdnet')));
      const spec = decodeModelFile(be, 'model.simdnet').spec;
      expect(describeLayers(spec)).toBe('linear 784→16, relu, dropout 0.25, linear 16→8, relu, dropout 0.25, linear 8→784, sigmoid');
      const bad = cli('train', '--epochs', '1', '--dropout', '1', '--out', out);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/--dropout.*expected a dropout rate \(a fraction from 0 up to, not including, 1\), got '1'/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('Dropout in the summary', () => {
  it('is named with its rate, with no parameters', async () => {
    const m = new Sequential([new Linear(4, 8), new Dropout(0.2), new Linear(8, 4)], { backend: await createJsBackend() });
    expect(m.summary()).toMatch(/\n1 Dropout\(0\.2\) +\(B, 8\) +0\n/);
    m.dispose();
  });
});

describe('Dropout errors', () => {
  it.each([1, -0.1, NaN, '0.5' as unknown as number])('new Dropout(%s) is refused', async (rate) => {
    expect(await errorOf(() => new Dropout(rate))).toMatch(/^Dropout: rate must be a number in \[0, 1\), got /);
  });
  it('a model file layer with a bad rate or seed names the layer', async () => {
    expect(await errorOf(() => layerFromSpec({ type: 'dropout', rate: 1.5 }, 'layer 2'))).toBe('layer 2: dropout rate must be a number in [0, 1), got 1.5');
    expect(await errorOf(() => layerFromSpec({ type: 'dropout', rate: 0.5, seed: -1 }, 'layer 2'))).toBe('layer 2: dropout seed must be an integer in [0, 2^32), got -1');
  });
  it('setTraining checks its arguments', async () => {
    const be = await createJsBackend();
    const m = new Sequential([new Linear(2, 2), new Dropout(0.5)], { backend: be });
    expect(await errorOf(() => m.setTraining('yes' as unknown as boolean))).toBe("setTraining: expected true or false, got 'yes'");
    expect(await errorOf(() => m.setTraining(true, -1))).toBe('setTraining: step must be an integer ≥ 0, got -1');
    m.dispose();
  });
});
