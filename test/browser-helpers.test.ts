// The browser helpers (src/browser.ts) in headless Chromium, one short page load: a tiny page bundled by Vite from
// dist/index.js (the browser entry) saves a model to IndexedDB and loads it back, loads a model file that Node
// wrote from a URL, offers a download, and reports the errors of a missing record, a 404 and a damaged file.
// Node then checks: the same predictions from every path (the js backend, so the same arithmetic on both sides),
// and the downloaded bytes decode in Node to the page's model.
//
// Needs Chromium (CI installs it): /usr/bin/chromium, or set CHROMIUM_PATH. Missing → the suite fails, loudly.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../src/backend/js.js';
import { Linear, Sigmoid } from '../src/layers/index.js';
import { Sequential } from '../src/model.js';
import { deserializeModel, serializeModel } from '../src/formats/model-file.js';

const ROOT = resolve(__dirname, '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const X = [0.1, -0.4, 0.9, 0.3, 1, 0, -1, 0.5, 0.25, 0.75, -0.5, 2];

interface PageResult {
  predict: number[];
  idbPredict: number[];
  idbMeta: Record<string, unknown>;
  idbMissing: string;
  urlPredict: number[];
  url404: string;
  urlCorrupt: string;
}

const PAGE = `
import { createJsBackend, Sequential, Linear, Sigmoid, saveModelToIndexedDB, loadModelFromIndexedDB, loadModelFromUrl, downloadModel } from ${JSON.stringify(join(ROOT, 'dist/index.js'))};
const err = async (f) => { try { await f(); return 'no error'; } catch (e) { return e.name + ' ' + e.code + ' ' + e.message; } };
const backend = await createJsBackend();
const x = new Float32Array(${JSON.stringify(X)});
const model = new Sequential([new Linear(4, 3), new Sigmoid()], { backend, seed: 5 });
const out = { predict: Array.from(model.predict(x)) };
await saveModelToIndexedDB(model, 'demo', { note: 'from the page' });
const back = await loadModelFromIndexedDB('demo', { backend });
out.idbPredict = Array.from(back.model.predict(x));
out.idbMeta = back.meta;
out.idbMissing = await err(() => loadModelFromIndexedDB('nope', { backend }));
out.urlPredict = Array.from((await loadModelFromUrl('./node.simdnet', { backend })).model.predict(x));
out.url404 = await err(() => loadModelFromUrl('./missing.simdnet', { backend }));
out.urlCorrupt = await err(() => loadModelFromUrl('./corrupt.simdnet', { backend }));
downloadModel(model, 'page.simdnet');
window.result = out;
`;

describe('browser helpers in Chromium', () => {
  it('IndexedDB save/load, load from a URL, download: one format, the same predictions; errors name the record, URL and status', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`browser tests: no Chromium at ${CHROMIUM}; install it (apt-get install chromium) or set CHROMIUM_PATH`);
    expect(existsSync(join(ROOT, 'dist/index.js')), 'dist/index.js (npm run build:ts)').toBe(true);
    const be = await createJsBackend();
    const nodeModel = new Sequential([new Linear(4, 3), new Sigmoid()], { backend: be, seed: 9 });
    const tmp = mkdtempSync(join(tmpdir(), 'simdnet-helpers-'));
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    try {
      mkdirSync(join(tmp, 'public'));
      writeFileSync(join(tmp, 'index.html'), '<!doctype html><title>helpers</title><link rel="icon" href="data:,"><script type="module" src="./main.js"></script>\n');
      writeFileSync(join(tmp, 'main.js'), PAGE);
      const good = serializeModel(nodeModel, { from: 'node' });
      writeFileSync(join(tmp, 'public/node.simdnet'), good);
      const bad = Uint8Array.from(good);
      bad[bad.length - 9] ^= 0xff; // a flipped byte in the weights: the checksum no longer matches
      writeFileSync(join(tmp, 'public/corrupt.simdnet'), bad);
      await build({ root: tmp, configFile: false, logLevel: 'error', build: { target: 'es2022', outDir: join(tmp, 'dist') } });
      // appType 'mpa': an unknown path is a 404, not the index page
      const server = await preview({ root: tmp, configFile: false, appType: 'mpa', logLevel: 'error', build: { outDir: join(tmp, 'dist') }, preview: { host: '127.0.0.1', port: 0 } });
      try {
        const context = await browser.newContext({ acceptDownloads: true });
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        const base = server.resolvedUrls!.local[0];
        const download = page.waitForEvent('download', { timeout: 30_000 });
        await page.goto(base);
        await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, null, { timeout: 30_000 });
        const r = await page.evaluate(() => (window as unknown as { result: PageResult }).result);
        expect(errors).toEqual([]);

        expect(r.idbPredict).toEqual(r.predict);
        expect(r.idbMeta).toEqual({ note: 'from the page' });
        expect(r.idbMissing).toBe("SimdnetError E_FILE indexedDB: no model named 'nope' in 'simdnet' (saved: 'demo')");
        const want = Array.from(nodeModel.predict(Float32Array.from(X)));
        r.urlPredict.forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
        expect(r.url404).toBe(`SimdnetError E_FILE ${base}missing.simdnet: HTTP 404 Not Found, expected a simdnet model file`);
        // (the code is decodeModelFile's: E_INVALID today, E_FILE_CORRUPT once model-file.ts gives it one)
        expect(r.urlCorrupt).toMatch(new RegExp(`^SimdnetError E_\\w+ ${base.replace(/[.]/g, '\\.')}corrupt\\.simdnet: checksum mismatch`));

        const file = await download;
        expect(file.suggestedFilename()).toBe('page.simdnet');
        const path = join(tmp, 'page.simdnet');
        await file.saveAs(path);
        const { model: fromPage } = deserializeModel(new Uint8Array(readFileSync(path)), be, 'page.simdnet');
        Array.from(fromPage.predict(Float32Array.from(X))).forEach((v, i) => expect(v).toBeCloseTo(r.predict[i], 6));
        fromPage.dispose();
        await context.close();
      } finally {
        await server.close();
      }
    } finally {
      await browser.close();
      rmSync(tmp, { recursive: true, force: true });
      nodeModel.dispose();
    }
  }, 90_000);
});
