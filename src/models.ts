// Ready-made models: the denoising autoencoder of the reference, with any hidden stack.

import type { Backend } from './backend/backend.js';
import { check } from './errors.js';
import { Linear, Sigmoid, activationLayer, type InitName, type Layer } from './layers/index.js';
import { Sequential } from './model.js';

export interface AutoencoderOptions {
  /** Hidden layer sizes, e.g. [128] (the reference) or [256, 64, 256]. */
  hidden?: number[];
  /** Hidden activation: relu (the reference), tanh or sigmoid. */
  activation?: string;
  init?: InitName;
  /** Pixels per image (784 for MNIST). */
  width?: number;
  seed?: number;
}

/** width → hidden… (activation) → width Sigmoid: outputs are pixels in 0..1. */
export function autoencoder(backend: Backend, options: AutoencoderOptions = {}): Sequential {
  const width = options.width ?? 784;
  const hidden = options.hidden ?? [128];
  check(hidden.length > 0 && hidden.every((h) => Number.isInteger(h) && h > 0), `autoencoder: hidden sizes must be positive integers, got [${hidden.join(', ')}]`);
  const layers: Layer[] = [];
  let from = width;
  for (const h of hidden) {
    layers.push(new Linear(from, h, { init: options.init }), activationLayer(options.activation ?? 'relu'));
    from = h;
  }
  layers.push(new Linear(from, width, { init: options.init }), new Sigmoid());
  return new Sequential(layers, { backend, seed: options.seed });
}
