// The runtime and browser matrix (`npm run test:matrix`; .ci/run runs it after `npm test`): the packed tarball,
// installed offline as a user installs it, trains the same small autoencoder (test/matrix/app/train.js) in
//
//   * Node 20 (the machine's), Node 22 and Node 24, Deno 2 and Bun, all from npm (test/matrix/runtimes/, pinned by
//     its package-lock.json and installed into node_modules/.cache/simdnet-matrix on the first run);
//   * Chromium (puppeteer-core over CDP), Firefox ESR (puppeteer-core over WebDriver BiDi) and WebKitGTK
//     (MiniBrowser over WebDriver, WebKitWebDriver under xvfb-run), each on the main thread and in a module
//     worker, on a page served cross-origin isolated and on one served without the headers.
//
// Each row: the loss falls; where threads run, every core gives the same bits as one thread (the trained model's
// bytes); a runtime's process exits by itself (the last backend is left running, not disposed), and its CLI
// (`bunx --bun simdnet` in Bun, `deno run -A` in Deno) trains one epoch with the simd build. Across rows: the
// simd build on one thread gives the same bits on every engine (V8, SpiderMonkey, JavaScriptCore), and so does
// the build each picks among the engines that pick the same one; the CLI writes the same model bytes in every
// runtime. The table is printed at the end.
// Needs /usr/bin/chromium, /usr/bin/firefox-esr, /usr/bin/WebKitWebDriver + MiniBrowser and xvfb-run (.ci/run
// installs them with apt), and the npm registry on the first run.

import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import puppeteer from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packAndInstall, ROOT, serveStatic } from '../support/packed.js';

const run = promisify(execFile);
const RUNTIMES = join(ROOT, 'test/matrix/runtimes');
const CACHE = join(ROOT, 'node_modules/.cache/simdnet-matrix');
const BIN = join(CACHE, 'node_modules');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
const WEBKIT_DRIVER = '/usr/bin/WebKitWebDriver';
const MINIBROWSER = process.env.MINIBROWSER_PATH ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
/** How long a runtime may take to exit after it printed its result. */
const EXIT_GRACE_MS = 20_000;

interface Run {
  variant: string;
  threads: number;
  note: string | null;
  losses: number[];
  bits: string;
}
/** What train.js's trainAll returns: simd on 1 thread, the picked build on 1 thread and on every core. */
interface Runs {
  simd: Run;
  one: Run;
  all: Run;
}
interface Row {
  where: string;
  version: string;
  runs: Runs;
  /** Runtimes: whether the process ended by itself once the script was done. */
  exited?: boolean;
  /** Runtimes: the fingerprint of the model.simdnet that `simdnet train … --no-relaxed` wrote. */
  cli?: string;
}

const rows: Row[] = [];
let tmp: string;
let isolatedUrl: string;
let plainUrl: string;
const servers: Server[] = [];

/** npm ci of test/matrix/runtimes into the cache, unless its lock is what the cache holds. */
async function installRuntimes(): Promise<void> {
  const lock = readFileSync(join(RUNTIMES, 'package-lock.json'), 'utf8');
  const stamp = join(CACHE, 'installed-lock.json');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === lock) return;
  rmSync(CACHE, { recursive: true, force: true });
  mkdirSync(CACHE, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(RUNTIMES, f), join(CACHE, f));
  await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: CACHE, maxBuffer: 1 << 24 });
  writeFileSync(stamp, lock);
}

/** Runs `cmd args` in the app folder; its result line, and whether it exited by itself within EXIT_GRACE_MS of
 *  printing it (else it is killed). */
function runScript(cmd: string, args: string[]): Promise<{ runs: Runs; exited: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: tmp, env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const overall = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (stdout.includes('\n') && timer === undefined) timer = setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS);
    });
    child.stderr.on('data', (d: Buffer) => void (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(overall);
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (!line) return reject(new Error(`${cmd} ${args.join(' ')}: no result (exit ${code ?? signal})\n${stdout}\n${stderr}`));
      resolve({ runs: JSON.parse(line) as Runs, exited: signal === null && code === 0 });
    });
  });
}

/** FNV-1a of a file's bytes (as train.js fingerprints a model). */
function fingerprint(file: string): string {
  let h = 0x811c9dc5;
  for (const b of readFileSync(file)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** A run that trained: 16 finite losses, the last below the first. */
function expectTrained(r: Run, what: string): void {
  expect(r.variant, what).toMatch(/^(relaxed-simd|simd|scalar)$/);
  expect(r.losses.length, what).toBe(16);
  expect(r.losses.every(Number.isFinite), what).toBe(true);
  expect(r.losses.at(-1)!, what).toBeLessThan(r.losses[0]);
}

/** The checks every row makes: the three runs trained; simd ran as asked; where threads ran, the same bits as one. */
function expectRuns(runs: Runs, what: string): void {
  for (const k of ['simd', 'one', 'all'] as const) expectTrained(runs[k], `${what}, ${k}`);
  expect(runs.simd.variant).toBe('simd');
  expect(runs.one.threads, what).toBe(1);
  expect(runs.all.variant, what).toBe(runs.one.variant);
  if (runs.all.threads > 1) expect(runs.all.bits, `${what}: ${runs.all.threads} threads vs 1`).toBe(runs.one.bits);
  else expect(runs.all.note, `${what}: one thread, and the backend says why`).toMatch(/\w/);
  expect(runs.all.losses, what).toEqual(runs.one.losses);
}

beforeAll(async () => {
  for (const [what, path] of [['Chromium', CHROMIUM], ['Firefox ESR', FIREFOX], ['WebKitWebDriver', WEBKIT_DRIVER], ['MiniBrowser', MINIBROWSER], ['xvfb-run', '/usr/bin/xvfb-run']])
    if (!existsSync(path)) throw new Error(`matrix: no ${what} at ${path}; .ci/run installs it (apt-get install chromium firefox-esr webkit2gtk-driver xvfb)`);
  tmp = mkdtempSync(join(tmpdir(), 'simdnet-matrix-'));
  cpSync(join(ROOT, 'test/matrix/app'), tmp, { recursive: true });
  await Promise.all([packAndInstall(tmp, 'simdnet-matrix'), installRuntimes()]);
  for (const isolated of [true, false]) {
    const s = await serveStatic(tmp, isolated);
    servers.push(s);
    const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}/`;
    if (isolated) isolatedUrl = url;
    else plainUrl = url;
  }
}, 600_000);

afterAll(() => {
  for (const s of servers) s.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('runtimes, from npm', () => {
  const cli = () => join(tmp, 'node_modules/simdnet/dist/cli/main.js');
  // [name, binary, a script's command line, the CLI's command line: as the README tells each runtime's users]
  const runtimes: [string, () => string, (script: string) => string[], () => [string, string[]]][] = [
    ['Node 20', () => process.execPath, (s) => [s], () => [process.execPath, [cli()]]],
    ['Node 22', () => join(BIN, 'node22/bin/node'), (s) => [s], () => [join(BIN, 'node22/bin/node'), [cli()]]],
    ['Node 24', () => join(BIN, 'node24/bin/node'), (s) => [s], () => [join(BIN, 'node24/bin/node'), [cli()]]],
    ['Deno', () => join(BIN, '.bin/deno'), (s) => ['run', '-A', s], () => [join(BIN, '.bin/deno'), ['run', '-A', cli()]]],
    ['Bun', () => join(BIN, '.bin/bun'), (s) => [s], () => [join(BIN, '.bin/bunx'), ['--bun', 'simdnet']]],
  ];
  for (const [name, bin, args, command] of runtimes) {
    it(`${name}: trains, every core gives one thread's bits, the process exits by itself; the CLI trains`, async () => {
      const version = execFileSync(bin(), ['--version'], { encoding: 'utf8' }).split('\n')[0].replace(/^deno /, '').replace(/ \(.*/, '');
      expect(version).toMatch(name.startsWith('Node') ? new RegExp(`^v${name.slice(5)}\\.`) : /^v?\d+\.\d+/);
      const { runs, exited } = await runScript(bin(), args('node.mjs'));
      const row: Row = { where: name, version, runs, exited };
      rows.push(row);
      expectRuns(runs, name);
      expect(runs.all.threads, `${name}: ${runs.all.note}`).toBe(2);
      expect(exited, `${name}: the process did not exit by itself within ${EXIT_GRACE_MS / 1000} s of its result`).toBe(true);
      // the CLI, one short epoch on the bundled digits with the simd build: the same model bytes in every runtime
      const out = join(tmp, `cli-${name.replace(/\W/g, '')}`);
      const [cmd, pre] = command();
      const r = await run(cmd, [...pre, 'train', '--epochs', '1', '--hidden', '16', '--seed', '1', '--no-relaxed', '--out', out], { cwd: tmp, env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' }, timeout: 180_000 });
      expect(r.stdout, name).toMatch(/wasm \(simd, 2 threads\)/);
      row.cli = fingerprint(join(out, 'model.simdnet'));
    });
  }
});

/** A browser's result for one page: the main thread's and the worker's runs. */
interface PageResult {
  isolated: boolean;
  cores: number;
  main: Runs;
  worker: Runs & { isolated: boolean };
  error?: string;
}

/** The rows of one page load, with the checks all browsers share. */
function pageRows(name: string, version: string, isolated: boolean, r: PageResult): void {
  expect(r.error, name).toBeUndefined();
  const where = `${name}, ${isolated ? 'isolated' : 'not isolated'}`;
  rows.push({ where: `${where}, main thread`, version, runs: r.main }, { where: `${where}, worker`, version, runs: r.worker });
  expect(r.isolated, where).toBe(isolated);
  expect(r.worker.isolated, where).toBe(isolated);
  expectRuns(r.main, `${where}, main thread`);
  expectRuns(r.worker, `${where}, worker`);
  expect(r.main.all.threads, 'Atomics.wait is not allowed on a page\'s main thread').toBe(1);
  expect(r.main.one.bits, `${where}: main thread and worker`).toBe(r.worker.one.bits);
  if (!isolated) expect(r.worker.all.note, where).toMatch(/not cross-origin isolated/);
}

describe('browsers: main thread and worker, isolated and not', () => {
  for (const [name, launch] of [
    ['Chromium', () => puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'] })],
    ['Firefox ESR', () => puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true })],
  ] as const) {
    it(`${name}: trains on the main thread and in a worker; isolated, the worker runs every core with one thread's bits`, async () => {
      const browser = await launch();
      try {
        const version = (await browser.version()).replace(/^HeadlessChrome\//, '').replace(/^firefox\//, '');
        for (const isolated of [true, false]) {
          const page = await browser.newPage();
          try {
            await page.goto(isolated ? isolatedUrl : plainUrl);
            await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, { timeout: 120_000 });
            const r = (await page.evaluate(() => (window as unknown as { result: unknown }).result)) as PageResult;
            pageRows(name, version, isolated, r);
            if (isolated) expect(r.worker.all.threads, `${name}: ${r.worker.all.note}`).toBe(r.cores);
          } finally {
            await page.close();
          }
        }
      } finally {
        await browser.close();
      }
    });
  }

  it('WebKitGTK (MiniBrowser over WebDriver): trains on the main thread and in a worker, on one thread: no SharedArrayBuffer, and the note says so', async () => {
    const port = 4444 + Math.floor(Math.random() * 1000);
    // its own process group, so that xvfb-run, Xvfb and the driver all end with it
    const driver: ChildProcess = spawn('xvfb-run', ['-a', WEBKIT_DRIVER, `--port=${port}`], { detached: true, stdio: 'ignore' });
    const wd = async (method: string, path: string, body?: object): Promise<{ value: unknown }> => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
      const json = (await res.json()) as { value: unknown };
      if (!res.ok) throw new Error(`WebDriver ${method} ${path}: ${JSON.stringify(json.value)}`);
      return json;
    };
    try {
      let session: { sessionId: string; capabilities: { browserVersion?: string } } | undefined;
      for (let tries = 0; session === undefined; tries++) {
        try {
          session = (await wd('POST', '/session', { capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] } } } })).value as typeof session;
        } catch (e) {
          if (tries > 60) throw e;
          await new Promise((ok) => setTimeout(ok, 500)); // the driver is still starting
        }
      }
      const id = session!.sessionId;
      const version = session!.capabilities.browserVersion ?? '?';
      try {
        for (const isolated of [true, false]) {
          await wd('POST', `/session/${id}/url`, { url: isolated ? isolatedUrl : plainUrl });
          let r: PageResult | null = null;
          for (const start = Date.now(); r === null && Date.now() - start < 120_000; ) {
            r = (await wd('POST', `/session/${id}/execute/sync`, { script: 'return window.result ?? null', args: [] })).value as PageResult | null;
            if (r === null) await new Promise((ok) => setTimeout(ok, 250));
          }
          expect(r, 'the page left no result in 120 s').not.toBeNull();
          pageRows('WebKitGTK', version, isolated, r!);
          // WebKitGTK has no SharedArrayBuffer, even on an isolated page: one thread, and the backend says why
          expect(r!.worker.all.threads).toBe(1);
          expect(r!.worker.all.note).toMatch(/SharedArrayBuffer|not cross-origin isolated/);
        }
      } finally {
        await wd('DELETE', `/session/${id}`).catch(() => undefined);
      }
    } finally {
      if (driver.pid !== undefined) process.kill(-driver.pid, 'SIGTERM');
    }
  });
});

describe('across engines', () => {
  it('the simd build gives the same bits on every engine; the picked build, wherever engines pick the same one', () => {
    expect(rows.length, 'every row ran').toBe(5 + 2 * 2 * 3);
    const simd = new Set(rows.map((r) => r.runs.simd.bits));
    expect([...simd], rows.map((r) => `${r.where}: ${r.runs.simd.bits}`).join('\n')).toHaveLength(1);
    const byVariant = new Map<string, Set<string>>();
    for (const r of rows) byVariant.set(r.runs.one.variant, (byVariant.get(r.runs.one.variant) ?? new Set()).add(r.runs.one.bits));
    for (const [variant, bits] of byVariant) expect([...bits], `${variant}: ${rows.filter((r) => r.runs.one.variant === variant).map((r) => `${r.where} ${r.runs.one.bits}`).join(', ')}`).toHaveLength(1);
    const cli = rows.filter((r) => r.cli !== undefined);
    expect(cli.length).toBe(5);
    expect(new Set(cli.map((r) => r.cli)).size, cli.map((r) => `${r.where}: ${r.cli}`).join(', ')).toBe(1);
  });

  afterAll(() => {
    const cell = (r: Row) => {
      const { simd, one, all } = r.runs;
      // the note's first clause: "the page is not cross-origin isolated", "this runtime has no SharedArrayBuffer"
      const same = all.threads > 1 ? (all.bits === one.bits ? '✓ same bits' : '✗ differ') : `— (${all.note?.split(/ \(|;|, so/)[0]})`;
      const exit = r.exited === undefined ? '' : r.exited ? '✓' : '✗ hangs';
      return `| ${r.where} | ${r.version} | ${one.variant} | ${all.threads} | ${same} | ${one.losses[0].toFixed(3)} → ${one.losses.at(-1)!.toFixed(3)} | ${one.bits} | ${simd.bits} | ${exit} | ${r.cli ?? ''} |`;
    };
    console.log(
      [
        '| runtime / browser | version | build picked | threads | n threads vs 1 | loss | bits | simd bits | exits by itself | CLI model (simd) |',
        '|---|---|---|---|---|---|---|---|---|---|',
        ...rows.map(cell),
      ].join('\n'),
    );
  });
});
