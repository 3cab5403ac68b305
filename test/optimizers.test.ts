// Optimizer API: a settable learning rate (schedules drive it), validated like the constructor's.

import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../src/backend/js.js';
import { createOptimizer } from '../src/optimizers.js';
import { errorOf } from './support/backends.js';

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
