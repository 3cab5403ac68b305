// A small protobuf wire-format codec: enough for the ONNX messages simdnet reads and writes (varints,
// length-delimited fields, fixed32/fixed64). No schema compiler and no dependency: browser-safe, and every
// length is checked against the bytes that are really there, so a corrupt length can neither allocate nor hang.

import { SimdnetError } from '../errors.js';

export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

/** One field as read off the wire. `bytes` is a view into the input (never a copy). */
export interface Field {
  no: number;
  wire: number;
  /** varint (as int64: negative for two's-complement values), or a fixed32/fixed64 bit pattern as a number */
  int: number;
  bytes: Uint8Array<ArrayBufferLike>;
  /** byte offset of the field's tag in the message, for error messages */
  at: number;
}

/** Reading stops here: a message bigger than this is refused (a real MNIST MLP is a few MB). */
export const MAX_MESSAGE_BYTES = 1 << 30;
/** Fields per message (each read field is an object: a file of a billion 5-byte fields must not become a billion
 *  objects). ONNX packs its repeated numbers, so real messages have a few thousand at most. */
export const MAX_FIELDS = 1 << 20;

const EMPTY: Uint8Array<ArrayBufferLike> = new Uint8Array(0);

/** The fields of one message, in wire order; throws a SimdnetError naming `what` and the byte offset on bad wire data. */
export function readFields(buf: Uint8Array, what: string): Field[] {
  if (buf.length > MAX_MESSAGE_BYTES) throw new SimdnetError(`${what}: ${buf.length} bytes, more than the ${MAX_MESSAGE_BYTES} this reader takes`, 'E_FILE_CORRUPT');
  const fields: Field[] = [];
  let pos = 0;
  const fail = (why: string, at: number): never => {
    throw new SimdnetError(`${what}: corrupt or truncated protobuf at byte ${at}: ${why}`, 'E_FILE_CORRUPT');
  };
  const varint = (): number => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (pos >= buf.length) fail('a varint runs past the end', pos);
      const b = buf[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return Number(BigInt.asIntN(64, result));
    }
    return fail('a varint longer than 10 bytes', pos);
  };
  while (pos < buf.length) {
    const at = pos;
    const tag = varint();
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    if (tag < 0 || no === 0 || no > 536870911) fail(`field number ${no} is not valid`, at);
    let int = 0;
    let bytes = EMPTY;
    if (wire === WIRE.varint) int = varint();
    else if (wire === WIRE.bytes) {
      const start = pos;
      const len = varint();
      if (len < 0 || len > buf.length - pos) fail(`field ${no} declares ${len} bytes, ${buf.length - pos} are left`, start);
      bytes = buf.subarray(pos, pos + len);
      pos += len;
    } else if (wire === WIRE.fixed32 || wire === WIRE.fixed64) {
      const n = wire === WIRE.fixed32 ? 4 : 8;
      if (pos + n > buf.length) fail(`field ${no} needs ${n} bytes, ${buf.length - pos} are left`, at);
      bytes = buf.subarray(pos, pos + n);
      pos += n;
    } else fail(`field ${no} has wire type ${wire} (groups and unknown types are not read)`, at);
    if (fields.length === MAX_FIELDS) throw new SimdnetError(`${what}: more than ${MAX_FIELDS} fields in one message (a packed field would be one); the file is corrupt or not one simdnet reads`, 'E_FILE_CORRUPT');
    fields.push({ no, wire, int, bytes, at });
  }
  return fields;
}

/** Checks that a field has the wire type its schema says (a corrupt tag can give any). */
export function expectWire(f: Field, wire: number, what: string): void {
  if (f.wire !== wire) throw new SimdnetError(`${what}: corrupt protobuf at byte ${f.at}: field ${f.no} has wire type ${f.wire}, expected ${wire}`, 'E_FILE_CORRUPT');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
export function fieldString(f: Field, what: string): string {
  expectWire(f, WIRE.bytes, what);
  try {
    return utf8.decode(f.bytes);
  } catch {
    throw new SimdnetError(`${what}: corrupt protobuf at byte ${f.at}: field ${f.no} is not valid UTF-8 text`, 'E_FILE_CORRUPT');
  }
}

/** A repeated int64 field: packed (one length-delimited field) or not (one varint each). */
export function packedInts(f: Field, what: string): number[] {
  if (f.wire === WIRE.varint) return [f.int];
  expectWire(f, WIRE.bytes, what);
  // a packed run is a message of varints with no tags: read it as such
  const out: number[] = [];
  let pos = 0;
  const b = f.bytes;
  while (pos < b.length) {
    let result = 0n;
    let done = false;
    for (let shift = 0n; shift < 70n && pos < b.length; shift += 7n) {
      const c = b[pos++];
      result |= BigInt(c & 0x7f) << shift;
      if ((c & 0x80) === 0) {
        done = true;
        break;
      }
    }
    if (!done) throw new SimdnetError(`${what}: corrupt protobuf at byte ${f.at}: a packed varint runs past its field`, 'E_FILE_CORRUPT');
    out.push(Number(BigInt.asIntN(64, result)));
  }
  return out;
}

// ---- writing -------------------------------------------------------------------------------------------

/** Builds one message; nested messages are written as their own Writer's bytes. */
export class Writer {
  private chunks: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  private rawVarint(n: number): void {
    // n is a non-negative safe integer or a small negative int64 (10 bytes, two's complement)
    let v = BigInt.asUintN(64, BigInt(n));
    const out: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      out.push(byte);
    } while (v !== 0n);
    this.push(Uint8Array.from(out));
  }

  private tag(no: number, wire: number): void {
    this.rawVarint(no * 8 + wire);
  }

  int(no: number, n: number): this {
    this.tag(no, WIRE.varint);
    this.rawVarint(n);
    return this;
  }

  bytes(no: number, b: Uint8Array): this {
    this.tag(no, WIRE.bytes);
    this.rawVarint(b.length);
    this.push(b);
    return this;
  }

  string(no: number, s: string): this {
    return this.bytes(no, new TextEncoder().encode(s));
  }

  message(no: number, m: Writer): this {
    return this.bytes(no, m.finish());
  }

  float(no: number, v: number): this {
    this.tag(no, WIRE.fixed32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  /** Packed repeated int64. */
  ints(no: number, values: readonly number[]): this {
    const inner = new Writer();
    for (const v of values) inner.rawVarint(v);
    return this.bytes(no, inner.finish());
  }

  finish(): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
