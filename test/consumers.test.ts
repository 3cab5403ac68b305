// The package as its users get it: `npm pack`ed once, installed offline (from the npm cache that `npm ci` filled)
// into a temporary copy of test/consumers/, and used by each kind of consumer with no configuration:
//
//   * the tarball holds only what users need (dist/ without maps, the embedded builds, the packed digits), and
//     installing it prints no warning and pulls in neither `mnist` nor any other dev dependency;
//   * Node ESM and Node CJS (require of the ES module) train a few steps on the bundled digits;
//   * TypeScript nodenext strict type-checks the Node API and the README's API snippets; TypeScript bundler + dom
//     strict (no @types/node) type-checks the browser API and the web/README snippet, and FAILS on a Node-only
//     import (loadBundledMnist);
//   * Vite build (no config: an iife worker), the Vite dev server, webpack 5, esbuild, Rollup (an iife worker) and a
//     plain ESM page with no bundler each load the page
//     in headless Chromium, train a few steps on the main thread (1 thread) and in a module worker (every core:
//     the pages are served cross-origin isolated), with no console error and no failed request;
//   * web/README's "Train in your own page" snippet trains the digits the package ships, in a Vite app;
//   * a browser bundle is one file (nothing split off), and its minified + gzipped size, for training ('simdnet')
//     and inference ('simdnet/infer').
//
// The tarball is packed with --ignore-scripts from the current build (`npm test` builds first: pretest).
// Needs Chromium (/usr/bin/chromium or CHROMIUM_PATH), like test/browser.test.ts.

import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { rollup, type RollupLog } from 'rollup';
import { build as viteBuild, createServer as viteServer, type ViteDevServer } from 'vite';
import webpack from 'webpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISOLATION, packAndInstall, ROOT, serveStatic } from './support/packed.js';

const FIXTURES = join(ROOT, 'test/consumers');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const run = promisify(execFile);

let tmp: string;
let tarball: string;
let packed: { path: string; size: number }[];
let installLog: string;
let server: Server;
let base: string;
let dev: ViteDevServer;
let devUrl: string;
let browser: Browser;

/** Copies the web fixture to `name/` (the app a bundler builds). */
function webApp(name: string): string {
  const dir = join(tmp, name);
  cpSync(join(tmp, 'web'), dir, { recursive: true });
  return dir;
}

/** The fenced blocks of `lang` in the section of a markdown file that starts with `heading`. */
function snippets(file: string, heading: string, lang: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const start = text.indexOf(heading);
  expect(start, `${file}: section "${heading}"`).toBeGreaterThanOrEqual(0);
  const end = text.indexOf('\n## ', start + heading.length);
  const section = text.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

async function buildWebpack(app: string): Promise<void> {
  const compiler = webpack({ mode: 'production', context: app, entry: './main.js', output: { path: join(app, 'dist'), publicPath: 'auto' }, performance: { hints: false } });
  const stats = await new Promise<webpack.Stats>((ok, fail) => compiler.run((e, s) => (e || !s ? fail(e) : ok(s))));
  await new Promise((ok) => compiler.close(ok));
  const info = stats.toJson({ all: false, errors: true, warnings: true });
  expect(info.errors ?? [], 'webpack errors').toEqual([]);
  expect(info.warnings ?? [], 'webpack warnings').toEqual([]);
  cpSync(join(app, 'index.html'), join(app, 'dist/index.html'));
}

/** Rollup with the resolve plugin, as a Rollup user builds a page and its worker: the page as ES modules, the
 *  worker as one self-contained iife file (dist/worker.js, where the page's `new URL('./worker.js', …)` points). */
async function buildRollup(app: string): Promise<void> {
  const logs: RollupLog[] = [];
  for (const [input, format] of [['main.js', 'es'], ['worker.js', 'iife']] as const) {
    const bundle = await rollup({ input: join(app, input), plugins: [nodeResolve({ browser: true })], onLog: (_level, log) => void logs.push(log) });
    await bundle.write({ dir: join(app, 'dist'), format, entryFileNames: '[name].js' });
    await bundle.close();
  }
  expect(logs.map((l) => `${l.code}: ${l.message}`), 'rollup warnings').toEqual([]);
  cpSync(join(app, 'index.html'), join(app, 'dist/index.html'));
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`consumer tests: no Chromium at ${CHROMIUM}; install it (apt-get install chromium) or set CHROMIUM_PATH`);
  tmp = mkdtempSync(join(tmpdir(), 'simdnet-consumers-'));
  cpSync(FIXTURES, tmp, { recursive: true });
  ({ tarball, files: packed, log: installLog } = await packAndInstall(tmp, 'simdnet-consumers'));

  // @types/node is the user's own dev dependency, not the package's: the TypeScript Node consumer takes ours
  const nodenext = join(tmp, 'ts-nodenext/tsconfig.json');
  const config = JSON.parse(readFileSync(nodenext, 'utf8')) as { compilerOptions: Record<string, unknown> };
  config.compilerOptions.typeRoots = [join(ROOT, 'node_modules/@types')];
  writeFileSync(nodenext, JSON.stringify(config));
  // the README snippets, as files of the two TypeScript consumers
  snippets('README.md', '## The API', 'ts').forEach((s, i) => writeFileSync(join(tmp, `ts-nodenext/readme-api-${i}.ts`), s));
  snippets('web/README.md', '## Train in your own page', 'js').forEach((s, i) => writeFileSync(join(tmp, `ts-bundler/readme-web-${i}.ts`), s));

  // the bundled pages, built once: Vite (its defaults: the worker as an iife, which refuses a split bundle),
  // webpack 5, esbuild, Rollup; and the plain page, 'simdnet' written as a path
  const quiet = { logLevel: 'silent' as const, configFile: false as const };
  await viteBuild({ ...quiet, root: webApp('vite-build'), base: './' });
  await buildWebpack(webApp('webpack'));
  await buildRollup(webApp('rollup'));
  const esb = webApp('esbuild');
  await esbuild.build({ entryPoints: [join(esb, 'main.js'), join(esb, 'worker.js')], bundle: true, format: 'esm', outdir: join(esb, 'dist'), logLevel: 'silent' });
  cpSync(join(esb, 'index.html'), join(esb, 'dist/index.html'));
  // web/README's "Train in your own page" snippet as a Vite app, with the digits the package ships in public/
  const readme = join(tmp, 'vite-readme');
  mkdirSync(join(readme, 'public'), { recursive: true });
  cpSync(join(tmp, 'node_modules/simdnet/build/mnist-10k.sdmn.gz'), join(readme, 'public/mnist-10k.sdmn.gz'));
  cpSync(join(tmp, 'web/index.html'), join(readme, 'index.html'));
  const [snippet] = snippets('web/README.md', '## Train in your own page', 'js');
  expect(snippet).toContain('epochs: 5');
  writeFileSync(join(readme, 'main.js'), snippet.replace('epochs: 5', 'epochs: 2') + 'window.result = { variant: backend.variant, fileBytes: file.length };\n');
  await viteBuild({ ...quiet, root: readme, base: './', build: { target: 'es2022' } });
  const plain = webApp('plain');
  writeFileSync(join(plain, 'train.js'), readFileSync(join(plain, 'train.js'), 'utf8').replace("from 'simdnet'", "from '../node_modules/simdnet/dist/index.js'"));

  server = await serveStatic(tmp);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dev = await viteServer({ ...quiet, root: webApp('vite-dev'), server: { host: '127.0.0.1', port: 0, headers: ISOLATION } });
  await dev.listen();
  devUrl = dev.resolvedUrls!.local[0];
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await dev?.close();
  server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Trained {
  variant: string;
  threads: number;
  threadsNote?: string | null;
  isolated?: boolean;
  losses: number[];
}

/** A few steps that trained: every loss finite, the last below the first. */
function expectTrained(r: Trained, what: string): void {
  expect(r.variant, what).toMatch(/^(relaxed-simd|simd|scalar)$/);
  expect(r.losses.length, what).toBeGreaterThanOrEqual(8);
  expect(r.losses.every(Number.isFinite), what).toBe(true);
  expect(r.losses.at(-1)!, what).toBeLessThan(r.losses[0]);
}

describe('the packed package', () => {
  it('holds only what users need: dist/ without source maps, the embedded builds (one module), the packed digits', () => {
    const paths = packed.map((f) => f.path);
    const unexpected = paths.filter((p) => !/^(package\.json|README\.md|LICENSE|dist\/.+\.(js|d\.ts)|build\/embedded\/kernels\.(js|d\.ts)|build\/mnist-10k\.sdmn\.gz)$/.test(p));
    expect(unexpected).toEqual([]);
    expect(paths.filter((p) => p.endsWith('.wasm') || p.endsWith('.map'))).toEqual([]);
    for (const p of ['build/embedded/kernels.js', 'dist/index.js', 'dist/node.js', 'dist/infer.js', 'dist/cli/main.js', 'build/mnist-10k.sdmn.gz']) expect(paths).toContain(p);
    const kb = (packed.reduce((n, f) => n + f.size, 0) / 1024).toFixed(0);
    console.log(`npm pack: ${paths.length} files, ${kb} KB unpacked, tarball ${(statSync(tarball).size / 1024).toFixed(0)} KB`);
  });

  it('installs offline with no warning, and without mnist, crc-32 or any dev dependency', () => {
    expect(installLog, installLog).not.toMatch(/warn|ERR/i);
    const installed = readdirSync(join(tmp, 'node_modules')).filter((n) => !n.startsWith('.'));
    expect(installed).toContain('simdnet');
    for (const absent of ['mnist', 'crc-32', 'assemblyscript', 'vite', 'typescript']) expect(installed).not.toContain(absent);
  });
});

describe('Node and TypeScript consumers', () => {
  for (const [name, file] of [['Node ESM', 'node-esm/main.mjs'], ['Node CJS (require)', 'node-cjs/main.cjs']] as const) {
    it(`${name} trains a few steps on the bundled digits`, async () => {
      const { stdout, stderr } = await run(process.execPath, [join(tmp, file)], { cwd: tmp });
      expect(stderr).toBe('');
      const r = JSON.parse(stdout) as Trained;
      expectTrained(r, name);
      expect(r.threads).toBe(2);
      console.log(`${name}: ${r.variant}, ${r.threads} threads, loss ${r.losses[0].toFixed(3)} → ${r.losses.at(-1)!.toFixed(3)}`);
    });
  }

  it('TypeScript nodenext strict: the Node API and the README API snippets type-check', async () => {
    expect(readdirSync(join(tmp, 'ts-nodenext')).filter((f) => f.startsWith('readme-')).length).toBe(2);
    await run(process.execPath, [TSC, '-p', join(tmp, 'ts-nodenext')]).catch((e: { stdout: string }) => expect.fail(e.stdout));
  });

  it('TypeScript bundler + dom strict: the browser API and the web/README snippet type-check; a Node-only import does not', async () => {
    expect(readdirSync(join(tmp, 'ts-bundler')).filter((f) => f.startsWith('readme-')).length).toBe(1);
    await run(process.execPath, [TSC, '-p', join(tmp, 'ts-bundler')]).catch((e: { stdout: string }) => expect.fail(e.stdout));
    const bad = await run(process.execPath, [TSC, '-p', join(tmp, 'ts-bundler/tsconfig.node-only.json')]).then(
      () => '',
      (e: { stdout: string }) => e.stdout,
    );
    expect(bad).toMatch(/node-only\.ts.*error TS2305: Module '"simdnet"' has no exported member 'loadBundledMnist'/);
    expect(bad).toMatch(/error TS2305: Module '"simdnet"' has no exported member 'saveModel'/);
  });
});

describe('browser consumers, in Chromium', () => {
  const pages: [string, () => string][] = [
    ['Vite build, no config (iife worker)', () => `${base}/vite-build/dist/`],
    ['Vite dev server', () => devUrl],
    ['webpack 5', () => `${base}/webpack/dist/`],
    ['esbuild --bundle --format=esm', () => `${base}/esbuild/dist/`],
    ['Rollup + node-resolve (iife worker)', () => `${base}/rollup/dist/`],
    ['plain ESM page, no bundler', () => `${base}/plain/`],
  ];
  for (const [name, url] of pages) {
    it(`${name}: trains on the main thread and in a worker, on every core there, with no console error`, async () => {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
      page.on('pageerror', (e) => void problems.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => void problems.push(`request failed: ${r.url()}`));
      page.on('response', (r) => void (r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`)));
      try {
        await page.goto(url());
        await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, null, { timeout: 60_000 });
        const r = (await page.evaluate(() => (window as unknown as { result: unknown }).result)) as { main: Trained; worker: Trained; error?: string };
        expect(r.error, name).toBeUndefined();
        expect(problems, name).toEqual([]);
        expectTrained(r.main, `${name}, main thread`);
        expectTrained(r.worker, `${name}, worker`);
        expect(r.main.threads).toBe(1); // Atomics.wait is not allowed on a page's main thread
        const cores = await page.evaluate(() => navigator.hardwareConcurrency);
        expect(r.worker.isolated).toBe(true);
        expect(r.worker.threads, `${name}: ${r.worker.threadsNote}`).toBe(cores);
        expect(r.main.losses).toEqual(r.worker.losses); // threads never change results
        console.log(`${name}: ${r.worker.variant}, main thread 1, worker ${r.worker.threads} threads, loss ${r.main.losses[0].toFixed(3)} → ${r.main.losses.at(-1)!.toFixed(3)}`);
      } finally {
        await page.close();
      }
    });
  }
});

describe("web/README's snippet", () => {
  let readmeServer: Server | undefined;
  it('trains the digits it fetches for 2 epochs in a Vite app (the test loss falls) and serializes the model', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    const logs: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' ? problems.push(`console: ${m.text()}`) : logs.push(m.text())));
    page.on('pageerror', (e) => void problems.push(`page error: ${e.message}`));
    page.on('response', (r) => void (r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`)));
    try {
      // served at its own root: the snippet fetches /mnist-10k.sdmn.gz
      readmeServer = await serveStatic(join(tmp, 'vite-readme/dist'));
      await page.goto(`http://127.0.0.1:${(readmeServer.address() as AddressInfo).port}/`);
      await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, null, { timeout: 90_000 }).catch((e: Error) => expect.fail(`${e.message}; ${problems.join('; ')}`));
      const r = await page.evaluate(() => (window as unknown as { result: { variant: string; fileBytes: number } }).result);
      expect(problems).toEqual([]);
      expect(r.variant).toMatch(/^(relaxed-simd|simd|scalar)$/);
      expect(r.fileBytes).toBeGreaterThan(4 * (784 * 128 * 2 + 128 + 784));
      const losses = logs.map((l) => /^epoch \d+: test loss ([\d.]+)/.exec(l)?.[1]).filter(Boolean).map(Number);
      expect(losses, logs.join('\n')).toHaveLength(2);
      expect(losses[1]).toBeLessThan(losses[0]);
    } finally {
      await page.close();
      readmeServer?.close();
    }
  });
});

describe('bundle size', () => {
  it('a browser bundle is one file (nothing split off, so an iife worker builds), and inference-only is smaller (esbuild, minified + gzipped)', async () => {
    const sizes: Record<string, number> = {};
    for (const [name, source] of [
      ['training', "import { createBackend, autoencoder, fit, serializeModel } from 'simdnet'; const b = await createBackend(); const m = autoencoder(b); await fit(m, { train: { x: new Float32Array(784), y: new Float32Array(784) } }, { epochs: 1 }); console.log(serializeModel(m));"],
      ['inference', "import { createBackend, deserializeModel } from 'simdnet/infer'; const b = await createBackend(); console.log(deserializeModel(new Uint8Array(0), b).model.predict(new Float32Array(784)));"],
      ['builds', "import builds from '../node_modules/simdnet/build/embedded/kernels.js'; console.log(builds);"],
    ] as const) {
      const dir = join(tmp, `size-${name}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'entry.js'), source);
      const r = await esbuild.build({ entryPoints: [join(dir, 'entry.js')], bundle: true, minify: true, splitting: true, format: 'esm', platform: 'browser', outdir: join(dir, 'out'), write: false, logLevel: 'silent' });
      expect(r.outputFiles.map((f) => f.path.slice(dir.length)), name).toEqual(['/out/entry.js']);
      sizes[name] = gzipSync(r.outputFiles[0].contents, { level: 9 }).length;
    }
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
    console.log(`browser bundle, minified + gzipped (esbuild): training ${kb(sizes.training)}, inference only ${kb(sizes.inference)}; of these, the five embedded builds ${kb(sizes.builds)}`);
    expect(sizes.inference).toBeLessThan(sizes.training);
    expect(sizes.builds).toBeLessThan(sizes.inference);
  });
});
