// The browser: the web/ demo built with Vite, served on 127.0.0.1 and driven in headless Chromium
// (playwright-core). (Apps that install the package as users do, web/README's snippet among them:
// test/consumers.test.ts.)
//
//   * the page loads with no console errors and reports the wasm build it picked and its threads;
//   * served with COOP + COEP (web/vite.config.ts), the page is cross-origin isolated and its training worker
//     trains on more than one thread (the threaded build); served without them (a plain preview server), it
//     trains on one thread with the same losses, and the page says why;
//   * 1 thread vs every core on the default model: the same test loss (threads never change results), and the
//     samples/s of each are logged;
//   * one short run (784→32→784, 1 epoch on 2,000 digits) lowers the test loss shown on the page, and the
//     denoised row of the digit grid has lit pixels;
//   * the first 20 batch losses of the browser's wasm backend (2 threads) match a Node run of the same fit options
//     within LOSS_RTOL (the browser runs the relaxed-SIMD build, Node 20 the SIMD one, which may differ by fused vs
//     separate multiply-adds; observed: 2e-9);
//   * the downloaded model.simdnet loads in Node with deserializeModel and reproduces the page's test metrics;
//     loading it back into the page gives them too, and a damaged copy is refused with the reason on the page;
//   * while the (slower) js backend trains, Pause / Resume / Stop change the UI state promptly, and nothing
//     trains while paused;
//   * the conv denoiser (?model=conv&channels=…): 1 epoch on 1,000 digits in the worker on 2 threads lowers the test
//     loss, the summary shows its Conv2D layers, its first batch losses match a Node run of the same conv model and
//     fit options (LOSS_RTOL), its downloaded model.simdnet reproduces the page's test loss in Node and loads back
//     into the page; the Conv / Best preset buttons fill the form (and show that model's fields), and a bad channels
//     field is refused with a message naming it;
//   * a screenshot goes to test-output/demo.png.
//
// Needs Chromium (CI installs it): /usr/bin/chromium, or set CHROMIUM_PATH. Missing → the suite fails, loudly.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableWasmVariants, createWasmBackend, type WasmVariant } from '../src/backend/wasm.js';
import { loadBundledMnist } from '../src/data/mnist-bundled.js';
import { deserializeModel } from '../src/formats/model-file.js';
import { autoencoder } from '../src/models.js';
import { createOptimizer } from '../src/optimizers.js';
import { fit } from '../src/training/fit.js';
import { evaluate } from '../src/training/evaluate.js';
import { CONV_PRESET } from '../src/training/recipes.js';
import { noisyTestInputs } from '../src/training/sets.js';
import type { EpochMetrics } from '../src/training/types.js';

const ROOT = resolve(__dirname, '..');
const WEB = join(ROOT, 'web');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The short run, as URL parameters of the page (each names a form field) and as the Node side's fit options. */
const RUN = { hidden: 32, epochs: 1, train: 2000, batch: 64, seed: 1, loss: 'bce', optimizer: 'adam', lr: 0.001, noise: 'gaussian', factor: 0.3 } as const;
const QUERY = '?' + new URLSearchParams({ ...Object.fromEntries(Object.entries(RUN).map(([k, v]) => [k, String(v)])), backend: 'wasm' });
const PARITY_STEPS = 20;
/** The conv run: the conv denoiser, short (1 epoch of 1,000 digits) and on 2 kernel threads. */
const CONV_RUN = { model: 'conv', channels: [8, 8], epochs: 1, train: 1000, batch: 32, seed: 1, loss: 'bce', optimizer: 'adam', lr: 0.003, noise: 'gaussian', factor: 0.3, threads: 2 } as const;
const CONV_STEPS = 10;
const LOSS_RTOL = 1e-4;

interface DemoState {
  state: string;
  variant: string;
  threads: number;
  threadsNote?: string;
  crossOriginIsolated: boolean;
  workerIsolated?: boolean;
  baseline?: EpochMetrics;
  epochs: EpochMetrics[];
  firstLosses: number[];
  samplesPerSec: number;
  lit: { clean: number; noisy: number; denoised: number };
  loaded?: { name: string; metrics: EpochMetrics };
  errors: string[];
}

let server: PreviewServer;
let url: string;
/** The same build served with no headers: not cross-origin isolated. */
let plainServer: PreviewServer;
let plainUrl: string;
/** Responses of the demo page: url → [COEP, COOP] headers. */
const served = new Map<string, [string | undefined, string | undefined]>();
let context: BrowserContext;
let page: Page;
let userDataDir: string;
let outDir: string;
/** The model.simdnet the page gave us. */
let downloaded: Uint8Array;
const problems: string[] = [];

const demo = (): Promise<DemoState> => page.evaluate(() => (window as unknown as { simdnet: DemoState }).simdnet);
const waitState = (states: string[], timeout = 30_000) =>
  page.waitForFunction((s) => s.includes((window as unknown as { simdnet?: DemoState }).simdnet?.state ?? ''), states, { timeout });

function launch(dir: string): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) throw new Error(`browser tests: no Chromium at ${CHROMIUM}; install it (apt-get install chromium) or set CHROMIUM_PATH`);
  return chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
}

function watch(p: Page): void {
  p.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  p.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  p.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`browser tests: no Chromium at ${CHROMIUM}; install it (apt-get install chromium) or set CHROMIUM_PATH`);
  // built into a temporary folder, not web/dist, so concurrent runs cannot trip over each other
  outDir = mkdtempSync(join(tmpdir(), 'simdnet-web-'));
  const common = { root: WEB, configFile: join(WEB, 'vite.config.ts'), logLevel: 'error' as const, build: { outDir, emptyOutDir: true } };
  await build(common);
  server = await preview({ ...common, preview: { host: '127.0.0.1', port: 0 } });
  url = server.resolvedUrls!.local[0];
  // no config file: none of its headers, so the page is not cross-origin isolated
  plainServer = await preview({ root: WEB, configFile: false, logLevel: 'error', build: { outDir }, preview: { host: '127.0.0.1', port: 0 } });
  plainUrl = plainServer.resolvedUrls!.local[0];
  userDataDir = mkdtempSync(join(tmpdir(), 'simdnet-chromium-'));
  context = await launch(userDataDir);
  page = context.pages()[0] ?? (await context.newPage());
  watch(page);
  page.on('response', (r) => void served.set(r.url(), [r.headers()['cross-origin-embedder-policy'], r.headers()['cross-origin-opener-policy']]));
});

afterAll(async () => {
  await context?.close();
  await server?.close();
  await plainServer?.close();
  for (const dir of [userDataDir, outDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('web demo in Chromium', () => {
  it('emits the page, the worker (kernels inside: no .wasm asset, no split chunk) and the digits file', () => {
    const assets = readdirSync(join(outDir, 'assets'));
    expect(assets.filter((f) => f.endsWith('.js')).map((f) => f.replace(/-[\w-]{8}\.js$/, '')).sort()).toEqual(['index', 'worker']);
    expect(assets.filter((f) => f.endsWith('.wasm'))).toEqual([]);
    expect(gunzipSync(readFileSync(join(outDir, 'mnist-10k.sdmn.gz'))).length).toBe(8 + 10_000 * 785);
  });

  it('loads with no console errors', async () => {
    await page.goto(url + QUERY);
    await waitState(['ready']);
    expect(await page.title()).toContain('simdnet');
    expect(await page.textContent('#badge-data')).toContain('8,000 train / 2,000 test');
    expect(await page.textContent('#badge-backend')).toMatch(/^WebAssembly · (relaxed-simd|simd|scalar) · \d+ threads?$/);
    expect(problems).toEqual([]);
  });

  it('one short training run lowers the test loss shown on the page', async () => {
    await page.click('#start');
    await waitState(['done'], 60_000);
    const s = await demo();
    expect(s.variant).toMatch(/simd|scalar/);
    expect(s.epochs).toHaveLength(1);
    // the epoch table: row 0 is the untrained model, row 1 the first epoch; column 2 is the test loss
    const shown = await page.$$eval('#epochs tbody tr', (rows) => rows.map((r) => Number(r.children[2].textContent)));
    expect(shown).toHaveLength(2);
    expect(shown[1]).toBeLessThan(shown[0] * 0.8);
    expect(Number(await page.textContent('#s-test'))).toBe(shown[1]);
    expect(s.epochs[0].testLoss).toBeLessThan(s.baseline!.testLoss);
    console.log(`browser wasm (${s.variant}): ${Math.round(s.samplesPerSec)} samples/s, test loss ${s.baseline!.testLoss.toFixed(4)} → ${s.epochs[0].testLoss.toFixed(4)}`);
  });

  it('is cross-origin isolated and its worker trained on more than one thread', async () => {
    const s = await demo();
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(cores, 'this test needs a machine with 2 or more cores').toBeGreaterThan(1);
    expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
    expect(s.crossOriginIsolated).toBe(true);
    expect(s.workerIsolated).toBe(true);
    expect(s.threads).toBe(cores); // threads: auto = every core
    expect(s.threadsNote).toBeUndefined();
    expect(await page.textContent('#badge-backend')).toBe(`WebAssembly · ${s.variant} · ${cores} threads`);
    expect(await page.isVisible('#threads-note')).toBe(false);
    expect(await page.textContent('#message')).toContain(`samples/s on ${cores} threads`);
    // the document and the worker (which carries the kernels) came with both headers; the digits loaded under them
    const get = (re: RegExp) => [...served].filter(([u]) => re.test(new URL(u).pathname));
    for (const re of [/\/$/, /\/assets\/worker-[\w-]+\.js$/]) expect(get(re).map(([, h]) => h), String(re)).toEqual([['require-corp', 'same-origin']]);
    expect(get(/\/mnist-10k\.sdmn\.gz$/)).toHaveLength(1);
    expect(problems).toEqual([]);
  });

  it('the denoised grid has lit pixels', async () => {
    const lit = await page.$eval('#g-denoised', (c) => {
      const canvas = c as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i] > 120) n++;
      return { n, width: canvas.width, height: canvas.height };
    });
    expect(lit.width).toBeGreaterThan(28 * 10);
    expect(lit.n).toBeGreaterThan(200);
    expect((await demo()).lit.denoised).toBeGreaterThan(200);
  });

  it('the browser and Node wasm backends give the same first losses from one seed', async () => {
    const browser = (await demo()).firstLosses.slice(0, PARITY_STEPS);
    expect(browser).toHaveLength(PARITY_STEPS);
    const data = loadBundledMnist({ seed: 0 });
    const x = data.train.images.subarray(0, RUN.train * 784);
    // the browser's build when Node runs it (Node 20 has no relaxed SIMD: then its best); thread counts never change results
    const { variant } = await demo();
    const backend = await createWasmBackend(availableWasmVariants().includes(variant as WasmVariant) ? { variant: variant as WasmVariant } : {});
    const model = autoencoder(backend, { hidden: [RUN.hidden], activation: 'relu', seed: RUN.seed });
    const node: number[] = [];
    await fit(model, { train: { x, y: x } }, {
      epochs: RUN.epochs, batchSize: RUN.batch, loss: RUN.loss, optimizer: createOptimizer(RUN.optimizer, { lr: RUN.lr }), seed: RUN.seed,
      noise: { kind: RUN.noise, factor: RUN.factor },
      onBatch: ({ loss }) => node.push(loss) < PARITY_STEPS,
    });
    const worst = Math.max(...node.map((v, i) => Math.abs(browser[i] - v) / v));
    console.log(`first ${PARITY_STEPS} losses, browser wasm (${variant}, ${(await demo()).threads} threads) vs Node ${backend.variant} (${backend.threads} threads): max relative difference ${worst.toExponential(1)}`);
    model.dispose();
    backend.dispose();
    for (let i = 0; i < PARITY_STEPS; i++) expect(Math.abs(browser[i] - node[i]), `step ${i + 1}: browser ${browser[i]}, Node ${node[i]}`).toBeLessThanOrEqual(LOSS_RTOL * node[i]);
    expect(node[PARITY_STEPS - 1]).toBeLessThan(node[0]);
  });

  it('a downloaded model loads in Node and reproduces the page\'s test metrics', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toBe('model.simdnet');
    const bytes = new Uint8Array(readFileSync((await download.path())!));
    const { model, meta } = deserializeModel(bytes, await createWasmBackend(), 'model.simdnet');
    expect(meta).toMatchObject({ hidden: [RUN.hidden], loss: RUN.loss, noise: RUN.noise, seed: RUN.seed });
    const { test } = loadBundledMnist({ seed: 0 });
    const noisy = noisyTestInputs({ x: test.images, y: test.images }, { kind: RUN.noise, factor: RUN.factor }, RUN.seed, { width: 784, backend: model.backend });
    const scores = evaluate(model, { x: noisy, y: test.images }, { loss: RUN.loss });
    const page1 = (await demo()).epochs[0];
    expect(Math.abs(scores.testLoss - page1.testLoss)).toBeLessThanOrEqual(1e-5 * page1.testLoss);
    expect(scores.psnrDenoised!).toBeCloseTo(page1.psnrDenoised!, 3);
    expect(scores.psnrNoisy!).toBeCloseTo(page1.psnrNoisy!, 6);

    // and back into the page through the file input
    await page.setInputFiles('#load', { name: 'model.simdnet', mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
    await page.waitForFunction(() => (window as unknown as { simdnet: DemoState }).simdnet.loaded !== undefined, null, { timeout: 15_000 });
    const loaded = (await demo()).loaded!;
    expect(Math.abs(loaded.metrics.testLoss - page1.testLoss)).toBeLessThanOrEqual(1e-5 * page1.testLoss);
    expect(await page.textContent('#file-note')).toContain('784 → 32 → 784');
    downloaded = bytes;
  });

  it('"Download ONNX" gives a file onnxruntime-node runs with the model\'s outputs, and the page loads it back', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-onnx')]);
    expect(download.suggestedFilename()).toBe('model.onnx');
    const bytes = new Uint8Array(readFileSync((await download.path())!));
    const { model } = deserializeModel(downloaded, await createWasmBackend(), 'model.simdnet');
    const x = loadBundledMnist({ seed: 0 }).test.images.subarray(0, 20 * 784);
    const session = await ort.InferenceSession.create(bytes);
    const y = (await session.run({ x: new ort.Tensor('float32', x, [20, 784]) })).y.data as Float32Array;
    const expected = model.predict(x);
    let worst = 0;
    for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - expected[i]));
    expect(worst).toBeLessThan(1e-5);
    const page1 = (await demo()).epochs[0];
    await page.evaluate(() => void ((window as unknown as { simdnet: DemoState }).simdnet.loaded = undefined));
    await page.setInputFiles('#load', { name: 'model.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
    await page.waitForFunction(() => (window as unknown as { simdnet: DemoState }).simdnet.loaded !== undefined, null, { timeout: 15_000 });
    const loaded = (await demo()).loaded!;
    expect(loaded.name).toBe('model.onnx');
    expect(Math.abs(loaded.metrics.testLoss - page1.testLoss)).toBeLessThanOrEqual(1e-5 * page1.testLoss);
  });

  it('writes a screenshot to test-output/demo.png', async () => {
    mkdirSync(join(ROOT, 'test-output'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-output/demo.png'), fullPage: true });
    expect(existsSync(join(ROOT, 'test-output/demo.png'))).toBe(true);
  });

  it('refuses a damaged model file with the library\'s reason, shown on the page', async () => {
    const damaged = Buffer.from(downloaded);
    damaged[100] ^= 0xff;
    await page.setInputFiles('#load', { name: 'damaged.simdnet', mimeType: 'application/octet-stream', buffer: damaged });
    await page.waitForSelector('#message.error', { timeout: 10_000 });
    expect(await page.textContent('#message')).toMatch(/damaged\.simdnet: .*checksum mismatch/);
    expect((await demo()).state).toBe('done');
  });

  it('served without COOP / COEP, it trains on one thread, with the same losses, and says why', async () => {
    const isolated = await demo();
    const p = await context.newPage();
    watch(p);
    try {
      await p.goto(plainUrl + QUERY);
      await p.waitForFunction(() => (window as unknown as { simdnet?: DemoState }).simdnet?.state === 'ready', null, { timeout: 30_000 });
      expect(await p.evaluate(() => self.crossOriginIsolated)).toBe(false);
      expect(await p.textContent('#badge-backend')).toBe(`WebAssembly · ${isolated.variant} · 1 thread`);
      const note = (await p.textContent('#threads-note'))!;
      expect(await p.isVisible('#threads-note')).toBe(true);
      expect(note).toMatch(/^1 thread of \d+: the page is not cross-origin isolated .*COOP: same-origin and COEP: require-corp/);
      await p.click('#start');
      await p.waitForFunction(() => (window as unknown as { simdnet: DemoState }).simdnet.state === 'done', null, { timeout: 60_000 });
      const s = await p.evaluate(() => (window as unknown as { simdnet: DemoState }).simdnet);
      expect(s.threads).toBe(1);
      expect(s.workerIsolated).toBe(false);
      expect(s.threadsNote).toMatch(/not cross-origin isolated/);
      expect(s.firstLosses).toEqual(isolated.firstLosses); // bit-identical whatever the thread count
      expect(s.epochs[0].testLoss).toBe(isolated.epochs[0].testLoss);
      console.log(`not isolated: "${note}"`);
    } finally {
      await p.close();
    }
    expect(problems).toEqual([]);
  });

  it('1 thread and every core train the default model to the same loss (samples/s logged)', async () => {
    const runs: { threads: number; rate: number; loss: number }[] = [];
    for (const threads of ['1', 'auto', '1', 'auto']) {
      await page.goto(url + `?threads=${threads}&hidden=128&epochs=2&train=8000&seed=1`);
      await waitState(['ready']);
      await page.click('#start');
      await waitState(['done'], 60_000);
      const s = await demo();
      runs.push({ threads: s.threads, rate: s.samplesPerSec, loss: s.epochs.at(-1)!.testLoss });
    }
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(runs.map((r) => r.threads)).toEqual([1, cores, 1, cores]);
    expect(new Set(runs.map((r) => r.loss)).size).toBe(1);
    const best = (n: number) => Math.round(Math.max(...runs.filter((r) => r.threads === n).map((r) => r.rate)));
    console.log(`browser wasm, 784→128→784, 8,000 digits: ${best(1)} samples/s on 1 thread, ${best(cores)} on ${cores} (runs: ${runs.map((r) => `${r.threads}:${Math.round(r.rate)}`).join(', ')})`);
    expect(problems).toEqual([]);
  });

  it('answers Pause / Resume / Stop while the js backend trains', async () => {
    await page.goto(url + '?backend=js&hidden=128&epochs=3&train=8000&batch=64&seed=2');
    await waitState(['ready']);
    await page.click('#start');
    await page.waitForFunction(() => (window as unknown as { simdnet: DemoState }).simdnet.firstLosses.length >= 10, null, { timeout: 30_000 });
    expect((await demo()).state).toBe('training');

    await page.click('#pause');
    await waitState(['paused'], 5_000);
    expect(await page.textContent('#pause')).toBe('Resume');
    const before = (await page.textContent('#bar-text'))!;
    await page.waitForTimeout(400);
    expect(await page.textContent('#bar-text')).toBe(before); // nothing trains while paused
    // the page itself stays usable: the digit picker still answers through the worker
    await page.fill('#pick-n', '17');
    await page.dispatchEvent('#pick-n', 'change');
    await page.waitForFunction(() => document.getElementById('pick-label')!.textContent!.startsWith('test digit #17'), null, { timeout: 5_000 });

    await page.click('#pause');
    await waitState(['training'], 5_000);
    await page.click('#stop');
    await waitState(['stopped'], 5_000);
    const s = await demo();
    expect(s.variant).toBe('js');
    console.log(`browser js: ${Math.round(s.samplesPerSec)} samples/s`);
    expect(problems).toEqual([]);
  });

  it('the training-loop settings: a cosine schedule, a validation split, early stopping and Dropout run; the summary shows; Best preset fills the form', async () => {
    await page.goto(url + '?backend=wasm&hidden=16&epochs=6&train=1000&batch=50&seed=4&schedule=cosine&validation=0.1&patience=1&optimizer=adamw&decay=0.01&dropout=0.1');
    await waitState(['ready']);
    await page.click('#start');
    await waitState(['done', 'stopped'], 60_000);
    const s = await demo();
    expect(await page.textContent('#model-summary')).toMatch(/0 Linear\(784, 16\)\s+\(B, 16\)\s+12,560\n1 ReLU .*\n2 Dropout\(0\.1\) [\s\S]*total 25,888 parameters/);
    // 900 training digits in batches of 50: 18 steps an epoch; the cosine warm-up (1.5 epochs of 6) peaks at lr
    expect(s.epochs.every((m) => typeof m.valLoss === 'number' && m.valLoss > 0)).toBe(true);
    const lrs = s.epochs.map((m) => m.lr!);
    expect(lrs[lrs.length - 1]).toBeLessThan(lrs[1]);
    if (s.epochs.length < 6) expect(await page.textContent('#message')).toMatch(/Stopped early \(valLoss did not improve/);
    await page.click('#preset-best');
    const field = (name: string) => page.$eval(`[name=${name}]`, (e) => (e as HTMLInputElement).value);
    expect([await field('hidden'), await field('batch'), await field('epochs'), await field('lr'), await field('schedule')]).toEqual(['512', '128', '45', '0.006', 'cosine']);
    expect(problems).toEqual([]);
  });

  it('AdamW with weight decay 0 trains without decay, as the CLI does: the first losses of Adam, bit for bit (the worker once used 0.01)', async () => {
    const firstLosses = async (settings: string) => {
      await page.goto(url + '?backend=wasm&hidden=16&epochs=1&train=500&batch=50&seed=4&lr=0.01&validation=0&' + settings);
      await waitState(['ready']);
      await page.click('#start');
      await waitState(['done'], 60_000);
      return (await demo()).firstLosses;
    };
    const adam = await firstLosses('optimizer=adam&decay=0');
    expect(adam).toHaveLength(10);
    expect(await firstLosses('optimizer=adamw&decay=0')).toEqual(adam);
    expect(await firstLosses('optimizer=adamw&decay=0.01')).not.toEqual(adam);
    expect(problems).toEqual([]);
  });
  it('trains the conv denoiser in its worker on 2 threads: the loss falls, the summary shows Conv2D, its file loads back; the presets fill the form', async () => {
    const query = new URLSearchParams({ ...Object.fromEntries(Object.entries(CONV_RUN).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)])), backend: 'wasm', validation: '0' });
    await page.goto(url + '?' + query);
    await waitState(['ready']);
    expect([await page.isVisible('[name=channels]'), await page.isVisible('[name=hidden]'), await page.isVisible('[name=dropout]')]).toEqual([true, false, false]);
    await page.click('#start');
    expect([await page.isDisabled('#preset-conv'), await page.isDisabled('[name=channels]')]).toEqual([true, true]); // until the run ends
    await waitState(['done'], 60_000);
    const s = await demo();
    expect(s.threads).toBe(2);
    expect(s.errors).toEqual([]);
    // 2 hidden convolutions of 8 maps at full resolution, then one back to one map
    const summary = (await page.textContent('#model-summary'))!;
    expect(summary).toMatch(/^0 Conv2D\(1\D+8\b.*\(B, 8, 28, 28\)/m);
    expect(summary).toMatch(/^2 Conv2D\(8\D+8\b.*\(B, 8, 28, 28\)/m);
    expect(summary).toMatch(/^4 Conv2D\(8\D+1\b.*\(B, 1, 28, 28\)/m);
    expect(summary).toMatch(/^5 Sigmoid /m);
    expect(s.epochs).toHaveLength(1);
    expect(s.epochs[0].testLoss).toBeLessThan(s.baseline!.testLoss * 0.8);
    expect(s.epochs[0].psnrDenoised!).toBeGreaterThan(s.epochs[0].psnrNoisy!);
    expect(await page.textContent('#message')).toContain('samples/s on 2 threads');
    console.log(`browser conv ${CONV_RUN.channels.join('-')} (${s.variant}, ${s.threads} threads): ${Math.round(s.samplesPerSec)} samples/s, test loss ${s.baseline!.testLoss.toFixed(4)} → ${s.epochs[0].testLoss.toFixed(4)}, PSNR ${s.epochs[0].psnrNoisy!.toFixed(2)} → ${s.epochs[0].psnrDenoised!.toFixed(2)} dB`);

    // the worker built the model the settings say: Node's conv denoiser of them gives the same first losses
    const data = loadBundledMnist({ seed: 0 });
    const x = data.train.images.subarray(0, CONV_RUN.train * 784);
    const backend = await createWasmBackend(availableWasmVariants().includes(s.variant as WasmVariant) ? { variant: s.variant as WasmVariant } : {});
    const node: number[] = [];
    const model = autoencoder(backend, { kind: 'conv', channels: [...CONV_RUN.channels], seed: CONV_RUN.seed });
    await fit(model, { train: { x, y: x } }, {
      epochs: 1, batchSize: CONV_RUN.batch, loss: CONV_RUN.loss, optimizer: createOptimizer(CONV_RUN.optimizer, { lr: CONV_RUN.lr }), seed: CONV_RUN.seed,
      noise: { kind: CONV_RUN.noise, factor: CONV_RUN.factor },
      onBatch: ({ loss }) => node.push(loss) < CONV_STEPS,
    });
    model.dispose();
    const browser = s.firstLosses.slice(0, CONV_STEPS);
    for (let i = 0; i < CONV_STEPS; i++) expect(Math.abs(browser[i] - node[i]), `step ${i + 1}: browser ${browser[i]}, Node ${node[i]}`).toBeLessThanOrEqual(LOSS_RTOL * node[i]);
    expect(node[CONV_STEPS - 1]).toBeLessThan(node[0]);

    // its model file: Node scores it as the page did, and the page loads it back
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const bytes = new Uint8Array(readFileSync((await download.path())!));
    const { model: saved, meta } = deserializeModel(bytes, backend, 'model.simdnet');
    expect(meta).toMatchObject({ model: 'conv', channels: [...CONV_RUN.channels], seed: CONV_RUN.seed });
    expect(saved.inputShape).toEqual([1, 28, 28]);
    const noisy = noisyTestInputs({ x: data.test.images, y: data.test.images }, { kind: CONV_RUN.noise, factor: CONV_RUN.factor }, CONV_RUN.seed, { width: 784, backend });
    const scores = evaluate(saved, { x: noisy, y: data.test.images }, { loss: CONV_RUN.loss });
    saved.dispose();
    backend.dispose();
    expect(Math.abs(scores.testLoss - s.epochs[0].testLoss)).toBeLessThanOrEqual(1e-5 * s.epochs[0].testLoss);
    await page.setInputFiles('#load', { name: 'conv.simdnet', mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
    await page.waitForFunction(() => (window as unknown as { simdnet: DemoState }).simdnet.loaded !== undefined, null, { timeout: 30_000 });
    expect(Math.abs((await demo()).loaded!.metrics.testLoss - s.epochs[0].testLoss)).toBeLessThanOrEqual(1e-5 * s.epochs[0].testLoss);
    expect(await page.textContent('#file-note')).toMatch(/^conv\.simdnet: 1×28×28 → conv 1→8 3×3, relu, conv 8→8 3×3, relu, conv 8→1 3×3, sigmoid, [\d,]+ parameters$/);

    // the presets: Conv fills in CONV_PRESET (and shows the conv fields), Best goes back to the dense model
    const field = (name: string) => page.$eval(`[name=${name}]`, (e) => (e as HTMLInputElement).value);
    const fields = async (...names: string[]) => Promise.all(names.map(field));
    await page.click('#preset-best');
    expect(await fields('model', 'hidden')).toEqual(['dense', '512']);
    expect(await page.isVisible('[name=channels]')).toBe(false);
    await page.click('#preset-conv');
    const c = CONV_PRESET;
    expect(await fields('model', 'channels', 'batch', 'epochs', 'lr', 'schedule', 'train')).toEqual(['conv', c.channels.join(','), String(c.batchSize), String(c.epochs), String(c.lr), c.lrSchedule, '8000']);
    expect([await page.isVisible('[name=channels]'), await page.isVisible('[name=hidden]')]).toEqual([true, false]);
    // a bad channels field is refused, named, before anything trains
    await page.fill('[name=channels]', '32,0');
    await page.click('#start');
    await page.waitForSelector('#message.error', { timeout: 5_000 });
    expect(await page.textContent('#message')).toBe('channels: expected comma-separated integers 1..512, got "32,0"');
    expect(problems).toEqual([]);
  });
});
