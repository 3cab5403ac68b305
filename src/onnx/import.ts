// ONNX import: the MLPs and conv nets real exporters write, as a Sequential to run or fine-tune.
// Accepted: a chain of Gemm (any transB, as torch.onnx.export writes), MatMul (+ Add: tf2onnx, or no bias),
// Conv, ConvTranspose, MaxPool, AveragePool (after a zero Pad: PyTorch's count_include_pad), Resize/Upsample
// (nearest, integer factors), DepthToSpace and SpaceToDepth and Reshape → Transpose → Reshape chains where they are
// PixelShuffle2D or PixelUnshuffle2D (PyTorch's channel order), Flatten, Reshape (constant shape), Relu, Sigmoid,
// Tanh, Softmax over features, Dropout (a Dropout layer), Identity, and the Constant nodes that feed them;
// opsets 11–17, IR 6–8; float32 weights (float16 widened exactly) in raw_data or float_data.
// Everything is read and checked before any model is built: an error, never a partial model.

import type { Backend } from '../backend/backend.js';
import { SimdnetError, type ErrorCode } from '../errors.js';
import { ACTIVATIONS, type ActivationName } from '../layers/activations.js';
import { layerFromSpec, type Layer, type LayerSpec, type Pads, type Pair } from '../layers/index.js';
import { Sequential } from '../model.js';
import { inputShapeField, type ModelSpec } from '../model-spec.js';
import { ParamLayout } from '../param-layout.js';
import { LAYERS_KEY } from './export.js';
import { DTYPE, DTYPE_NAMES, decodeModel, type AttributeMsg, type Dim, type ModelMsg, type NodeMsg, type TensorMsg } from './messages.js';

/** The ops a graph may hold. Add only right after a MatMul, Pad only before a Conv or AveragePool. */
export const SUPPORTED_OPS = ['Gemm', 'MatMul', 'Add', 'Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'Pad', 'Resize', 'Upsample', 'DepthToSpace', 'SpaceToDepth', 'Flatten', 'Reshape', 'Relu', 'Sigmoid', 'Tanh', 'Softmax', 'Dropout', 'Identity', 'Constant'] as const;
export const OPSETS = { min: 11, max: 17 } as const;
export const IR_VERSIONS = { min: 6, max: 8 } as const;


/** What an ONNX file holds, as a model file would: the layers, the flat parameter block and the metadata. */
export interface OnnxContents {
  /** Its inputShape is the graph input's dims without the batch ([C, H, W]; absent for (N, features)). */
  spec: ModelSpec;
  /** The parameter block, laid out by the spec's ParamLayout. */
  weights: Float32Array;
  /** metadata_props (values parsed as JSON where they are JSON). */
  meta: Record<string, unknown>;
  producer: string;
  opset: number;
  irVersion: number;
}

/** An ONNX graph read and checked, before any layer is built: the layers' specs, each layer's parameter tensors
 *  by name in simdnet's layout (W, b), and the per-sample shapes down the chain. */
export interface OnnxGraph {
  layers: LayerSpec[];
  params: Record<string, Float32Array>[];
  /** The input's per-sample shape, then each layer's output shape. */
  shapes: number[][];
  /** metadata_props as written (strings) */
  metadata: { key: string; value: string }[];
  producer: string;
  opset: number;
  irVersion: number;
}

type Fail = (why: string, code?: ErrorCode) => never;

/** Elementwise activation layers by ONNX op (the activation table's). */
const BY_OP = Object.fromEntries(Object.entries(ACTIVATIONS).map(([type, a]) => [a.onnx, type])) as Record<string, ActivationName>;
/** Ops that only exist in the graphs of a case the message can name the fix of. */
const HINTS: Record<string, string> = {
  Shape: "; x.view(x.size(0), -1) exports as Shape, Gather, Concat, Reshape: use nn.Flatten() or x.flatten(1), which export as one Flatten",
  BatchNormalization: '; batch normalization is not part of simdnet (fold it into the conv before export)',
  Transpose: '; simdnet layers are NCHW throughout (a Softmax over channels exports as Transpose, Softmax, Transpose); a Transpose is read only between a 6-D Reshape and a Reshape back, as a pixel (un)shuffle',
};

/** Reads and checks an ONNX file's graph into layer specs and their weights; `name` starts every error message. */
export function readOnnxGraph(bytes: Uint8Array, name = 'import'): OnnxGraph {
  // most refusals are of well-formed files simdnet does not support; corrupt and mis-shaped ones say so
  const fail: Fail = (why, code = 'E_UNSUPPORTED') => {
    throw new SimdnetError(`${name}: ${why}`, code);
  };
  if (!(bytes instanceof Uint8Array)) fail('expected the ONNX file contents as bytes (a Uint8Array)', 'E_INVALID');
  if (bytes.length === 0) fail('the file is empty', 'E_FILE_CORRUPT');
  let model: ModelMsg;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    if (e instanceof SimdnetError) fail(`not a readable ONNX file (${e.message})`, 'E_FILE_CORRUPT');
    throw e;
  }
  return graphSpecs(model!, fail);
}

function graphSpecs(model: ModelMsg, fail: Fail): OnnxGraph {
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
  const declared = input.shape;
  // other ranks are refused by the first node that cannot take them, naming it
  if (declared && declared.length < 2) fail(`input '${input.name}' has shape ${showShape(declared)}, expected (N, features) or (N, C, H, W)`);
  declared?.slice(1).forEach((d, k) => {
    if (typeof d !== 'number' || d <= 0) fail(`input '${input.name}' has shape ${showShape(declared)}: dimension ${k + 1} must be a fixed positive size (only the batch dimension may be dynamic)`);
  });
  // the per-sample shape of the value flowing down the chain; null: not declared (then (N, features), the
  // width taken from the first Gemm or MatMul)
  let cur: number[] | null = declared ? (declared.slice(1) as number[]) : null;
  let inputShape = cur;
  let current = input.name;
  const layers: LayerSpec[] = [];
  const params: Record<string, Float32Array>[] = [];
  const shapes: (number[] | null)[] = [cur];
  /** Constant nodes' values by output name */
  const consts = new Map<string, TensorMsg>();
  /** a Pad's spatial zero padding, for the Conv or AveragePool that must come next; and the Pad's name */
  let pending: { pads: Pads; at: string } | null = null;

  for (let i = 0; i < graph.nodes.length; i++) {
    const node = graph.nodes[i];
    const op = node.opType;
    const at = `node ${i} "${op}"${node.name ? ` (${node.name})` : ''}`;
    const bad = (why: string, code?: ErrorCode): never => fail(`${at}: ${why}`, code);
    if (node.domain !== '' && node.domain !== 'ai.onnx') bad(`is from operator domain '${node.domain}', which is not supported (only the default ONNX domain)`);
    if (!(SUPPORTED_OPS as readonly string[]).includes(op)) fail(`node ${i} "${op}" is not supported (supported: ${SUPPORTED_OPS.filter((o) => o !== 'Constant').join(', ')})${HINTS[op] ?? ''}`);
    if (node.outputs.length === 0 || node.outputs[0] === '') bad('has no output', 'E_FILE_CORRUPT');
    const attr = attributes(node, bad);
    if (op === 'Constant') {
      consts.set(node.outputs[0], constantValue(node, attr, bad));
      continue;
    }
    if (node.inputs[0] !== current) bad(`reads '${node.inputs[0] ?? ''}', expected '${current}' (simdnet imports a chain of layers, each reading the one before)`);
    if (pending && op !== 'Conv' && op !== 'AveragePool' && op !== 'Pad') fail(`${pending.at}: is supported only right before a Conv or an AveragePool (zero padding they take in), not before ${at}`);
    const needFeatures = () => {
      if (cur && cur.length !== 1) bad(`takes a ${cur.length + 1}-D input; simdnet layers take (N, features), put a Flatten in front`);
    };
    const needImage = (): number[] => {
      if (!cur) bad(`needs an (N, C, H, W) input; the graph input '${input.name}' does not declare its shape`);
      if (cur!.length !== 3) bad(`takes an (N, C, H, W) input, the value before it is ${cur!.length + 1}-D (N, ${cur!.join(', ')})`, 'E_SHAPE');
      return cur!;
    };
    const push = (spec: LayerSpec, tensors: Record<string, Float32Array> = {}) => {
      if (cur) cur = nextShape(spec, cur, at, fail);
      layers.push(spec);
      params.push(tensors);
      shapes.push(cur);
    };
    const linear = (W: Float32Array, IN: number, OUT: number, b: Float32Array) => {
      if (cur && cur[0] !== IN) bad(`has weights for ${IN} inputs, the value before it has ${cur[0]} features`, 'E_SHAPE');
      if (!cur) {
        // the width comes from these weights: the input and the shape-keeping layers before are (IN)
        cur = [IN];
        inputShape ??= [IN];
        for (let k = 0; k < shapes.length; k++) shapes[k] ??= [IN];
      }
      push({ type: 'linear', in: IN, out: OUT }, { W, b });
    };
    /** An initializer or Constant as float32 values, with its dims; refused unless it is one of `ranks` dimensional. */
    const weight = (tensorName: string | undefined, role: string, ranks: number[]) => weightOf(tensorName, role, ranks, at);
    let output = node.outputs[0];
    switch (op) {
      case 'Flatten': {
        const rank = cur ? cur.length + 1 : 2;
        const axis = attr.int('axis', 1);
        if (axis !== 1 && axis !== 1 - rank) bad(`axis ${axis} is not supported (only axis 1: (N, …) → (N, features))`);
        if (cur && cur.length > 1) push({ type: 'flatten' });
        break;
      }
      case 'Reshape': {
        const target = intsOf(node.inputs[1], 'shape', at);
        if (attr.int('allowzero', 0) !== 0 && target.includes(0)) bad('allowzero 1 with a 0 in the shape is not supported');
        if (target.length === 6) {
          // PyTorch's nn.PixelUnshuffle (and pixel_shuffle before DepthToSpace): Reshape to 6-D → Transpose → Reshape
          const [C, H, W] = needImage();
          const six = sizesOf(target, [C, H, W], bad);
          const t = chainNext(i + 1, output, 'Transpose', at, 'a 6-D Reshape is supported only as the start of Reshape → Transpose → Reshape (a pixel shuffle or unshuffle)');
          const perm = t.attr.ints('perm', []);
          const back = chainNext(t.index + 1, t.node.outputs[0], 'Reshape', at, 'a Reshape → Transpose is supported only when a Reshape back to (N, C, H, W) follows (a pixel shuffle or unshuffle)');
          const backAt = `node ${back.index} "Reshape"${back.node.name ? ` (${back.node.name})` : ''}`;
          const target4 = intsOf(back.node.inputs[1], 'shape', backAt);
          if (target4.length !== 4) fail(`${backAt}: shape (${target4.join(', ')}) after ${at} and a Transpose is not supported (expected (N, C, H, W): a pixel shuffle or unshuffle)`);
          const moved = perm.length === 6 ? perm.slice(1).map((p) => six[p - 1] ?? -2) : six; // what the second Reshape reads
          const spec = shuffleSpec([C, H, W], six, perm, sizesOf(target4, moved, (why) => fail(`${backAt}: ${why}`)));
          if (!spec) bad(`Reshape (${target.join(', ')}) → Transpose (perm ${perm.join(', ')}) → Reshape (${target4.join(', ')}) on (N, ${C}, ${H}, ${W}) is not supported (only the chains that are nn.PixelShuffle or nn.PixelUnshuffle)`);
          push(spec!);
          output = back.node.outputs[0];
          i = back.index;
          break;
        }
        const s = reshapeSpec(target, cur, bad);
        if (s && !(cur && sameShape(nextShape(s, cur, at, fail), cur))) push(s);
        break;
      }
      case 'Gemm': {
        needFeatures();
        for (const [key, want] of [['alpha', 1], ['beta', 1]] as const) if (attr.float(key, 1) !== want) bad(`${key} ${attr.float(key, 1)} is not supported (only ${want})`);
        if (attr.int('transA', 0) !== 0) bad('transA 1 is not supported (the input must be (N, features))');
        const transB = attr.int('transB', 0);
        const B = weight(node.inputs[1], 'B', [2]);
        const [IN, OUT] = transB ? [B.dims[1], B.dims[0]] : [B.dims[0], B.dims[1]];
        const W = transB ? transpose(B.values, OUT, IN) : B.values;
        const b = node.inputs[2] ? bias(weight(node.inputs[2], 'C', [0, 1, 2]), OUT, 'C', at) : new Float32Array(OUT);
        linear(W, IN, OUT, b);
        break;
      }
      case 'MatMul': {
        needFeatures();
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
      case 'Conv':
      case 'ConvTranspose': {
        const transposed = op === 'ConvTranspose';
        const W = weight(node.inputs[1], 'W', [3, 4, 5]);
        if (W.dims.length !== 4) bad(`W '${node.inputs[1]}' has shape ${showShape(W.dims)}: only 2-D convolutions are supported (W ${transposed ? '(in, out, kh, kw)' : '(out, in, kh, kw)'})`);
        const [C] = needImage();
        const group = attr.int('group', 1);
        if (group !== 1) bad(`attribute group = ${group} is not supported (only 1: no grouped or depthwise convolutions)`);
        noDilation(attr, bad);
        const [IN, OUT] = transposed ? [W.dims[0], W.dims[1]] : [W.dims[1], W.dims[0]];
        const kernel: Pair = [W.dims[2], W.dims[3]];
        const ks = attr.ints('kernel_shape', kernel);
        if (!sameShape(ks, kernel)) bad(`kernel_shape (${ks.join(', ')}) does not match W's ${showShape(W.dims)}`, 'E_SHAPE');
        if (IN !== C) bad(`has weights for ${IN} input channels, the value before it has ${C} (N, ${cur!.join(', ')})`, 'E_SHAPE');
        const b = node.inputs[2] ? bias(weight(node.inputs[2], 'B', [1]), OUT, 'B', at) : null;
        const stride = pair(attr, 'strides', bad);
        const autoPad = attr.string('auto_pad', 'NOTSET');
        const tensors: Record<string, Float32Array> = b ? { W: W.values, b } : { W: W.values };
        if (!transposed) {
          let padding: Pads | 'same';
          if (autoPad === 'SAME_UPPER') {
            if (attr.has('pads')) bad("has both auto_pad SAME_UPPER and pads (ONNX allows one of them)", 'E_FILE_CORRUPT');
            if (pending) fail(`${pending.at}: a Pad before a Conv with auto_pad SAME_UPPER is not supported`);
            padding = 'same';
          } else padding = addPads(explicitPads(attr, autoPad, bad), takePending());
          push({ type: 'conv2d', in: IN, out: OUT, kernel, stride, padding, bias: b !== null }, tensors);
        } else {
          if (autoPad !== 'NOTSET' && autoPad !== 'VALID') bad(`attribute auto_pad = ${autoPad} is not supported (only NOTSET with pads, or VALID)`);
          const outputPadding = pair(attr, 'output_padding', bad, 0);
          let padding = explicitPads(attr, autoPad, bad);
          if (attr.has('output_shape')) padding = padsForOutputShape(attr.ints('output_shape', []), padding, cur!, kernel, stride, outputPadding, attr.has('pads'), bad);
          push({ type: 'conv-transpose2d', in: IN, out: OUT, kernel, stride, padding, outputPadding, bias: b !== null }, tensors);
        }
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        needImage();
        const kernel = pair(attr, 'kernel_shape', bad, null);
        const stride = pair(attr, 'strides', bad);
        const autoPad = attr.string('auto_pad', 'NOTSET');
        if (autoPad !== 'NOTSET' && autoPad !== 'VALID') bad(`attribute auto_pad = ${autoPad} is not supported (only NOTSET with pads, or VALID)`);
        const ceil = attr.int('ceil_mode', 0);
        if (ceil !== 0) bad(`attribute ceil_mode = ${ceil} is not supported (only 0: floor, PyTorch's default)`);
        const padding = explicitPads(attr, autoPad, bad);
        if (op === 'MaxPool') {
          noDilation(attr, bad);
          const order = attr.int('storage_order', 0);
          if (order !== 0) bad(`attribute storage_order = ${order} is not supported (only 0)`);
          if (node.outputs.length > 1 && node.outputs[1] !== '') bad(`its second output (Indices, '${node.outputs[1]}') is not supported`);
          push({ type: 'maxpool2d', kernel, stride, padding });
        } else {
          let countIncludePad = attr.int('count_include_pad', 0) !== 0;
          const before = takePending();
          if (before) {
            // PyTorch writes AvgPool2d(count_include_pad=True) as a zero Pad then an AveragePool: the padded zeros count
            if (!countIncludePad && padding.some((p) => p > 0) && before.some((p) => p > 0)) bad('pads with count_include_pad 0 after a Pad is not supported (the two paddings count differently)');
            countIncludePad = true;
          }
          push({ type: 'avgpool2d', kernel, stride, padding: addPads(padding, before), countIncludePad });
        }
        break;
      }
      case 'Pad': {
        needImage();
        const mode = attr.string('mode', 'constant');
        if (mode !== 'constant') bad(`attribute mode = ${mode} is not supported (only constant zero padding)`);
        const p = intsOf(node.inputs[1], 'pads', at);
        if (p.length !== 8) bad(`pads has ${p.length} values, expected 8 (begins then ends of N, C, H, W)`, 'E_SHAPE');
        if (p[0] || p[1] || p[4] || p[5]) bad(`pads (${p.join(', ')}) pad the batch or channel axis; only H and W are supported`);
        if (p.some((v) => v < 0)) bad(`pads (${p.join(', ')}) are negative (a crop), which is not supported`);
        if (node.inputs[2]) {
          const v = floatsOf(node.inputs[2], 'constant_value', at);
          if (v.length !== 1 || v[0] !== 0) bad(`constant_value ${v.join(', ')} is not supported (only 0)`);
        }
        if (node.inputs[3]) bad('an axes input is not supported');
        pending = { pads: addPads([p[2], p[3], p[6], p[7]], (pending as { pads: Pads } | null)?.pads ?? null), at };
        break;
      }
      case 'Resize':
      case 'Upsample': {
        const [C, H, Wd] = needImage();
        const mode = attr.string('mode', 'nearest');
        if (mode !== 'nearest') bad(`attribute mode = ${mode} is not supported (only nearest)`);
        if (op === 'Resize') {
          const ctm = attr.string('coordinate_transformation_mode', 'half_pixel');
          const nearest = attr.string('nearest_mode', 'round_prefer_floor');
          // the (coordinate transformation, rounding) pairs that pick input pixel floor(i / s) for an integer s
          const exact = (ctm === 'asymmetric' && nearest === 'floor') || ((ctm === 'half_pixel' || ctm === 'pytorch_half_pixel') && nearest.startsWith('round_prefer_')) || (ctm === 'tf_half_pixel_for_nn' && nearest === 'floor');
          if (!exact) bad(`coordinate_transformation_mode ${ctm} with nearest_mode ${nearest} is not supported (it is not integer nearest upsampling; supported: asymmetric with floor, half_pixel with round_prefer_floor or round_prefer_ceil)`);
        }
        const scales = node.inputs[op === 'Resize' ? 2 : 1] ? floatsOf(node.inputs[op === 'Resize' ? 2 : 1], 'scales', at) : new Float32Array(0);
        let sh: number, sw: number;
        if (scales.length > 0) {
          if (node.inputs[3]) bad('has both scales and sizes (ONNX allows one of them)', 'E_FILE_CORRUPT');
          if (scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1) bad(`scales (${[...scales].join(', ')}) are not supported (expected (1, 1, h, w): batch and channels kept)`);
          [sh, sw] = [scales[2], scales[3]];
        } else {
          if (op !== 'Resize' || !node.inputs[3]) bad('has neither scales nor sizes', 'E_FILE_CORRUPT');
          // the batch entry is not read: simdnet's layer works per sample, at any batch size
          const sizes = intsOf(node.inputs[3], 'sizes', at);
          if (sizes.length !== 4 || sizes[1] !== C) bad(`sizes (${sizes.join(', ')}) are not supported (expected (N, ${C}, h, w))`);
          [sh, sw] = [sizes[2] / H, sizes[3] / Wd];
        }
        if (!(Number.isInteger(sh) && Number.isInteger(sw) && sh >= 1 && sw >= 1)) bad(`scales (${sh}, ${sw}) are not supported (only integer upsampling factors)`);
        push({ type: 'upsample2d', scale: [sh, sw] });
        break;
      }
      case 'DepthToSpace':
      case 'SpaceToDepth': {
        const [C, H, W] = needImage();
        const r = attr.int('blocksize', 0);
        if (!(r >= 1)) bad(`attribute blocksize = ${r} is not supported (expected an integer ≥ 1)`, 'E_FILE_CORRUPT');
        let spec: LayerSpec | null;
        if (op === 'DepthToSpace') {
          const mode = attr.string('mode', 'DCR');
          if (mode !== 'CRD' && mode !== 'DCR') bad(`attribute mode = ${mode} is not supported (CRD, or DCR)`);
          if (C % (r * r) !== 0) bad(`blocksize ${r} needs channels divisible by ${r * r}, the value before it is (N, ${C}, ${H}, ${W})`, 'E_SHAPE');
          // the ONNX definition: a 6-D view, a transpose, a view back; DCR takes the block offset from the first channels
          const c = C / (r * r);
          spec = mode === 'CRD' ? shuffleSpec([C, H, W], [c, r, r, H, W], [0, 1, 4, 2, 5, 3], [c, H * r, W * r]) : shuffleSpec([C, H, W], [r, r, c, H, W], [0, 3, 4, 1, 5, 2], [c, H * r, W * r]);
          if (!spec) bad(`mode DCR on ${C} channels is not supported: its channel order is not PyTorch's nn.PixelShuffle (mode CRD, simdnet's PixelShuffle2D); the two agree only when C/blocksize² = 1`);
        } else {
          if (H % r !== 0 || W % r !== 0) bad(`blocksize ${r} needs H and W divisible by it, the value before it is (N, ${C}, ${H}, ${W})`, 'E_SHAPE');
          spec = shuffleSpec([C, H, W], [C, H / r, r, W / r, r], [0, 3, 5, 1, 2, 4], [C * r * r, H / r, W / r]);
          if (!spec) bad(`on ${C} channels is not supported: its channel order (block offset first) is not PyTorch's nn.PixelUnshuffle (simdnet's PixelUnshuffle2D); the two agree only on 1 channel`);
        }
        push(spec!);
        break;
      }
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh':
        push({ type: BY_OP[op] });
        break;
      case 'Softmax': {
        if (cur && cur.length !== 1) bad(`over a ${cur.length + 1}-D value (N, ${cur.join(', ')}) is not supported (only over features: put a Flatten before it)`);
        const axis = attr.int('axis', opset >= 13 ? -1 : 1);
        if (axis !== -1 && axis !== 1) bad(`axis ${axis} is not supported (only the last axis, -1)`);
        push({ type: 'softmax' });
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
        push(seed >= 0 && seed < 2 ** 32 ? { type: 'dropout', rate, seed } : { type: 'dropout', rate });
        break;
      }
    }
    current = output;
  }
  if (pending) fail(`${pending.at}: is supported only right before a Conv or an AveragePool (zero padding they take in)`);

  /** The next node of the chain from index `from` (Constant nodes before it are read, as the loop reads them): it
   *  must be `op`, reading `value`; else `why` is the refusal of the node `at`. */
  function chainNext(from: number, value: string, op: string, at: string, why: string) {
    for (let j = from; j < graph.nodes.length; j++) {
      const n = graph.nodes[j];
      const nAt = `node ${j} "${n.opType}"${n.name ? ` (${n.name})` : ''}`;
      const nBad = (w: string, code?: ErrorCode): never => fail(`${nAt}: ${w}`, code);
      if (n.domain !== '' && n.domain !== 'ai.onnx') break;
      if (n.outputs.length === 0 || n.outputs[0] === '') nBad('has no output', 'E_FILE_CORRUPT');
      const a = attributes(n, nBad);
      if (n.opType === 'Constant') {
        consts.set(n.outputs[0], constantValue(n, a, nBad));
        continue;
      }
      if (n.opType !== op || n.inputs[0] !== value) break;
      return { node: n, index: j, attr: a };
    }
    return fail(`${at}: ${why}`);
  }

  /** The pending Pad's pads, consumed. */
  function takePending(): Pads | null {
    const p = pending?.pads ?? null;
    pending = null;
    return p;
  }

  function constantOf(tensorName: string | undefined): TensorMsg | undefined {
    return inits.get(tensorName ?? '') ?? consts.get(tensorName ?? '');
  }

  function weightOf(tensorName: string | undefined, role: string, ranks: number[], at: string) {
    const t = constantOf(tensorName) ?? fail(`${at}: input ${role} '${tensorName ?? ''}' is not an initializer (weights must be constants in the file)`);
    const where = `${at}: ${role} '${t.name || tensorName}'`;
    if (!ranks.includes(t.dims.length)) fail(`${where} has shape ${showShape(t.dims)}, expected ${ranks.map((r) => `${r}-D`).join(' or ')}`, 'E_SHAPE');
    if (!t.dims.every((d) => Number.isSafeInteger(d) && d > 0)) fail(`${where} has shape ${showShape(t.dims)}, expected positive sizes`, 'E_SHAPE');
    return { dims: t.dims, values: tensorValues(t, where, fail) };
  }

  /** A constant 0-D or 1-D float tensor (scales, constant_value), possibly empty. */
  function floatsOf(tensorName: string, role: string, at: string): Float32Array {
    const t = constantOf(tensorName) ?? fail(`${at}: input ${role} '${tensorName}' is not a constant (an initializer or a Constant node)`);
    const where = `${at}: ${role} '${tensorName}'`;
    if (t.dims.length > 1) fail(`${where} has shape ${showShape(t.dims)}, expected 1-D`, 'E_SHAPE');
    return tensorValues(t, where, fail);
  }

  /** A constant 1-D int64 tensor (shape, pads, sizes). */
  function intsOf(tensorName: string | undefined, role: string, at: string): number[] {
    const t = constantOf(tensorName) ?? fail(`${at}: input ${role} '${tensorName ?? ''}' is not a constant (an initializer or a Constant node)`);
    const where = `${at}: ${role} '${tensorName}'`;
    if (t.dims.length !== 1) fail(`${where} has shape ${showShape(t.dims)}, expected 1-D`, 'E_SHAPE');
    return int64Values(t, where, fail);
  }

  function bias(t: { dims: number[]; values: Float32Array }, OUT: number, role: string, at: string) {
    const n = t.values.length;
    const ok = (t.dims.length <= 1 || t.dims[0] === 1) && (n === OUT || n === 1);
    if (!ok) fail(`${at}: ${role} has shape ${showShape(t.dims)}, expected (${OUT}) or (1, ${OUT})`, 'E_SHAPE');
    return n === OUT ? t.values : new Float32Array(OUT).fill(t.values[0]);
  }

  if (layers.length === 0) fail('the graph has no layers (only Flatten, Reshape or Identity nodes)');
  if (graph.outputs.length !== 1) fail(`expected one graph output, got ${graph.outputs.length}`);
  if (graph.outputs[0].name !== current) fail(`the graph output is '${graph.outputs[0].name}', expected the last node's output '${current}'`);
  if (!inputShape) fail('the input width is not declared and there is no Gemm or MatMul to take it from');
  return { layers, params, shapes: shapes as number[][], metadata: model.metadata, producer: `${model.producerName}${model.producerVersion ? ' ' + model.producerVersion : ''}`, opset, irVersion: ir };
}

/** Reads and checks an ONNX file; `name` starts every error message (default 'import'). */
export function readOnnx(bytes: Uint8Array, name = 'import'): OnnxContents {
  const g = readOnnxGraph(bytes, name);
  const meta: Record<string, unknown> = {};
  let saved: unknown = null;
  for (const { key, value } of g.metadata) {
    let parsed: unknown = value;
    try {
      parsed = JSON.parse(value);
    } catch {
      // another producer's plain text: kept as it is
    }
    if (key === LAYERS_KEY) saved = parsed;
    else meta[key] = parsed;
  }
  // the layers, their parameter block by ParamLayout, and metadata
  let built: Layer[];
  try {
    built = savedLayers(saved, g.layers) ?? g.layers.map((l, k) => layerFromSpec(l as LayerSpec, `layer ${k}`));
  } catch (e) {
    if (e instanceof SimdnetError) throw new SimdnetError(`${name}: ${e.message}`, e.code);
    throw e;
  }
  const layout = new ParamLayout(built);
  const weights = new Float32Array(layout.total);
  for (const slot of layout.slots) {
    const values = g.params[slot.layer][slot.name];
    if (!values || values.length !== slot.length) throw new SimdnetError(`${name}: layer ${slot.layer} (${g.layers[slot.layer].type}) declares ${slot.name} of ${slot.length} values, the file gives ${values?.length ?? 'none'}`, 'E_SHAPE');
    weights.set(values, slot.offset);
  }
  const inputShape = g.shapes[0];
  const inputWidth = inputShape.reduce((n, d) => n * d, 1);
  return { spec: { inputWidth, ...inputShapeField(inputShape), layers: built.map((l) => l.spec()) }, weights, meta, producer: g.producer, opset: g.opset, irVersion: g.irVersion };
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
  // what ONNX holds of a layer must agree; what it has no place for (init, a Dropout's exact rate) comes from the metadata
  const structure = (l: LayerSpec) => {
    const o = l as unknown as Record<string, unknown>;
    return JSON.stringify(l.type === 'dropout' ? [] : Object.keys(o).filter((k) => k !== 'init' && o[k] !== undefined).sort().map((k) => [k, o[k]]));
  };
  if (!saved.every((s, k) => s !== null && typeof s === 'object' && s.type === fromGraph[k].type && structure(s) === structure(fromGraph[k]))) return null;
  try {
    return saved.map((s, k) => layerFromSpec(s, `layer ${k}`));
  } catch (e) {
    if (e instanceof SimdnetError) return null;
    throw e;
  }
}

// ---- attributes and constants -----------------------------------------------------------------------------

function attributes(node: NodeMsg, bad: Fail) {
  const byName = new Map<string, AttributeMsg>(node.attributes.map((a) => [a.name, a]));
  return {
    has: (key: string) => byName.has(key),
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
    ints(key: string, dflt: readonly number[]): number[] {
      const a = byName.get(key);
      if (!a) return [...dflt];
      if (!a.ints.every(Number.isSafeInteger) || (a.ints.length === 0 && a.i !== undefined)) bad(`attribute ${key} is not a list of integers`, 'E_FILE_CORRUPT');
      return a.ints;
    },
    string(key: string, dflt: string): string {
      const a = byName.get(key);
      if (!a) return dflt;
      if (a.s === undefined) bad(`attribute ${key} is not a string`, 'E_FILE_CORRUPT');
      return a.s!;
    },
    tensor(key: string): TensorMsg | undefined {
      return byName.get(key)?.t;
    },
    floats(key: string): number[] | undefined {
      return byName.get(key)?.floats;
    },
    names: () => [...byName.keys()],
  };
}
type Attributes = ReturnType<typeof attributes>;

/** A Constant node's value as a tensor (PyTorch writes `value`; value_float(s) and value_int(s) since opset 12). */
function constantValue(node: NodeMsg, attr: Attributes, bad: Fail): TensorMsg {
  const base = { name: node.outputs[0], floatData: [], rawData: null, otherData: false, external: null };
  const names = attr.names();
  if (names.length !== 1) bad(`has attributes (${names.join(', ')}), expected one value`, 'E_FILE_CORRUPT');
  switch (names[0]) {
    case 'value': {
      const t = attr.tensor('value') ?? bad('attribute value is not a tensor', 'E_FILE_CORRUPT');
      return { ...t, name: node.outputs[0] };
    }
    case 'value_float':
      return { ...base, dims: [], dataType: DTYPE.float, floatData: [attr.float('value_float', 0)] };
    case 'value_floats': {
      const f = attr.floats('value_floats') ?? [];
      return { ...base, dims: [f.length], dataType: DTYPE.float, floatData: f };
    }
    case 'value_int':
      return { ...base, dims: [], dataType: DTYPE.int64, int64Data: [attr.int('value_int', 0)] };
    case 'value_ints': {
      const v = attr.ints('value_ints', []);
      return { ...base, dims: [v.length], dataType: DTYPE.int64, int64Data: v };
    }
    default:
      return bad(`attribute ${names[0]} is not supported (a Constant of a float or int64 tensor is)`);
  }
}

/** An [h, w] attribute (strides, output_padding, kernel_shape): `dflt` for each when absent, null = required. */
function pair(attr: Attributes, key: string, bad: Fail, dflt: number | null = 1): Pair {
  if (!attr.has(key) && dflt === null) bad(`has no ${key}`, 'E_FILE_CORRUPT');
  const v = attr.ints(key, [dflt ?? 1, dflt ?? 1]);
  if (v.length !== 2) bad(`attribute ${key} = (${v.join(', ')}): only 2-D (two values) is supported`);
  if (v.some((x) => x < (key === 'output_padding' ? 0 : 1))) bad(`attribute ${key} = (${v.join(', ')}) is not valid`, 'E_FILE_CORRUPT');
  return [v[0], v[1]];
}

function noDilation(attr: Attributes, bad: Fail) {
  const d = attr.ints('dilations', [1, 1]);
  if (d.some((x) => x !== 1)) bad(`attribute dilations = (${d.join(', ')}) is not supported (only 1: no dilated convolutions)`);
}

/** pads [top, left, bottom, right] (ONNX's begins then ends) for auto_pad NOTSET or VALID. */
function explicitPads(attr: Attributes, autoPad: string, bad: Fail): Pads {
  if (autoPad === 'VALID') return [0, 0, 0, 0];
  if (autoPad !== 'NOTSET') bad(`attribute auto_pad = ${autoPad} is not supported (only NOTSET with pads, VALID${autoPad === 'SAME_LOWER' ? ', and SAME_UPPER for a Conv' : ''})`);
  const p = attr.ints('pads', [0, 0, 0, 0]);
  if (p.length !== 4) bad(`attribute pads = (${p.join(', ')}): only 2-D (four values) is supported`);
  if (p.some((x) => x < 0)) bad(`attribute pads = (${p.join(', ')}) is negative`, 'E_FILE_CORRUPT');
  return [p[0], p[1], p[2], p[3]];
}

function addPads(a: Pads, b: Pads | null): Pads {
  return b ? [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]] : a;
}

/** ConvTranspose's output_shape: ONNX derives the pads from it; accepted when they are the pads given (if any). */
function padsForOutputShape(outputShape: number[], given: Pads, cur: number[], kernel: Pair, stride: Pair, outputPadding: Pair, hasPads: boolean, bad: Fail): Pads {
  const want = outputShape.length === 4 ? outputShape.slice(2) : outputShape;
  const total = [0, 1].map((k) => stride[k] * (cur[k + 1] - 1) + outputPadding[k] + kernel[k] - want[k]);
  const derived: Pads = [total[0] - Math.floor(total[0] / 2), total[1] - Math.floor(total[1] / 2), Math.floor(total[0] / 2), Math.floor(total[1] / 2)];
  if (want.length !== 2 || total.some((t) => !(t >= 0)) || (hasPads && !sameShape(derived, given)))
    bad(`attribute output_shape = (${outputShape.join(', ')}) is not supported: it does not agree with the input (N, ${cur.join(', ')}), the kernel, strides${hasPads ? ', pads' : ''} and output_padding (give pads and no output_shape)`);
  return derived;
}

/** A Reshape's target (with its batch entry) as a per-sample reshape; 0 copies the input's size at that place. */
function reshapeSpec(target: number[], cur: number[] | null, bad: Fail): LayerSpec | null {
  if (target.length < 2 || (target[0] !== 0 && target[0] !== -1)) bad(`shape (${target.join(', ')}) is not supported (expected (0 or -1 for the batch, then the per-sample shape))`);
  const rest = target.slice(1).map((d, k) => {
    if (d !== 0) return d;
    if (!cur || k >= cur.length) bad(`shape (${target.join(', ')}) copies a size (0) the input does not have`);
    return cur![k];
  });
  if (rest.some((d) => d < -1) || rest.filter((d) => d === -1).length > (target[0] === 0 ? 1 : 0)) bad(`shape (${target.join(', ')}) is not a valid per-sample shape (one -1 at most, and only with a batch entry 0)`, 'E_SHAPE');
  return { type: 'reshape', shape: rest };
}

/** A Reshape's target sizes (batch first, 0 or -1) resolved against the per-sample shape it reads: 0 copies that
 *  axis's size, -1 takes the rest. Returns the per-sample sizes. */
function sizesOf(target: number[], from: number[], bad: (why: string) => never): number[] {
  if (target[0] !== 0 && target[0] !== -1) bad(`shape (${target.join(', ')}) is not supported (expected 0 or -1 for the batch)`);
  const sizes = target.slice(1).map((d, k) => (d === 0 ? from[k] ?? -2 : d));
  const total = from.reduce((n, d) => n * d, 1);
  const known = sizes.filter((d) => d !== -1).reduce((n, d) => n * d, 1);
  if (target[0] === -1) {
    // the batch takes the rest: the per-sample sizes must be all there
    if (sizes.some((d) => d < 1) || known !== total) bad(`shape (${target.join(', ')}) does not hold a sample of ${total} values`);
    return sizes;
  }
  if (sizes.some((d) => d < -1 || d === 0) || sizes.filter((d) => d === -1).length > 1 || total % known !== 0) bad(`shape (${target.join(', ')}) does not hold a sample of ${total} values`);
  const out = sizes.map((d) => (d === -1 ? total / known : d));
  if (out.reduce((n, d) => n * d, 1) !== total) bad(`shape (${target.join(', ')}) does not hold a sample of ${total} values`);
  return out;
}

/** The layer that a view of a [C, H, W] sample as `six` (5 per-sample axes), a Transpose by `perm` (6 axes, batch
 *  first) and a view as `out` compute, when it is PixelUnshuffle2D or PixelShuffle2D: checked element by element
 *  (where each output value comes from), so any spelling of either is read and nothing else. */
function shuffleSpec(cur: number[], six: number[], perm: number[], out: number[]): LayerSpec | null {
  const [C, H, W] = cur;
  const n = C * H * W;
  if (six.length !== 5 || perm.length !== 6 || perm[0] !== 0 || out.length !== 3) return null;
  if ([...perm].sort((a, b) => a - b).some((p, k) => p !== k)) return null;
  if (six.reduce((m, d) => m * d, 1) !== n || out.reduce((m, d) => m * d, 1) !== n) return null;
  const axes = perm.slice(1).map((p) => p - 1);
  const stride = six.map((_, k) => six.slice(k + 1).reduce((m, d) => m * d, 1));
  const dims = axes.map((a) => six[a]);
  const [OC, OH, OW] = out;
  // each value of the output (the transposed sample, contiguous) against where `from` says it comes from; the
  // transposed index is counted along (nothing allocated: the sample's size is the file's word)
  const matches = (from: (c: number, h: number, w: number) => number) => {
    const idx = [0, 0, 0, 0, 0];
    for (let c = 0; c < OC; c++)
      for (let h = 0; h < OH; h++)
        for (let w = 0; w < OW; w++) {
          let off = 0;
          for (let k = 0; k < 5; k++) off += idx[k] * stride[axes[k]];
          if (off !== from(c, h, w)) return false;
          for (let k = 4; k >= 0 && ++idx[k] === dims[k]; k--) idx[k] = 0;
        }
    return true;
  };
  // PyTorch's: unshuffle output (c·r² + i·r + j, h, w) is input (c, h·r + i, w·r + j); shuffle the other way
  const ru = Math.round(Math.sqrt(OC / C)), rs = Math.round(Math.sqrt(C / OC));
  if (ru > 1 && C * ru * ru === OC && OH * ru === H && OW * ru === W && matches((c, h, w) => {
    const k = c % (ru * ru);
    return (Math.floor(c / (ru * ru)) * H + h * ru + Math.floor(k / ru)) * W + w * ru + (k % ru);
  })) return { type: 'pixel-unshuffle2d', factor: ru };
  if (rs > 1 && OC * rs * rs === C && H * rs === OH && W * rs === OW && matches((c, h, w) => ((c * rs * rs + (h % rs) * rs + (w % rs)) * H + Math.floor(h / rs)) * W + Math.floor(w / rs))) return { type: 'pixel-shuffle2d', factor: rs };
  return null;
}

/** A layer's output shape, by the layer's own rule (the conv and pool formulas are src/layers/shapes.ts's). */
function nextShape(l: LayerSpec, s: number[], at: string, fail: Fail): number[] {
  try {
    return [...layerFromSpec(l, at).outputShape(s, at)];
  } catch (e) {
    if (e instanceof SimdnetError) fail(e.message.startsWith(at) ? e.message : `${at}: ${e.message}`, e.code);
    throw e;
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, k) => d === b[k]);
}

// ---- tensors ----------------------------------------------------------------------------------------------

/** A tensor's values as float32, checked: type, storage, count, finiteness. */
function tensorValues(t: TensorMsg, where: string, fail: Fail): Float32Array {
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
  } else if (t.dataType === DTYPE.float && (t.floatData.length > 0 || count === 0)) {
    if (t.floatData.length !== count) fail(`${where} has ${t.floatData.length} values in float_data, its shape ${showShape(t.dims)} needs ${count}`, 'E_FILE_CORRUPT');
    values = Float32Array.from(t.floatData);
  } else fail(`${where} has no data (expected raw_data${t.dataType === DTYPE.float ? ' or float_data' : ''} with ${count} values)${t.otherData ? '; its values are in a field of another type' : ''}`);
  for (let i = 0; i < values!.length; i++) if (!Number.isFinite(values![i])) fail(`${where}: value ${i} is ${values![i]}, expected finite numbers`, 'E_FILE_CORRUPT');
  return values!;
}

/** An int64 tensor's values (raw_data or int64_data), each a safe integer. */
function int64Values(t: TensorMsg, where: string, fail: Fail): number[] {
  if (t.dataType !== DTYPE.int64) fail(`${where} is ${dtypeName(t.dataType)}, expected int64`, 'E_FILE_CORRUPT');
  const count = t.dims.reduce((n, d) => n * d, 1);
  let values: number[];
  if (t.rawData) {
    if (t.rawData.length !== count * 8) fail(`${where} has ${t.rawData.length} bytes of raw_data, its shape ${showShape(t.dims)} needs ${count * 8}`, 'E_FILE_CORRUPT');
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.length);
    values = Array.from({ length: count }, (_, i) => Number(view.getBigInt64(8 * i, true)));
  } else values = t.int64Data ?? [];
  if (values.length !== count) fail(`${where} has ${values.length} values, its shape ${showShape(t.dims)} needs ${count}`, 'E_FILE_CORRUPT');
  if (!values.every(Number.isSafeInteger)) fail(`${where} holds an integer beyond ±2^53`, 'E_FILE_CORRUPT');
  return values;
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
