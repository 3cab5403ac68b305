// The settings form: reads it into a TrainConfig, and prefills it from the URL (?hidden=32&epochs=1&train=2000
// &backend=js&…, ?model=conv&channels=16,16, every field by its name), so a run can be linked to or scripted by the
// browser test.

// the modules themselves, not the index: the page's bundle stays free of the backends
import { DEFAULT_LR as LIBRARY_LR } from '../src/optimizers.js';
import { LR_SCHEDULES, PRESETS, type PresetName } from '../src/training/recipes.js';
import { RUN_MODELS, type RunModel } from '../src/training/run.js';
import type { TrainConfig } from './protocol.js';

const DEFAULT_LR: Record<string, string> = Object.fromEntries(Object.entries(LIBRARY_LR).map(([k, v]) => [k, String(v)]));
const DEFAULT_FACTOR: Record<string, string> = { gaussian: '0.3', 'salt-pepper': '0.2', mask: '0.3' };
/** The most feature maps the form takes per conv layer (a run of more would mostly meet the memory check). */
const MAX_CHANNELS = 512;

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
  field(form, 'model').addEventListener('change', () => showModelFields(form));
  showModelFields(form);
}

/** Shows the fields of the chosen model only (data-model on their labels: hidden sizes, activation and dropout are
 *  the dense model's, channels the conv one's); readConfig reads only those. The others are disabled too, so the
 *  browser's own checks (pattern) skip them. */
export function showModelFields(form: HTMLFormElement): void {
  const model = field(form, 'model').value;
  for (const label of form.querySelectorAll<HTMLElement>('[data-model]')) {
    label.hidden = label.dataset.model !== model;
    for (const el of label.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select')) el.disabled = label.hidden;
  }
}

function field(form: HTMLFormElement, name: string): HTMLInputElement {
  return form.elements.namedItem(name) as HTMLInputElement;
}

/** The form as a TrainConfig, or an error message naming the bad field. */
export function readConfig(form: HTMLFormElement, reportEvery = 10): TrainConfig | string {
  const v = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | RadioNodeList).value.trim();
  const sizes = (name: string, what: string, max: number) => {
    const list = v(name).split(',').map((s) => Number(s.trim()));
    if (!list.every((h) => Number.isInteger(h) && h > 0 && h <= max)) throw new Error(`${what}: expected comma-separated integers 1..${max}, got "${v(name)}"`);
    return list;
  };
  const num = (name: string, ok: (x: number) => boolean, what: string) => {
    const x = Number(v(name));
    if (!ok(x)) throw new Error(`${name}: expected ${what}, got "${v(name)}"`);
    return x;
  };
  try {
    const noise = v('noise') as TrainConfig['noise'];
    const model: RunModel = oneOf(v('model'), RUN_MODELS, 'model');
    // the other model's fields are hidden and not read: a conv run keeps the hidden field's default as its (unused)
    // dense setting, as `simdnet train --model conv` keeps --hidden's
    const dense = model === 'dense';
    return {
      model,
      ...(!dense && { channels: sizes('channels', 'channels', MAX_CHANNELS) }),
      hidden: dense ? sizes('hidden', 'hidden sizes', 4096) : field(form, 'hidden').defaultValue.split(',').map(Number),
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
      dropout: dense ? num('dropout', (x) => x >= 0 && x < 1, 'a rate in [0, 1)') : 0,
    };
  } catch (e) {
    return (e as Error).message;
  }
}

function oneOf<T extends string>(value: string, names: readonly T[], field: string): T {
  if (!names.includes(value as T)) throw new Error(`${field}: expected one of ${names.join(', ')}, got "${value}"`);
  return value as T;
}

/** The preset buttons: the library's measured recipes (PRESETS: best, as `simdnet train --preset best`; conv, as
 *  `--preset conv`) into the form, with the settings they were measured at (adam, cross-entropy, every training
 *  digit, gaussian noise 0.3). */
export function applyPreset(form: HTMLFormElement, name: PresetName): void {
  const set = (name: string, value: string) => ((form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value = value);
  const preset = PRESETS[name];
  if ('model' in preset) {
    set('model', preset.model);
    set('channels', preset.channels.join(','));
  } else {
    set('model', 'dense');
    set('hidden', preset.hidden.join(','));
  }
  showModelFields(form);
  set('batch', String(preset.batchSize));
  set('epochs', String(preset.epochs));
  set('optimizer', 'adam');
  set('lr', String(preset.lr));
  set('schedule', preset.lrSchedule);
  set('loss', 'bce');
  set('train', '8000');
  set('noise', 'gaussian');
  set('factor', '0.3');
}
