// A model's spec (what model files, checkpoints and ONNX metadata hold) and the one way from a spec to its layers,
// its shape chain and its parameter layout: model files, ONNX export and the CLI's memory check read them here.

import type { Backend } from './backend/backend.js';
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

/** The layers of a spec (unbound), their shape chain and their parameter layout; throws naming the layer.
 *  With `sizeFor`, each layer is bound to that backend as a model built on it would be, with nothing behind its
 *  parameter pointers (all 0: bind records them, it allocates nothing), so that what a layer sizes from its backend
 *  (a conv layer's scratch: one panel per kernel thread) is what a run there allocates. Such a chain is for counting
 *  (memory.ts) only: none of its layers may run. */
export function specChain(spec: ModelSpec, what = 'model spec', sizeFor?: Backend): SpecChain {
  check(spec != null && Array.isArray(spec.layers) && spec.layers.length > 0, () => `${what}: expected a non-empty list of layers`, 'E_INVALID');
  const inputShape = specInputShape(spec, what);
  const layers = spec.layers.map((s, i) => layerFromSpec(s, `layer ${i}`));
  const shapes = layerShapes(layers, inputShape);
  if (sizeFor) layers.forEach((layer, i) => layer.bind(sizeFor, Object.fromEntries(layer.params.map((p) => [p.name, { value: 0, grad: 0 }])), shapes[i]));
  return { layers, shapes, layout: new ParamLayout(layers) };
}
