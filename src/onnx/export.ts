// ONNX export: a Sequential as a standard ONNX model that onnxruntime (node and web) and PyTorch can run.
// Input "x" (N, ...inputShape) float32, output "y" (N, ...outputShape), N a dynamic batch dimension. Each Linear is a
// Gemm whose B is simdnet's W as it is (IN, OUT), so transB = 0; activations and Dropout map one to one.

import { SimdnetError } from '../errors.js';
import { ACTIVATIONS, SOFTMAX_ONNX } from '../layers/activations.js';
import type { Sequential } from '../model.js';
import { specChain, type ModelSpec } from '../model-spec.js';
import { ATTR, DTYPE, encodeModel, type NodeMsg, type TensorMsg } from './messages.js';

/** The versions every export is stamped with: accepted by onnxruntime 1.2x–1.30 and the onnx checker ≥ 1.12. */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;
export const ONNX_INPUT = 'x';
export const ONNX_OUTPUT = 'y';
/** metadata_props key holding the layer specs (JSON): what ONNX has no place for (a Linear's init) comes back on
 *  import, so simdnet → ONNX → simdnet rebuilds the same model file. */
export const LAYERS_KEY = 'simdnet.layers';

/** Each activation layer's ONNX op (the activation table's). */
const OPS: Record<string, string> = { ...Object.fromEntries(Object.entries(ACTIVATIONS).map(([type, a]) => [type, a.onnx])), softmax: SOFTMAX_ONNX };

export interface ExportOptions {
  /** Training metadata (what a model file's `meta` holds): each key becomes a metadata_props entry, its value as JSON. */
  meta?: Record<string, unknown>;
}

/** The ONNX bytes of a model's current weights; the same model and meta give the same bytes. */
export function exportOnnx(model: Sequential, options: ExportOptions = {}): Uint8Array<ArrayBuffer> {
  return encodeOnnx(model.spec(), model.getWeights(), options.meta);
}

/** The ONNX bytes of layers and their parameter block (laid out by ParamLayout), as a model file holds them. */
export function encodeOnnx(spec: ModelSpec, weights: Float32Array, meta: Record<string, unknown> = {}): Uint8Array<ArrayBuffer> {
  const { layout, shapes } = specChain(spec);
  if (weights.length !== layout.total) throw new SimdnetError(`export: the layers declare ${layout.total} parameters, got ${weights.length} values`, 'E_SHAPE');
  const nodes: NodeMsg[] = [];
  const initializers: TensorMsg[] = [];
  let current = ONNX_INPUT;
  const last = spec.layers.length - 1;
  spec.layers.forEach((layer, i) => {
    const output = i === last ? ONNX_OUTPUT : `layer${i}.${layer.type}`;
    if (layer.type === 'linear') {
      const slots = layout.ofLayer(i);
      for (const s of slots) initializers.push({ name: `layer${i}.${s.name}`, dims: [...s.shape], dataType: DTYPE.float, floatData: [], rawData: littleEndian(layout.view(weights, s)), otherData: false, external: null });
      nodes.push({ name: `layer${i}.gemm`, opType: 'Gemm', domain: '', inputs: [current, ...slots.map((s) => `layer${i}.${s.name}`)], outputs: [output], attributes: [] });
    } else if (layer.type === 'dropout') {
      // an identity out of training, in ONNX as in simdnet; the ratio (and the mask's seed) are kept for a fine-tune
      initializers.push({ name: `layer${i}.ratio`, dims: [], dataType: DTYPE.float, floatData: [], rawData: littleEndian(Float32Array.of(layer.rate)), otherData: false, external: null });
      const attributes = layer.seed === undefined ? [] : [{ name: 'seed', type: ATTR.int, i: layer.seed, ints: [] }];
      nodes.push({ name: `layer${i}.dropout`, opType: 'Dropout', domain: '', inputs: [current, `layer${i}.ratio`], outputs: [output], attributes });
    } else if (layer.type in OPS) {
      const attributes = layer.type === 'softmax' ? [{ name: 'axis', type: ATTR.int, i: -1, ints: [] }] : [];
      nodes.push({ name: `layer${i}.${layer.type}`, opType: OPS[layer.type], domain: '', inputs: [current], outputs: [output], attributes });
    } else throw new SimdnetError(`export: layer ${i} (${layer.type}) has no ONNX form`, 'E_UNSUPPORTED');
    current = output;
  });
  const metadata = Object.entries(meta).filter(([, value]) => value !== undefined).map(([key, value]) => ({ key, value: JSON.stringify(value) }));
  metadata.push({ key: LAYERS_KEY, value: JSON.stringify(spec.layers) });
  return encodeModel({
    irVersion: ONNX_IR_VERSION,
    producerName: 'simdnet',
    opsets: [{ domain: '', version: ONNX_OPSET }],
    metadata,
    graph: {
      name: 'simdnet',
      nodes,
      initializers,
      inputs: [{ name: ONNX_INPUT, elemType: DTYPE.float, shape: ['N', ...shapes[0]] }],
      outputs: [{ name: ONNX_OUTPUT, elemType: DTYPE.float, shape: ['N', ...shapes[shapes.length - 1]] }],
      sparseInitializers: 0,
    },
  });
}

/** float32 values as little-endian bytes (raw_data is little-endian whatever the machine). */
function littleEndian(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return out;
}
