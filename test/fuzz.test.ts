// Nothing silent: mutated model files and IDX files either decode correctly or throw a SimdnetError that
// names the file — never another exception type, never a hang — and loading thousands of (valid, mutated)
// models into the wasm backend leaves its memory and allocation count where they were.
//
// fast-check, seeded (fc.assert(..., { seed, numRuns })), so a failure replays exactly:
//   * model files (a 16→4→16 autoencoder, ~700 bytes):
//       - raw byte mutations: bit flips, truncation, byte insertion/deletion/overwrite — every one must be
//         refused (the CRC-32 and the declared sizes cover every byte);
//       - header edits with the CRC (and header length) fixed up: wrong shapes, wrong types, unknown layers,
//         wrong block lengths and names, wrong version, NaN/Inf injected into the weights, raw JSON text
//         edits, consistent resizes of the hidden layer — each either decodes into a model that loads and
//         runs, or is refused;
//   * IDX files (3 images / 10 labels), through parseIdx (plain) and readIdxFile (gzipped on disk, with the
//     gzip stream itself mutated too): an oracle written here says whether the bytes are a valid IDX file;
//     parse succeeds exactly when it says so, and returns the right count and bytes.

import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { createWasmBackend } from '../src/backend/wasm.js';
import { decodeCheckpoint, encodeCheckpoint, restoreCheckpoint } from '../src/formats/checkpoint.js';
import { parseIdx, readIdxFile } from '../src/data/idx.js';
import { SimdnetError } from '../src/errors.js';
import { Linear, ReLU, Sigmoid, layerFromSpec } from '../src/layers/index.js';
import { Sequential } from '../src/model.js';
import { ParamLayout } from '../src/param-layout.js';
import { decodeModelFile, deserializeModel, serializeModel } from '../src/formats/model-file.js';
import { createOptimizer } from '../src/optimizers.js';
import { outcome } from './support/backends.js';
import { idxImages, idxLabels } from './support/idx.js';

const RUNS = 2000;
const NAME = 'fuzz.simdnet';


// =====================================================================================================
// Model files
// =====================================================================================================

interface Parts {
  version: number;
  header: string;
  floats: Uint8Array;
}

/** The container, written here independently of encodeModelFile so that any header can be written. */
function assemble({ version, header, floats }: Parts): Uint8Array {
  let json = header;
  while ((16 + Buffer.byteLength(json)) % 4 !== 0) json += ' ';
  const h = Buffer.from(json);
  const bytes = new Uint8Array(16 + h.length + floats.length + 4);
  const view = new DataView(bytes.buffer);
  bytes.set(Buffer.from('SIMDNET\0', 'latin1'), 0);
  view.setUint32(8, version, true);
  view.setUint32(12, h.length, true);
  bytes.set(h, 16);
  bytes.set(floats, 16 + h.length);
  view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

function split(bytes: Uint8Array): Parts {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const H = view.getUint32(12, true);
  return { version: view.getUint32(8, true), header: Buffer.from(bytes.subarray(16, 16 + H)).toString().trimEnd(), floats: bytes.slice(16 + H, bytes.length - 4) };
}

/** A 16→hidden→16 model's file, seeded. */
function modelBytes(backend: Backend, hidden: number, seed = 1): Uint8Array {
  const model = new Sequential([new Linear(16, hidden), new ReLU(), new Linear(hidden, 16), new Sigmoid()], { backend, seed });
  const bytes = serializeModel(model, { note: 'fuzz', seed });
  model.dispose();
  return bytes;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const oddValue = fc.oneof(
  fc.integer({ min: -3, max: 40 }),
  fc.constantFrom<unknown>(0, -1, 16.5, 1e9, 2 ** 32, 1e308, '16', '', null, true, [], {}, [16]),
);

/** Edits of the parsed header (the CRC is fixed up afterwards, so only validation can catch them). */
const headerEdit: fc.Arbitrary<{ what: string; edit: (h: Json, p: Parts) => void }> = fc.oneof(
  oddValue.map((v) => ({ what: `inputWidth = ${JSON.stringify(v)}`, edit: (h: Json) => void (h.inputWidth = v) })),
  fc.tuple(fc.nat(3), fc.constantFrom('in', 'out', 'type', 'init'), fc.oneof(oddValue, fc.constantFrom<unknown>('linear', 'relu', 'conv', 'softmax', 'heNormal', 'zeros'))).map(([i, key, v]) => ({
    what: `layers[${i}].${key} = ${JSON.stringify(v)}`,
    edit: (h: Json) => {
      if (h.layers[i]) h.layers[i][key] = v;
    },
  })),
  fc.tuple(fc.nat(3), fc.constantFrom('delete', 'duplicate', 'swap', 'null')).map(([i, op]) => ({
    what: `${op} layer ${i}`,
    edit: (h: Json) => {
      const L: unknown[] = h.layers;
      if (op === 'delete') L.splice(i, 1);
      else if (op === 'duplicate') L.splice(i, 0, L[i]);
      else if (op === 'swap') [L[i], L[(i + 1) % L.length]] = [L[(i + 1) % L.length], L[i]];
      else L[i] = null;
    },
  })),
  fc.constantFrom<unknown>(null, 'linear', {}, [], 3).map((v) => ({ what: `layers = ${JSON.stringify(v)}`, edit: (h: Json) => void (h.layers = v) })),
  fc.tuple(fc.integer({ min: -3, max: 3 }), fc.constantFrom<unknown>('weights', 'w', '__proto__', 'constructor', 'optimizer.0', 7, null)).map(([delta, name]) => ({
    what: `blocks[0] = {name: ${JSON.stringify(name)}, length ${delta >= 0 ? '+' : ''}${delta}}`,
    edit: (h: Json) => {
      h.blocks[0].name = name;
      h.blocks[0].length += delta;
    },
  })),
  fc.tuple(fc.constantFrom('weights', 'extra', '__proto__'), fc.nat(4)).map(([name, n]) => ({
    what: `add block ${name} of ${n} floats (with its data)`,
    edit: (h: Json, p: Parts) => {
      h.blocks.push({ name, length: n });
      const more = new Uint8Array(p.floats.length + 4 * n);
      more.set(p.floats);
      p.floats = more;
    },
  })),
  fc.constantFrom<unknown>(null, 3, 'x', [], { nested: { deep: [1, 2] } }).map((v) => ({ what: `meta = ${JSON.stringify(v)}`, edit: (h: Json) => void (h.meta = v) })),
  fc.constantFrom<unknown>(null, [], 'blocks', [{}], [{ name: 'weights' }], [{ name: 'weights', length: -1 }], [{ name: 'weights', length: 1.5 }]).map((v) => ({
    what: `blocks = ${JSON.stringify(v)}`,
    edit: (h: Json) => void (h.blocks = v),
  })),
  fc.constantFrom(0, 2, 0xffffffff, 0x01000000).map((v) => ({ what: `version ${v}`, edit: (_h: Json, p: Parts) => void (p.version = v) })),
  fc.tuple(fc.nat(), fc.constantFrom(NaN, Infinity, -Infinity, -0, 1e-45, 3.4e38)).map(([i, v]) => ({
    what: `weight ${i} = ${v}`,
    edit: (_h: Json, p: Parts) => {
      const n = p.floats.length / 4;
      new DataView(p.floats.buffer).setFloat32(4 * (i % n), v, true);
    },
  })),
);

describe('fuzzed model files', () => {
  let backend: Backend;
  let base: Uint8Array;
  beforeAll(async () => {
    backend = await createWasmBackend();
    base = modelBytes(backend, 4);
  });

  it(`${RUNS} raw byte mutations (bit flips, truncation, insertion, deletion, overwrite) are all refused with a SimdnetError`, () => {
    const mutation = fc.oneof(
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 8 }).map((flips) => ({
        what: `flip ${flips.map(([at, bit]) => `${at % base.length}:${bit}`).join(' ')}`,
        apply: (b: Uint8Array) => {
          const out = b.slice();
          const seen = new Set<string>(); // a bit flipped twice is not a mutation
          for (const [at, bit] of flips) {
            const key = `${at % b.length}:${bit}`;
            if (seen.has(key)) seen.delete(key);
            else seen.add(key);
          }
          if (seen.size === 0) seen.add('9:0');
          for (const key of seen) {
            const [at, bit] = key.split(':').map(Number);
            out[at] ^= 1 << bit;
          }
          return out;
        },
      })),
      fc.nat().map((n) => ({ what: `truncate to ${n}`, apply: (b: Uint8Array) => b.slice(0, n % b.length) })),
      fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 12 })).map(([at, ins]) => ({
        what: `insert ${ins.length} bytes at ${at}`,
        apply: (b: Uint8Array) => {
          const p = at % (b.length + 1);
          return Uint8Array.from([...b.subarray(0, p), ...ins, ...b.subarray(p)]);
        },
      })),
      fc.tuple(fc.nat(), fc.integer({ min: 1, max: 64 })).map(([at, n]) => ({
        what: `delete ${n} bytes at ${at}`,
        apply: (b: Uint8Array) => {
          const p = at % b.length;
          return Uint8Array.from([...b.subarray(0, p), ...b.subarray(p + n)]);
        },
      })),
      fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([at, data]) => ({
        what: `overwrite ${data.length} bytes at ${at}`,
        apply: (b: Uint8Array) => {
          const out = b.slice();
          const p = at % b.length;
          out.set(data.subarray(0, b.length - p), p);
          return out;
        },
      })),
    );
    let refused = 0;
    fc.assert(
      fc.property(mutation, ({ apply }) => {
        const bytes = apply(base);
        if (bytes.length === base.length && bytes.every((v, i) => v === base[i])) return; // an overwrite with the same bytes
        const r = outcome(() => decodeModelFile(bytes, NAME), NAME);
        expect(r.ok).toBe(false);
        refused++;
      }),
      { seed: 42, numRuns: RUNS },
    );
    expect(refused).toBeGreaterThan(RUNS * 0.95);
  });

  it(`${RUNS} header edits with a fixed-up CRC: each decodes into a model that loads and runs, or is refused; memory stays put`, () => {
    const mutation = fc.oneof(
      { weight: 6, arbitrary: fc.array(headerEdit, { minLength: 1, maxLength: 3 }).map((edits) => ({ kind: 'edit' as const, edits })) },
      // raw text edits of the JSON (then the header length and the CRC are fixed up)
      { weight: 2, arbitrary: fc.tuple(fc.nat(), fc.integer({ min: 0, max: 3 }), fc.constantFrom('"', '{', '}', '[', ']', ',', ':', '0', '-', 'e', ' ', '\\', 'é', '\u0000', 'null')).map(([at, del, s]) => ({ kind: 'text' as const, at, del, s })) },
      // a consistent resize: another valid model (must decode and load)
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 }).map((hidden) => ({ kind: 'resize' as const, hidden })) },
    );

    // warm up with the largest model the loop can load, then take the baseline
    const load = (bytes: Uint8Array) => {
      const { model } = deserializeModel(bytes, backend, NAME);
      const y = model.predict(new Float32Array(3 * model.inputWidth).fill(0.5), 2);
      model.dispose();
      return y;
    };
    load(modelBytes(backend, 8));
    const memory = backend.memory.buffer.byteLength;
    const live = backend.liveAllocations;
    const count = { decoded: 0, refused: 0 };

    fc.assert(
      fc.property(mutation, (m) => {
        let bytes: Uint8Array;
        let mustDecode = false;
        if (m.kind === 'resize') {
          bytes = modelBytes(backend, m.hidden, m.hidden);
          mustDecode = true;
        } else {
          const parts = split(base);
          if (m.kind === 'edit') {
            const header = JSON.parse(parts.header);
            for (const { edit } of m.edits) {
              try {
                edit(header, parts);
              } catch {
                /* an earlier edit removed what this one edits */
              }
            }
            parts.header = JSON.stringify(header);
          } else {
            const at = m.at % (parts.header.length + 1);
            parts.header = parts.header.slice(0, at) + m.s + parts.header.slice(at + m.del);
          }
          bytes = assemble(parts);
        }
        const r = outcome(() => decodeModelFile(bytes, NAME), NAME);
        if (!r.ok) {
          expect(mustDecode).toBe(false);
          count.refused++;
          return;
        }
        count.decoded++;
        // decoded: a consistent, finite model that loads and runs
        const { spec, blocks } = r.value;
        const params = new ParamLayout(spec.layers.map((l) => layerFromSpec(l))).total;
        expect(blocks.weights.length).toBe(params);
        for (const v of Object.values(blocks)) expect(v.every(Number.isFinite)).toBe(true);
        const y = load(bytes);
        expect(y.every(Number.isFinite)).toBe(true);
      }),
      { seed: 42, numRuns: RUNS },
    );
    expect(backend.liveAllocations).toBe(live);
    expect(backend.memory.buffer.byteLength).toBe(memory);
    expect(count.decoded).toBeGreaterThan(50);
    expect(count.refused).toBeGreaterThan(RUNS / 2);
  });

  it('mutated checkpoints: decode + restore either work or throw a SimdnetError, leaving nothing allocated', () => {
    const model = new Sequential([new Linear(16, 4), new ReLU(), new Linear(4, 16), new Sigmoid()], { backend, seed: 1 });
    const opt = createOptimizer('adam');
    model.zeroGrad();
    opt.step(model);
    const progress = { epoch: 0, batch: 3, lossSum: 1.5, seen: 12, seconds: 0.25, epochs: [], firstLoss: 0.7, smoothLoss: 0.6 };
    const base = encodeCheckpoint(model, opt, progress, { seed: 1 });
    model.dispose();
    opt.dispose();
    const live = backend.liveAllocations;
    const count = { restored: 0, refused: 0 };
    const edit = fc.oneof(
      fc.tuple(fc.constantFrom('epoch', 'batch', 'lossSum', 'seen', 'seconds', 'epochs'), oddValue).map(([k, v]) => (c: Json) => void (c.progress[k] = v)),
      fc.tuple(fc.constantFrom('name', 'step'), fc.oneof(oddValue, fc.constantFrom<unknown>('adam', 'sgd', 'momentum'))).map(([k, v]) => (c: Json) => void (c.optimizer[k] = v)),
      fc.constantFrom('progress', 'optimizer', 'config').map((k) => (c: Json) => void delete c[k]),
      fc.tuple(fc.constantFrom(0, 1, 2), fc.integer({ min: -2, max: 2 })).map(([i, d]) => (_c: Json, h: Json, p: Parts) => {
        const b = h.blocks[i];
        b.length = Math.max(0, b.length + d);
        const total = h.blocks.reduce((n: number, x: { length: number }) => n + x.length, 0);
        const floats = new Uint8Array(total * 4);
        floats.set(p.floats.subarray(0, floats.length));
        p.floats = floats;
      }),
    );
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        const parts = split(base);
        const header = JSON.parse(parts.header);
        for (const e of edits) {
          try {
            e(header.meta.checkpoint, header, parts);
          } catch {
            /* an earlier edit removed what this one edits */
          }
        }
        parts.header = JSON.stringify(header);
        const bytes = assemble(parts);
        const opt = createOptimizer('adam');
        const r = outcome(() => {
          const decoded = decodeCheckpoint(bytes, NAME);
          restoreCheckpoint(decoded, backend, opt, NAME).dispose();
        }, NAME);
        opt.dispose();
        expect(backend.liveAllocations).toBe(live);
        count[r.ok ? 'restored' : 'refused']++;
      }),
      { seed: 42, numRuns: 500 },
    );
    expect(count.refused).toBeGreaterThan(100);
    expect(count.restored).toBeGreaterThan(10);
  });
});

// =====================================================================================================
// IDX files
// =====================================================================================================

/** The oracle: is this a valid IDX file of `kind`? (LeCun's layout, MNIST's 28×28 images, labels 0..9) */
function validIdx(bytes: Uint8Array, kind: 'images' | 'labels'): boolean {
  if (bytes.length < (kind === 'images' ? 16 : 8)) return false;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0) !== (kind === 'images' ? 0x803 : 0x801)) return false;
  const count = v.getUint32(4);
  if (kind === 'images') return v.getUint32(8) === 28 && v.getUint32(12) === 28 && bytes.length === 16 + count * 784;
  return bytes.length === 8 + count && bytes.subarray(8).every((l) => l < 10);
}

/** Mutations of an IDX file: header fields (magic, count, rows, cols) set to near-misses, bit flips,
 *  truncation, appended bytes, label values. */
function idxMutation(size: number) {
  const field = fc.tuple(fc.constantFrom(0, 4, 8, 12), fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(0x801, 0x803, 0x802, 0x80803, 0x0803_0000, 0xffffffff, 2 ** 31)));
  return fc.oneof(
    fc.array(field, { minLength: 1, maxLength: 3 }).map((sets) => (b: Uint8Array) => {
      const out = b.slice();
      const v = new DataView(out.buffer);
      for (const [at, value] of sets) if (at + 4 <= out.length) v.setUint32(at, value >>> 0);
      return out;
    }),
    fc.array(fc.tuple(fc.nat(size - 1), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 }).map((flips) => (b: Uint8Array) => {
      const out = b.slice();
      for (const [at, bit] of flips) out[at % out.length] ^= 1 << bit;
      return out;
    }),
    fc.nat(size + 2).map((n) => (b: Uint8Array) => b.slice(0, n)),
    fc.uint8Array({ minLength: 1, maxLength: 5 }).map((extra) => (b: Uint8Array) => Uint8Array.from([...b, ...extra])),
    fc.tuple(fc.nat(size - 1), fc.integer({ min: 0, max: 255 })).map(([at, value]) => (b: Uint8Array) => {
      const out = b.slice();
      out[at % out.length] = value;
      return out;
    }),
  );
}

describe('fuzzed IDX files', () => {
  const images = idxImages(new Uint8Array(3 * 784).map((_, i) => ((16 + i) * 37) & 255));
  const labels = idxLabels(new Uint8Array(10).map((_, i) => i % 10));
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'simdnet-fuzz-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases = [
    { kind: 'images' as const, base: images, name: 'train-images-idx3-ubyte' },
    { kind: 'labels' as const, base: labels, name: 'train-labels-idx1-ubyte' },
  ];

  it(`${RUNS} plain files through parseIdx: valid exactly when the oracle says so, with the right contents`, () => {
    const stats = { valid: 0, refused: 0 };
    fc.assert(
      fc.property(fc.constantFrom(...cases).chain((c) => fc.tuple(fc.constant(c), idxMutation(c.base.length))), ([c, mutate]) => {
        const bytes = mutate(c.base);
        const r = outcome(() => parseIdx(bytes, c.name), c.name);
        expect(r.ok).toBe(validIdx(bytes, c.kind));
        if (r.ok) {
          stats.valid++;
          const itemBytes = c.kind === 'images' ? 784 : 1;
          expect(r.value.kind).toBe(c.kind);
          expect(r.value.data.length).toBe(r.value.count * itemBytes);
          expect(Buffer.compare(Buffer.from(r.value.data), Buffer.from(bytes.subarray(bytes.length - r.value.data.length)))).toBe(0);
        } else stats.refused++;
      }),
      { seed: 42, numRuns: RUNS },
    );
    expect(stats.valid).toBeGreaterThan(20);
    expect(stats.refused).toBeGreaterThan(RUNS / 2);
  });

  it(`${RUNS / 2} gzipped files through readIdxFile (mutated before and after gzip): valid exactly when the oracle says so`, () => {
    const gzMutation = fc.oneof(
      fc.constant<((b: Uint8Array) => Uint8Array) | null>(null),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 3 }).map((flips) => (b: Uint8Array) => {
        const out = b.slice();
        for (const [at, bit] of flips) out[at % out.length] ^= 1 << bit;
        return out;
      }),
      fc.nat().map((n) => (b: Uint8Array) => b.slice(0, n % b.length)),
      fc.uint8Array({ minLength: 1, maxLength: 8 }).map((extra) => (b: Uint8Array) => Uint8Array.from([...b, ...extra])),
    );
    const stats = { valid: 0, refused: 0, corruptGzip: 0 };
    const withMutation = fc.constantFrom(...cases).chain((c) => fc.tuple(fc.constant(c), fc.option(idxMutation(c.base.length), { freq: 4 })));
    fc.assert(
      fc.property(withMutation, gzMutation, fc.boolean(), ([c, mutate], gzMut, gzName) => {
        const plain = mutate ? mutate(c.base) : c.base;
        const gz = new Uint8Array(gzipSync(plain));
        const bytes = gzMut ? gzMut(gz) : gz;
        const name = c.name + (gzName ? '.gz' : '');
        writeFileSync(join(dir, name), bytes);
        const r = outcome(() => readIdxFile(join(dir, name), c.kind), name);
        if (r.ok) {
          // gzip checks its own CRC-32 and length: what decompressed is the file that was compressed
          stats.valid++;
          expect(validIdx(plain, c.kind)).toBe(true);
          expect(Buffer.compare(Buffer.from(r.value.data), Buffer.from(plain.subarray(c.kind === 'images' ? 16 : 8)))).toBe(0);
        } else {
          stats.refused++;
          if (/corrupt gzip/.test(r.message)) stats.corruptGzip++;
          if (!gzMut) expect(validIdx(plain, c.kind)).toBe(false);
        }
      }),
      { seed: 42, numRuns: RUNS / 2 },
    );
    expect(stats.corruptGzip).toBeGreaterThan(20);
    expect(stats.valid).toBeGreaterThan(20);
  });
});

// =====================================================================================================
// Hostile headers (issue 12): deep or huge JSON, prototype keys, wrong types in a checkpoint's run settings
// =====================================================================================================

describe('hostile model-file and checkpoint headers', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await createWasmBackend({ threads: 1 });
  });

  it('JSON nested 200,000 deep, or over 1 MiB, is refused before it is parsed, naming the limit', async () => {
    const { MAX_HEADER_DEPTH, MAX_HEADER_BYTES } = await import('../src/formats/model-file.js');
    const parts = split(modelBytes(backend, 4));
    const deep = parts.header.replace(/}\s*$/, `, "x": ${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
    expect(outcome(() => decodeModelFile(assemble({ ...parts, header: deep }), 'deep.simdnet'), 'deep')).toEqual({ ok: false, message: `deep.simdnet: the JSON header nests 200001 levels deep, more than the ${MAX_HEADER_DEPTH} a model file may have` });
    // brackets inside strings do not count
    const quoted = parts.header.replace(/}\s*$/, `, "x": "${'['.repeat(1000)}"}`);
    expect(outcome(() => decodeModelFile(assemble({ ...parts, header: quoted }), 'q.simdnet'), 'q').ok).toBe(true);
    const big = parts.header.replace(/}\s*$/, `, "x": "${'a'.repeat(MAX_HEADER_BYTES)}"}`);
    expect(outcome(() => decodeModelFile(assemble({ ...parts, header: big }), 'big.simdnet'), 'big')).toMatchObject({ ok: false, message: expect.stringMatching(/^big\.simdnet: the JSON header is \d+ bytes, more than the 1048576/) });
  });

  it('a checkpoint whose progress does not fit the data (batch 999 of 125) is refused naming the file, before any training', async () => {
    const { resumeConfig, trainJob } = await import('../src/cli/train-job.js');
    const { autoencoder } = await import('../src/models.js');
    const config: Json = { epochs: 2, batchSize: 64, lr: 0.001, optimizer: 'adam', hidden: [4], activation: 'relu', loss: 'bce', noise: 'gaussian', noiseFactor: 0.3, seed: 0, backend: 'wasm', data: 'bundled', checkpointEvery: 0 };
    const dir = mkdtempSync(join(tmpdir(), 'simdnet-progress-'));
    const model = autoencoder(backend, { hidden: [4], seed: 1 });
    const optimizer = createOptimizer('adam');
    model.zeroGrad();
    optimizer.step(model); // a run that has trained holds optimizer state
    try {
      writeFileSync(join(dir, 'checkpoint.simdnet'), encodeCheckpoint(model, optimizer, { epoch: 0, batch: 999, lossSum: 0, seen: 0, seconds: 0, epochs: [] } as never, config));
      const resumed = resumeConfig(dir);
      const lines: string[] = [];
      const err = await trainJob(resumed.config, (l) => lines.push(l), resumed.checkpoint, { threads: 1 }).catch((e) => e);
      expect(err).toBeInstanceOf(SimdnetError);
      expect(err.message).toBe(`${join(dir, 'checkpoint.simdnet')}: fit: resume: expected progress at epoch ≥ 0 and batch 0..124, got epoch 0, batch 999`);
      expect(err.code).toBe('E_FILE_CORRUPT');
      expect(lines.some((l) => l.startsWith('epoch '))).toBe(false);
    } finally {
      model.dispose();
      optimizer.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('2,000 checkpoints with hostile run settings and progress (fast-check, seed 7): resume builds the run or refuses it with a SimdnetError naming the file', async () => {
    const { resumeConfig } = await import('../src/cli/train-job.js');
    const { createOptimizer } = await import('../src/optimizers.js');
    const { autoencoder } = await import('../src/models.js');
    const good: Json = { epochs: 3, batchSize: 64, lr: 0.001, optimizer: 'adam', hidden: [4], activation: 'relu', loss: 'bce', noise: 'gaussian', noiseFactor: 0.3, seed: 0, backend: 'wasm', data: 'bundled', checkpointEvery: 0 };
    const goodProgress: Json = { epoch: 0, batch: 0, lossSum: 0, seen: 0, seconds: 0, epochs: [] };
    const hostile = fc.constantFrom<unknown>(undefined, null, '__proto__', 'toString', 'constructor', '4', -1, 0, 1.5, NaN, 1e308, 2 ** 32, [], {}, ['4'], [0], [8], [4, 4], 'tanh', 'sigmoid', { __proto__: { x: 1 } }, 'hostile', '[[[[[[[[');
    // where the value goes: a run setting, a progress field, a finished epoch's record, or a key removed
    const target = fc.constantFrom(...Object.keys(good).map((k) => `config.${k}`), ...Object.keys(goodProgress).map((k) => `progress.${k}`), 'progress.epochs.0', 'progress.epochs.null', 'progress.firstLoss', 'progress.smoothLoss');
    const dir = mkdtempSync(join(tmpdir(), 'simdnet-hostile-'));
    const model = autoencoder(backend, { hidden: [4], seed: 1 }); // what `good` describes
    const optimizer = createOptimizer('adam');
    const outcomes = { resumed: 0, refused: 0 };
    try {
      await fc.assert(
        fc.asyncProperty(target, hostile, fc.boolean(), async (where, value, remove) => {
          const config: Json = { ...good };
          const progress: Json = { ...goodProgress, epochs: [] };
          const [part, key] = where.split(/\.(.*)/);
          if (key === 'epochs.0') Object.assign(progress, { epoch: 1, epochs: [value ?? {}] });
          else if (key === 'epochs.null') Object.assign(progress, { epoch: 1, epochs: [null] });
          else {
            const obj = part === 'config' ? config : progress;
            if (remove) delete obj[key];
            else obj[key] = value;
          }
          writeFileSync(join(dir, 'checkpoint.simdnet'), encodeCheckpoint(model, optimizer, progress as never, config));
          try {
            const { config: c } = resumeConfig(dir);
            expect(c.hidden).toEqual([4]); // any other hidden stack describes another model than the weights
            expect(c.activation).toBe('relu');
            outcomes.resumed++;
          } catch (e) {
            expect(e, String(e)).toBeInstanceOf(SimdnetError);
            expect((e as Error).message).toMatch(/checkpoint\.simdnet: /);
            outcomes.refused++;
          }
        }),
        { seed: 7, numRuns: 2000 },
      );
    } finally {
      model.dispose();
      optimizer.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(outcomes.refused).toBeGreaterThan(1000);
    expect(outcomes.resumed).toBeGreaterThan(50); // the valid values in the pool (seed 0, a field that may be absent, …)
  });
});
