// The settings form: reads it into a TrainConfig, and prefills it from the URL (?hidden=32&epochs=1&train=2000
// &backend=js&…, every field by its name), so a run can be linked to or scripted by the browser test.

// the modules themselves, not the index: the page's bundle stays free of the backends
import { DEFAULT_LR as LIBRARY_LR } from '../src/optimizers.js';
import { BEST_PRESET, LR_SCHEDULES } from '../src/training/recipes.js';
import type { TrainConfig } from './protocol.js';

const DEFAULT_LR: Record<string, string> = Object.fromEntries(Object.entries(LIBRARY_LR).map(([k, v]) => [k, String(v)]));
const DEFAULT_FACTOR: Record<string, string> = { gaussian: '0.3', 'salt-pepper': '0.2', mask: '0.3' };

/** The thread choices: auto (every core, the library's default), then 1 … navigator.hardwareConcurrency. */
export function addThreadOptions(form: HTMLFormElement, cores: number): void {
  const select = form.elements.namedItem('threads') as HTMLSelectElement;
  select.options[0].textContent = `auto (${cores})`;
  for (let n = 1; n <= cores; n++) select.add(new Option(String(n), String(n)));
}

export function prefillFromUrl(form: HTMLFormElement, search: string): void {
  const params = new URLSearchParams(search);
  for (const [name, value] of params) {
    const el = form.elements.namedItem(name);
    if (el instanceof RadioNodeList) el.value = value;
    else if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement) {
      if (el instanceof HTMLSelectElement && ![...el.options].some((o) => o.value === value)) el.add(new Option(value, value));
      el.value = value;
    }
  }
  // pick sensible defaults when the optimizer or noise kind changes, unless the URL set the number
  if (!params.has('lr')) field(form, 'lr').value = DEFAULT_LR[field(form, 'optimizer').value];
  if (!params.has('factor')) field(form, 'factor').value = DEFAULT_FACTOR[field(form, 'noise').value];
  field(form, 'optimizer').addEventListener('change', () => (field(form, 'lr').value = DEFAULT_LR[field(form, 'optimizer').value]));
  field(form, 'noise').addEventListener('change', () => (field(form, 'factor').value = DEFAULT_FACTOR[field(form, 'noise').value]));
}

function field(form: HTMLFormElement, name: string): HTMLInputElement {
  return form.elements.namedItem(name) as HTMLInputElement;
}

/** The form as a TrainConfig, or an error message naming the bad field. */
export function readConfig(form: HTMLFormElement, reportEvery = 10): TrainConfig | string {
  const v = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | RadioNodeList).value.trim();
  const hidden = v('hidden').split(',').map((s) => Number(s.trim()));
  if (!hidden.length || !hidden.every((h) => Number.isInteger(h) && h > 0 && h <= 4096)) return `hidden sizes: expected comma-separated integers 1..4096, got "${v('hidden')}"`;
  const num = (name: string, ok: (x: number) => boolean, what: string) => {
    const x = Number(v(name));
    if (!ok(x)) throw new Error(`${name}: expected ${what}, got "${v(name)}"`);
    return x;
  };
  try {
    const noise = v('noise') as TrainConfig['noise'];
    return {
      hidden,
      activation: v('activation') as TrainConfig['activation'],
      loss: v('loss') as TrainConfig['loss'],
      optimizer: v('optimizer') as TrainConfig['optimizer'],
      lr: num('lr', (x) => x > 0 && Number.isFinite(x), 'a positive number'),
      batchSize: num('batch', (x) => Number.isInteger(x) && x > 0, 'a positive integer'),
      epochs: num('epochs', (x) => Number.isInteger(x) && x > 0, 'a positive integer'),
      noise,
      noiseFactor: num('factor', (x) => x >= 0 && (noise === 'gaussian' || x <= 1), noise === 'gaussian' ? 'a number ≥ 0' : 'a fraction in 0..1'),
      backend: v('backend') as TrainConfig['backend'],
      wasmBuild: v('wasm') as TrainConfig['wasmBuild'],
      threads: v('threads') === 'auto' ? 0 : num('threads', (x) => Number.isInteger(x) && x >= 1 && x <= 1024, '"auto" or an integer 1..1024'),
      seed: num('seed', (x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff, 'an integer ≥ 0'),
      trainCount: num('train', (x) => Number.isInteger(x) && x > 0, 'a positive integer'),
      reportEvery,
      validationSplit: num('validation', (x) => x >= 0 && x < 1, 'a fraction in [0, 1)'),
      lrSchedule: oneOf(v('schedule'), LR_SCHEDULES, 'schedule'),
      earlyStopping: num('patience', (x) => Number.isInteger(x) && x >= 0, 'an integer ≥ 0 (0: off)'),
      weightDecay: num('decay', (x) => x >= 0 && Number.isFinite(x), 'a number ≥ 0'),
      dropout: num('dropout', (x) => x >= 0 && x < 1, 'a rate in [0, 1)'),
    };
  } catch (e) {
    return (e as Error).message;
  }
}

function oneOf<T extends string>(value: string, names: readonly T[], field: string): T {
  if (!names.includes(value as T)) throw new Error(`${field}: expected one of ${names.join(', ')}, got "${value}"`);
  return value as T;
}

/** The "best" button: the library's measured recipe (BEST_PRESET, as `simdnet train --preset best`) into the form. */
export function applyBestPreset(form: HTMLFormElement): void {
  const set = (name: string, value: string) => ((form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value = value);
  set('hidden', BEST_PRESET.hidden.join(','));
  set('batch', String(BEST_PRESET.batchSize));
  set('epochs', String(BEST_PRESET.epochs));
  set('optimizer', 'adam');
  set('lr', String(BEST_PRESET.lr));
  set('schedule', BEST_PRESET.lrSchedule);
  set('loss', 'bce');
  set('train', '8000');
  set('noise', 'gaussian');
  set('factor', '0.3');
}
