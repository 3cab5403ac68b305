// ONNX export: a Sequential as a standard ONNX model that onnxruntime (node and web) and PyTorch can run.
// Input "x" (N, inputWidth) float32, output "y" (N, outputWidth), N a dynamic batch dimension. Each Linear is a
// Gemm whose B is simdnet's W as it is (IN, OUT), so transB = 0; activations map one to one.

import { SimdnetError } from '../errors.js';
import type { Sequential } from '../model.js';
import { ATTR, DTYPE, encodeModel, type NodeMsg, type TensorMsg } from './messages.js';

/** The versions every export is stamped with: accepted by onnxruntime 1.2x–1.30 and the onnx checker ≥ 1.12. */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;
export const ONNX_INPUT = 'x';
export const ONNX_OUTPUT = 'y';
/** metadata_props key holding each Linear's init name (JSON), so an import rebuilds the same model file. */
export const INIT_KEY = 'simdnet.inits';

const OPS = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', softmax: 'Softmax' } as const;

export interface ExportOptions {
  /** Training metadata (what a model file's `meta` holds): each key becomes a metadata_props entry, its value as JSON. */
  meta?: Record<string, unknown>;
}

/** The ONNX bytes of a model's current weights; the same model and meta give the same bytes. */
export function exportOnnx(model: Sequential, options: ExportOptions = {}): Uint8Array {
  const nodes: NodeMsg[] = [];
  const initializers: TensorMsg[] = [];
  const inits: string[] = [];
  let current = ONNX_INPUT;
  const last = model.layers.length - 1;
  model.layers.forEach((layer, i) => {
    const spec = layer.spec();
    const output = i === last ? ONNX_OUTPUT : `layer${i}.${spec.type}`;
    if (spec.type === 'linear') {
      const tensors = model.getWeights(i);
      for (const t of tensors) initializers.push({ name: `layer${i}.${t.name}`, dims: t.shape, dataType: DTYPE.float, floatData: [], rawData: littleEndian(t.values), otherData: false, external: null });
      nodes.push({ name: `layer${i}.gemm`, opType: 'Gemm', domain: '', inputs: [current, ...tensors.map((t) => `layer${i}.${t.name}`)], outputs: [output], attributes: [] });
      inits.push(spec.init ?? 'glorotUniform');
    } else if (spec.type in OPS) {
      const attributes = spec.type === 'softmax' ? [{ name: 'axis', type: ATTR.int, i: -1, ints: [] }] : [];
      nodes.push({ name: `layer${i}.${spec.type}`, opType: OPS[spec.type as keyof typeof OPS], domain: '', inputs: [current], outputs: [output], attributes });
    } else throw new SimdnetError(`export: layer ${i} (${spec.type}) has no ONNX form`);
    current = output;
  });
  const metadata = Object.entries(options.meta ?? {}).filter(([, value]) => value !== undefined).map(([key, value]) => ({ key, value: JSON.stringify(value) }));
  metadata.push({ key: INIT_KEY, value: JSON.stringify(inits) });
  return encodeModel({
    irVersion: ONNX_IR_VERSION,
    producerName: 'simdnet',
    opsets: [{ domain: '', version: ONNX_OPSET }],
    metadata,
    graph: {
      name: 'simdnet',
      nodes,
      initializers,
      inputs: [{ name: ONNX_INPUT, elemType: DTYPE.float, shape: ['N', model.inputWidth] }],
      outputs: [{ name: ONNX_OUTPUT, elemType: DTYPE.float, shape: ['N', model.outputWidth] }],
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
