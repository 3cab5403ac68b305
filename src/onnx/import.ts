// ONNX import: the MLPs real exporters write, as a Sequential to run or fine-tune.
// Accepted: a chain of Gemm (any transB, as torch.onnx.export writes), MatMul (+ Add: tf2onnx, or no bias),
// Relu, Sigmoid, Tanh, Softmax over the last axis, Dropout (a Dropout layer), a leading Flatten, and Identity;
// opsets 11–17, IR 6–8; float32 weights (float16 widened exactly) in raw_data or float_data.
// Everything is read and checked before any model is built: an error, never a partial model.

import type { Backend } from '../backend/backend.js';
import { SimdnetError, type ErrorCode } from '../errors.js';
import { ACTIVATIONS, type ActivationName } from '../layers/activations.js';
import { layerFromSpec, type Layer, type LayerSpec } from '../layers/index.js';
import { Sequential, type ModelSpec } from '../model.js';
import { ParamLayout } from '../param-layout.js';
import { LAYERS_KEY } from './export.js';
import { DTYPE, DTYPE_NAMES, decodeModel, type AttributeMsg, type Dim, type NodeMsg, type TensorMsg } from './messages.js';

export const SUPPORTED_OPS = ['Gemm', 'MatMul', 'Add', 'Relu', 'Sigmoid', 'Tanh', 'Softmax', 'Flatten', 'Identity', 'Dropout'] as const;
export const OPSETS = { min: 11, max: 17 } as const;
export const IR_VERSIONS = { min: 6, max: 8 } as const;

/** What an ONNX file holds, as a model file would: the layers, the flat parameter block and the metadata. */
export interface OnnxContents {
  spec: ModelSpec;
  /** The parameter block, laid out by the spec's ParamLayout. */
  weights: Float32Array;
  /** metadata_props (values parsed as JSON where they are JSON). */
  meta: Record<string, unknown>;
  producer: string;
  opset: number;
  irVersion: number;
}

/** Elementwise activation layers by ONNX op (the activation table's). */
const BY_OP = Object.fromEntries(Object.entries(ACTIVATIONS).map(([type, a]) => [a.onnx, type])) as Record<string, ActivationName>;

/** Reads and checks an ONNX file; `name` starts every error message (default 'import'). */
export function readOnnx(bytes: Uint8Array, name = 'import'): OnnxContents {
  // most refusals are of well-formed files simdnet does not support; corrupt and mis-shaped ones say so
  const fail = (why: string, code: ErrorCode = 'E_UNSUPPORTED'): never => {
    throw new SimdnetError(`${name}: ${why}`, code);
  };
  if (!(bytes instanceof Uint8Array)) fail('expected the ONNX file contents as bytes (a Uint8Array)', 'E_INVALID');
  if (bytes.length === 0) fail('the file is empty', 'E_FILE_CORRUPT');
  let model;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    if (e instanceof SimdnetError) fail(`not a readable ONNX file (${e.message})`, 'E_FILE_CORRUPT');
    throw e;
  }
  const ir = model.irVersion ?? fail('not an ONNX model (no ir_version; the file is corrupt, truncated or of another kind)', 'E_FILE_CORRUPT');
  if (ir < IR_VERSIONS.min || ir > IR_VERSIONS.max) fail(`IR version ${ir} is not supported (supported: ${IR_VERSIONS.min}–${IR_VERSIONS.max})`);
  const opsets = model.opsets.filter((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (opsets.length !== 1) fail(opsets.length === 0 ? 'no opset for the default ONNX domain (opset_import)' : 'more than one opset for the default ONNX domain');
  const opset = opsets[0].version;
  if (opset < OPSETS.min || opset > OPSETS.max) fail(`opset ${opset} is not supported (supported: ${OPSETS.min}–${OPSETS.max})`);
  const graph = model.graph ?? fail('no graph in the model', 'E_FILE_CORRUPT');
  if (graph.sparseInitializers > 0) fail('sparse initializers are not supported');
  if (graph.nodes.length === 0) fail('the graph has no nodes');

  const inits = new Map<string, TensorMsg>();
  for (const t of graph.initializers) {
    if (inits.has(t.name)) fail(`two initializers are named '${t.name}'`, 'E_FILE_CORRUPT');
    inits.set(t.name, t);
  }
  const inputs = graph.inputs.filter((v) => !inits.has(v.name));
  if (inputs.length !== 1) fail(`expected one graph input, got ${inputs.length}${inputs.length ? ` (${inputs.map((v) => `'${v.name}'`).join(', ')})` : ''}`);
  const input = inputs[0];
  if (input.elemType !== null && input.elemType !== DTYPE.float) fail(`input '${input.name}' is ${dtypeName(input.elemType)}, expected float32`);
  const shape = input.shape;
  if (shape && shape.length < 2) fail(`input '${input.name}' has shape ${showShape(shape)}, expected (N, features) or (N, C, H, W) with a Flatten`);
  shape?.slice(1).forEach((d, k) => {
    if (typeof d !== 'number' || d <= 0) fail(`input '${input.name}' has shape ${showShape(shape)}: dimension ${k + 1} must be a fixed positive size (only the batch dimension may be dynamic)`);
  });
  // rank and feature width of the value flowing down the chain (null: not declared, taken from the first weights)
  let rank = shape?.length ?? 2;
  let width: number | null = shape && rank === 2 ? (shape[1] as number) : null;
  let current = input.name;
  const layers: LayerSpec[] = [];
  const tensors: { W: Float32Array<ArrayBufferLike>; b: Float32Array<ArrayBufferLike> }[] = [];

  for (let i = 0; i < graph.nodes.length; i++) {
    const node = graph.nodes[i];
    const op = node.opType;
    const at = `node ${i} "${op}"${node.name ? ` (${node.name})` : ''}`;
    const bad = (why: string, code?: ErrorCode): never => fail(`${at}: ${why}`, code);
    if (node.domain !== '' && node.domain !== 'ai.onnx') bad(`is from operator domain '${node.domain}', which is not supported (only the default ONNX domain)`);
    // the message lists the ops of the issue's wording; Identity and Dropout are accepted too
    if (!(SUPPORTED_OPS as readonly string[]).includes(op)) fail(`node ${i} "${op}" is not supported (supported: ${SUPPORTED_OPS.slice(0, 8).join(', ')})`);
    if (node.inputs[0] !== current) bad(`reads '${node.inputs[0] ?? ''}', expected '${current}' (simdnet imports a chain of layers, each reading the one before)`);
    if (node.outputs.length === 0 || node.outputs[0] === '') bad('has no output', 'E_FILE_CORRUPT');
    const attr = attributes(node, bad);
    const needRank2 = () => {
      if (rank !== 2) bad(`takes a ${rank}-D input; simdnet layers take (N, features), put a Flatten in front`);
    };
    const linear = (W: Float32Array, IN: number, OUT: number, b: Float32Array) => {
      if (width !== null && width !== IN) bad(`has weights for ${IN} inputs, the value before it has ${width} features`, 'E_SHAPE');
      layers.push({ type: 'linear', in: IN, out: OUT });
      tensors.push({ W, b });
      width = OUT;
    };
    let output = node.outputs[0];
    switch (op) {
      case 'Flatten': {
        const axis = attr.int('axis', 1);
        if (axis !== 1) bad(`axis ${axis} is not supported (only axis 1: (N, …) → (N, features))`);
        if (shape && layers.length === 0 && rank > 2) width = (shape.slice(1) as number[]).reduce((n, d) => n * d, 1);
        rank = 2;
        break;
      }
      case 'Gemm': {
        needRank2();
        for (const [key, want] of [['alpha', 1], ['beta', 1]] as const) if (attr.float(key, 1) !== want) bad(`${key} ${attr.float(key, 1)} is not supported (only ${want})`);
        if (attr.int('transA', 0) !== 0) bad('transA 1 is not supported (the input must be (N, features))');
        const transB = attr.int('transB', 0);
        const B = weight(node.inputs[1], 'B', [2]);
        const [IN, OUT] = transB ? [B.dims[1], B.dims[0]] : [B.dims[0], B.dims[1]];
        const W = transB ? transpose(B.values, OUT, IN) : B.values;
        const b = node.inputs[2] ? bias(weight(node.inputs[2], 'C', [0, 1, 2]), OUT, 'C') : new Float32Array(OUT);
        linear(W, IN, OUT, b);
        break;
      }
      case 'MatMul': {
        needRank2();
        const B = weight(node.inputs[1], 'B', [2]);
        const [IN, OUT] = B.dims;
        let b: Float32Array<ArrayBufferLike> = new Float32Array(OUT);
        // tf2onnx writes a Dense layer as MatMul then Add of the bias
        const next = graph.nodes[i + 1];
        if (next?.opType === 'Add' && (next.domain === '' || next.domain === 'ai.onnx') && next.inputs.length === 2 && next.inputs.includes(output)) {
          const other = next.inputs[0] === output ? next.inputs[1] : next.inputs[0];
          const addAt = `node ${i + 1} "Add"${next.name ? ` (${next.name})` : ''}`;
          b = bias(weightOf(other, 'B', [1, 2], addAt), OUT, 'B', addAt);
          if (next.outputs.length === 0 || next.outputs[0] === '') fail(`${addAt}: has no output`, 'E_FILE_CORRUPT');
          output = next.outputs[0];
          i++;
        }
        linear(B.values, IN, OUT, b);
        break;
      }
      case 'Add':
        bad('is supported only right after a MatMul, adding a bias initializer');
        break;
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh':
        layers.push({ type: BY_OP[op] });
        break;
      case 'Softmax': {
        needRank2();
        const axis = attr.int('axis', opset >= 13 ? -1 : 1);
        if (axis !== -1 && axis !== 1) bad(`axis ${axis} is not supported (only the last axis, -1)`);
        layers.push({ type: 'softmax' });
        break;
      }
      case 'Identity':
        break;
      case 'Dropout': {
        // the ratio: an input since opset 12, an attribute before; shown to 7 digits (float32 0.2 is 0.2000000029…)
        if (node.inputs[2]) bad('a training_mode input is not supported (a model for inference has none)');
        const ratio = node.inputs[1] ? weightOf(node.inputs[1], 'ratio', [0, 1], at).values : [attr.float('ratio', 0.5)];
        const rate = Number(ratio[0].toPrecision(7));
        if (ratio.length !== 1 || !(rate >= 0 && rate < 1)) bad(`ratio ${ratio[0]} is not a rate in [0, 1)`, 'E_FILE_CORRUPT');
        const seed = attr.int('seed', -1);
        layers.push(seed >= 0 && seed < 2 ** 32 ? { type: 'dropout', rate, seed } : { type: 'dropout', rate });
        break;
      }
    }
    current = output;

    /** An initializer as float32 values, with its dims; refused unless it is one of `ranks` dimensional. */
    function weight(tensorName: string | undefined, role: string, ranks: number[]) {
      return weightOf(tensorName, role, ranks, at);
    }
  }

  function weightOf(tensorName: string | undefined, role: string, ranks: number[], at: string) {
    const t = inits.get(tensorName ?? '') ?? fail(`${at}: input ${role} '${tensorName ?? ''}' is not an initializer (weights must be constants in the file)`);
    const where = `${at}: ${role} '${t.name}'`;
    if (!ranks.includes(t.dims.length)) fail(`${where} has shape ${showShape(t.dims)}, expected ${ranks.map((r) => `${r}-D`).join(' or ')}`, 'E_SHAPE');
    if (!t.dims.every((d) => Number.isSafeInteger(d) && d > 0)) fail(`${where} has shape ${showShape(t.dims)}, expected positive sizes`, 'E_SHAPE');
    return { dims: t.dims, values: tensorValues(t, where, fail) };
  }

  function bias(t: { dims: number[]; values: Float32Array }, OUT: number, role: string, at = '') {
    const n = t.values.length;
    const ok = (t.dims.length <= 1 || t.dims[0] === 1) && (n === OUT || n === 1);
    if (!ok) fail(`${at || 'bias'}: ${role} has shape ${showShape(t.dims)}, expected (${OUT}) or (1, ${OUT})`, 'E_SHAPE');
    return n === OUT ? t.values : new Float32Array(OUT).fill(t.values[0]);
  }

  if (layers.length === 0) fail('the graph has no layers (only Flatten or Identity nodes)');
  if (graph.outputs.length !== 1) fail(`expected one graph output, got ${graph.outputs.length}`);
  if (graph.outputs[0].name !== current) fail(`the graph output is '${graph.outputs[0].name}', expected the last node's output '${current}'`);
  if (width === null) fail('the input width is not declared and there is no Gemm or MatMul to take it from');

  // the layers, their parameter block by ParamLayout, and metadata
  const inputWidth = layers[0].type === 'linear' ? layers[0].in : shape ? (shape.slice(1) as number[]).reduce((n, d) => n * d, 1) : (width as number);
  const meta: Record<string, unknown> = {};
  let saved: unknown = null;
  for (const { key, value } of model.metadata) {
    let parsed: unknown = value;
    try {
      parsed = JSON.parse(value);
    } catch {
      // another producer's plain text: kept as it is
    }
    if (key === LAYERS_KEY) saved = parsed;
    else meta[key] = parsed;
  }
  const built = savedLayers(saved, layers) ?? layers.map((l, k) => layerFromSpec(l, `layer ${k}`));
  const layout = new ParamLayout(built);
  const weights = new Float32Array(layout.total);
  let t = 0;
  built.forEach((layer, k) => {
    if (layer.params.length === 0) return;
    const { W, b } = tensors[t++];
    weights.set(W, layout.slot(k, 'W').offset);
    weights.set(b, layout.slot(k, 'b').offset);
  });
  return { spec: { inputWidth: inputWidth as number, layers: built.map((l) => l.spec()) }, weights, meta, producer: `${model.producerName}${model.producerVersion ? ' ' + model.producerVersion : ''}`, opset, irVersion: ir };
}

/** An ONNX model as a Sequential on `backend`, ready to predict or fine-tune. */
export function importOnnx(bytes: Uint8Array, options: { backend: Backend; name?: string }): Sequential {
  if (options?.backend == null) throw new SimdnetError('importOnnx: options.backend is required (await createBackend())', 'E_INVALID');
  const contents = readOnnx(bytes, options.name);
  const model = Sequential.fromSpec(contents.spec, { backend: options.backend });
  try {
    model.setWeights(contents.weights);
  } catch (e) {
    model.dispose(); // never half a model
    throw e;
  }
  return model;
}

/** The layers of simdnet's own metadata (LAYERS_KEY) when they describe the graph's chain (same kinds and sizes) and
 *  are valid; otherwise null, and the graph's own layers are used (another producer's file, or edited metadata). */
function savedLayers(saved: unknown, fromGraph: LayerSpec[]): Layer[] | null {
  if (!Array.isArray(saved) || saved.length !== fromGraph.length) return null;
  const same = (s: LayerSpec, g: LayerSpec) => s?.type === g.type && (g.type !== 'linear' || (s.type === 'linear' && s.in === g.in && s.out === g.out));
  if (!saved.every((s, k) => same(s, fromGraph[k]))) return null;
  try {
    return saved.map((s, k) => layerFromSpec(s, `layer ${k}`));
  } catch (e) {
    if (e instanceof SimdnetError) return null;
    throw e;
  }
}

function attributes(node: NodeMsg, bad: (why: string, code?: ErrorCode) => never) {
  const byName = new Map<string, AttributeMsg>(node.attributes.map((a) => [a.name, a]));
  return {
    int(key: string, dflt: number): number {
      const a = byName.get(key);
      if (!a) return dflt;
      if (a.i === undefined || !Number.isSafeInteger(a.i)) bad(`attribute ${key} is not an integer`, 'E_FILE_CORRUPT');
      return a.i!;
    },
    float(key: string, dflt: number): number {
      const a = byName.get(key);
      if (!a) return dflt;
      if (a.f === undefined) bad(`attribute ${key} is not a float`, 'E_FILE_CORRUPT');
      return a.f!;
    },
  };
}

/** A tensor's values as float32, checked: type, storage, count, finiteness. */
function tensorValues(t: TensorMsg, where: string, fail: (why: string, code?: ErrorCode) => never): Float32Array {
  if (t.external) {
    const location = t.external.find((e) => e.key === 'location')?.value;
    fail(`${where} is stored in an external data file${location ? ` ('${location}')` : ''}; simdnet reads single-file ONNX models (save with the weights inside, e.g. onnx.save(model, path, save_as_external_data=False))`);
  }
  if (t.dataType === DTYPE.double) fail(`${where} holds float64 weights, which simdnet does not convert (it computes in float32): export the model in float32 (model.float() in PyTorch)`);
  if (t.dataType !== DTYPE.float && t.dataType !== DTYPE.float16) fail(`${where} is ${dtypeName(t.dataType)}, expected float32 (or float16, widened exactly)`);
  const count = t.dims.reduce((n, d) => n * d, 1);
  const size = t.dataType === DTYPE.float ? 4 : 2;
  let values: Float32Array;
  if (t.rawData) {
    if (t.rawData.length !== count * size) fail(`${where} has ${t.rawData.length} bytes of raw_data, its shape ${showShape(t.dims)} needs ${count * size}`, 'E_FILE_CORRUPT');
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.length);
    values = new Float32Array(count);
    if (size === 4) for (let i = 0; i < count; i++) values[i] = view.getFloat32(4 * i, true);
    else for (let i = 0; i < count; i++) values[i] = halfToFloat(view.getUint16(2 * i, true));
  } else if (t.dataType === DTYPE.float && t.floatData.length > 0) {
    if (t.floatData.length !== count) fail(`${where} has ${t.floatData.length} values in float_data, its shape ${showShape(t.dims)} needs ${count}`, 'E_FILE_CORRUPT');
    values = Float32Array.from(t.floatData);
  } else fail(`${where} has no data (expected raw_data${t.dataType === DTYPE.float ? ' or float_data' : ''} with ${count} values)${t.otherData ? '; its values are in a field of another type' : ''}`);
  for (let i = 0; i < values!.length; i++) if (!Number.isFinite(values![i])) fail(`${where}: value ${i} is ${values![i]}, expected finite numbers`, 'E_FILE_CORRUPT');
  return values!;
}

/** IEEE 754 half → float (exact). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** (OUT, IN) row-major → (IN, OUT) row-major. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

function showShape(dims: readonly Dim[]): string {
  return `(${dims.map((d) => (d === null ? '?' : d)).join(', ')})`;
}

function dtypeName(code: number): string {
  return DTYPE_NAMES[code] ?? `data type ${code}`;
}
