// `simdnet denoise` and `simdnet eval`: use a trained model file.

import { basename, extname, join } from 'node:path';
import { cliBackend, type RunOptions } from './runtime.js';
import type { BackendName } from '../backend/backend.js';
import { NOISE_KINDS, noiseProblem, type NoiseKind } from '../data/noise.js';
import { SimdnetError } from '../errors.js';
import { LOSS_NAMES, type LossName } from '../losses.js';
import { MAX_SEED } from '../random.js';
import { evaluate, type Evaluation } from '../training/evaluate.js';
import { noisyTestInputs } from '../training/sets.js';
import { loadData } from './data-source.js';
import { loadModel, readFileChecked, writeFileAtomic } from '../node/files.js';
import { digitPng, readDigitPng } from '../node/pictures.js';

/** Denoises 28×28 PNGs; writes DIR/<name>.denoised.png for each. Returns the written paths. */
export async function denoiseFiles(modelPath: string, inputs: string[], outDir: string, backendName: BackendName, log = console.log, run: RunOptions = {}): Promise<string[]> {
  const backend = await cliBackend(backendName, run);
  // two inputs of one name would write one output: refuse before anything is written
  const outputs = inputs.map((path) => join(outDir, `${basename(path, extname(path))}.denoised.png`));
  outputs.forEach((out, i) => {
    const j = outputs.indexOf(out);
    if (j !== i) throw new SimdnetError(`denoise: ${inputs[j]} and ${inputs[i]} would both be written to ${out}; denoise them into different --out folders`, 'E_FILE');
  });
  const { model } = loadModel(modelPath, backend);
  if (model.inputWidth !== 784 || model.outputWidth !== 784) throw new SimdnetError(`${modelPath}: expected a 784 → 784 denoising model, this one maps ${model.inputWidth} → ${model.outputWidth}`, 'E_SHAPE');
  const images = inputs.map((path) => readDigitPng(readFileChecked(path, 'input'), path, (m) => log(`note: ${m}`)));
  const x = new Float32Array(images.length * 784);
  images.forEach((img, i) => x.set(img, i * 784));
  const y = model.predict(x);
  const written = outputs.map((out, i) => {
    writeFileAtomic(out, digitPng(y.subarray(i * 784, (i + 1) * 784)));
    return out;
  });
  model.dispose();
  return written;
}

/** Test metrics of a model on the data it names (or `data`), with the noise it was trained with unless overridden. */
export async function evaluateFile(
  modelPath: string,
  options: { data?: string; backend: BackendName; noise?: NoiseKind; noiseFactor?: number; seed?: number },
  run: RunOptions = {},
): Promise<Evaluation & { loss: LossName; testCount: number }> {
  const backend = await cliBackend(options.backend, run);
  const { model, meta: fileMeta } = loadModel(modelPath, backend);
  // a checkpoint keeps the run's settings in its training state: use them, not the defaults
  const saved = (fileMeta.checkpoint as { config?: Record<string, unknown> } | undefined)?.config;
  const meta = saved && typeof saved === 'object' ? { ...saved, ...fileMeta } : fileMeta;
  const loss = (meta.loss as LossName) ?? 'bce';
  const kind = options.noise ?? (meta.noise as NoiseKind) ?? 'gaussian';
  if (!NOISE_KINDS.includes(kind)) throw new SimdnetError(`${modelPath}: unknown noise kind '${kind}' in the file`, 'E_FILE_CORRUPT');
  const factor = options.noiseFactor ?? (meta.noiseFactor as number) ?? 0.3;
  const seed = options.seed ?? (meta.seed as number) ?? 0;
  // the file's own settings are untrusted input: wrong types are named with the file, not as a bare "got 0.3"
  if (!(typeof factor === 'number' && Number.isFinite(factor) && factor >= 0)) throw new SimdnetError(`${modelPath}: meta.noiseFactor: expected a number ≥ 0, got ${JSON.stringify(factor)}`, 'E_FILE_CORRUPT');
  // a kind and a factor that do not go together (mask 5): named by the flag that set them, else by the file
  const problem = noiseProblem(kind, factor);
  if (problem) {
    const flag = options.noiseFactor !== undefined ? '--noise-factor' : options.noise !== undefined ? '--noise' : undefined;
    throw new SimdnetError(flag ? `${flag}: ${problem}` : `${modelPath}: meta: ${problem}`, flag ? 'E_OPTION' : 'E_FILE_CORRUPT');
  }
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED)) throw new SimdnetError(`${modelPath}: meta.seed: expected an integer from 0 to ${MAX_SEED}, got ${JSON.stringify(seed)}`, 'E_FILE_CORRUPT');
  if (!LOSS_NAMES.includes(loss)) throw new SimdnetError(`${modelPath}: meta.loss: expected one of ${LOSS_NAMES.join(', ')}, got ${JSON.stringify(loss)}`, 'E_FILE_CORRUPT');
  const data = loadData(options.data ?? 'bundled');
  const test = { x: data.test.images, y: data.test.images };
  // the model against the data, named by the file: the data's own width, not a failure deep in the noise kernel
  const width = data.test.images.length / data.test.count;
  for (const [side, w] of [['takes', model.inputWidth], ['gives', model.outputWidth]] as const)
    if (w !== width) {
      model.dispose();
      throw new SimdnetError(`${modelPath}: the model ${side} rows of ${w} values but the test images have ${width} (eval compares its outputs with its inputs: a ${width} → ${width} model)`, 'E_SHAPE');
    }
  const x = noisyTestInputs(test, { kind, factor }, seed, { width: model.inputWidth, backend: model.backend });
  const { predictions: _unused, ...metrics } = evaluate(model, { x, y: test.y }, { loss });
  model.dispose();
  return { ...metrics, loss, testCount: data.test.count };
}
