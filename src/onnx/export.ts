// ONNX export: a Sequential as a standard ONNX model that onnxruntime (node and web) and PyTorch can run.
// Input "x" (N, ...inputShape) float32, output "y" (N, ...outputShape), N a dynamic batch dimension. Each Linear is a
// Gemm whose B is simdnet's W as it is (IN, OUT), so transB = 0; Conv and ConvTranspose take W as simdnet (and
// PyTorch) hold it; pools, Flatten, Reshape, activations and Dropout map one to one; Upsample2D is a Resize
// (nearest, asymmetric, floor: what PyTorch writes for nn.Upsample); PixelShuffle2D a DepthToSpace (CRD),
// PixelUnshuffle2D a SpaceToDepth on one channel, else Reshape → Transpose → Reshape (as PyTorch writes it).

import { SimdnetError } from '../errors.js';
import { ACTIVATIONS, SOFTMAX_ONNX, type ActivationName } from '../layers/activations.js';
import type { LayerSpec, Shape } from '../layers/index.js';
import type { Sequential } from '../model.js';
import { specChain, type ModelSpec } from '../model-spec.js';
import { ATTR, DTYPE, encodeModel, type AttributeMsg, type NodeMsg, type TensorMsg } from './messages.js';

/** The versions every export is stamped with: accepted by onnxruntime 1.2x–1.30 and the onnx checker ≥ 1.12. */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;
export const ONNX_INPUT = 'x';
export const ONNX_OUTPUT = 'y';
/** metadata_props key holding the layer specs (JSON): what ONNX has no place for (a Linear's init) comes back on
 *  import, so simdnet → ONNX → simdnet rebuilds the same model file. */
export const LAYERS_KEY = 'simdnet.layers';

/** Each elementwise activation's ONNX op (the activation table's). */
const OPS = Object.fromEntries(Object.entries(ACTIVATIONS).map(([type, a]) => [type, a.onnx])) as Record<ActivationName, string>;

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
  const params = spec.layers.map((_, i) => Object.fromEntries(layout.ofLayer(i).map((s) => [s.name, layout.view(weights, s)])));
  return encodeLayers(spec.layers, params, shapes, meta);
}

/** The ONNX bytes of a chain of layer specs, each layer's tensors by name (W, b: simdnet's layout) and the shape
 *  chain (the input's per-sample shape, then each layer's output shape). */
export function encodeLayers(layers: readonly LayerSpec[], params: readonly Record<string, Float32Array>[], shapes: readonly Shape[], meta: Record<string, unknown> = {}): Uint8Array<ArrayBuffer> {
  const nodes: NodeMsg[] = [];
  const initializers: TensorMsg[] = [];
  let current = ONNX_INPUT;
  const last = layers.length - 1;
  layers.forEach((layer, i) => {
    const output = i === last ? ONNX_OUTPUT : `layer${i}.${layer.type}`;
    const node = (opType: string, attributes: AttributeMsg[] = [], extra: string[] = []) =>
      nodes.push({ name: `layer${i}.${opType.toLowerCase()}`, opType, domain: '', inputs: [current, ...extra], outputs: [output], attributes });
    /** the layer's tensors as initializers named layer<i>.<name>, with their ONNX dims; their names */
    const tensors = (dims: Record<string, number[]>) =>
      Object.entries(dims)
        .filter(([key]) => key !== 'b' || params[i].b)
        .map(([key, d]) => {
          const values = params[i][key];
          const count = d.reduce((n, x) => n * x, 1);
          if (values?.length !== count) throw new SimdnetError(`export: layer ${i} (${layer.type}) ${key} has ${values?.length ?? 'no'} values, (${d.join(', ')}) needs ${count}`, 'E_SHAPE');
          initializers.push(floatTensor(`layer${i}.${key}`, d, values));
          return `layer${i}.${key}`;
        });
    switch (layer.type) {
      case 'linear':
        node('Gemm', [], tensors({ W: [layer.in, layer.out], b: [layer.out] }));
        break;
      case 'dropout': {
        // an identity out of training, in ONNX as in simdnet; the ratio (and the mask's seed) are kept for a fine-tune
        initializers.push(floatTensor(`layer${i}.ratio`, [], Float32Array.of(layer.rate)));
        node('Dropout', layer.seed === undefined ? [] : [int('seed', layer.seed)], [`layer${i}.ratio`]);
        break;
      }
      case 'relu':
      case 'sigmoid':
      case 'tanh':
        node(OPS[layer.type]);
        break;
      case 'softmax':
        node(SOFTMAX_ONNX, [int('axis', -1)]);
        break;
      case 'flatten':
        node('Flatten', [int('axis', 1)]);
        break;
      case 'reshape':
        // 0 keeps the batch size (ONNX copies the input's size where the shape says 0)
        initializers.push(int64Tensor(`layer${i}.shape`, [0, ...layer.shape]));
        node('Reshape', [], [`layer${i}.shape`]);
        break;
      case 'conv2d': {
        const [kh, kw] = layer.kernel;
        const pads = layer.padding === 'same' ? [str('auto_pad', 'SAME_UPPER')] : [ints('pads', layer.padding)];
        node('Conv', [ints('kernel_shape', layer.kernel), ints('strides', layer.stride), ...pads, ints('dilations', [1, 1]), int('group', 1)], tensors({ W: [layer.out, layer.in, kh, kw], b: [layer.out] }));
        break;
      }
      case 'conv-transpose2d': {
        const [kh, kw] = layer.kernel;
        node('ConvTranspose', [ints('kernel_shape', layer.kernel), ints('strides', layer.stride), ints('pads', layer.padding), ints('output_padding', layer.outputPadding), ints('dilations', [1, 1]), int('group', 1)], tensors({ W: [layer.in, layer.out, kh, kw], b: [layer.out] }));
        break;
      }
      case 'maxpool2d':
        node('MaxPool', [ints('kernel_shape', layer.kernel), ints('strides', layer.stride), ints('pads', layer.padding)]);
        break;
      case 'avgpool2d':
        node('AveragePool', [ints('kernel_shape', layer.kernel), ints('strides', layer.stride), ints('pads', layer.padding), int('count_include_pad', layer.countIncludePad ? 1 : 0)]);
        break;
      case 'upsample2d':
        // out[i] = in[floor(i / s)]: nearest with asymmetric coordinates and floor, what PyTorch writes for nn.Upsample
        initializers.push(floatTensor(`layer${i}.scales`, [4], Float32Array.of(1, 1, layer.scale[0], layer.scale[1])));
        node('Resize', [str('mode', 'nearest'), str('coordinate_transformation_mode', 'asymmetric'), str('nearest_mode', 'floor')], ['', `layer${i}.scales`]);
        break;
      case 'pixel-shuffle2d':
        // nn.PixelShuffle's channel order c·r² + i·r + j is DepthToSpace's CRD (what PyTorch writes for it)
        node('DepthToSpace', [int('blocksize', layer.factor), str('mode', 'CRD')]);
        break;
      case 'pixel-unshuffle2d': {
        const r = layer.factor;
        const [C, H, W] = shapes[i];
        // SpaceToDepth puts the block offset first (channel (i·r + j)·C + c): PyTorch's order only for one channel
        if (C === 1) {
          node('SpaceToDepth', [int('blocksize', r)]);
          break;
        }
        // else PyTorch's own export of nn.PixelUnshuffle: view (N, C, H/r, r, W/r, r), move the block axes in front
        // of the pixel axes, view (N, C·r², H/r, W/r)
        const split = `layer${i}.split`, moved = `layer${i}.transpose`;
        initializers.push(int64Tensor(`layer${i}.shape6`, [0, C, H / r, r, W / r, r]), int64Tensor(`layer${i}.shape`, [0, C * r * r, H / r, W / r]));
        nodes.push(
          { name: `layer${i}.reshape6`, opType: 'Reshape', domain: '', inputs: [current, `layer${i}.shape6`], outputs: [split], attributes: [] },
          { name: `layer${i}.transpose`, opType: 'Transpose', domain: '', inputs: [split], outputs: [moved], attributes: [ints('perm', [0, 1, 3, 5, 2, 4])] },
          { name: `layer${i}.reshape`, opType: 'Reshape', domain: '', inputs: [moved, `layer${i}.shape`], outputs: [output], attributes: [] },
        );
        break;
      }
      default:
        throw new SimdnetError(`export: layer ${i} (${(layer as { type: string }).type}) has no ONNX form`, 'E_UNSUPPORTED');
    }
    current = output;
  });
  const metadata = Object.entries(meta).filter(([, value]) => value !== undefined).map(([key, value]) => ({ key, value: JSON.stringify(value) }));
  metadata.push({ key: LAYERS_KEY, value: JSON.stringify(layers) });
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

const int = (name: string, i: number): AttributeMsg => ({ name, type: ATTR.int, i, ints: [] });
const ints = (name: string, values: readonly number[]): AttributeMsg => ({ name, type: ATTR.ints, ints: [...values] });
const str = (name: string, s: string): AttributeMsg => ({ name, type: ATTR.string, s, ints: [] });

function floatTensor(name: string, dims: number[], values: Float32Array): TensorMsg {
  return { name, dims, dataType: DTYPE.float, floatData: [], rawData: littleEndian(values), otherData: false, external: null };
}

function int64Tensor(name: string, values: number[]): TensorMsg {
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  values.forEach((v, k) => view.setBigInt64(k * 8, BigInt(v), true));
  return { name, dims: [values.length], dataType: DTYPE.int64, floatData: [], rawData: raw, otherData: false, external: null };
}

/** float32 values as little-endian bytes (raw_data is little-endian whatever the machine). */
function littleEndian(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return out;
}
