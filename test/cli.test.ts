// The `simdnet` command as a user runs it: `node dist/cli/main.js ...` in a child process (dist/ is built by
// `npm test`'s pretest; built here only when missing).
//
//   * train --epochs 1 --hidden 32 writes model.simdnet (a valid model file), metrics.json (every documented
//     field), samples.png (decodable, a grid of 10 digits × 3 rows) and loss.svg;
//   * eval prints the metrics (and --json parses, agreeing with the training run's own test loss);
//   * denoise turns a 28×28 PNG into a 28×28 PNG equal to the model's prediction (±1 gray level);
//   * bad flags, values and files exit with code 2 and one line on stderr naming the problem;
//   * two train runs with the same seed write byte-identical model files, one on every core, one on --threads 1;
//   * relaxed SIMD is switched on for Node 20 by the command itself; --no-relaxed / SIMDNET_NO_RELAXED turn it off.

import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsBackend } from '../src/backend/js.js';
import { loadBundledMnist } from '../src/data/mnist-bundled.js';
import { decodeModelFile, deserializeModel, serializeModel } from '../src/formats/model-file.js';
import { Sequential } from '../src/model.js';

const ROOT = resolve(__dirname, '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const run = promisify(execFile);

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Result {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exit code 2, nothing on stdout, exactly one line on stderr that matches `message`. */
function expectUsageError(r: Result, message: RegExp): void {
  expect(r.status, `stderr: ${r.stderr}`).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^simdnet: /);
  expect(lines[0]).toMatch(message);
}

function grayPng(width: number, height: number, pixels: ArrayLike<number>): Buffer {
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  png.data = Buffer.alloc(width * height);
  for (let i = 0; i < width * height; i++) png.data[i] = Math.round(Math.min(1, Math.max(0, pixels[i] ?? 0)) * 255);
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

let tmp: string;
let outA: string;
let outB: string;
const TRAIN = ['train', '--epochs', '1', '--hidden', '32', '--seed', '3'];

beforeAll(async () => {
  if (!existsSync(CLI)) {
    const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`npm run build failed:\n${b.stdout}\n${b.stderr}`);
  }
  tmp = mkdtempSync(join(tmpdir(), 'simdnet-cli-'));
  outA = join(tmp, 'a');
  outB = join(tmp, 'b');
  // the two same-seed runs, side by side: every core, and one thread
  await Promise.all([[outA], [outB, '--threads', '1']].map(([out, ...more]) => run(process.execPath, [CLI, ...TRAIN, '--out', out, ...more], { cwd: ROOT, timeout: 120_000 })));
}, 240_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('simdnet train', () => {
  it('writes model.simdnet: a valid model file of the 784→32→784 autoencoder with the run in its meta', () => {
    const file = decodeModelFile(new Uint8Array(readFileSync(join(outA, 'model.simdnet'))));
    expect(file.spec.inputWidth).toBe(784);
    expect(file.spec.layers.map((l) => l.type)).toEqual(['linear', 'relu', 'linear', 'sigmoid']);
    expect(file.spec.layers[0]).toMatchObject({ in: 784, out: 32 });
    expect(file.blocks.weights.length).toBe(784 * 32 + 32 + 32 * 784 + 784);
    expect(file.meta).toMatchObject({ loss: 'bce', noise: 'gaussian', noiseFactor: 0.3, seed: 3 });
  });

  it('writes metrics.json with one epoch of every documented metric', () => {
    const m = JSON.parse(readFileSync(join(outA, 'metrics.json'), 'utf8'));
    expect(m.epochs).toHaveLength(1);
    const e = m.epochs[0];
    expect(e.epoch).toBe(1);
    for (const key of ['trainLoss', 'testLoss', 'testMse', 'psnrNoisy', 'psnrDenoised', 'seconds']) {
      expect(typeof e[key], key).toBe('number');
      expect(Number.isFinite(e[key]), key).toBe(true);
    }
    expect(e.trainLoss).toBeGreaterThan(0);
    expect(e.trainLoss).toBeLessThan(Math.log(2)); // below the loss of outputs stuck at 0.5
    expect(e.testMse).toBeGreaterThan(0);
    expect(e.testMse).toBeLessThan(0.25);
    expect(e.psnrDenoised).toBeCloseTo(10 * Math.log10(1 / e.testMse), 6);
    expect(e.psnrNoisy).toBeGreaterThan(11); // gaussian 0.3, clipped: ≈ 13 dB
    expect(e.psnrNoisy).toBeLessThan(15);
    expect(e.seconds).toBeGreaterThan(0);
  });

  it('writes samples.png: a decodable grid of 10 digits × 3 rows (clean, noisy, denoised)', () => {
    const png = PNG.sync.read(readFileSync(join(outA, 'samples.png')));
    expect(png.width).toBeGreaterThanOrEqual(10 * 28);
    expect(png.height).toBeGreaterThanOrEqual(3 * 28);
    expect(png.width / png.height).toBeGreaterThan(2); // wide: 10 across, 3 down
    expect(png.width).toBeLessThan(4000);
    // there are digits in it: both dark and bright pixels
    let bright = 0, dark = 0;
    for (let i = 0; i < png.width * png.height; i++) {
      if (png.data[4 * i] > 200) bright++;
      if (png.data[4 * i] < 30) dark++;
    }
    expect(bright).toBeGreaterThan(100);
    expect(dark).toBeGreaterThan(100);
  });

  it('writes loss.svg', () => {
    const svg = readFileSync(join(outA, 'loss.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toMatch(/<path d="M/);
  });

  it('says which build and how many threads ran (metrics.json too)', () => {
    const a = JSON.parse(readFileSync(join(outA, 'metrics.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(outB, 'metrics.json'), 'utf8'));
    expect(b.backend).toEqual({ name: 'wasm', variant: a.backend.variant, threads: 1 });
    expect(a.backend.threads).toBeGreaterThanOrEqual(1);
    // Node 20 has relaxed SIMD only behind a V8 flag, which the command sets for itself
    expect(a.backend.variant).toBe('relaxed-simd');
  });

  it('--no-relaxed and SIMDNET_NO_RELAXED=1 keep the SIMD build', () => {
    for (const [name, extra, env] of [['nr-flag', ['--no-relaxed'], {}], ['nr-env', [], { SIMDNET_NO_RELAXED: '1' }]] as const) {
      const out = join(tmp, name);
      const r = spawnSync(process.execPath, [CLI, 'train', '--epochs', '1', '--hidden', '8', '--threads', '1', '--out', out, ...extra], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/backend wasm \(simd, 1 thread\)/);
      expect(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')).backend.variant).toBe('simd');
    }
  });

  it('two runs with the same seed write byte-identical model files (one of them on one thread)', () => {
    const a = readFileSync(join(outA, 'model.simdnet'));
    const b = readFileSync(join(outB, 'model.simdnet'));
    expect(a.length).toBeGreaterThan(200_000);
    expect(a.equals(b)).toBe(true);
  });

  it('leaves no temporary files behind', () => {
    expect(readdirSync(outA).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('--optimizer adamw --weight-decay 0 trains without decay: the bits of adam (with the default 0.01, not those bits)', async () => {
    // AdamW is w·(1 − lr·λ) and then Adam's step: λ = 0 must be Adam exactly (the demo's worker once trained it with 0.01)
    const args = [CLI, 'train', '--epochs', '1', '--hidden', '8', '--lr', '0.01', '--seed', '5', '--threads', '1'];
    const runs: Record<string, string[]> = { adam: ['--optimizer', 'adam'], adamw0: ['--optimizer', 'adamw', '--weight-decay', '0'], adamw: ['--optimizer', 'adamw'] };
    await Promise.all(Object.entries(runs).map(([name, more]) => run(process.execPath, [...args, ...more, '--out', join(tmp, name)], { cwd: ROOT, timeout: 120_000 })));
    const weights = (name: string) => Buffer.from(decodeModelFile(new Uint8Array(readFileSync(join(tmp, name, 'model.simdnet')))).blocks.weights.buffer);
    expect(weights('adamw0').equals(weights('adam'))).toBe(true);
    expect(weights('adamw').equals(weights('adam'))).toBe(false);
    expect(JSON.parse(readFileSync(join(tmp, 'adamw0', 'metrics.json'), 'utf8')).config).toMatchObject({ optimizer: 'adamw', weightDecay: 0 });
  });
});

describe('one run per output folder (issue 12: two runs into one --out replaced each other\'s files)', () => {
  it('a second train into a folder in use exits 2 naming the first run\'s pid; the first finishes; the lock is gone after', async () => {
    const out = join(tmp, 'locked');
    const first = run(process.execPath, [CLI, 'train', '--epochs', '3', '--hidden', '16', '--out', out], { cwd: ROOT, timeout: 120_000 });
    const child = first.child;
    // wait until the first run holds the lock
    const lock = join(out, '.simdnet.lock');
    for (let i = 0; i < 200 && !existsSync(lock); i++) await new Promise((r) => setTimeout(r, 25));
    expect(existsSync(lock), 'the first run took the lock').toBe(true);
    const second = cli('train', '--epochs', '1', '--hidden', '16', '--out', out);
    expectUsageError(second, new RegExp(`is in use by another simdnet run \\(pid ${child.pid}, lock `));
    await first;
    expect(existsSync(lock)).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')).epochs).toHaveLength(3);
  });

  it('the lock of a process that is gone is taken over', () => {
    const out = join(tmp, 'stale-lock');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, '.simdnet.lock'), '999999\n'); // no such process
    const r = cli('train', '--epochs', '1', '--hidden', '8', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(out, '.simdnet.lock'))).toBe(false);
  });
});

describe('simdnet eval', () => {
  it('prints the metrics of a model', () => {
    const r = cli('eval', '--model', join(outA, 'model.simdnet'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2000 test digits: bce loss \d\.\d{4}, MSE \d\.\d{5}, PSNR noisy \d+\.\d{2} dB → denoised \d+\.\d{2} dB/);
  });

  it("a model whose widths do not match the data (issue 19): names the file and both widths, not the noise kernel", async () => {
    const backend = await createJsBackend();
    // rows too wide, too narrow, and one value short; then the right input width with the wrong output width
    const specs = [1e9, 10, 783].map((w) => ({ inputWidth: w, layers: [{ type: 'relu' as const }], side: 'takes', w }));
    specs.push({ inputWidth: 784, layers: [{ type: 'linear', in: 784, out: 10 } as never, { type: 'relu' }], side: 'gives', w: 10 });
    for (const [i, s] of specs.entries()) {
      const model = Sequential.fromSpec(s, { backend });
      const path = join(tmp, `wrong-width-${i}.simdnet`);
      writeFileSync(path, serializeModel(model));
      model.dispose();
      expectUsageError(cli('eval', '--model', path), new RegExp(`^simdnet: ${path.replace(/[.]/g, '\\.')}: the model ${s.side} rows of ${s.w} values but the test images have 784 \\(`));
    }
  });

  it('--json parses and agrees with the training run (same test digits, same noise from the saved seed)', () => {
    const r = cli('eval', '--model', join(outA, 'model.simdnet'), '--json');
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout);
    const trained = JSON.parse(readFileSync(join(outA, 'metrics.json'), 'utf8')).epochs[0];
    expect(m.testCount).toBe(2000);
    expect(m.loss).toBe('bce');
    // eval batches differently from fit's evaluation, so allow f32 summation-order differences (1e-6 relative)
    for (const key of ['testLoss', 'testMse', 'psnrNoisy', 'psnrDenoised']) expect(Math.abs(m[key] - trained[key]), key).toBeLessThanOrEqual(1e-6 * Math.abs(trained[key]));
  });
});

describe('simdnet denoise', () => {
  it('denoises 28×28 PNGs into 28×28 PNGs equal to the model prediction', async () => {
    const data = loadBundledMnist();
    const clean = data.test.images.subarray(0, 784);
    const noisy = clean.map((v, i) => v + 0.3 * Math.sin(i * 12.9898)); // deterministic "noise"
    const input = join(tmp, 'digit.png');
    writeFileSync(input, grayPng(28, 28, noisy));
    const second = join(tmp, 'second.png');
    writeFileSync(second, grayPng(28, 28, data.test.images.subarray(784, 2 * 784)));
    const outDir = join(tmp, 'denoised');
    const r = cli('denoise', '--model', join(outA, 'model.simdnet'), '--input', input, second, '--out', outDir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(join(outDir, 'digit.denoised.png'));
    expect(r.stdout).toContain(join(outDir, 'second.denoised.png'));
    const png = PNG.sync.read(readFileSync(join(outDir, 'digit.denoised.png')));
    expect([png.width, png.height]).toEqual([28, 28]);
    const png2 = PNG.sync.read(readFileSync(join(outDir, 'second.denoised.png')));
    expect([png2.width, png2.height]).toEqual([28, 28]);
    expect(png2.data.equals(png.data)).toBe(false);

    // the same model in-process, on the PNG's own 8-bit pixels
    const { model } = deserializeModel(new Uint8Array(readFileSync(join(outA, 'model.simdnet'))), await createJsBackend());
    const x = Float32Array.from(PNG.sync.read(readFileSync(input)).data.filter((_, i) => i % 4 === 0), (v) => v / 255);
    const y = model.predict(x);
    let worst = 0;
    for (let i = 0; i < 784; i++) worst = Math.max(worst, Math.abs(png.data[4 * i] - Math.round(y[i] * 255)));
    expect(worst).toBeLessThanOrEqual(1);
    model.dispose();
  });
});

describe('bad input exits with code 2 and one line naming the problem', () => {
  it('an unknown flag', () => expectUsageError(cli('train', '--bogus'), /unknown option '--bogus'/));
  it('an unknown command', () => expectUsageError(cli('frobnicate'), /unknown command 'frobnicate'/));
  it('--epochs abc', () => expectUsageError(cli('train', '--epochs', 'abc'), /--epochs.*'abc'/));
  it('--epochs 0', () => expectUsageError(cli('train', '--epochs', '0'), /--epochs.*'0'/));
  it('--optimizer foo', () => expectUsageError(cli('train', '--optimizer', 'foo'), /--optimizer.*'foo'.*sgd, momentum, adam/));
  it('--hidden 12,x', () => expectUsageError(cli('train', '--hidden', '12,x'), /--hidden.*'12,x'/));
  it('--lr -1', () => expectUsageError(cli('train', '--lr', '-1'), /--lr.*'-1'/));
  it('a mask or salt-pepper --noise-factor above 1, in train and in eval (eval named the noise kernel, not the flag)', () => {
    expectUsageError(cli('train', '--noise', 'mask', '--noise-factor', '5'), /^simdnet: --noise-factor: mask factor is the fraction of pixels hit and must be in \[0, 1\], got 5$/);
    expectUsageError(cli('eval', '--model', join(outA, 'model.simdnet'), '--noise', 'salt-pepper', '--noise-factor', '1.5'), /^simdnet: --noise-factor: salt-pepper factor .* got 1\.5$/);
  });
  it('numbers in hex, binary or blank (Number() took --lr 0x10 as 16, --validation-split 0x0 as 0)', () => {
    expectUsageError(cli('train', '--lr', '0x10'), /--lr.*a number > 0.*got '0x10'/);
    expectUsageError(cli('train', '--validation-split', '0x0'), /--validation-split.*got '0x0'/);
    expectUsageError(cli('train', '--noise-factor', '0b1'), /--noise-factor.*got '0b1'/);
    expectUsageError(cli('train', '--noise-factor', ' '), /--noise-factor.*got ' '/);
  });
  it('--threads 0', () => expectUsageError(cli('train', '--threads', '0'), /--threads.*'0'/));
  it('--seed 4294967296 (seeds are u32: it would train as seed 0)', () => expectUsageError(cli('train', '--seed', '4294967296'), /--seed.*from 0 to 4294967295.*'4294967296'/));
  it('no command at all', () => expectUsageError(cli(), /expected a command: train, denoise, eval, export, import or bench/));
  it('--threads 2000 names the flag and the range, as train and bench parse it (not the backend, after loading)', () => {
    expectUsageError(cli('train', '--threads', '2000'), /option '--threads <n>'.*an integer from 1 to 1024.*got '2000'/);
    expectUsageError(cli('bench', '--threads', '2000'), /option '--threads <n>'.*an integer from 1 to 1024.*got '2000'/);
  });
  it('--threads or --no-relaxed with the js backend (they were ignored without a word)', () => {
    expectUsageError(cli('eval', '--model', join(outA, 'model.simdnet'), '--backend', 'js', '--threads', '2'), /--threads 2: the js backend runs on one thread .*wasm backend only/);
    expectUsageError(cli('train', '--backend', 'js', '--no-relaxed', '--out', join(tmp, 'js-no-relaxed')), /--no-relaxed: the js backend/);
  });
  it('--init-from names itself for a folder or a corrupt .simdnet file, as it does for an .onnx one', () => {
    const folder = join(tmp, 'a-folder.simdnet');
    mkdirSync(folder);
    expectUsageError(cli('train', '--init-from', folder, '--out', join(tmp, 'init-folder')), /^simdnet: --init-from .*a-folder\.simdnet: is a folder, expected a file$/);
    const bad = join(tmp, 'bad-init.simdnet');
    writeFileSync(bad, 'not a simdnet model file, but long enough');
    expectUsageError(cli('train', '--init-from', bad, '--out', join(tmp, 'init-bad')), /^simdnet: --init-from .*bad-init\.simdnet: not a simdnet model file/);
  });
  it("export and import --out: the format's extension, never the file being read (it was overwritten)", () => {
    const model = join(tmp, 'keep.onnx'); // a model file under an .onnx name: --out could name it
    writeFileSync(model, readFileSync(join(outA, 'model.simdnet')));
    const onnx = join(tmp, 'keep-in.onnx');
    writeFileSync(onnx, readFileSync(join(ROOT, 'test/fixtures/onnx/nobias-784-32-784-opset17.onnx')));
    const before = [readFileSync(model), readFileSync(onnx)];
    expectUsageError(cli('export', '--model', model, '--out', join(tmp, 'm.txt')), /--out .*m\.txt: expected a \.onnx file, got a '\.txt' extension/);
    expectUsageError(cli('export', '--model', model, '--out', ''), /--out : expected a \.onnx file, got no extension/);
    expectUsageError(cli('export', '--model', model, '--out', model), /--out .*keep\.onnx: is the file being read/);
    expectUsageError(cli('import', onnx, '--out', onnx), /--out .*keep-in\.onnx: expected a \.simdnet file, got a '\.onnx' extension/);
    expect(existsSync(join(tmp, 'm.txt'))).toBe(false);
    expect([readFileSync(model), readFileSync(onnx)]).toEqual(before);
  });
  it('eval without --model', () => expectUsageError(cli('eval'), /--model/));
  it('a missing model file', () => {
    const path = join(tmp, 'nope', 'model.simdnet');
    expectUsageError(cli('eval', '--model', path), new RegExp(`${path.replace(/[.]/g, '\\.')}: no such file`));
  });
  it('a corrupt model file', () => {
    const bytes = readFileSync(join(outA, 'model.simdnet'));
    bytes[bytes.length - 100] ^= 0xff;
    const path = join(tmp, 'corrupt.simdnet');
    writeFileSync(path, bytes);
    expectUsageError(cli('eval', '--model', path), /corrupt\.simdnet: checksum mismatch/);
  });
  it('two inputs of one name (a/x.png, b/x.png): refused before anything is written', () => {
    const dir = join(tmp, 'clash');
    mkdirSync(join(dir, 'a'), { recursive: true });
    mkdirSync(join(dir, 'b'), { recursive: true });
    for (const d of ['a', 'b']) writeFileSync(join(dir, d, 'x.png'), grayPng(28, 28, new Float32Array(784).fill(0.5)));
    const out = join(dir, 'out');
    expectUsageError(cli('denoise', '--model', join(outA, 'model.simdnet'), '--input', join(dir, 'a', 'x.png'), join(dir, 'b', 'x.png'), '--out', out), /a\/x\.png and .*b\/x\.png would both be written to .*x\.denoised\.png/);
    expect(existsSync(join(out, 'x.denoised.png'))).toBe(false);
  });
  it('a 30×30 PNG', () => {
    const path = join(tmp, 'big.png');
    writeFileSync(path, grayPng(30, 30, new Float32Array(900).fill(0.5)));
    const r = cli('denoise', '--model', join(outA, 'model.simdnet'), '--input', path, '--out', join(tmp, 'never'));
    expectUsageError(r, /big\.png: expected a 28×28 image, got 30×30/);
    expect(existsSync(join(tmp, 'never'))).toBe(false);
  });
  it('a non-PNG file', () => {
    const path = join(tmp, 'notes.png');
    writeFileSync(path, 'these are not pixels\n');
    expectUsageError(cli('denoise', '--model', join(outA, 'model.simdnet'), '--input', path, '--out', join(tmp, 'never')), /notes\.png: not a readable PNG/);
  });
  it('a diverging run (--lr 1e30) exits 2 naming the epoch and batch, and writes no model', () => {
    const out = join(tmp, 'diverged');
    const r = cli('train', '--epochs', '1', '--hidden', '16', '--lr', '1e30', '--out', out);
    expect(r.status, r.stderr).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^simdnet: training diverged at epoch 1, batch \d+: .*lower learning rate/);
    expect(existsSync(join(out, 'model.simdnet'))).toBe(false);
  });
  it('--data /nonexistent (and nothing is written)', () => {
    const out = join(tmp, 'nodata');
    mkdirSync(out);
    expectUsageError(cli('train', '--epochs', '1', '--data', '/nonexistent', '--out', out), /\/nonexistent/);
    expect(readdirSync(out)).toEqual([]);
  });
});

describe('--version, the progress bar, the README synopses', () => {
  it('--version prints the package version', () => {
    const r = cli('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('the build leaves the bin executable: package.json\'s bin runs directly (its #! line and execute bit)', () => {
    // run as a program, not through node: what `npx simdnet` does once npm has linked the bin (a fresh clone's
    // `npm ci` links no bin for the project itself, so npx is not asked here)
    const bin = join(ROOT, JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).bin.simdnet);
    const r = spawnSync(bin, ['--version'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).not.toMatch(/Permission denied/);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('on a terminal, one progress bar covers the whole run (epochs × batches) and shows the epoch', () => {
    // `script` gives the command a pseudo-terminal (cli-progress draws only on a TTY)
    const out = mkdtempSync(join(tmpdir(), 'simdnet-bar-'));
    try {
      const r = spawnSync('script', ['-qec', `"${process.execPath}" "${CLI}" train --epochs 2 --hidden 16 --threads 1 --out "${out}"`, '/dev/null'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stdout).toBe(0);
      const frames = r.stdout.split(/\r|\x1b\[1G/).filter((f) => f.includes(' | step '));
      const steps = frames.map((f) => /epoch (\d)\/2 .* (\d+)% \| step (\d+)\/(\d+)/.exec(f)).filter((m) => m !== null);
      expect(steps.length, r.stdout).toBeGreaterThanOrEqual(2);
      expect(new Set(steps.map((m) => m[4]))).toEqual(new Set(['250'])); // 2 epochs × 125 batches of 64
      expect(steps.some((m) => m[1] === '2' && Number(m[3]) > 125)).toBe(true); // epoch 2 continues the count
      expect(steps.at(-1)![3]).toBe('250');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it.each(['train', 'denoise', 'eval', 'export', 'import', 'bench'])("README's synopsis of %s lists exactly the flags of its --help", (command) => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const synopsis = new RegExp(`^simdnet ${command} .*(\\n {10,}.*)*`, 'm').exec(readme)?.[0] ?? ''; // with its continuation lines
    const documented = new Set(synopsis.match(/--[\w-]+/g));
    const flags = [...cli(command, '--help').stdout.matchAll(/^\s+(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]).filter((f) => f !== '--help');
    expect(flags.length).toBeGreaterThan(0);
    expect([...documented].sort()).toEqual([...new Set(flags)].sort());
  });
});
