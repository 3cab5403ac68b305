// Long-run stability: thousands of training steps on the wasm backend leave linear memory and the number of
// live allocations exactly where they were after warm-up (a steady-state step allocates nothing), and
// disposing the model and the optimizer returns every block.

import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { createWasmBackend } from '../src/backend/wasm.js';
import { Linear, ReLU, Sigmoid } from '../src/layers/index.js';
import { Sequential } from '../src/model.js';
import { createOptimizer, type OptimizerName } from '../src/optimizers.js';
import { Rng } from '../src/random.js';
import { fit } from '../src/training/fit.js';

const STEPS = 2000;
const WIDTH = 64;

/** Smooth 64-pixel "images": a few bumps each, so the autoencoder has something to learn. */
function images(count: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(count * WIDTH);
  for (let r = 0; r < count; r++) {
    const c = rng.uniform(8, 56);
    const s = rng.uniform(3, 10);
    for (let j = 0; j < WIDTH; j++) out[r * WIDTH + j] = Math.exp(-(((j - c) / s) ** 2));
  }
  return out;
}

describe(`${STEPS} training steps (64→16→64, batch 16, wasm)`, () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await createWasmBackend();
  });

  it.each(['adam', 'momentum'] as OptimizerName[])('%s, through fit (with noise, a partial last batch and a test set): memory and allocations flat after warm-up', async (name) => {
    const liveBefore = backend.liveAllocations;
    const model = new Sequential([new Linear(WIDTH, 16), new ReLU(), new Linear(16, WIDTH), new Sigmoid()], { backend, seed: 1 });
    const optimizer = createOptimizer(name, { lr: name === 'adam' ? 0.01 : 0.05 });
    const x = images(200, 2); // 12 batches of 16 and one of 8 per epoch
    const test = images(40, 3);
    const batches = Math.ceil(200 / 16);
    const epochs = Math.ceil(STEPS / batches);
    let steps = 0;
    let baseline: { bytes: number; live: number } | undefined;
    let last: { bytes: number; live: number } | undefined;
    const drift: string[] = [];
    const history = await fit(model, { train: { x, y: x }, test: { x: test, y: test } }, {
      epochs,
      batchSize: 16,
      loss: 'bce',
      optimizer,
      seed: 4,
      noise: { kind: 'gaussian', factor: 0.1 },
      onBatch: () => {
        steps++;
        // warm-up: the first epoch (full and partial batch workspaces, optimizer state, test-set workspace)
        if (steps === batches + 1) baseline = { bytes: backend.memory.buffer.byteLength, live: backend.liveAllocations };
        else if (baseline && (backend.memory.buffer.byteLength !== baseline.bytes || backend.liveAllocations !== baseline.live))
          drift.push(`step ${steps}: ${backend.memory.buffer.byteLength} bytes, ${backend.liveAllocations} allocations`);
        last = { bytes: backend.memory.buffer.byteLength, live: backend.liveAllocations };
      },
    });
    expect(steps).toBeGreaterThanOrEqual(STEPS);
    expect(drift.slice(0, 5)).toEqual([]);
    // at the last step (after fit, its copy of the training set is freed too)
    expect(last).toEqual(baseline);
    // it did train, and stayed finite
    expect(model.weightsFinite()).toBe(true);
    expect(history.epochs.at(-1)!.testLoss).toBeLessThan(history.epochs[0].testLoss);

    model.dispose();
    optimizer.dispose();
    expect(backend.liveAllocations).toBe(liveBefore);
  });

  it(`${STEPS} hand-written steps alternating batch sizes 16 and 5, with predict and checkpoint-style reads in between`, () => {
    const liveBefore = backend.liveAllocations;
    const model = new Sequential([new Linear(WIDTH, 16), new ReLU(), new Linear(16, WIDTH), new Sigmoid()], { backend, seed: 1 });
    const optimizer = createOptimizer('adam', { lr: 0.01 });
    const pool = images(100, 5);
    const order = Int32Array.from({ length: 100 }, (_, i) => (i * 37) % 100);
    const step = (i: number) => {
      const rows = i % 3 === 2 ? 5 : 16;
      const start = (i * 16) % 80;
      backend.gatherRows(model.input(rows), pool, order, start, rows);
      backend.gatherRows(model.target(rows), pool, order, start, rows);
      model.zeroGrad();
      model.forward(rows);
      const loss = model.loss(rows, 'bce', true);
      optimizer.step(model);
      if (i % 100 === 0) {
        model.predict(pool.subarray(0, 7 * WIDTH), 7); // a third batch size
        optimizer.saveState();
        model.getWeights();
      }
      return loss;
    };
    for (let i = 0; i < 10; i++) step(i);
    step(100); // the predict batch size too
    const bytes = backend.memory.buffer.byteLength;
    const live = backend.liveAllocations;
    let first = NaN;
    let last = NaN;
    for (let i = 0; i < STEPS; i++) {
      const loss = step(i);
      if (i === 0) first = loss;
      last = loss;
      if (backend.liveAllocations !== live || backend.memory.buffer.byteLength !== bytes) throw new Error(`step ${i}: memory ${backend.memory.buffer.byteLength} (was ${bytes}), allocations ${backend.liveAllocations} (was ${live})`);
    }
    expect(last).toBeLessThan(first);
    expect(model.weightsFinite()).toBe(true);
    model.dispose();
    optimizer.dispose();
    expect(backend.liveAllocations).toBe(liveBefore);
  });

  it('build, train and dispose 200 models in a row: the memory reaches a plateau, every block comes back', async () => {
    const liveBefore = backend.liveAllocations;
    const x = images(48, 6);
    const sizes: number[] = [];
    for (let i = 0; i < 200; i++) {
      const hidden = 4 + (i % 5) * 4; // five model sizes in turn: freed blocks must be reused, not leaked
      const model = new Sequential([new Linear(WIDTH, hidden), new ReLU(), new Linear(hidden, WIDTH), new Sigmoid()], { backend, seed: i });
      const optimizer = createOptimizer('adam');
      await fit(model, { train: { x, y: x } }, { epochs: 1, batchSize: 16, optimizer, loss: 'bce', seed: i });
      model.dispose();
      optimizer.dispose();
      sizes.push(backend.memory.buffer.byteLength);
    }
    expect(backend.liveAllocations).toBe(liveBefore);
    expect(sizes[199]).toBe(sizes[9]); // all five sizes seen twice by then; no growth after
  });
});
