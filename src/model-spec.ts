// A model's spec (what model files, checkpoints and ONNX metadata hold) and the one way from a spec to its layers,
// its shape chain and its parameter layout: model files, ONNX export and the CLI's memory check read them here.

import { check } from './errors.js';
import { layerFromSpec, type Layer, type LayerSpec } from './layers/index.js';
import { checkShape, layerShapes, shapeSize, showShape, type Shape } from './layers/shapes.js';
import { ParamLayout } from './param-layout.js';

export interface ModelSpec {
  /** Values in one input sample: the product of inputShape. */
  inputWidth: number;
  /** The per-sample input shape, e.g. [1, 28, 28]; absent: [inputWidth] (dense models, files of older versions). */
  inputShape?: number[];
  layers: LayerSpec[];
}

/** A spec's input shape, checked against its inputWidth. */
export function specInputShape(spec: Pick<ModelSpec, 'inputWidth' | 'inputShape'>, what = 'model spec'): Shape {
  check(Number.isInteger(spec.inputWidth) && spec.inputWidth > 0, () => `${what}: inputWidth must be a positive integer, got ${JSON.stringify(spec.inputWidth)}`, 'E_SHAPE');
  if (spec.inputShape === undefined) return [spec.inputWidth];
  const shape = checkShape(spec.inputShape, `${what}: inputShape`);
  check(shapeSize(shape) === spec.inputWidth, () => `${what}: inputShape ${showShape(shape)} holds ${shapeSize(shape)} values, inputWidth says ${spec.inputWidth}`, 'E_SHAPE');
  return shape;
}

/** The `inputShape` field a spec records for a shape: none for a flat one (so dense model files keep their bytes). */
export function inputShapeField(shape: Shape): { inputShape?: number[] } {
  return shape.length > 1 ? { inputShape: [...shape] } : {};
}

export interface SpecChain {
  layers: Layer[];
  /** The input shape, then each layer's output shape. */
  shapes: Shape[];
  layout: ParamLayout;
}

/** The layers of a spec (unbound), their shape chain and their parameter layout; throws naming the layer. */
export function specChain(spec: ModelSpec, what = 'model spec'): SpecChain {
  check(spec != null && Array.isArray(spec.layers) && spec.layers.length > 0, () => `${what}: expected a non-empty list of layers`, 'E_INVALID');
  const inputShape = specInputShape(spec, what);
  const layers = spec.layers.map((s, i) => layerFromSpec(s, `layer ${i}`));
  return { layers, shapes: layerShapes(layers, inputShape), layout: new ParamLayout(layers) };
}
