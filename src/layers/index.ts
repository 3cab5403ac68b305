// The layer catalogue, and the one place that turns a LayerSpec (from a model file) back into a layer.

import { SimdnetError } from '../errors.js';
import { ReLU, Sigmoid, Softmax, Tanh } from './activations.js';
import type { Layer, LayerSpec } from './layer.js';
import { Linear } from './linear.js';

export { Linear, ReLU, Tanh, Sigmoid, Softmax };
export type { Layer, LayerSpec, InitName } from './layer.js';

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
    default:
      throw new SimdnetError(`${where}: unknown layer type '${(spec as { type?: unknown })?.type}', expected linear, relu, tanh, sigmoid or softmax`, 'E_UNSUPPORTED');
  }
}

/** An activation layer by name, for CLI flags and model builders. */
export function activationLayer(name: string): Layer {
  if (name !== 'relu' && name !== 'tanh' && name !== 'sigmoid') throw new SimdnetError(`activation: expected relu, tanh or sigmoid, got '${name}'`, 'E_OPTION');
  return layerFromSpec({ type: name });
}
