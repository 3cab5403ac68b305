// Nothing silent: a run that diverges stops with an error naming the epoch and batch and suggesting a lower
// learning rate (exit code 2 from the CLI), and the last good checkpoint stays on disk, decodes and restores.
//
// "Diverged" (src/training/fit.ts): a loss or a weight that is not finite, or a smoothed batch loss (EMA over ~10
// batches) above DIVERGENCE_FACTOR × the larger of the run's first batch loss and the loss's chance level. The second matters: `--lr 1e6 --optimizer sgd`
// with the default BCE loss never produces a NaN — the sigmoid saturates, the clamped loss stays near 2.7 and
// the weights reach ~1e7 — so before the watch it "trained" to the end and wrote a useless model, exit 0.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { createWasmBackend } from '../src/backend/wasm.js';
import { decodeCheckpoint, encodeCheckpoint, restoreCheckpoint } from '../src/formats/checkpoint.js';
import { loadBundledMnist } from '../src/data/mnist-bundled.js';
import { autoencoder } from '../src/models.js';
import { createOptimizer, type Optimizer, type Trainable } from '../src/optimizers.js';
import { DIVERGENCE_FACTOR, fit } from '../src/training/fit.js';
import { WEIGHT_GROWTH } from '../src/training/step.js';
import { errorOf } from './support/backends.js';

const CLI = join(__dirname, '..', 'dist', 'cli', 'main.js');
let root: string;
let backend: Backend;
let x: Float32Array;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'simdnet-diverge-'));
  backend = await createWasmBackend();
  x = loadBundledMnist({ seed: 0 }).train.images.subarray(0, 640 * 784); // 10 batches of 64
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const DIVERGED = /^training diverged at epoch (\d+), batch (\d+): .*; try a lower learning rate than [\d.e+]+$/;

describe('the CLI stops a diverging run', () => {
  it('train --lr 1e6 --optimizer sgd --checkpoint-every 2: exit 2, one line naming epoch and batch; the run-away weights are never written', () => {
    const out = join(root, 'cli');
    const r = spawnSync(process.execPath, [CLI, 'train', '--hidden', '16', '--epochs', '2', '--lr', '1e6', '--optimizer', 'sgd', '--checkpoint-every', '2', '--out', out], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('simdnet: '));
    expect(lines).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const message = lines[0].slice('simdnet: '.length);
    expect(message).toMatch(DIVERGED);
    expect(message).toMatch(/lower learning rate than 1000000/);
    // the weights are checked before each checkpoint: by batch 2 they are far past their start, so no checkpoint
    // (and no model, no temp file) holds them
    expect(message).toMatch(/^training diverged at epoch 1, batch 2: a weight reached .* growing without bound/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('train --loss mse --lr 1e9 (issue 12: exit 0 with weights at 6e9): exit 2 at the end of epoch 1, nothing written', () => {
    const out = join(root, 'cli-mse');
    const r = spawnSync(process.execPath, [CLI, 'train', '--hidden', '16', '--epochs', '3', '--loss', 'mse', '--lr', '1e9', '--out', out], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/simdnet: training diverged at epoch 1, batch 125: a weight reached 6\.\d+e\+9, over the bound .* growing without bound; try a lower learning rate than 1000000000\n/);
    expect(readdirSync(out)).toEqual([]);
  });
});

describe('fit stops a diverging run', () => {
  it('sgd lr 1e6 (no NaN ever appears): the smoothed-loss watch stops it within the first epoch', async () => {
    const model = autoencoder(backend, { hidden: [16], seed: 0 });
    const losses: number[] = [];
    const message = await errorOf(() =>
      fit(model, { train: { x, y: x } }, { epochs: 2, optimizer: 'sgd', lr: 1e6, loss: 'bce', seed: 0, onBatch: (b) => void losses.push(b.loss) }),
    );
    expect(message).toMatch(DIVERGED);
    expect(message).toMatch(new RegExp(`more than ${DIVERGENCE_FACTOR}× its starting value`));
    const [, epoch, batch] = DIVERGED.exec(message)!.map(Number);
    expect(epoch).toBe(1);
    expect(batch).toBe(losses.length + 1); // stopped before the update of the batch that crossed the line
    expect(losses.every(Number.isFinite)).toBe(true);
    model.dispose();
  });

  it('ordinary runs are not stopped: lr 10, 100 and 1000 with sgd, lr 0.01 with adam, 2 epochs each', async () => {
    for (const [optimizer, lr] of [['sgd', 10], ['sgd', 100], ['sgd', 1000], ['adam', 0.01]] as const) {
      const model = autoencoder(backend, { hidden: [16], seed: 0 });
      await fit(model, { train: { x, y: x } }, { epochs: 2, optimizer, lr, loss: 'bce', seed: 0, noise: { kind: 'gaussian', factor: 0.3 } });
      model.dispose();
    }
  });

  it('MSE at lr 1e3 and 1e9 (issue 12: a flat, finite loss, weights at 6e3 / 6e9, exit 0): stopped at the epoch end, the weights named', async () => {
    for (const lr of [1e3, 1e9]) {
      const model = autoencoder(backend, { hidden: [16], seed: 0 });
      const message = await errorOf(() => fit(model, { train: { x, y: x } }, { epochs: 3, optimizer: 'adam', lr, loss: 'mse', seed: 0 }));
      expect(message).toMatch(DIVERGED);
      expect(message).toMatch(new RegExp(`^training diverged at epoch 1, batch 10: a weight reached [\\d.e+]+, over the bound of 1\\.00e\\+3 \\(${WEIGHT_GROWTH}× the larger of 1 and the largest weight at the start, 0\\.\\d+\\): the weights are growing without bound`));
      model.dispose();
    }
  });

  it('ordinary MSE runs are not stopped by the weight watch: adam 0.001 and 0.02, sgd 1 and 10, 3 epochs each', async () => {
    for (const [optimizer, lr] of [['adam', 0.001], ['adam', 0.02], ['sgd', 1], ['sgd', 10]] as const) {
      const model = autoencoder(backend, { hidden: [16], seed: 0 });
      await fit(model, { train: { x, y: x } }, { epochs: 3, optimizer, lr, loss: 'mse', seed: 0, noise: { kind: 'gaussian', factor: 0.3 } });
      expect(model.maxAbsWeight()).toBeLessThan(WEIGHT_GROWTH / 10); // far from the bound, not just under it
      model.dispose();
    }
  });

  it('a run that goes bad in epoch 2: stopped there, every checkpoint it wrote is finite and the last one restores', async () => {
    // sgd whose learning rate jumps to 1e6 from the first step of epoch 2 (the watch reacts a few batches later)
    const sgd = createOptimizer('sgd', { lr: 0.5 });
    let steps = 0;
    const jumpy: Optimizer = {
      name: 'sgd',
      get lr() {
        return steps < 10 ? 0.5 : 1e6;
      },
      step(m: Trainable) {
        steps++;
        m.backend.kernels.sgd_update(m.params.ptr, m.grads.ptr, this.lr, m.params.cols);
      },
      saveState: () => sgd.saveState(),
      loadState: (m, s) => sgd.loadState(m, s),
      dispose: () => sgd.dispose(),
    };
    const model = autoencoder(backend, { hidden: [16], seed: 0 });
    const saved: Uint8Array[] = [];
    const message = await errorOf(() =>
      fit(model, { train: { x, y: x } }, {
        epochs: 3,
        optimizer: jumpy,
        loss: 'bce',
        seed: 0,
        checkpointEvery: 3,
        onCheckpoint: (p) => {
          expect(model.weightsFinite()).toBe(true);
          saved.push(encodeCheckpoint(model, jumpy, p, {}));
        },
      }),
    );
    expect(message).toMatch(/^training diverged at epoch 2, batch \d+: .*lower learning rate than 1000000$/);
    expect(saved.length).toBeGreaterThanOrEqual(4); // epoch 1: after batches 3, 6, 9 and at its end
    const last = decodeCheckpoint(saved[saved.length - 1], 'last');
    expect(last.checkpoint.progress.epoch).toBe(1);
    const restored = restoreCheckpoint(last, backend, createOptimizer('sgd'), 'last');
    expect(restored.weightsFinite()).toBe(true);
    restored.dispose();
    model.dispose();
  });

  it('a non-finite loss (adam, lr 1e30) names the batch; the weights of the last checkpoint stay finite', async () => {
    const model = autoencoder(backend, { hidden: [16], seed: 0 });
    const opt = createOptimizer('adam', { lr: 1e30 });
    let last: Uint8Array | undefined;
    const message = await errorOf(() =>
      fit(model, { train: { x, y: x } }, { epochs: 2, optimizer: opt, loss: 'bce', seed: 0, checkpointEvery: 1, onCheckpoint: (p) => void (last = encodeCheckpoint(model, opt, p, {})) }),
    );
    expect(message).toMatch(DIVERGED);
    if (last) expect(decodeCheckpoint(last, 'last').file.blocks.weights.every(Number.isFinite)).toBe(true);
    model.dispose();
    opt.dispose();
  });
});

describe('the CLI leaves an earlier run alone when a new one diverges', () => {
  it('a diverging run into a folder with a finished run: exit 2, the earlier model.simdnet is untouched', () => {
    const out = join(root, 'earlier');
    const ok = spawnSync(process.execPath, [CLI, 'train', '--hidden', '16', '--epochs', '1', '--out', out], { encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    const before = readFileSync(join(out, 'model.simdnet'));
    const bad = spawnSync(process.execPath, [CLI, 'train', '--hidden', '16', '--epochs', '1', '--lr', '1e6', '--optimizer', 'sgd', '--out', out], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(Buffer.compare(readFileSync(join(out, 'model.simdnet')), before)).toBe(0);
    expect(existsSync(join(out, 'checkpoint.simdnet'))).toBe(true);
    decodeCheckpoint(readFileSync(join(out, 'checkpoint.simdnet')), 'checkpoint');
  });
});

describe('weights written as ±Inf behind setWeights\'s back (model.params, then weightsChanged)', () => {
  it('a one-row predict (packed weights, which skip zero inputs) reports NaN outputs as the GEMM path does', async () => {
    const x = loadBundledMnist().test.images.subarray(0, 784); // a digit: its blank pixels give 0·Inf = NaN in the GEMM
    for (const backend of [await createWasmBackend({ threads: 1 }), await createWasmBackend({ threads: 2 })]) {
      const model = autoencoder(backend, { hidden: [16], seed: 1 });
      model.predict(x); // packs the finite weights
      const w = model.getWeights();
      w.fill(Infinity, 0, 112 * 16); // W1's rows of the digit's first four pixel rows, all 0: skipped, 0·Inf unseen
      backend.write(model.params, w);
      model.weightsChanged();
      expect(await errorOf(() => model.predict(x))).toMatch(/^predict: the model's outputs for rows 0\.\.0 are not finite/);
      expect(await errorOf(() => model.predict(new Float32Array(20 * 784).fill(0.5)))).toMatch(/^predict: the model's outputs for rows 0\.\.19 are not finite/);
      model.dispose();
    }
  });
});

describe('finite weights whose outputs overflow (issue 12: W1 = 3e38 passed every load check, then eval printed a negative BCE)', () => {
  it('predict, evaluate, fit and the CLI eval refuse NaN outputs with an error naming the rows, on every backend', async () => {
    const { serializeModel } = await import('../src/formats/model-file.js');
    const { evaluate } = await import('../src/training/evaluate.js');
    const { createJsBackend } = await import('../src/backend/js.js');
    const { writeFileSync } = await import('node:fs');
    const data = loadBundledMnist();
    const x = data.test.images.subarray(0, 20 * 784);
    for (const backend of [await createWasmBackend({ threads: 2 }), await createWasmBackend({ threads: 1 }), await createJsBackend()]) {
      const model = autoencoder(backend, { hidden: [16], seed: 1 });
      const w = model.getWeights();
      w.fill(3e38, 0, 784 * 16); // W1: finite, but x·W1 overflows to +Inf, and Inf·0 in layer 2 gives NaN
      w.fill(0, 784 * 16 + 16);
      model.setWeights(w);
      expect(await errorOf(() => model.predict(x))).toMatch(/^predict: the model's outputs for rows 0\.\.19 are not finite/);
      expect(await errorOf(() => model.predict(x.subarray(0, 784)))).toMatch(/^predict: the model's outputs for rows 0\.\.0 are not finite/); // packed weights
      expect(await errorOf(() => evaluate(model, { x, y: x }, { loss: 'bce' }))).toMatch(/^evaluate: the model's outputs .* are not finite/);
      expect(await errorOf(() => fit(model, { train: { x, y: x } }, { epochs: 1, loss: 'bce' }))).toMatch(/training diverged at epoch 1, batch 1/);
      if (backend.name === 'wasm' && backend.threads === 1) {
        const dir = mkdtempSync(join(tmpdir(), 'simdnet-overflow-'));
        writeFileSync(join(dir, 'm.simdnet'), serializeModel(model, { loss: 'bce', noise: 'gaussian', noiseFactor: 0.3, seed: 0 }));
        const r = spawnSync(process.execPath, [join(__dirname, '..', 'dist', 'cli', 'main.js'), 'eval', '--model', join(dir, 'm.simdnet')], { encoding: 'utf8' });
        expect(r.status, r.stdout).toBe(2);
        expect(r.stderr).toMatch(/^simdnet: evaluate: the model's outputs for rows 0\.\.\d+ are not finite/);
        rmSync(dir, { recursive: true, force: true });
      }
      model.dispose();
      backend.dispose();
    }
  });
});
