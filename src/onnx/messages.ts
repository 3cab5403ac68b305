// The ONNX messages simdnet reads and writes, as plain objects, with their field numbers from onnx.proto
// (github.com/onnx/onnx/blob/main/onnx/onnx.proto). Fields simdnet does not use are skipped on read.

import { SimdnetError } from '../errors.js';
import { WIRE, Writer, expectWire, fieldString, packedInts, readFields, type Field } from './protobuf.js';

/** TensorProto.DataType values that matter here. */
export const DTYPE = { float: 1, int64: 7, float16: 10, double: 11 } as const;
export const DTYPE_NAMES: Record<number, string> = { 1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16' };

export interface TensorMsg {
  name: string;
  dims: number[];
  dataType: number;
  /** float_data (packed, as ONNX declares it, or one field per value) */
  floatData: ArrayLike<number>;
  rawData: Uint8Array | null;
  /** int64_data (shapes, pads and sizes that exporters write as int64 tensors) */
  int64Data?: number[];
  /** other typed payloads that are present (int32_data, int64_data, double_data, …): only so an error can say so */
  otherData: boolean;
  /** external_data entries (location, offset, …) or data_location = EXTERNAL */
  external: { key: string; value: string }[] | null;
}

export interface AttributeMsg {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: string;
  /** a tensor attribute (a Constant node's value) */
  t?: TensorMsg;
  floats?: number[];
  ints: number[];
}

export interface NodeMsg {
  inputs: string[];
  outputs: string[];
  name: string;
  opType: string;
  domain: string;
  attributes: AttributeMsg[];
}

/** A dimension: a number (dim_value), a name (dim_param), or null (neither). */
export type Dim = number | string | null;

export interface ValueInfoMsg {
  name: string;
  /** null when the value has no tensor type */
  elemType: number | null;
  /** null when the tensor type has no shape */
  shape: Dim[] | null;
}

export interface GraphMsg {
  name: string;
  nodes: NodeMsg[];
  initializers: TensorMsg[];
  inputs: ValueInfoMsg[];
  outputs: ValueInfoMsg[];
  sparseInitializers: number;
}

export interface ModelMsg {
  irVersion: number | null;
  producerName: string;
  producerVersion: string;
  opsets: { domain: string; version: number }[];
  graph: GraphMsg | null;
  metadata: { key: string; value: string }[];
  hasFunctions: boolean;
}

export const ATTR = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

// ---- decoding ------------------------------------------------------------------------------------------

const W = 'ONNX';

function int(f: Field, what: string): number {
  expectWire(f, WIRE.varint, what);
  return f.int;
}

function sub(f: Field, what: string): Field[] {
  expectWire(f, WIRE.bytes, what);
  return readFields(f.bytes, what);
}

export function decodeModel(bytes: Uint8Array): ModelMsg {
  const m: ModelMsg = { irVersion: null, producerName: '', producerVersion: '', opsets: [], graph: null, metadata: [], hasFunctions: false };
  for (const f of readFields(bytes, W)) {
    if (f.no === 1) m.irVersion = int(f, 'ModelProto.ir_version');
    else if (f.no === 2) m.producerName = fieldString(f, 'ModelProto.producer_name');
    else if (f.no === 3) m.producerVersion = fieldString(f, 'ModelProto.producer_version');
    else if (f.no === 7) m.graph = decodeGraph(sub(f, 'ModelProto.graph'));
    else if (f.no === 8) {
      const op = { domain: '', version: 0 };
      for (const g of sub(f, 'ModelProto.opset_import')) {
        if (g.no === 1) op.domain = fieldString(g, 'OperatorSetIdProto.domain');
        else if (g.no === 2) op.version = int(g, 'OperatorSetIdProto.version');
      }
      m.opsets.push(op);
    } else if (f.no === 14) m.metadata.push(decodeEntry(sub(f, 'ModelProto.metadata_props'), 'ModelProto.metadata_props'));
    else if (f.no === 25) m.hasFunctions = true;
  }
  return m;
}

function decodeEntry(fields: Field[], what: string): { key: string; value: string } {
  const e = { key: '', value: '' };
  for (const f of fields) {
    if (f.no === 1) e.key = fieldString(f, `${what}.key`);
    else if (f.no === 2) e.value = fieldString(f, `${what}.value`);
  }
  return e;
}

function decodeGraph(fields: Field[]): GraphMsg {
  const g: GraphMsg = { name: '', nodes: [], initializers: [], inputs: [], outputs: [], sparseInitializers: 0 };
  for (const f of fields) {
    if (f.no === 1) g.nodes.push(decodeNode(sub(f, 'NodeProto')));
    else if (f.no === 2) g.name = fieldString(f, 'GraphProto.name');
    else if (f.no === 5) g.initializers.push(decodeTensor(sub(f, 'TensorProto')));
    else if (f.no === 11) g.inputs.push(decodeValueInfo(sub(f, 'GraphProto.input')));
    else if (f.no === 12) g.outputs.push(decodeValueInfo(sub(f, 'GraphProto.output')));
    else if (f.no === 15) g.sparseInitializers++;
  }
  return g;
}

function decodeNode(fields: Field[]): NodeMsg {
  const n: NodeMsg = { inputs: [], outputs: [], name: '', opType: '', domain: '', attributes: [] };
  for (const f of fields) {
    if (f.no === 1) n.inputs.push(fieldString(f, 'NodeProto.input'));
    else if (f.no === 2) n.outputs.push(fieldString(f, 'NodeProto.output'));
    else if (f.no === 3) n.name = fieldString(f, 'NodeProto.name');
    else if (f.no === 4) n.opType = fieldString(f, 'NodeProto.op_type');
    else if (f.no === 7) n.domain = fieldString(f, 'NodeProto.domain');
    else if (f.no === 5) {
      const a: AttributeMsg = { name: '', type: 0, ints: [] };
      for (const g of sub(f, 'AttributeProto')) {
        if (g.no === 1) a.name = fieldString(g, 'AttributeProto.name');
        else if (g.no === 20) a.type = int(g, 'AttributeProto.type');
        else if (g.no === 3) a.i = int(g, 'AttributeProto.i');
        else if (g.no === 2) {
          expectWire(g, WIRE.fixed32, 'AttributeProto.f');
          a.f = new DataView(g.bytes.buffer, g.bytes.byteOffset, 4).getFloat32(0, true);
        } else if (g.no === 4) {
          expectWire(g, WIRE.bytes, 'AttributeProto.s');
          a.s = new TextDecoder().decode(g.bytes);
        } else if (g.no === 5) a.t = decodeTensor(sub(g, 'AttributeProto.t'));
        else if (g.no === 7) for (const v of packedFloats(g, 'AttributeProto.floats')) (a.floats ??= []).push(v);
        else if (g.no === 8) for (const v of packedInts(g, 'AttributeProto.ints')) a.ints.push(v);
      }
      n.attributes.push(a);
    }
  }
  return n;
}

function decodeTensor(fields: Field[]): TensorMsg {
  const t: TensorMsg = { name: '', dims: [], dataType: 0, floatData: [], rawData: null, otherData: false, external: null };
  const floats: ArrayLike<number>[] = [];
  for (const f of fields) {
    if (f.no === 1) for (const d of packedInts(f, 'TensorProto.dims')) t.dims.push(d);
    else if (f.no === 2) t.dataType = int(f, 'TensorProto.data_type');
    else if (f.no === 8) t.name = fieldString(f, 'TensorProto.name');
    else if (f.no === 9) {
      expectWire(f, WIRE.bytes, 'TensorProto.raw_data');
      t.rawData = f.bytes;
    } else if (f.no === 4) floats.push(packedFloats(f, 'TensorProto.float_data'));
    else if (f.no === 7) {
      for (const v of packedInts(f, 'TensorProto.int64_data')) (t.int64Data ??= []).push(v);
      t.otherData = true;
    } else if (f.no === 5 || f.no === 6 || f.no === 10 || f.no === 11) t.otherData = true;
    else if (f.no === 13) (t.external ??= []).push(decodeEntry(sub(f, 'TensorProto.external_data'), 'TensorProto.external_data'));
    else if (f.no === 14 && int(f, 'TensorProto.data_location') === 1) t.external ??= [];
  }
  if (floats.length === 1) t.floatData = floats[0];
  else if (floats.length > 1) {
    const all = new Float32Array(floats.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of floats) all.set(a, (at += a.length) - a.length);
    t.floatData = all;
  }
  return t;
}

/** A repeated float field: packed (one length-delimited field) or one fixed32 each. */
function packedFloats(f: Field, what: string): Float32Array {
  if (f.wire === WIRE.fixed32) return Float32Array.of(new DataView(f.bytes.buffer, f.bytes.byteOffset, 4).getFloat32(0, true));
  expectWire(f, WIRE.bytes, what);
  if (f.bytes.length % 4 !== 0) throw new SimdnetError(`${W}: corrupt protobuf at byte ${f.at}: packed ${what} of ${f.bytes.length} bytes, not a multiple of 4`, 'E_FILE_CORRUPT');
  const view = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.length);
  return Float32Array.from({ length: f.bytes.length / 4 }, (_, i) => view.getFloat32(4 * i, true));
}

function decodeValueInfo(fields: Field[]): ValueInfoMsg {
  const v: ValueInfoMsg = { name: '', elemType: null, shape: null };
  for (const f of fields) {
    if (f.no === 1) v.name = fieldString(f, 'ValueInfoProto.name');
    else if (f.no === 2)
      for (const g of sub(f, 'TypeProto'))
        if (g.no === 1) {
          v.elemType = 0;
          for (const h of sub(g, 'TypeProto.Tensor')) {
            if (h.no === 1) v.elemType = int(h, 'TypeProto.Tensor.elem_type');
            else if (h.no === 2) {
              v.shape = [];
              for (const d of sub(h, 'TensorShapeProto'))
                if (d.no === 1) {
                  let dim: Dim = null;
                  for (const e of sub(d, 'TensorShapeProto.Dimension')) {
                    if (e.no === 1) dim = int(e, 'Dimension.dim_value');
                    else if (e.no === 2) dim = fieldString(e, 'Dimension.dim_param');
                  }
                  v.shape.push(dim);
                }
            }
          }
        }
  }
  return v;
}

// ---- encoding ------------------------------------------------------------------------------------------

export function encodeModel(m: { irVersion: number; producerName: string; opsets: { domain: string; version: number }[]; graph: GraphMsg; metadata: { key: string; value: string }[] }): Uint8Array<ArrayBuffer> {
  const w = new Writer().int(1, m.irVersion).string(2, m.producerName);
  w.message(7, encodeGraph(m.graph));
  for (const op of m.opsets) w.message(8, new Writer().string(1, op.domain).int(2, op.version));
  for (const e of m.metadata) w.message(14, new Writer().string(1, e.key).string(2, e.value));
  return w.finish();
}

function encodeGraph(g: GraphMsg): Writer {
  const w = new Writer();
  for (const n of g.nodes) w.message(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, encodeTensor(t));
  for (const v of g.inputs) w.message(11, encodeValueInfo(v));
  for (const v of g.outputs) w.message(12, encodeValueInfo(v));
  return w;
}

function encodeNode(n: NodeMsg): Writer {
  const w = new Writer();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const a of n.attributes) {
    const aw = new Writer().string(1, a.name);
    if (a.type === ATTR.int) aw.int(3, a.i!);
    else if (a.type === ATTR.float) aw.float(2, a.f!);
    else if (a.type === ATTR.ints) aw.ints(8, a.ints);
    else if (a.type === ATTR.string) aw.string(4, a.s!);
    else throw new SimdnetError(`export: attribute type ${a.type} is not written by this encoder`, 'E_UNSUPPORTED');
    w.message(5, aw.int(20, a.type));
  }
  return w;
}

function encodeTensor(t: TensorMsg): Writer {
  const w = new Writer().ints(1, t.dims).int(2, t.dataType).string(8, t.name);
  if (t.rawData) w.bytes(9, t.rawData);
  return w;
}

function encodeValueInfo(v: ValueInfoMsg): Writer {
  const shape = new Writer();
  for (const d of v.shape ?? []) shape.message(1, typeof d === 'string' ? new Writer().string(2, d) : new Writer().int(1, d ?? 0));
  const tensor = new Writer().int(1, v.elemType ?? DTYPE.float).message(2, shape);
  return new Writer().string(1, v.name).message(2, new Writer().message(1, tensor));
}
