#!/usr/bin/env node
// Regenerates docs/demo.png: builds the web demo, trains the default model (784→128→784, 10 epochs) in
// headless Chromium (served cross-origin isolated, so on every core), draws a "2" on the pad, picks test digit 42 and captures the top of the page.
// Usage: node scripts/demo-screenshot.mjs [out.png]   (CHROMIUM_PATH overrides /usr/bin/chromium)

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web');
const out = resolve(process.argv[2] ?? join(root, 'docs/demo.png'));
const configFile = join(web, 'vite.config.ts');

await build({ root: web, configFile, logLevel: 'error' });
const server = await preview({ root: web, configFile, preview: { host: '127.0.0.1', port: 0 }, logLevel: 'error' });
const profile = mkdtempSync(join(tmpdir(), 'simdnet-shot-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
  viewport: { width: 1280, height: 900 },
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(server.resolvedUrls.local[0]);
  await page.waitForFunction(() => window.simdnet?.state === 'ready', null, { timeout: 30_000 });
  await page.click('#start');
  await page.waitForFunction(() => window.simdnet.state === 'done', null, { timeout: 600_000 });

  const pad = page.locator('#pad');
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
  const stroke = [[0.3, 0.3], [0.4, 0.2], [0.55, 0.18], [0.67, 0.25], [0.68, 0.38], [0.6, 0.5], [0.45, 0.63], [0.32, 0.78], [0.45, 0.78], [0.6, 0.78], [0.72, 0.78]];
  await page.mouse.move(...at(stroke[0]));
  await page.mouse.down();
  for (const p of stroke.slice(1)) await page.mouse.move(...at(p), { steps: 6 });
  await page.mouse.up();
  await page.fill('#pick-n', '42');
  await page.dispatchEvent('#pick-n', 'change');
  await page.waitForTimeout(500);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.mouse.move(0, 0);
  await page.locator('#pick-n').blur();
  await page.screenshot({ path: out, fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1190 } });
  const { samplesPerSec, epochs, threads } = await page.evaluate(() => window.simdnet);
  console.log(`demo-screenshot: ${Math.round(samplesPerSec)} samples/s on ${threads} thread(s), test loss ${epochs.at(-1).testLoss.toFixed(4)} → ${out}`);
} finally {
  await context.close();
  await server.close();
  rmSync(profile, { recursive: true, force: true });
}
