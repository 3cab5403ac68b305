// One memory estimate (issue 12): the parts src/memory.ts adds up match what the allocator really hands out for a
// model, its optimizer and its batches, and a run too big for wasm32 is refused from its flags, before the model
// is built (it used to allocate 2.7 GB, train ~10 s, then fail naming neither the optimizer nor --hidden).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../src/backend/js.js';
import { createWasmBackend } from '../src/backend/wasm.js';
import { runMemoryParts } from '../src/cli/train-job.js';
import { specChain } from '../src/model-spec.js';
import { loadBundledMnist } from '../src/data/mnist-bundled.js';
import { trainingParts } from '../src/memory.js';
import { autoencoder, convAutoencoderSpec } from '../src/models.js';
import { Sequential } from '../src/model.js';
import { createOptimizer, STATE_SLOTS } from '../src/optimizers.js';
import { fit } from '../src/training/fit.js';
import type { TrainConfig } from '../src/training/run.js';

const CLI = join(__dirname, '..', 'dist', 'cli', 'main.js');

describe('the memory estimate', () => {
  it('the reference model, Adam, 500 rows in batches of 64 (a last batch of 52): what fit allocates at its peak, within alignment', async () => {
    const backend = await createJsBackend();
    const x = loadBundledMnist({ seed: 0 }).train.images.subarray(0, 500 * 784);
    const start = backend.availableBytes!;
    const model = autoencoder(backend, { hidden: [128], seed: 0 });
    const optimizer = createOptimizer('adam');
    const parts = trainingParts({ paramCount: model.paramCount, chain: model, batchSize: 64, rows: 500, sameTargets: true, optimizer: { name: 'adam', slots: STATE_SLOTS.adam }, withModel: true });
    const bytes = Object.fromEntries(parts.map((p) => [p.what, p.bytes]));
    // by hand: 784·128 + 128 + 128·784 + 784 parameters; widths 784, 128, 128, 784, 784 → 2·2608 − 784 + 784 floats a row
    expect(model.paramCount).toBe(201_616);
    expect(bytes['weights and gradients']).toBe(2 * 4 * 201_616);
    expect(bytes['adam state']).toBe(2 * 4 * 201_616);
    expect(bytes['batches of 64']).toBe(4 * 5216 * (64 + 52)); // 500 = 7·64 + 52
    expect(bytes['the training set']).toBe(4 * 500 * (784 + 1));
    let peak = 0;
    await fit(model, { train: { x, y: x } }, { epochs: 1, batchSize: 64, optimizer, seed: 0, onBatch: () => void (peak = Math.max(peak, start - backend.availableBytes!)) });
    const estimate = parts.reduce((n, p) => n + p.bytes, 0);
    // the allocator rounds each block up to 16 bytes: a few dozen blocks, so within 1 KiB
    expect(Math.abs(peak - estimate)).toBeLessThan(1024);
    optimizer.dispose();
    model.dispose();
  });

  it('a conv run on 2 kernel threads: the CLI counts what fit allocates there (a conv scratch panel per thread; it used to count one)', async () => {
    const backend = await createWasmBackend({ threads: 2 });
    try {
      expect(backend.threads).toBe(2);
      const rows = 100, batchSize = 32; // batches of 32 and a last one of 4: two workspaces
      const config: TrainConfig = { epochs: 1, batchSize, lr: 1e-3, optimizer: 'adam', model: 'conv', channels: [8], hidden: [128], activation: 'relu', loss: 'bce', noise: 'gaussian', noiseFactor: 0.3, seed: 0 };
      const x = loadBundledMnist({ seed: 0 }).train.images.subarray(0, rows * 784);
      const parts = runMemoryParts(config, rows, backend);
      const estimate = parts.reduce((n, p) => n + p.bytes, 0);
      // the count before: the spec's layers unbound, so each conv layer's scratch for one thread
      const unbound = specChain(convAutoencoderSpec({ channels: [8] }));
      const before = trainingParts({ paramCount: unbound.layout.total, chain: unbound, batchSize, rows, sameTargets: true, optimizer: { name: 'adam', slots: STATE_SLOTS.adam }, withModel: true }).reduce((n, p) => n + p.bytes, 0);
      const start = backend.availableBytes;
      const model = Sequential.fromSpec(convAutoencoderSpec({ channels: [8] }), { backend, seed: 0 });
      const optimizer = createOptimizer('adam');
      let peak = 0;
      await fit(model, { train: { x, y: x } }, { epochs: 1, batchSize, optimizer, seed: 0, onBatch: () => void (peak = Math.max(peak, start - backend.availableBytes)) });
      optimizer.dispose();
      model.dispose();
      // what the allocator handed out at the peak, within its 16-byte rounding of a few dozen blocks
      expect(Math.abs(peak - estimate)).toBeLessThan(1024);
      // the one-thread count fell short of it by a panel per conv layer and workspace: a check against it could pass
      // a run that then runs out of memory
      expect(peak - before).toBeGreaterThan(64 * 1024);
    } finally {
      backend.dispose();
    }
  });

  it('train --hidden 200000: refused in about a second, before the model is built, naming the parts, the optimizer and --hidden', () => {
    const out = mkdtempSync(join(tmpdir(), 'simdnet-memory-'));
    try {
      const r = spawnSync(process.execPath, [CLI, 'train', '--hidden', '200000', '--epochs', '1', '--out', out], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^simdnet: training 784→200000, relu, 200000→784, sigmoid needs 4\.9 GiB of WASM linear memory \(weights and gradients 2\.3 GiB, adam state 2\.3 GiB, batches of 64 196\.5 MiB, the training set 24\.0 MiB\), but only [\d.]+ GiB of its 4 GiB are left; use a smaller --hidden \(now 200000\), or --optimizer sgd \(no state\)$/m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(readdirSync(out)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
