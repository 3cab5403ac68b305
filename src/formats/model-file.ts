// The model file: one format for Node and the browser, validated on load. Layout (little-endian):
//
//   0      8 bytes   magic "SIMDNET\0"
//   8      u32       format version (1)
//   12     u32       H, byte length of the JSON header
//   16     H bytes   JSON header (UTF-8, space-padded so the data starts 4-aligned):
//                    { inputWidth, inputShape?, layers: [{type, in, out, init} | {type} | …], blocks: [{name, length}],
//                    meta } — inputShape (e.g. [1, 28, 28]) only when it is not [inputWidth]: files of dense models
//                    and of versions before it are the same bytes, and read as [inputWidth]
//   16+H   f32 × Σ length   the blocks, in header order; "weights" is the parameter block as ParamLayout lays
//                    it out (each Linear's W (IN×OUT, row-major) then b (OUT), layer by layer)
//   end−4  u32       CRC-32 of every byte before it
//
// No timestamps: the same weights and header give the same bytes. Checkpoints use the same container with
// more blocks (optimizer state) and a training section in `meta`.

import { crc32 } from './crc32.js';
import { SimdnetError, type ErrorCode } from '../errors.js';
import type { LayerSpec } from '../layers/index.js';
import type { Backend } from '../backend/backend.js';
import { Sequential } from '../model.js';
import { inputShapeField, specChain, type ModelSpec } from '../model-spec.js';

export const MODEL_MAGIC = 'SIMDNET\0';
export const MODEL_VERSION = 1;

export interface ModelFile {
  spec: ModelSpec;
  /** Named f32 blocks; a model file has one, "weights". */
  blocks: Record<string, Float32Array>;
  /** Free-form JSON (training settings, metrics); must be deterministic. */
  meta: Record<string, unknown>;
}

export function encodeModelFile(file: ModelFile): Uint8Array<ArrayBuffer> {
  const names = Object.keys(file.blocks);
  const header = {
    inputWidth: file.spec.inputWidth,
    ...(file.spec.inputShape ? inputShapeField(file.spec.inputShape) : {}),
    layers: file.spec.layers,
    blocks: names.map((name) => ({ name, length: file.blocks[name].length })),
    meta: file.meta,
  };
  let json = JSON.stringify(header);
  while ((16 + utf8Length(json)) % 4 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const floats = names.reduce((n, name) => n + file.blocks[name].length, 0);
  const bytes = new Uint8Array(16 + headerBytes.length + floats * 4 + 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 8; i++) bytes[i] = MODEL_MAGIC.charCodeAt(i);
  view.setUint32(8, MODEL_VERSION, true);
  view.setUint32(12, headerBytes.length, true);
  bytes.set(headerBytes, 16);
  let at = 16 + headerBytes.length;
  for (const name of names) {
    for (const v of file.blocks[name]) {
      view.setFloat32(at, v, true);
      at += 4;
    }
  }
  view.setUint32(at, crc32(bytes.subarray(0, at)), true);
  return bytes;
}

/** Parses and validates a model file; throws a SimdnetError saying what is wrong and where. */
export function decodeModelFile(bytes: Uint8Array, name = 'model file'): ModelFile {
  const fail = (why: string, code: ErrorCode = 'E_FILE_CORRUPT'): never => {
    throw new SimdnetError(`${name}: ${why}`, code);
  };
  if (!(bytes instanceof Uint8Array)) fail('expected the file contents as bytes', 'E_INVALID');
  if (bytes.length < 20) fail(`truncated: ${bytes.length} bytes, a model file has at least 20`);
  for (let i = 0; i < 8; i++) if (bytes[i] !== MODEL_MAGIC.charCodeAt(i)) fail(`not a simdnet model file (bad magic number at byte ${i})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== MODEL_VERSION) fail(`unsupported format version ${version}, this simdnet reads version ${MODEL_VERSION}`, 'E_UNSUPPORTED');
  const H = view.getUint32(12, true);
  if (16 + H + 4 > bytes.length) fail(`truncated: the header says ${H} bytes of JSON at byte 16, the file has ${bytes.length} bytes`);
  const stored = view.getUint32(bytes.length - 4, true);
  const actual = crc32(bytes.subarray(0, bytes.length - 4));
  // the header is untrusted: bounded in size and nesting before it is parsed (200,000 nested brackets overflowed
  // the stack of whatever walked it next)
  if (H > MAX_HEADER_BYTES) fail(`the JSON header is ${H} bytes, more than the ${MAX_HEADER_BYTES} a model file may have`);
  const depth = jsonDepth(bytes.subarray(16, 16 + H));
  if (depth > MAX_HEADER_DEPTH) fail(`the JSON header nests ${depth} levels deep, more than the ${MAX_HEADER_DEPTH} a model file may have`);
  let header: { inputWidth?: unknown; inputShape?: unknown; layers?: unknown; blocks?: unknown; meta?: unknown } = {};
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(16, 16 + H)));
  } catch (e) {
    fail(stored !== actual ? `checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)}): the file is corrupt or truncated` : `header at bytes 16..${16 + H} is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object') fail('header is not a JSON object');
  const { inputWidth, inputShape, layers, blocks, meta } = header;
  if (!Array.isArray(blocks) || !blocks.every((b) => b && typeof b.name === 'string' && Number.isInteger(b.length) && b.length >= 0)) fail('header.blocks: expected a list of {name, length}');
  const floats = (blocks as { length: number }[]).reduce((n, b) => n + b.length, 0);
  const expectedSize = 16 + H + floats * 4 + 4;
  if (bytes.length !== expectedSize) fail(`${bytes.length < expectedSize ? 'truncated' : 'trailing data'}: the header declares ${floats} floats, so ${expectedSize} bytes, the file has ${bytes.length}`);
  if (stored !== actual) fail(`checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)}): the file is corrupt`);

  const { spec, paramCount } = validateSpec(inputWidth, inputShape, layers, fail);
  const out: ModelFile = { spec, blocks: {}, meta: meta && typeof meta === 'object' ? (meta as Record<string, unknown>) : {} };
  let at = 16 + H;
  for (const b of blocks as { name: string; length: number }[]) {
    const data = new Float32Array(b.length);
    for (let i = 0; i < b.length; i++, at += 4) {
      const v = view.getFloat32(at, true);
      if (!Number.isFinite(v)) fail(`block '${b.name}' holds a non-finite value (${v}) at index ${i} (byte ${at})`);
      data[i] = v;
    }
    out.blocks[b.name] = data;
  }
  const weights = out.blocks.weights;
  if (!weights) fail("no 'weights' block");
  if (weights.length !== paramCount) fail(`the layers declare ${paramCount} parameters, the 'weights' block holds ${weights.length}`);
  return out;
}

function validateSpec(inputWidth: unknown, inputShape: unknown, layers: unknown, fail: (why: string) => never): { spec: ModelSpec; paramCount: number } {
  if (!Number.isInteger(inputWidth) || (inputWidth as number) <= 0) fail(`header.inputWidth: expected a positive integer, got ${JSON.stringify(inputWidth)}`);
  if (!Array.isArray(layers) || layers.length === 0) fail('header.layers: expected a non-empty list');
  const spec: ModelSpec = { inputWidth: inputWidth as number, ...(inputShape === undefined ? {} : { inputShape: inputShape as number[] }), layers: layers as LayerSpec[] };
  try {
    return { spec, paramCount: specChain(spec, 'header').layout.total };
  } catch (e) {
    return fail(`shapes do not match the declared layers: ${(e as Error).message}`);
  }
}

/** Limits of the JSON header (a real one is a few hundred bytes and 4 levels deep). */
export const MAX_HEADER_BYTES = 1 << 20;
export const MAX_HEADER_DEPTH = 32;

/** The deepest [ / { nesting of JSON text, brackets inside strings not counted. */
function jsonDepth(text: Uint8Array): number {
  let depth = 0, max = 0, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

/** The model file bytes of a model's current weights. */
export function serializeModel(model: Sequential, meta: Record<string, unknown> = {}): Uint8Array<ArrayBuffer> {
  return encodeModelFile({ spec: model.spec(), blocks: { weights: model.getWeights() }, meta });
}

/** A model on `backend` from model file bytes (validated first: never a partial model). */
export function deserializeModel(bytes: Uint8Array, backend: Backend, name?: string): { model: Sequential; meta: Record<string, unknown> } {
  const file = decodeModelFile(bytes, name);
  const model = Sequential.fromSpec(file.spec, { backend });
  model.setWeights(file.blocks.weights);
  return { model, meta: file.meta };
}
