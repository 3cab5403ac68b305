// Mutated ONNX files: each one either imports into a model that runs, or is refused with a SimdnetError —
// never another exception, never a trap or a hang, and thousands of them leave the wasm backend's memory and
// allocation count where they were.
//
// fast-check, seeded (a failure replays exactly), over small real files: simdnet's export of a 16→8→16
// autoencoder with Dropout and of a 16→8→4 classifier, and PyTorch's conv files (CONV_FIXTURES: a few kB of
// nodes, attributes and Constant nodes each). Mutations, 1 to 3 per case: bit flips, byte overwrites, insertions, deletions, truncations, and
// edits of the protobuf structure found by a wire walker written here: field lengths (±small, huge,
// zero) and tags (another field number or wire type).

import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { createWasmBackend } from '../src/backend/wasm.js';
import { SimdnetError } from '../src/errors.js';
import { Dropout, Linear, ReLU, Sigmoid, Softmax } from '../src/layers/index.js';
import { Sequential } from '../src/model.js';
import { exportOnnx } from '../src/onnx/export.js';
import { importOnnx } from '../src/onnx/import.js';

const RUNS = 1500;
/** PyTorch's conv files: Conv, MaxPool, ConvTranspose; Constant + Resize (opset 11, with roi); Pad + AveragePool; Reshape */
const CONV_FIXTURES = ['conv-ae-1x28x28-opset17', 'conv-ae-up-1x28x28-opset11', 'avgpool-3x13x11-opset13', 'reshape-1x14x14-opset13'];

/** Positions of every tag and length varint, recursing into length-delimited fields that parse as messages. */
function structure(buf: Uint8Array, base = 0, out = { tags: [] as number[], lengths: [] as number[] }, depth = 0) {
  let pos = 0;
  const varint = (): number | null => {
    let v = 0;
    for (let s = 0; s < 35; s += 7) {
      if (pos >= buf.length) return null;
      const b = buf[pos++];
      v += (b & 0x7f) * 2 ** s;
      if (!(b & 0x80)) return v;
    }
    return null;
  };
  const found = { tags: [] as number[], lengths: [] as number[], inner: [] as [number, number][] };
  while (pos < buf.length) {
    const at = pos;
    const tag = varint();
    if (tag === null || tag < 8) return false;
    found.tags.push(base + at);
    const wire = tag & 7;
    if (wire === 0) {
      if (varint() === null) return false;
    } else if (wire === 2) {
      const lat = pos;
      const len = varint();
      if (len === null || len > buf.length - pos) return false;
      found.lengths.push(base + lat);
      found.inner.push([pos, len]);
      pos += len;
    } else if (wire === 5) pos += 4;
    else if (wire === 1) pos += 8;
    else return false;
    if (pos > buf.length) return false;
  }
  out.tags.push(...found.tags);
  out.lengths.push(...found.lengths);
  if (depth < 6) for (const [start, len] of found.inner) if (len < 4096) structure(buf.subarray(start, start + len), base + start, out, depth + 1);
  return out;
}

function varintBytes(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** Replaces the varint at `at` with `value`'s encoding. */
function replaceVarint(bytes: Uint8Array, at: number, value: number): Uint8Array {
  let end = at;
  while (end < bytes.length && bytes[end] & 0x80) end++;
  return Uint8Array.from([...bytes.subarray(0, at), ...varintBytes(value), ...bytes.subarray(end + 1)]);
}

type Mutation = (b: Uint8Array) => Uint8Array;
/** A uniform position in [0, 1) of the file (unbiased: fast-check otherwise favours the edges, here the first bytes). */
const position = fc.noBias(fc.integer({ min: 0, max: 2 ** 30 - 1 })).map((n) => n / 2 ** 30);
const at = (b: Uint8Array, u: number) => Math.floor(u * b.length) % Math.max(1, b.length);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(position, fc.nat(7)).map(([u, bit]) => (b: Uint8Array) => {
    const c = b.slice();
    if (c.length) c[at(c, u)] ^= 1 << bit;
    return c;
  }),
  fc.tuple(position, fc.nat(255)).map(([u, v]) => (b: Uint8Array) => {
    const c = b.slice();
    if (c.length) c[at(c, u)] = v;
    return c;
  }),
  position.map((u) => (b: Uint8Array) => b.slice(0, at(b, u))),
  fc.tuple(position, fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([u, ins]) => (b: Uint8Array) => {
    const i = at(b, u);
    return Uint8Array.from([...b.subarray(0, i), ...ins, ...b.subarray(i)]);
  }),
  fc.tuple(position, fc.integer({ min: 1, max: 16 })).map(([u, n]) => (b: Uint8Array) => {
    const i = at(b, u);
    return Uint8Array.from([...b.subarray(0, i), ...b.subarray(i + n)]);
  }),
  // a field length: a little off, zero, or huge
  fc.tuple(fc.noBias(fc.nat()), fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(-Infinity, 2 ** 31, 2 ** 33, 2 ** 28))).map(([k, delta]) => (b: Uint8Array) => {
    const s = structure(b);
    if (!s || s.lengths.length === 0) return b;
    const p = s.lengths[k % s.lengths.length];
    let end = p, len = 0;
    for (let sh = 0; ; sh += 7, end++) {
      len += (b[end] & 0x7f) * 2 ** sh;
      if (!(b[end] & 0x80)) break;
    }
    const value = delta === -Infinity ? 0 : delta > 3 ? delta : Math.max(0, len + delta);
    return replaceVarint(b, p, value);
  }),
  // a tag: another field number or wire type
  fc.tuple(fc.noBias(fc.nat()), fc.integer({ min: 1, max: 30 }), fc.nat(7)).map(([k, no, wire]) => (b: Uint8Array) => {
    const s = structure(b);
    if (!s || s.tags.length === 0) return b;
    return replaceVarint(b, s.tags[k % s.tags.length], no * 8 + wire);
  }),
);

let backend: Backend;
let bases: Uint8Array[];

beforeAll(async () => {
  backend = await createWasmBackend();
  const ae = new Sequential([new Linear(16, 8), new ReLU(), new Dropout(0.25), new Linear(8, 16), new Sigmoid()], { backend, seed: 1 });
  const cls = new Sequential([new Linear(16, 8, { init: 'heNormal' }), new ReLU(), new Linear(8, 4), new Softmax()], { backend, seed: 2 });
  const fixture = (name: string) => new Uint8Array(readFileSync(join(import.meta.dirname, `fixtures/onnx/${name}.onnx`)));
  bases = [exportOnnx(ae, { meta: { note: 'fuzz', seed: 1 } }), exportOnnx(cls), ...CONV_FIXTURES.map(fixture)];
  ae.dispose();
  cls.dispose();
});

describe('fuzz: mutated ONNX files', () => {
  it(`${RUNS} mutated files: each imports and runs, or is refused with a SimdnetError; memory is left as it was`, () => {
    const count = { imported: 0, refused: 0 };
    /** the layers of the unmutated files: a mutated file with the same layers (other weights) runs a batch of 3 */
    const known = new Set<string>();
    const tryOne = (bytes: Uint8Array) => {
      let model: Sequential;
      try {
        model = importOnnx(bytes, { backend });
      } catch (e) {
        if (!(e instanceof SimdnetError)) throw new Error(`not a SimdnetError: ${(e as Error)?.name}: ${(e as Error)?.message}`);
        expect(e.message).toMatch(/^import: /);
        count.refused++;
        return;
      }
      try {
        count.imported++;
        if (known.has(JSON.stringify(model.spec()))) {
          try {
            const y = model.predict(new Float32Array(3 * model.inputWidth).map((_, i) => (i % 7) / 7));
            expect(y.every(Number.isFinite)).toBe(true);
          } catch (e) {
            if (!(e instanceof SimdnetError)) throw e; // outputs that overflow float32 are refused by predict
          }
        }
      } finally {
        model.dispose();
      }
    };
    // warm up: the unmutated files (and their workspaces) once, so that what follows reuses freed blocks
    for (const b of bases) {
      try {
        const model = importOnnx(b, { backend });
        known.add(JSON.stringify(model.spec()));
        model.dispose();
      } catch (e) {
        if (!(e instanceof SimdnetError)) throw e;
      }
      tryOne(b);
    }
    const warm = { ...count };
    const live = backend.liveAllocations;
    const memory = backend.memory.buffer.byteLength;
    fc.assert(
      fc.property(fc.nat(bases.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }), (which, mutations) => {
        tryOne(mutations.reduce((b, m) => m(b), bases[which]));
      }),
      { seed: 9, numRuns: RUNS },
    );
    console.log(`onnx fuzz: ${RUNS} mutated files of ${bases.length} (${warm.imported} of them import), ${count.imported - warm.imported} imported, ${count.refused - warm.refused} refused`);
    expect(backend.liveAllocations).toBe(live);
    expect(backend.memory.buffer.byteLength).toBe(memory);
    expect(count.imported).toBeGreaterThan(50);
    expect(count.refused).toBeGreaterThan(RUNS / 3);
  }, 120_000);
});
