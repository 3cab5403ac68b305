// The page: wires the settings form and buttons to the training worker and draws what it reports (stats,
// progress, loss chart, digit grid, single-digit inspector, drawing pad). No training happens on this thread.
// The run's numbers are also kept on `window.simdnet` (and the state on <body data-state>) for the browser test.

import type { EpochMetrics } from '../src/index.js';
import { renderChart, type ChartData } from './chart.js';
import { addThreadOptions, applyPreset, prefillFromUrl, readConfig } from './controls.js';
import { drawDigit, drawDigitRow, litPixels } from './digits.js';
import { drawPad } from './draw-pad.js';
import { noiseOf, type BackendInfo, type FromWorker, type Grid, type ToWorker, type TrainConfig } from './protocol.js';

type State = 'loading' | 'ready' | 'training' | 'paused' | 'done' | 'stopped' | 'error';

/** What the page shows, readable by scripts (the browser test reads it). */
const demo = {
  state: 'loading' as State,
  variant: '',
  /** Kernel threads of the backend that runs (the worker's), and why fewer than asked when so. */
  threads: 0,
  threadsNote: undefined as string | undefined,
  /** The page's and the training worker's crossOriginIsolated: threads need both. */
  crossOriginIsolated: self.crossOriginIsolated === true,
  workerIsolated: undefined as boolean | undefined,
  config: undefined as TrainConfig | undefined,
  /** Test metrics of the untrained model (epoch 0) and after each epoch. */
  baseline: undefined as EpochMetrics | undefined,
  epochs: [] as EpochMetrics[],
  /** Loss of each of the first batches of the run. */
  firstLosses: [] as number[],
  samplesPerSec: 0,
  /** Lit pixels (> 0.1) in each row of the ten-digit grid. */
  lit: { clean: 0, noisy: 0, denoised: 0 },
  loaded: undefined as { name: string; metrics: EpochMetrics } | undefined,
  errors: [] as string[],
};
(window as unknown as { simdnet: typeof demo }).simdnet = demo;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('controls');
const startBtn = $<HTMLButtonElement>('start');
const pauseBtn = $<HTMLButtonElement>('pause');
const stopBtn = $<HTMLButtonElement>('stop');
const downloadBtn = $<HTMLButtonElement>('download');
const downloadOnnxBtn = $<HTMLButtonElement>('download-onnx');
const loadInput = $<HTMLInputElement>('load');
const chartSvg = document.getElementById('chart') as unknown as SVGSVGElement;
const tbody = document.querySelector('#epochs tbody') as HTMLTableSectionElement;
const pick = $<HTMLInputElement>('pick');
const pickN = $<HTMLInputElement>('pick-n');

const chart: ChartData = { running: [], train: [], test: [], epochs: 10 };
let chartQueued = false;
let hasModel = false;
let labels: Uint8Array | undefined;

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (msg: ToWorker, transfer: Transferable[] = []) => worker.postMessage(msg, transfer);

// ---- formatting ------------------------------------------------------------------------------------------

const f4 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(4));
const db = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : `${x.toFixed(1)} dB`);
const int = (x: number) => Math.round(x).toLocaleString('en-US');

function setText(id: string, text: string): void {
  $(id).textContent = text;
}

function message(text: string, error = false): void {
  const el = $('message');
  el.textContent = text;
  el.classList.toggle('error', error);
}

function setState(state: State): void {
  demo.state = state;
  document.body.dataset.state = state;
  const busy = state === 'training' || state === 'paused';
  startBtn.disabled = busy || state === 'loading' || state === 'error';
  pauseBtn.disabled = !busy;
  stopBtn.disabled = !busy;
  pauseBtn.textContent = state === 'paused' ? 'Resume' : 'Pause';
  downloadBtn.disabled = downloadOnnxBtn.disabled = !hasModel || busy;
  $('load-label').classList.toggle('disabled', busy);
  loadInput.disabled = busy;
  // the other model's fields stay disabled (controls.ts showModelFields); the presets wait too
  for (const el of form.querySelectorAll('fieldset:not(.files) :is(input, select):not(label[hidden] *), [id^=preset-]')) (el as HTMLInputElement).disabled = busy;
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** The badge says what runs ("WebAssembly · relaxed-simd · 2 threads"); the note under it, why fewer threads run
 *  than were asked for (the backend's threadsNote: not cross-origin isolated, no SharedArrayBuffer, …). */
function showBackend(b: BackendInfo): void {
  const badge = $('badge-backend');
  const note = $('threads-note');
  const ok = !b.variant.startsWith('unavailable');
  demo.threads = b.threads;
  demo.threadsNote = b.threadsNote;
  demo.workerIsolated = b.crossOriginIsolated;
  badge.textContent = b.variant === 'js' ? 'JavaScript backend · 1 thread' : ok ? `WebAssembly · ${b.variant} · ${plural(b.threads, 'thread')}` : 'WebAssembly unavailable';
  badge.title = ok ? b.threadsNote ?? '' : b.variant;
  const short = ok && b.threadsNote !== undefined;
  badge.classList.toggle('ok', ok && !short);
  badge.classList.toggle('warn', short);
  note.hidden = !short;
  note.textContent = short ? `${plural(b.threads, 'thread')} of ${b.asked}: ${b.threadsNote}.` : '';
}

function drawChart(): void {
  if (chartQueued) return;
  chartQueued = true;
  requestAnimationFrame(() => {
    chartQueued = false;
    renderChart(chartSvg, chart);
  });
}

function showGrid(grid: Grid): void {
  drawDigitRow($('g-clean'), grid.clean);
  drawDigitRow($('g-noisy'), grid.noisy);
  drawDigitRow($('g-denoised'), grid.denoised);
  demo.lit = { clean: litPixels(grid.clean), noisy: litPixels(grid.noisy), denoised: litPixels(grid.denoised) };
}

function showMetrics(m: EpochMetrics): void {
  setText('s-test', f4(m.testLoss));
  setText('s-psnr', `${db(m.psnrNoisy)} → ${db(m.psnrDenoised)}`);
}

function addEpochRow(m: EpochMetrics): void {
  const row = tbody.insertRow();
  for (const cell of [String(m.epoch), f4(m.trainLoss), f4(m.testLoss), m.testMse.toFixed(5), db(m.psnrNoisy), db(m.psnrDenoised), m.seconds ? m.seconds.toFixed(2) : '–'])
    row.insertCell().textContent = cell;
}

function progress(done: number, total: number, text: string): void {
  $('bar').style.width = `${Math.min(100, (100 * done) / Math.max(1, total)).toFixed(2)}%`;
  setText('bar-text', text);
}

function inspect(): void {
  if (!labels || !demo.config) return;
  send({ type: 'inspect', index: Number(pick.value), noise: noiseOf(demo.config), seed: demo.config.seed });
}

// ---- worker messages -------------------------------------------------------------------------------------

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const msg = e.data;
  switch (msg.type) {
    case 'ready': {
      labels = msg.labels;
      showBackend(msg.info);
      if (msg.wasm && !msg.wasm.startsWith('unavailable')) $('wasm-auto').title = `the best this browser runs: ${msg.wasm}`;
      $('badge-data').textContent = `${int(msg.trainCount)} train / ${int(msg.testCount)} test digits`;
      pick.max = pickN.max = String(msg.testCount - 1);
      setState('ready');
      const config = readConfig(form);
      if (typeof config !== 'string') (demo.config = config), inspect();
      message('Ready. Choose the settings and press Train.');
      return;
    }
    case 'started': {
      setText('model-summary', msg.summary);
      demo.variant = msg.variant;
      demo.baseline = msg.baseline;
      hasModel = true;
      showBackend(msg.info);
      chart.test.push([0, msg.baseline.testLoss]);
      showMetrics(msg.baseline);
      showGrid(msg.grid);
      addEpochRow(msg.baseline);
      drawChart();
      message(`Training ${msg.shape} (${int(msg.params)} parameters) on ${msg.variant === 'js' ? 'the JavaScript backend' : `WebAssembly (${msg.variant}, ${plural(msg.info.threads, 'thread')})`}…`);
      return;
    }
    case 'progress': {
      const p = msg.progress;
      const total = demo.config!.epochs;
      demo.firstLosses = p.firstLosses;
      demo.samplesPerSec = p.samplesPerSec;
      chart.running.push(...p.running);
      setText('s-epoch', `${p.epoch + 1} / ${total}`);
      setText('s-rate', int(p.samplesPerSec));
      setText('s-train', f4(p.runningLoss));
      progress(p.epoch * p.batches + p.batch, total * p.batches, `epoch ${p.epoch + 1} · batch ${p.batch} / ${p.batches}`);
      drawChart();
      return;
    }
    case 'epoch': {
      const m = msg.metrics;
      demo.epochs.push(m);
      demo.samplesPerSec = msg.samplesPerSec;
      chart.train.push([m.epoch, m.trainLoss]);
      chart.test.push([m.epoch, m.testLoss]);
      setText('s-train', f4(m.trainLoss));
      showMetrics(m);
      showGrid(msg.grid);
      addEpochRow(m);
      drawChart();
      inspect();
      return;
    }
    case 'state':
      setState(msg.state);
      if (msg.grid) showGrid(msg.grid), inspect();
      message(msg.state === 'paused' ? 'Paused. The digits show the model as it is now: Resume to go on, Stop to keep it.' : 'Training…');
      return;
    case 'done': {
      demo.samplesPerSec = msg.samplesPerSec;
      setState(msg.stopped ? 'stopped' : 'done');
      const last = msg.kept ?? demo.epochs.at(-1);
      if (msg.kept) showMetrics(msg.kept);
      if (msg.grid) showGrid(msg.grid);
      message(
        (msg.stopped ? 'Stopped. ' : msg.reason ? `Stopped early (${msg.reason.replace(/^earlyStopping: /, '')}); kept the best epoch's weights. ` : 'Done. ') +
          (last ? `Test loss ${f4(demo.baseline?.testLoss)} → ${f4(last.testLoss)}, PSNR ${db(last.psnrNoisy)} → ${db(last.psnrDenoised)}. ` : '') +
          `${int(msg.samplesPerSec)} samples/s${demo.variant === 'js' ? '' : ` on ${plural(demo.threads, 'thread')}`}.`,
      );
      if (!msg.stopped) progress(1, 1, 'done');
      inspect();
      return;
    }
    case 'inspected': {
      drawDigit($('p-clean'), msg.clean);
      drawDigit($('p-noisy'), msg.noisy);
      drawDigit($('p-denoised'), msg.denoised);
      setText('pick-label', `test digit #${msg.index} · a ${msg.label}`);
      return;
    }
    case 'denoised':
      if (msg.id === padId) drawDigit($('pad-noisy'), msg.noisy), drawDigit($('pad-out'), msg.denoised);
      return;
    case 'model': {
      const url = URL.createObjectURL(new Blob([msg.bytes], { type: 'application/octet-stream' }));
      const file = msg.format === 'onnx' ? 'model.onnx' : 'model.simdnet';
      const a = Object.assign(document.createElement('a'), { href: url, download: file });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setText('file-note', `${file}, ${int(msg.bytes.length)} bytes`);
      return;
    }
    case 'loaded': {
      setText('model-summary', msg.summary);
      hasModel = true;
      demo.loaded = { name: msg.name, metrics: msg.metrics };
      demo.variant = msg.variant;
      showBackend(msg.info);
      showMetrics(msg.metrics);
      showGrid(msg.grid);
      setState(demo.state === 'loading' ? 'ready' : demo.state);
      setText('file-note', `${msg.name}: ${msg.shape}, ${int(msg.params)} parameters`);
      message(`Loaded ${msg.name}. Test loss ${f4(msg.metrics.testLoss)}, PSNR ${db(msg.metrics.psnrNoisy)} → ${db(msg.metrics.psnrDenoised)} with the current noise settings.`);
      inspect();
      return;
    }
    case 'error':
      demo.errors.push(msg.message);
      message(msg.message, true);
      if (demo.state === 'training' || demo.state === 'paused' || demo.state === 'loading') setState(labels ? 'ready' : 'error');
      return;
  }
};
worker.onerror = (e) => {
  demo.errors.push(e.message);
  message(`The worker failed: ${e.message}`, true);
  setState('error');
};

// ---- controls --------------------------------------------------------------------------------------------

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const config = readConfig(form);
  if (typeof config === 'string') return message(config, true);
  demo.config = config;
  Object.assign(demo, { epochs: [], firstLosses: [], samplesPerSec: 0, baseline: undefined, loaded: undefined });
  Object.assign(chart, { running: [], train: [], test: [], epochs: config.epochs });
  tbody.replaceChildren();
  setText('s-epoch', `0 / ${config.epochs}`);
  setText('s-rate', '–');
  setText('s-train', '–');
  progress(0, 1, 'starting…');
  drawChart();
  setState('training');
  message('Preparing the model…');
  send({ type: 'start', config });
});

pauseBtn.addEventListener('click', () => {
  pauseBtn.disabled = true; // re-enabled when the worker confirms
  send({ type: demo.state === 'paused' ? 'resume' : 'pause' });
});
stopBtn.addEventListener('click', () => {
  stopBtn.disabled = pauseBtn.disabled = true;
  message('Stopping…');
  send({ type: 'stop' });
});
downloadBtn.addEventListener('click', () => send({ type: 'download' }));
$('preset-best').addEventListener('click', () => applyPreset(form, 'best'));
$('preset-conv').addEventListener('click', () => applyPreset(form, 'conv'));
downloadOnnxBtn.addEventListener('click', () => send({ type: 'download', format: 'onnx' }));
loadInput.addEventListener('change', async () => {
  const file = loadInput.files?.[0];
  if (!file) return;
  const config = readConfig(form);
  if (typeof config === 'string') return message(config, true);
  demo.config = config;
  const bytes = new Uint8Array(await file.arrayBuffer());
  loadInput.value = '';
  send({ type: 'load', bytes, name: file.name, config }, [bytes.buffer]);
});

const onPick = (value: string) => {
  pick.value = pickN.value = value;
  inspect();
};
pick.addEventListener('input', () => onPick(pick.value));
pickN.addEventListener('change', () => onPick(pickN.value));
$('pick-random').addEventListener('click', () => onPick(String(Math.floor(Math.random() * (Number(pick.max) + 1)))));

let padId = 0;
const pad = drawPad($<HTMLCanvasElement>('pad'), (pixels) => {
  const config = readConfig(form);
  if (typeof config === 'string') return;
  send({ type: 'denoise', id: ++padId, pixels, noise: noiseOf(config) });
});
$('pad-clear').addEventListener('click', () => {
  pad.clear();
  padId++;
  for (const id of ['pad-noisy', 'pad-out']) drawDigit($(id), new Float32Array(784));
});

// ---- start -----------------------------------------------------------------------------------------------

addThreadOptions(form, Math.max(1, navigator.hardwareConcurrency || 1));
prefillFromUrl(form, location.search);
for (const id of ['p-clean', 'p-noisy', 'p-denoised', 'pad-noisy', 'pad-out']) drawDigit($(id), new Float32Array(784));
for (const id of ['g-clean', 'g-noisy', 'g-denoised']) drawDigitRow($(id), new Float32Array(784 * 10));
renderChart(chartSvg, chart);
new ResizeObserver(() => drawChart()).observe(chartSvg);
setState('loading');
{
  const field = (name: string) => (form.elements.namedItem(name) as HTMLSelectElement).value;
  const threads = field('threads') === 'auto' ? 0 : Number(field('threads'));
  send({ type: 'init', dataUrl: new URL('mnist-10k.sdmn.gz', document.baseURI).href, wasmBuild: field('wasm') as TrainConfig['wasmBuild'], threads: Number.isInteger(threads) && threads >= 0 ? threads : 0 });
}
