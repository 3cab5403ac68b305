// Ready-made models: the denoising autoencoder of the reference, with any hidden stack.

import type { Backend } from './backend/backend.js';
import { check } from './errors.js';
import { IMAGE_WIDTH } from './data/dataset.js';
import { activationLayer, type InitName, type LayerSpec } from './layers/index.js';
import { Sequential, type ModelSpec } from './model.js';

export interface AutoencoderOptions {
  /** Hidden layer sizes, e.g. [128] (the reference) or [256, 64, 256]. */
  hidden?: number[];
  /** Hidden activation: relu (the reference), tanh or sigmoid. */
  activation?: string;
  init?: InitName;
  /** Pixels per image (784 for MNIST). */
  width?: number;
  /** Dropout rate after each hidden activation (default 0: no Dropout layers). */
  dropout?: number;
  seed?: number;
}

/** The autoencoder's layer list: width → hidden… (activation, then Dropout when `dropout` > 0) → width Sigmoid, so
 *  outputs are pixels in 0..1.
 *  The one description of it: autoencoder() builds it, a resumed run checks its checkpoint against it. */
export function autoencoderSpec(options: Omit<AutoencoderOptions, 'seed'> = {}): ModelSpec {
  const width = options.width ?? IMAGE_WIDTH;
  const hidden = options.hidden ?? [128];
  check(Array.isArray(hidden) && hidden.length > 0 && hidden.every((h) => Number.isInteger(h) && h > 0), `autoencoder: hidden sizes must be positive integers, got [${hidden.join(', ')}]`);
  const activation = activationLayer(options.activation ?? 'relu').spec(); // validates the name
  const rate = options.dropout ?? 0;
  check(typeof rate === 'number' && rate >= 0 && rate < 1, `autoencoder: dropout must be a rate in [0, 1), got ${rate}`, 'E_INVALID');
  const dropout: LayerSpec[] = rate > 0 ? [{ type: 'dropout', rate }] : [];
  const layers: LayerSpec[] = [];
  let from = width;
  for (const h of hidden) {
    layers.push({ type: 'linear', in: from, out: h, ...(options.init ? { init: options.init } : {}) }, activation, ...dropout);
    from = h;
  }
  layers.push({ type: 'linear', in: from, out: width, ...(options.init ? { init: options.init } : {}) }, { type: 'sigmoid' });
  return { inputWidth: width, layers };
}

export function autoencoder(backend: Backend, options: AutoencoderOptions = {}): Sequential {
  return Sequential.fromSpec(autoencoderSpec(options), { backend, seed: options.seed });
}

/** A model's layer chain in words, e.g. "linear 784→128, relu, dropout 0.2, linear 128→784, sigmoid" (init and
 *  dropout seeds not included). */
export function describeLayers(spec: ModelSpec): string {
  return spec.layers.map((l) => (l.type === 'linear' ? `linear ${l.in}→${l.out}` : l.type === 'dropout' ? `dropout ${l.rate}` : l.type)).join(', ');
}
