// The layer catalogue, and the one place that turns a LayerSpec (from a model file) back into a layer.

import { SimdnetError, check } from '../errors.js';
import { ACTIVATIONS, ReLU, Sigmoid, Softmax, Tanh, type ActivationName } from './activations.js';
import type { Layer, LayerSpec } from './layer.js';
import { Dropout } from './dropout.js';
import { Conv2D, ConvTranspose2D } from './conv.js';
import { Linear } from './linear.js';
import { AvgPool2D, MaxPool2D, PixelShuffle2D, PixelUnshuffle2D, Upsample2D } from './pool.js';
import { Flatten, Reshape } from './reshape.js';

export { Linear, ReLU, Tanh, Sigmoid, Softmax, Dropout, Flatten, Reshape, Conv2D, ConvTranspose2D, MaxPool2D, AvgPool2D, Upsample2D, PixelUnshuffle2D, PixelShuffle2D };
export type { Conv2DOptions, ConvTranspose2DOptions } from './conv.js';
export type { PoolOptions, AvgPoolOptions } from './pool.js';
export type { Layer, LayerSpec, InitName, Shape, Pair, Pads } from './layer.js';

export function layerFromSpec(spec: LayerSpec, where = 'layer'): Layer {
  switch (spec?.type) {
    case 'linear':
      return new Linear(spec.in, spec.out, { init: spec.init });
    case 'relu':
      return new ReLU();
    case 'tanh':
      return new Tanh();
    case 'sigmoid':
      return new Sigmoid();
    case 'softmax':
      return new Softmax();
    case 'dropout':
      check(typeof spec.rate === 'number' && spec.rate >= 0 && spec.rate < 1, () => `${where}: dropout rate must be a number in [0, 1), got ${JSON.stringify(spec.rate)}`, 'E_INVALID');
      check(spec.seed === undefined || (Number.isInteger(spec.seed) && spec.seed >= 0 && spec.seed < 2 ** 32), () => `${where}: dropout seed must be an integer in [0, 2^32), got ${JSON.stringify(spec.seed)}`, 'E_INVALID');
      return new Dropout(spec.rate, { seed: spec.seed });
    case 'flatten':
      return new Flatten();
    case 'reshape':
      check(Array.isArray(spec.shape), () => `${where}: reshape shape must be a list of integers, got ${JSON.stringify(spec.shape)}`, 'E_INVALID');
      return new Reshape(spec.shape);
    case 'maxpool2d':
      return named(where, () => new MaxPool2D(spec.kernel, { stride: spec.stride, padding: spec.padding }));
    case 'avgpool2d':
      return named(where, () => new AvgPool2D(spec.kernel, { stride: spec.stride, padding: spec.padding, countIncludePad: spec.countIncludePad }));
    case 'upsample2d':
      return named(where, () => new Upsample2D(spec.scale));
    case 'pixel-unshuffle2d':
      return named(where, () => new PixelUnshuffle2D(spec.factor));
    case 'pixel-shuffle2d':
      return named(where, () => new PixelShuffle2D(spec.factor));
    case 'conv2d':
      return named(where, () => new Conv2D(spec.in, spec.out, spec.kernel, { stride: spec.stride, padding: spec.padding, bias: spec.bias, init: spec.init }));
    case 'conv-transpose2d':
      return named(where, () => new ConvTranspose2D(spec.in, spec.out, spec.kernel, { stride: spec.stride, padding: spec.padding, outputPadding: spec.outputPadding, bias: spec.bias, init: spec.init }));
    default:
      throw new SimdnetError(`${where}: unknown layer type '${(spec as { type?: unknown })?.type}', expected ${LAYER_TYPES.slice(0, -1).join(', ')} or ${LAYER_TYPES.at(-1)}`, 'E_UNSUPPORTED');
  }
}

/** A constructor's refusal of a spec's field, named after the spec's place ("layer 3: MaxPool2D kernel: …"). */
function named(where: string, make: () => Layer): Layer {
  try {
    return make();
  } catch (e) {
    if (e instanceof SimdnetError) throw new SimdnetError(`${where}: ${e.message}`, e.code);
    throw e;
  }
}

/** Every layer type a model file may name (the cases of layerFromSpec). */
export const LAYER_TYPES = ['linear', 'relu', 'tanh', 'sigmoid', 'softmax', 'dropout', 'flatten', 'reshape', 'conv2d', 'conv-transpose2d', 'maxpool2d', 'avgpool2d', 'upsample2d', 'pixel-unshuffle2d', 'pixel-shuffle2d'] as const satisfies readonly LayerSpec['type'][];

/** The activations a hidden layer may have: the activation table's (softmax is an output layer only). */
export const HIDDEN_ACTIVATIONS = Object.keys(ACTIVATIONS) as readonly ActivationName[];

/** An activation layer by name, for CLI flags and model builders. */
export function activationLayer(name: string): Layer {
  const known = HIDDEN_ACTIVATIONS as readonly string[];
  if (!known.includes(name)) throw new SimdnetError(`activation: expected ${known.slice(0, -1).join(', ')} or ${known.at(-1)}, got '${name}'`, 'E_OPTION');
  return layerFromSpec({ type: name as (typeof HIDDEN_ACTIVATIONS)[number] });
}
