// Optimizers: a settable learning rate (schedules drive it); every optimizer (AdamW, RMSprop), weight decay and clipping by global
// norm against float64 formulas on every backend (their thread splits: test/threads.test.ts); option checks.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { createJsBackend } from '../src/backend/js.js';
import { clipScale, createOptimizer, type OptimizerName, type OptimizerOptions } from '../src/optimizers.js';
import { Rng } from '../src/random.js';
import { backendCases, errorOf } from './support/backends.js';
import { expectClose } from './support/close.js';
import { optimizerStep64, type OptimizerRef } from './support/reference.js';

describe('Optimizer.lr', () => {
  it('is settable, and the next step uses the new value (sgd: w −= lr·g)', async () => {
    const be = await createJsBackend();
    const params = be.alloc(1, 5);
    const grads = be.alloc(1, 5);
    be.write(params, new Float32Array([1, 1, 1, 1, 1]));
    be.write(grads, new Float32Array([1, 2, 3, 4, 5]));
    const opt = createOptimizer('sgd', { lr: 0.1 });
    expect(opt.lr).toBe(0.1);
    opt.lr = 0.25;
    expect(opt.lr).toBe(0.25);
    opt.step({ backend: be, params, grads });
    expect(Array.from(be.read(params))).toEqual([0.75, 0.5, 0.25, 0, -0.25].map(Math.fround));
  });

  it.each([0, -1, NaN, Infinity, '0.1' as unknown as number, undefined as unknown as number])('refuses %s, keeping the old value', async (bad) => {
    const opt = createOptimizer('adam', { lr: 0.01 });
    expect(await errorOf(() => (opt.lr = bad))).toMatch(/^optimizer: learning rate must be a positive number, got /);
    expect(opt.lr).toBe(0.01);
  });
});

// =====================================================================================================
// Every optimizer, weight decay and clipping against float64
// =====================================================================================================
//
// The formulas: test/support/reference.ts (optimizerStep64), in float64 with float64 state.
// Bound: 1e-6 absolute on weights in [−1, 1] over 3 steps (a few f32 ulps), state within 1e-6 relative.

const REFS: OptimizerRef[] = [
  { name: 'sgd', o: { lr: 0.1 } },
  { name: 'momentum', o: { lr: 0.05, momentum: 0.9 } },
  { name: 'adam', o: { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-7 } },
  { name: 'adam', o: { lr: 0.003, beta1: 0.8, beta2: 0.99, eps: 1e-3 } },
  { name: 'sgd', o: { lr: 0.1, weightDecay: 0.05 } },
  { name: 'sgd', o: { lr: 0.1, clipNorm: 1 } }, // the gradients' norm is about 9: clipped every step
  { name: 'momentum', o: { lr: 0.05, momentum: 0.9, weightDecay: 0.01, clipNorm: 2 } },
  { name: 'adam', o: { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-7, weightDecay: 0.02 } },
  { name: 'adamw', o: { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-7, weightDecay: 0.01 } },
  { name: 'adamw', o: { lr: 0.003, beta1: 0.8, beta2: 0.99, eps: 1e-3, weightDecay: 0.3, clipNorm: 0.5 } },
  { name: 'adamw', o: { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-7, weightDecay: 0.01, clipNorm: 1000 } }, // never clipped
  { name: 'rmsprop', o: { lr: 0.01, rho: 0.9, eps: 1e-7 } },
  { name: 'rmsprop', o: { lr: 0.001, rho: 0.99, eps: 1e-8, weightDecay: 0.1, clipNorm: 1 } },
];
const SLOTS: Record<OptimizerName, number> = { sgd: 0, momentum: 1, adam: 2, adamw: 2, rmsprop: 1 };

describe.each(backendCases())('optimizers on the $label backend against float64', ({ label, make }) => {
  const N = 37; // not a multiple of 4: the SIMD loops' scalar tails run too
  let be: Backend;
  const worst = { abs: 0, rel: 0 };
  beforeAll(async () => {
    be = await make();
  });
  afterAll(() => console.log(`optimizer parity, ${label} vs float64 (${REFS.length} configs × 3 steps): max |Δw| ${worst.abs.toExponential(2)}, max |Δw|/|w| ${worst.rel.toExponential(2)}`));

  it.each(REFS)('$name $o: 3 steps, weights and state', (ref) => {
    const rng = new Rng(5);
    const w0 = new Float32Array(N).map(() => rng.uniform(-1, 1));
    const params = be.alloc(1, N);
    const grads = be.alloc(1, N);
    be.write(params, w0);
    const opt = createOptimizer(ref.name, ref.o);
    const want = Float64Array.from(w0);
    const state = [new Float64Array(N), new Float64Array(N)];
    for (let t = 1; t <= 3; t++) {
      // gradients of mixed scale, including exact zeros and tiny ones (where eps matters)
      const g = new Float32Array(N).map((_, i) => (i % 7 === 0 ? 0 : i % 5 === 0 ? rng.uniform(-1e-4, 1e-4) : rng.uniform(-2, 2)));
      be.write(grads, g);
      opt.step({ backend: be, params, grads });
      optimizerStep64(ref, want, g, state, t);
      const got = be.read(params);
      for (let i = 0; i < N; i++) {
        const d = Math.abs(got[i] - want[i]);
        worst.abs = Math.max(worst.abs, d);
        worst.rel = Math.max(worst.rel, d / Math.max(Math.abs(want[i]), 1e-3));
      }
      expectClose(`step ${t}: weights`, got, want, 1e-6, 0);
    }
    const saved = opt.saveState();
    expect(saved.step).toBe(3);
    expect(saved.slots).toHaveLength(SLOTS[ref.name]);
    saved.slots.forEach((slot, s) => expectClose(`state slot ${s}`, slot, state[s], 1e-6, 1e-6));
    opt.dispose();
    be.free(params);
    be.free(grads);
  });

  it('the defaults are the documented ones (adam 0.9 / 0.999 / 1e-7, lr 1e-3)', () => {
    const rng = new Rng(6);
    const w0 = new Float32Array(N).map(() => rng.uniform(-1, 1));
    const g = new Float32Array(N).map(() => rng.uniform(-1, 1));
    const params = be.alloc(1, N);
    const grads = be.alloc(1, N);
    be.write(params, w0);
    be.write(grads, g);
    const opt = createOptimizer('adam');
    opt.step({ backend: be, params, grads });
    const want = Float64Array.from(w0);
    optimizerStep64({ name: 'adam', o: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-7 } }, want, g, [new Float64Array(N), new Float64Array(N)], 1);
    expectClose('weights', be.read(params), want, 1e-6, 0);
    opt.dispose();
    be.free(params);
    be.free(grads);
  });

  it('sum_squares is Σ x² (float64 reference) over several of its chunks', () => {
    const n = 3 * 4096 + 13;
    const rng = new Rng(9);
    const x = new Float32Array(n).map(() => rng.uniform(-3, 3));
    const t = be.alloc(1, n);
    be.write(t, x);
    let want = 0;
    for (const v of x) want += v * v;
    expect(Math.abs(be.kernels.sum_squares(t.ptr, n) - want)).toBeLessThanOrEqual(1e-12 * want);
    be.free(t);
  });
});

describe('new optimizer options', () => {
  it('the defaults: adamw decays 0.01, rmsprop ρ 0.9 and ε 1e-7, lr 1e-3; no clipping, no L2 elsewhere', () => {
    expect(createOptimizer('adamw').options).toEqual({ weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-7 });
    expect(createOptimizer('rmsprop').options).toEqual({ weightDecay: 0, rho: 0.9, eps: 1e-7 });
    expect(createOptimizer('adamw').lr).toBe(0.001);
    expect(createOptimizer('rmsprop').lr).toBe(0.001);
    expect(createOptimizer('momentum').options).toEqual({ weightDecay: 0, momentum: 0.9 });
  });

  it('clipScale: 1 under the norm, clipNorm/(norm + 1e-6) over it, 1 for a non-finite norm (left for the divergence watch)', () => {
    expect(clipScale(0.5, 1)).toBe(1);
    expect(clipScale(4, 1)).toBe(1 / (4 + 1e-6));
    expect(clipScale(NaN, 1)).toBe(1);
    expect(clipScale(Infinity, 1)).toBe(1);
    expect(clipScale(4, undefined)).toBe(1);
  });

  it('bad values and misspelt options are refused, naming the option', async () => {
    expect(await errorOf(() => createOptimizer('adamw', { weightDecay: -0.1 }))).toBe('optimizer: weightDecay must be a number ≥ 0, got -0.1');
    expect(await errorOf(() => createOptimizer('sgd', { clipNorm: 0 }))).toBe('optimizer: clipNorm must be a positive number, got 0');
    expect(await errorOf(() => createOptimizer('rmsprop', { rho: 1 }))).toBe('optimizer: rho must be a number in [0, 1), got 1');
    expect(await errorOf(() => createOptimizer('rmsprop', { eps: 0 }))).toBe('optimizer: eps must be a positive number, got 0');
    expect(await errorOf(() => createOptimizer('adamw', { weight_decay: 0.1 } as OptimizerOptions))).toMatch(/^optimizer: unknown option 'weight_decay', expected one of lr, .*weightDecay, clipNorm$/);
    expect(await errorOf(() => createOptimizer('nadam' as OptimizerName))).toBe("optimizer: expected sgd, momentum, adam, adamw or rmsprop, got 'nadam'");
  });
});

describe('new optimizers: wasm against the js twin over many steps', () => {
  // 20 steps on 10,007 parameters (SIMD bodies, tails and several sum_squares chunks), clipping active (the
  // gradients' norm is ~115 against clipNorm 5). Bound: 1e-5 absolute on weights of order 1 (observed ~1e-6).
  const N = 10_007, STEPS = 20;
  const configs: [OptimizerName, OptimizerOptions][] = [
    ['adamw', { lr: 0.003, weightDecay: 0.3, clipNorm: 5 }],
    ['rmsprop', { lr: 0.001, weightDecay: 0.1, clipNorm: 5 }],
    ['momentum', { lr: 0.05, weightDecay: 0.01, clipNorm: 5 }],
  ];
  async function run(be: Backend, name: OptimizerName, o: OptimizerOptions): Promise<Float32Array> {
    const rng = new Rng(5);
    const params = be.alloc(1, N), grads = be.alloc(1, N);
    be.write(params, new Float32Array(N).map(() => rng.uniform(-1, 1)));
    const opt = createOptimizer(name, o);
    for (let t = 0; t < STEPS; t++) {
      be.write(grads, new Float32Array(N).map(() => rng.uniform(-2, 2)));
      opt.step({ backend: be, params, grads });
    }
    const w = be.read(params);
    opt.dispose();
    be.free(params);
    be.free(grads);
    return w;
  }
  it.each(backendCases().filter((c) => c.label !== 'js'))('$label', async ({ label, make }) => {
    const be = await make(), js = await createJsBackend();
    let worst = 0;
    for (const [name, o] of configs) {
      const a = await run(be, name, o), b = await run(js, name, o);
      for (let i = 0; i < N; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    }
    console.log(`optimizer parity, ${label} vs js (${configs.length} configs × ${STEPS} steps × ${N} parameters): max |Δw| ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-5);
  });
});
