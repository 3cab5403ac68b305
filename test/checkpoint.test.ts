// Nothing lost: a run stopped at any step boundary — cleanly, by an exception, or by SIGKILL at a random
// moment — and resumed from its checkpoint ends with the same bytes as a run that never stopped.
//
//   * API: fit 4 epochs straight vs 2 epochs + resume; and mid-epoch (checkpointEvery, the run "crashes" right
//     after a checkpoint): bit-identical weights and identical per-epoch losses, for sgd/momentum/adam on wasm,
//     adam on js, and adamw/rmsprop/momentum with weight decay and clipping on wasm.
//   * CLI (node dist/cli/main.js): `train --epochs 4` vs `train --epochs 2` then `--resume DIR --epochs 4`: the same
//     model.simdnet bytes, on --backend wasm (bundled digits, --hidden 16) and --backend js (a small IDX folder,
//     --hidden 8).
//   * Kill test: `train --checkpoint-every 5` SIGKILLed at seeded random moments, KILL_ROUNDS times in a chain
//     (each round resumes the previous one); after every kill checkpoint.simdnet, when present, decodes cleanly,
//     only ever moves forward, and the only other leftovers are writeFileAtomic's temp files; the last resume
//     runs to the end and must give the straight run's model.simdnet.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { createJsBackend } from '../src/backend/js.js';
import { createWasmBackend } from '../src/backend/wasm.js';
import { decodeCheckpoint, encodeCheckpoint, restoreCheckpoint } from '../src/formats/checkpoint.js';
import { loadBundledMnist } from '../src/data/mnist-bundled.js';
import { decodeModelFile } from '../src/formats/model-file.js';
import { removeStaleTemps, writeFileAtomic } from '../src/node/files.js';
import { SimdnetError } from '../src/errors.js';
import { autoencoder } from '../src/models.js';
import { createOptimizer, type OptimizerName, type OptimizerOptions } from '../src/optimizers.js';
import { Rng } from '../src/random.js';
import { fit } from '../src/training/fit.js';
import type { FitOptions, History, Progress } from '../src/training/types.js';
import { earlyStopping, reduceLROnPlateau } from '../src/training/callbacks.js';
import { cosineDecay } from '../src/training/schedules.js';
import { errorOf } from './support/backends.js';
import { writeIdxFolder } from './support/idx.js';

const CLI = join(__dirname, '..', 'dist', 'cli', 'main.js');
/** SIGKILLs in the kill test (each one interrupts a fresh run or a resume of the previous round). */
const KILL_ROUNDS = 9;

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'simdnet-checkpoint-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** When a kill's clock starts: at spawn; at the first stdout line (written after loading the data and the
 *  backend, just before training); or when `file` is replaced (a new checkpoint was renamed into place). */
type KillFrom = { from: 'spawn' } | { from: 'training' } | { from: 'new-file'; file: string };

/** Runs the CLI; with `kill`, SIGKILLs it `afterMs` after its clock starts, if it is still running. */
function cli(args: string[], kill?: { afterMs: number } & KillFrom): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const arm = () => (timer ??= setTimeout(() => child.kill('SIGKILL'), kill!.afterMs));
    if (kill?.from === 'spawn') arm();
    let poll: NodeJS.Timeout | undefined;
    if (kill?.from === 'new-file') {
      const inode = () => (existsSync(kill.file) ? statSync(kill.file).ino : -1);
      const first = inode();
      poll = setInterval(() => {
        if (inode() !== first) {
          clearInterval(poll);
          arm();
        }
      }, 2);
    }
    child.stdout.on('data', (d) => {
      stdout += d;
      if (kill?.from === 'training') arm();
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

async function cliOk(args: string[]): Promise<Run> {
  const run = await cli(args);
  if (run.code !== 0) throw new Error(`simdnet ${args.join(' ')} exited ${run.code}:\n${run.stderr}`);
  return run;
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
const withoutSeconds = (h: { epochs: History['epochs'] }) => h.epochs.map(({ seconds: _, ...rest }) => rest);

// =====================================================================================================
// API: fit + onCheckpoint + encode/decode/restoreCheckpoint
// =====================================================================================================

describe('resume through the API gives bit-identical weights', () => {
  let train: { x: Float32Array; y: Float32Array };
  let test: { x: Float32Array; y: Float32Array };
  beforeAll(() => {
    const data = loadBundledMnist({ seed: 0 });
    const x = data.train.images.subarray(0, 600 * 784); // 600 rows, batch 64: 9 full batches and one of 24
    train = { x, y: x };
    const tx = data.test.images.subarray(0, 100 * 784);
    test = { x: tx, y: tx };
  });

  const cases: { backend: string; make: () => Promise<Backend>; optimizer: OptimizerName; with?: OptimizerOptions }[] = [
    { backend: 'wasm', make: () => createWasmBackend(), optimizer: 'adam' },
    { backend: 'wasm', make: () => createWasmBackend(), optimizer: 'momentum' },
    { backend: 'wasm', make: () => createWasmBackend(), optimizer: 'sgd' },
    { backend: 'js', make: createJsBackend, optimizer: 'adam' },
    // the new optimizers, with clipping (the batch gradients' norms here run 0.025-0.13: most steps are clipped) and decay
    { backend: 'wasm', make: () => createWasmBackend(), optimizer: 'adamw', with: { weightDecay: 0.05, clipNorm: 0.05 } },
    { backend: 'wasm', make: () => createWasmBackend(), optimizer: 'rmsprop', with: { weightDecay: 1e-3, clipNorm: 0.05 } },
    { backend: 'wasm', make: () => createWasmBackend(), optimizer: 'momentum', with: { weightDecay: 1e-3, clipNorm: 0.05 } },
  ];

  const options = (_optimizer: OptimizerName): Omit<FitOptions, 'epochs' | 'optimizer'> => ({
    batchSize: 64,
    loss: 'bce',
    seed: 7,
    noise: { kind: 'gaussian', factor: 0.3 },
  });

  /** The straight run: its final weights and history. */
  async function straight(make: () => Promise<Backend>, optimizer: OptimizerName, settings?: OptimizerOptions) {
    const backend = await make();
    const model = autoencoder(backend, { hidden: [16], seed: 3 });
    const opt = createOptimizer(optimizer, settings);
    const history = await fit(model, { train, test }, { ...options(optimizer), epochs: 4, optimizer: opt });
    const weights = model.getWeights();
    model.dispose();
    opt.dispose();
    return { weights, history };
  }

  /** Trains until `stopAt` says so (throwing from onCheckpoint, as a crash right after a save), then resumes
   *  from the last checkpoint on a fresh backend and finishes the 4 epochs. */
  async function stopAndResume(make: () => Promise<Backend>, optimizer: OptimizerName, every: number, stopAt: (p: Progress) => boolean, settings?: OptimizerOptions) {
    let saved: Uint8Array | undefined;
    {
      const backend = await make();
      const model = autoencoder(backend, { hidden: [16], seed: 3 });
      const opt = createOptimizer(optimizer, settings);
      const crash = new Error('crash after checkpoint');
      await expect(
        fit(model, { train, test }, {
          ...options(optimizer),
          epochs: 4,
          optimizer: opt,
          checkpointEvery: every,
          onCheckpoint: (p) => {
            saved = encodeCheckpoint(model, opt, p, { note: 'test' });
            if (stopAt(p)) throw crash;
          },
        }),
      ).rejects.toBe(crash);
    }
    const decoded = decodeCheckpoint(saved!, 'checkpoint');
    const backend = await make(); // a new process, as far as the model knows
    const opt = createOptimizer(optimizer, settings);
    const model = restoreCheckpoint(decoded, backend, opt, 'checkpoint');
    const progress = decoded.checkpoint.progress;
    const history = await fit(model, { train, test }, { ...options(optimizer), epochs: 4, optimizer: opt, resume: progress });
    const weights = model.getWeights();
    model.dispose();
    opt.dispose();
    expect(backend.liveAllocations).toBe(0);
    return { weights, history, progress };
  }

  it.each(cases)('$backend $optimizer $with: 2 epochs, stop, resume to 4 = 4 straight', async ({ make, optimizer, with: settings }) => {
    const ref = await straight(make, optimizer, settings);
    const resumed = await stopAndResume(make, optimizer, 0, (p) => p.epoch === 2, settings);
    expect(resumed.progress).toMatchObject({ epoch: 2, batch: 0 });
    expect(bits(resumed.weights)).toEqual(bits(ref.weights));
    expect(withoutSeconds(resumed.history)).toEqual(withoutSeconds(ref.history));
  });

  it.each(cases)('$backend $optimizer $with: mid-epoch stop (every 3 batches, in epoch 2 after batch 6), resume = straight', async ({ make, optimizer, with: settings }) => {
    const ref = await straight(make, optimizer, settings);
    const resumed = await stopAndResume(make, optimizer, 3, (p) => p.epoch === 1 && p.batch === 6, settings);
    expect(resumed.progress).toMatchObject({ epoch: 1, batch: 6 });
    expect(resumed.progress.seen).toBe(6 * 64);
    expect(bits(resumed.weights)).toEqual(bits(ref.weights));
    // the resumed epoch's train loss counts the batches before the stop too
    expect(withoutSeconds(resumed.history)).toEqual(withoutSeconds(ref.history));
  });

  // the training loop's state: a schedule (stateless), reduceLROnPlateau's scale and earlyStopping's best weights
  // (callback state in the checkpoint), a validation split and train metrics (mid-epoch sums)
  const loop = (): Partial<FitOptions> => ({
    lr: cosineDecay({ lr: 0.004, warmupEpochs: 1 }),
    validationSplit: 0.1,
    metrics: ['mse'],
    callbacks: [reduceLROnPlateau({ patience: 0, minDelta: 0.02 }), earlyStopping({ patience: 1, minDelta: 0.004, restoreBest: true })],
  });
  async function loopRun(stopAt?: (p: Progress) => boolean) {
    let saved: Uint8Array | undefined;
    const backend = await createWasmBackend();
    let model = autoencoder(backend, { hidden: [16], seed: 3 });
    let opt = createOptimizer('adam');
    const crash = new Error('crash after checkpoint');
    const run = fit(model, { train, test }, {
      ...options('adam'), ...loop(), epochs: 8, optimizer: opt, checkpointEvery: 4,
      onCheckpoint: (p) => {
        saved = encodeCheckpoint(model, opt, p, { note: 'test' });
        if (stopAt?.(p)) throw crash;
      },
    });
    let history: History;
    let progress: Progress | undefined;
    if (!stopAt) history = await run;
    else {
      await expect(run).rejects.toBe(crash);
      model.dispose();
      opt.dispose();
      const decoded = decodeCheckpoint(saved!, 'checkpoint');
      progress = decoded.checkpoint.progress;
      opt = createOptimizer('adam');
      model = restoreCheckpoint(decoded, backend, opt, 'checkpoint');
      history = await fit(model, { train, test }, { ...options('adam'), ...loop(), epochs: 8, optimizer: opt, resume: progress });
    }
    const weights = model.getWeights();
    model.dispose();
    opt.dispose();
    return { weights, history, progress, last: saved! };
  }

  it('with a cosine schedule, reduceLROnPlateau, earlyStopping (restoreBest) and a validation split: resume = straight', async () => {
    const ref = await loopRun();
    // the straight run stops early and ends on its best epoch's weights, which are not its last epoch's
    expect(ref.history.stopped?.reason).toMatch(/^earlyStopping: valLoss/);
    const stop = ref.history.stopped!.epoch;
    expect(stop).toBeLessThan(8);
    expect(stop).toBeGreaterThan(3); // so the two resume points below are apart and before the stop
    const lrs = ref.history.epochs.map((m) => m.lr!);
    expect(new Set(lrs).size).toBe(lrs.length);
    for (const at of [(p: Progress) => p.epoch === 2 && p.batch === 0, (p: Progress) => p.epoch === stop - 1 && p.batch === 4]) {
      const resumed = await loopRun(at);
      expect(resumed.progress!.callbacks?.length).toBe(2);
      expect(bits(resumed.weights)).toEqual(bits(ref.weights));
      expect(withoutSeconds(resumed.history)).toEqual(withoutSeconds(ref.history));
    }
    // the last checkpoint of the straight run says it stopped: resuming it trains nothing, and restores the best weights
    const decoded = decodeCheckpoint(ref.last, 'checkpoint');
    expect(decoded.checkpoint.progress.stopped).toEqual(ref.history.stopped);
    expect(Object.keys(decoded.file.blocks)).toContain('callback.1.weights');
    const backend = await createWasmBackend();
    const opt = createOptimizer('adam');
    const model = restoreCheckpoint(decoded, backend, opt, 'checkpoint');
    const again = await fit(model, { train, test }, { ...options('adam'), ...loop(), epochs: 8, optimizer: opt, resume: decoded.checkpoint.progress });
    expect(again.stopped).toEqual(ref.history.stopped);
    expect(opt.saveState().step).toBe(decoded.checkpoint.optimizer.step);
    expect(bits(model.getWeights())).toEqual(bits(ref.weights));
    model.dispose();
    opt.dispose();
  });

  it('a checkpoint is written every N batches and at each epoch end, never after the last batch twice', async () => {
    const backend = await createWasmBackend();
    const model = autoencoder(backend, { hidden: [16], seed: 3 });
    const opt = createOptimizer('adam');
    const seen: string[] = [];
    await fit(model, { train }, { ...options('adam'), epochs: 2, optimizer: opt, checkpointEvery: 4, onCheckpoint: (p) => void seen.push(`${p.epoch}.${p.batch}`) });
    expect(seen).toEqual(['0.4', '0.8', '1.0', '1.4', '1.8', '2.0']);
    model.dispose();
    opt.dispose();
  });

  it('resuming with another batch size, seed or training set is refused; so is a progress past the epoch', async () => {
    const backend = await createWasmBackend();
    const model = autoencoder(backend, { hidden: [4], seed: 3 });
    let progress: Progress | undefined;
    await fit(model, { train }, { ...options('adam'), epochs: 1, checkpointEvery: 4, onCheckpoint: (p) => void (progress ??= p) });
    expect(progress!.run).toEqual({ rows: 600, batchSize: 64, seed: 7 });
    const again = (o: Partial<FitOptions>, set = train) => errorOf(() => fit(model, { train: set }, { ...options('adam'), epochs: 2, resume: progress, ...o }));
    expect(await again({ batchSize: 32 })).toBe('fit: resume: the run was made with batchSize 64, this fit has 32; it would not continue the same run');
    expect(await again({ seed: 8 })).toMatch(/made with seed 7, this fit has 8/);
    expect(await again({}, { x: train.x.subarray(0, 500 * 784), y: train.y.subarray(0, 500 * 784) })).toMatch(/made with rows 600, this fit has 500/);
    expect(await again({ resume: { ...progress!, batch: 10 } })).toMatch(/expected progress at epoch ≥ 0 and batch 0\.\.9, got epoch 0, batch 10/);
    expect(await again({ checkpointEvery: -1 })).toMatch(/checkpointEvery must be an integer ≥ 0, got -1/);
    model.dispose();
  });

  it('a checkpoint of another optimizer or a plain model file is refused with a SimdnetError', async () => {
    const backend = await createWasmBackend();
    const model = autoencoder(backend, { hidden: [4], seed: 3, width: 16 });
    const opt = createOptimizer('adam');
    const bytes = encodeCheckpoint(model, opt, { epoch: 0, batch: 0, lossSum: 0, seen: 0, seconds: 0, epochs: [] }, {});
    expect(() => restoreCheckpoint(decodeCheckpoint(bytes, 'c'), backend, createOptimizer('sgd'), 'c')).toThrow(/adam state, the run uses sgd/);
    // the same optimizer with other settings would not continue the same run
    const adamw = encodeCheckpoint(model, createOptimizer('adamw', { clipNorm: 1 }), { epoch: 0, batch: 0, lossSum: 0, seen: 0, seconds: 0, epochs: [] }, {});
    expect(() => restoreCheckpoint(decodeCheckpoint(adamw, 'c'), backend, createOptimizer('adamw', { clipNorm: 1, weightDecay: 0.1 }), 'c')).toThrow("c: the checkpoint's adamw ran with weightDecay 0.01, the run asks for 0.1 (a resume continues the same run)");
    expect(() => restoreCheckpoint(decodeCheckpoint(adamw, 'c'), backend, createOptimizer('adamw'), 'c')).toThrow("c: the checkpoint's adamw ran with clipNorm 1, the run asks for unset (a resume continues the same run)");
    const { serializeModel } = await import('../src/formats/model-file.js');
    expect(() => decodeCheckpoint(serializeModel(model), 'm.simdnet')).toThrow(/not a checkpoint/);
    model.dispose();
  });
});

// =====================================================================================================
// CLI: --resume DIR --epochs E
// =====================================================================================================

/** A small MNIST folder in IDX form (plain files): 1,000 train and 200 test digits of the bundled set. */
function writeSmallIdx(dir: string): void {
  const data = loadBundledMnist({ seed: 0 });
  const first = (set: typeof data.train, count: number) => ({ images: set.images.subarray(0, count * 784), labels: set.labels.subarray(0, count) });
  writeIdxFolder(dir, { train: first(data.train, 1000), test: first(data.test, 200) });
}

const WASM_RUN = ['--backend', 'wasm', '--hidden', '16'];
let jsRun: string[];

/** The straight 4-epoch wasm run, made once, for the resume test and the kill test. */
let straightWasm: Promise<string> | undefined;
function straightWasmDir(): Promise<string> {
  const dir = join(root, 'straight-wasm');
  return (straightWasm ??= cliOk(['train', ...WASM_RUN, '--epochs', '4', '--out', dir]).then(() => dir));
}

describe('CLI resume gives the same model.simdnet bytes', () => {
  beforeAll(() => {
    const idx = join(root, 'idx');
    writeSmallIdx(idx);
    jsRun = ['--backend', 'js', '--hidden', '8', '--data', idx];
  });

  it.each([
    ['wasm', () => WASM_RUN],
    ['js', () => jsRun],
  ])('--backend %s: 4 epochs straight vs 2 epochs, then --resume DIR --epochs 4', async (name, flags) => {
    const b = join(root, `resumed-${name}`);
    const straight = name === 'wasm' ? straightWasmDir() : cliOk(['train', ...flags(), '--epochs', '4', '--out', join(root, 'straight-js')]).then(() => join(root, 'straight-js'));
    const [a] = await Promise.all([straight, cliOk(['train', ...flags(), '--epochs', '2', '--out', b])]);
    expect(decodeCheckpoint(readFileSync(join(b, 'checkpoint.simdnet')), 'checkpoint').checkpoint.progress).toMatchObject({ epoch: 2, batch: 0 });
    // the wasm run resumes on one thread after running on every core: the same bytes all the same
    const resumed = await cliOk(['train', '--resume', b, '--epochs', '4', ...(name === 'wasm' ? ['--threads', '1'] : [])]);
    expect(resumed.stdout).toMatch(/resuming .*checkpoint\.simdnet at epoch 3, batch 1/);
    expect(resumed.stdout).toMatch(/epoch 4\/4/);
    const straightBytes = readFileSync(join(a, 'model.simdnet'));
    expect(Buffer.compare(readFileSync(join(b, 'model.simdnet')), straightBytes)).toBe(0);
    // the finished checkpoint says so; resuming it again changes nothing
    expect(decodeCheckpoint(readFileSync(join(b, 'checkpoint.simdnet')), 'checkpoint').checkpoint.progress).toMatchObject({ epoch: 4, batch: 0 });
    const metrics = JSON.parse(readFileSync(join(b, 'metrics.json'), 'utf8'));
    expect(metrics.epochs.map((e: { epoch: number }) => e.epoch)).toEqual([1, 2, 3, 4]);
  });

  it('--resume without --epochs keeps the run\'s own epoch count (it trained to the default 30 before)', async () => {
    const d = join(root, 'own-count');
    await cliOk(['train', ...WASM_RUN, '--epochs', '2', '--out', d]);
    const again = await cliOk(['train', '--resume', d]);
    expect(again.stdout).not.toMatch(/epoch 3\//);
    expect(JSON.parse(readFileSync(join(d, 'metrics.json'), 'utf8')).epochs.map((e: { epoch: number }) => e.epoch)).toEqual([1, 2]);
  });

  it('--resume refuses other settings, a folder without a checkpoint, and fewer epochs than done', async () => {
    const b = join(root, 'resumed-wasm');
    const flags = await cli(['train', '--resume', b, '--epochs', '4', '--lr', '0.1']);
    expect(flags.code).toBe(2);
    expect(flags.stderr).toMatch(/only --epochs, --checkpoint-every, --threads and --no-relaxed may be given with it, not --lr/);
    const fewer = await cli(['train', '--resume', b, '--epochs', '3']);
    expect(fewer.code).toBe(2);
    expect(fewer.stderr).toMatch(/already trained 4 epochs/);
    const empty = await cli(['train', '--resume', join(root, 'nothing-here'), '--epochs', '3']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/checkpoint.*no such file/);
    const corrupt = join(root, 'corrupt');
    mkdirSync(corrupt);
    const bytes = new Uint8Array(readFileSync(join(b, 'checkpoint.simdnet')));
    bytes[bytes.length >> 1] ^= 0x10;
    writeFileSync(join(corrupt, 'checkpoint.simdnet'), bytes);
    const bad = await cli(['train', '--resume', corrupt, '--epochs', '5']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/checkpoint\.simdnet: checksum mismatch/);
    expect(bad.stderr).not.toMatch(/\n\s+at /); // one line, no stack trace
  });
});

// =====================================================================================================
// SIGKILL at random moments, resume, repeat
// =====================================================================================================

describe('kill -9 at random moments, then resume', () => {
  it(`${KILL_ROUNDS} kills of train --epochs 4 --checkpoint-every 5 (wasm), each followed by a resume; the end matches the straight run`, async () => {
    const straightDir = await straightWasmDir(); // (--checkpoint-every does not change the model file)
    const dir = join(root, 'kill-chain');
    const flags = [...WASM_RUN, '--epochs', '4', '--checkpoint-every', '5'];
    const want = readFileSync(join(straightDir, 'model.simdnet'));
    // training time of the whole run (on this machine, under its current load)
    const trainMs = 1000 * JSON.parse(readFileSync(join(straightDir, 'metrics.json'), 'utf8')).totalSeconds;

    const rng = new Rng(2024);
    let last = -1; // position (epoch·10⁴ + batch) of the last checkpoint seen
    let kills = 0;
    let midEpochCheckpoints = 0;
    const positions: string[] = []; // kill kind → epoch.batch of the checkpoint left
    for (let round = 0; round < KILL_ROUNDS; round++) {
      const resuming = existsSync(join(dir, 'checkpoint.simdnet'));
      const args = resuming ? ['train', '--resume', dir, '--epochs', '4'] : ['train', ...flags, '--out', dir];
      // three kinds of moment, in turn: within 80 ms of a new checkpoint landing (often inside the next
      // write: they come every 5 batches); anywhere in the first half of the training time after a (re)start;
      // anywhere in the first 600 ms of the process (loading the data, or the first batches)
      const kinds = [
        { afterMs: rng.uniform(0, 80), from: 'new-file' as const, file: join(dir, 'checkpoint.simdnet') },
        { afterMs: rng.uniform(0, 0.6 * trainMs), from: 'training' as const },
        { afterMs: rng.uniform(0, 600), from: 'spawn' as const },
      ];
      const kill = kinds[round % 3];
      const run = await cli(args, kill);
      if (run.signal === 'SIGKILL') kills++;
      else expect(run.code, run.stderr).toBe(0); // finished before the kill: fine, but it must have succeeded

      const files = existsSync(dir) ? readdirSync(dir) : []; // killed before it made the folder
      for (const f of files) {
        // anything else is writeFileAtomic's temp file of a killed write (".<name>.<pid>.tmp"), never a real name, or
        // the killed run's folder lock (the next run takes it over: its process is gone)
        if (!['checkpoint.simdnet', 'model.simdnet', 'metrics.json', 'samples.png', 'loss.svg', '.simdnet.lock'].includes(f)) expect(f).toMatch(/^\.[a-z.-]+\.\d+\.tmp$/);
      }
      if (files.includes('checkpoint.simdnet')) {
        const { checkpoint, file } = decodeCheckpoint(readFileSync(join(dir, 'checkpoint.simdnet')), `round ${round}`);
        const { epoch, batch } = checkpoint.progress;
        const at = epoch * 1e4 + batch;
        expect(at).toBeGreaterThanOrEqual(last); // a resume never goes back
        last = at;
        if (batch > 0) midEpochCheckpoints++;
        positions.push(`${kill.from}→${epoch + 1}.${batch}`);
        expect(file.blocks['optimizer.0'].length).toBe(file.blocks.weights.length);
      }
      if (files.includes('model.simdnet')) decodeModelFile(readFileSync(join(dir, 'model.simdnet')), 'model.simdnet');
    }
    // to the end
    const resuming = existsSync(join(dir, 'checkpoint.simdnet'));
    await cliOk(resuming ? ['train', '--resume', dir, '--epochs', '4'] : ['train', ...flags, '--out', dir]);
    expect(Buffer.compare(readFileSync(join(dir, 'model.simdnet')), want)).toBe(0);
    console.log(`kill test: ${KILL_ROUNDS} rounds, ${kills} SIGKILLs landed, ${midEpochCheckpoints} left a mid-epoch checkpoint (${positions.join(', ')})`);
    expect(kills).toBeGreaterThanOrEqual(KILL_ROUNDS / 2);
  });
});

// =====================================================================================================
// Files: leftovers of killed writes, unwritable folders
// =====================================================================================================

describe('output files', () => {
  it("a killed write's temp file is removed by the next run in the folder; live processes' and other files stay", async () => {
    const dir = join(root, 'stale');
    mkdirSync(dir);
    const dead = spawnSyncPid();
    const names = [`.checkpoint.simdnet.${dead}.tmp`, `.model.simdnet.${dead}.tmp`, `.checkpoint.simdnet.${process.pid}.tmp`, `.notes.txt.${dead}.tmp`, 'keep.txt'];
    for (const n of names) writeFileSync(join(dir, n), 'partial');
    expect(removeStaleTemps(dir, ['checkpoint.simdnet', 'model.simdnet']).sort()).toEqual(names.slice(0, 2).sort());
    expect(readdirSync(dir).sort()).toEqual(names.slice(2).sort());
    // and the CLI does it when it starts (here: a resume)
    writeFileSync(join(dir, `.checkpoint.simdnet.${dead}.tmp`), 'partial');
    const src = join(root, 'one-epoch');
    await cliOk(['train', ...WASM_RUN, '--epochs', '1', '--out', src]);
    writeFileSync(join(dir, 'checkpoint.simdnet'), readFileSync(join(src, 'checkpoint.simdnet')));
    await cliOk(['train', '--resume', dir, '--epochs', String(decodeCheckpoint(readFileSync(join(dir, 'checkpoint.simdnet')), 'c').checkpoint.progress.epoch)]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp')).sort()).toEqual(names.slice(2, 4).sort());
  });

  it('writeFileAtomic into a folder that cannot exist: a SimdnetError naming the path, no temp file', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    let error: unknown;
    try {
      writeFileAtomic(join(file, 'model.simdnet'), new Uint8Array(4));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SimdnetError);
    expect((error as Error).message).toMatch(/^cannot write .*a-file\/model\.simdnet \((ENOTDIR|EEXIST)/);
    expect(readdirSync(root).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('train --out <a file>: exit 2 before any training, one line', async () => {
    const file = join(root, 'not-a-folder');
    writeFileSync(file, 'x');
    const r = await cli(['train', ...WASM_RUN, '--epochs', '1', '--out', join(file, 'sub')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^simdnet: output folder .*not-a-folder\/sub: cannot be made \(ENOTDIR/);
    expect(r.stdout).toBe(''); // nothing trained
  });
});

describe('a checkpoint as a model file', () => {
  it("eval --model checkpoint.simdnet uses the run's own loss, noise and seed (as model.simdnet does)", async () => {
    const dir = join(root, 'eval-checkpoint');
    await cliOk(['train', ...WASM_RUN, '--epochs', '1', '--loss', 'mse', '--noise', 'salt-pepper', '--seed', '3', '--out', dir]);
    const [fromModel, fromCheckpoint] = await Promise.all(['model.simdnet', 'checkpoint.simdnet'].map(async (f) => JSON.parse((await cliOk(['eval', '--model', join(dir, f), '--json'])).stdout)));
    expect(fromCheckpoint.loss).toBe('mse');
    expect(fromCheckpoint).toEqual(fromModel);
  });
});

/** The pid of a process that has exited. */
function spawnSyncPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}
