// The model file (src/formats/model-file.ts): roundtrip, determinism, the documented byte layout, and every kind of
// corruption refused with a SimdnetError that says what is wrong. The CRC-32 here is an independent
// table-driven implementation (IEEE 802.3 polynomial 0xEDB88320), used both to check the stored checksum
// and to re-seal files we corrupt on purpose, so that the check under test is the one past the checksum.

import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { createJsBackend } from '../src/backend/js.js';
import { createWasmBackend } from '../src/backend/wasm.js';
import { Linear, ReLU, Sigmoid, Softmax, Tanh } from '../src/layers/index.js';
import { Sequential, type ModelSpec } from '../src/model.js';
import { MODEL_VERSION, decodeModelFile, deserializeModel, encodeModelFile, serializeModel } from '../src/formats/model-file.js';
import { autoencoder } from '../src/models.js';
import { Rng } from '../src/random.js';
import { errorOf } from './support/backends.js';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Rewrites the trailing CRC so the file is consistent again (after a deliberate edit). */
function reseal(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

function headerLength(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true);
}

function header(bytes: Uint8Array): { inputWidth: number; layers: unknown[]; blocks: { name: string; length: number }[]; meta: unknown } {
  return JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength(bytes))));
}

/** A file with its JSON header replaced (padded to keep the data 4-aligned) and the CRC fixed. */
function withHeader(bytes: Uint8Array, edit: (h: ReturnType<typeof header>) => unknown): Uint8Array {
  const H = headerLength(bytes);
  let json = new TextEncoder().encode(JSON.stringify(edit(header(bytes))));
  const padded = new Uint8Array(json.length + ((4 - ((16 + json.length) % 4)) % 4)).fill(0x20); // spaces
  padded.set(json);
  json = padded;
  const data = bytes.subarray(16 + H);
  const out = new Uint8Array(16 + json.length + data.length);
  out.set(bytes.subarray(0, 16));
  new DataView(out.buffer).setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(data, 16 + json.length);
  return reseal(out);
}

let js: Backend;
let wasm: Backend;
let model: Sequential;
let bytes: Uint8Array;
const META = { loss: 'bce', noise: 'gaussian', noiseFactor: 0.3, seed: 5, note: 'naïve ünïcode ✓' };

beforeAll(async () => {
  js = await createJsBackend();
  wasm = await createWasmBackend();
  // every layer type and init, so the spec roundtrip covers them all
  model = new Sequential(
    [new Linear(12, 8, { init: 'heNormal' }), new ReLU(), new Linear(8, 6, { init: 'uniform' }), new Tanh(), new Linear(6, 5), new Sigmoid(), new Linear(5, 4), new Softmax()],
    { backend: wasm, seed: 5 },
  );
  bytes = serializeModel(model, META);
});

describe('encode / decode', () => {
  it('roundtrips the spec, the weights (bit for bit) and the meta', () => {
    const file = decodeModelFile(bytes);
    expect(file.spec).toEqual(model.spec());
    expect(file.spec.layers.map((l) => l.type)).toEqual(['linear', 'relu', 'linear', 'tanh', 'linear', 'sigmoid', 'linear', 'softmax']);
    expect(file.meta).toEqual(META);
    expect(Object.keys(file.blocks)).toEqual(['weights']);
    expect(Buffer.from(file.blocks.weights.buffer).equals(Buffer.from(model.getWeights().buffer))).toBe(true);
  });

  it('deserializes into a working model, on the same or the other backend', () => {
    const x = new Float32Array(3 * 12).map((_, i) => Math.sin(i));
    const expected = model.predict(x);
    for (const be of [wasm, js]) {
      const { model: loaded, meta } = deserializeModel(bytes, be);
      expect(meta).toEqual(META);
      expect(loaded.backend).toBe(be);
      const got = loaded.predict(x);
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - expected[i])).toBeLessThan(1e-6);
      loaded.dispose();
    }
  });

  it('follows the documented layout: magic, version, header length, 4-aligned data, f32 LE weights, CRC-32', () => {
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe('SIMDNET\0');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(view.getUint32(8, true)).toBe(MODEL_VERSION);
    expect(MODEL_VERSION).toBe(1);
    const H = headerLength(bytes);
    expect((16 + H) % 4).toBe(0);
    const h = header(bytes);
    expect(h.inputWidth).toBe(12);
    expect(h.blocks).toEqual([{ name: 'weights', length: model.paramCount }]);
    expect(model.paramCount).toBe(12 * 8 + 8 + 8 * 6 + 6 + 6 * 5 + 5 + 5 * 4 + 4);
    expect(bytes.length).toBe(16 + H + 4 * model.paramCount + 4);
    const w = model.getWeights();
    for (const i of [0, 1, 95, 96, model.paramCount - 1]) expect(view.getFloat32(16 + H + 4 * i, true)).toBe(w[i]);
    expect(view.getUint32(bytes.length - 4, true)).toBe(crc32(bytes.subarray(0, bytes.length - 4)));
  });

  it('the same model twice gives identical bytes; so does a model rebuilt from the same seed, not another seed', () => {
    expect(Buffer.from(serializeModel(model, META)).equals(Buffer.from(bytes))).toBe(true);
    const a = autoencoder(js, { width: 20, hidden: [6], seed: 9 });
    const b = autoencoder(js, { width: 20, hidden: [6], seed: 9 });
    const c = autoencoder(js, { width: 20, hidden: [6], seed: 10 });
    expect(Buffer.from(serializeModel(a)).equals(Buffer.from(serializeModel(b)))).toBe(true);
    expect(Buffer.from(serializeModel(a)).equals(Buffer.from(serializeModel(c)))).toBe(false);
    // and after a weight changes, the bytes change with it
    const w = a.getWeights();
    w[3] += 0.25;
    a.setWeights(w);
    expect(Buffer.from(serializeModel(a)).equals(Buffer.from(serializeModel(b)))).toBe(false);
    for (const m of [a, b, c]) m.dispose();
  });
});

describe('corrupt files are refused with a SimdnetError saying what is wrong', () => {
  const decode = (b: Uint8Array) => errorOf(() => decodeModelFile(b, 'model.simdnet'));

  it('truncated: anywhere from the header to the last byte', async () => {
    const H = headerLength(bytes);
    for (const n of [0, 10, 19, 16 + H - 3, 16 + H + 10, bytes.length - 1]) {
      const msg = await decode(bytes.subarray(0, n));
      expect(msg, `cut at ${n} bytes`).toMatch(/^model\.simdnet: .*truncated/);
    }
  });

  it('a flipped byte in the weights or in the header fails the checksum', async () => {
    const H = headerLength(bytes);
    for (const at of [16 + H + 7, bytes.length - 5, bytes.length - 2]) {
      const bad = bytes.slice();
      bad[at] ^= 0x10;
      expect(await decode(bad), `byte ${at}`).toMatch(/checksum mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)/);
    }
    const inHeader = bytes.slice();
    inHeader[16 + 2] ^= 0x01; // inside the JSON: the header may still parse, the CRC must catch it
    expect(await decode(inHeader)).toMatch(/checksum mismatch/);
  });

  it('wrong magic', async () => {
    const bad = bytes.slice();
    bad[3] = 'X'.charCodeAt(0);
    expect(await decode(reseal(bad))).toMatch(/not a simdnet model file \(bad magic number at byte 3\)/);
    expect(await decode(new TextEncoder().encode('{"this is": "a JSON file, not a model"}'))).toMatch(/magic/);
  });

  it('wrong version (with a valid CRC)', async () => {
    const bad = bytes.slice();
    new DataView(bad.buffer).setUint32(8, 2, true);
    expect(await decode(reseal(bad))).toMatch(/unsupported format version 2.*reads version 1/);
  });

  it("header shapes that don't chain: Linear(784,128) then Linear(64,784)", async () => {
    const spec: ModelSpec = {
      inputWidth: 784,
      layers: [{ type: 'linear', in: 784, out: 128 }, { type: 'relu' }, { type: 'linear', in: 64, out: 784 }, { type: 'sigmoid' }],
    };
    const file = encodeModelFile({ spec, blocks: { weights: new Float32Array(784 * 128 + 128 + 64 * 784 + 784) }, meta: {} });
    expect(await decode(file)).toMatch(/shapes do not match.*layer 2.*Linear\(64, 784\) expects inputs of width 64, got 128/);
    // and an inputWidth that does not fit the first layer
    expect(await decode(withHeader(bytes, (h) => ({ ...h, inputWidth: 13 })))).toMatch(/Linear\(12, 8\) expects inputs of width 12, got 13/);
  });

  it('paramCount mismatch between the layers and the weights block', async () => {
    const spec = model.spec();
    const short = encodeModelFile({ spec, blocks: { weights: model.getWeights().subarray(1) }, meta: {} });
    expect(await decode(short)).toMatch(new RegExp(`declare ${model.paramCount} parameters, the 'weights' block holds ${model.paramCount - 1}`));
    // the last Linear widened from (5,4) to (5,5) in the header only: 6 more parameters than the block holds
    const widened = withHeader(bytes, (h) => ({ ...h, layers: h.layers.map((l, i) => (i === 6 ? { type: 'linear', in: 5, out: 5 } : l)) }));
    expect(await decode(widened)).toMatch(new RegExp(`declare ${model.paramCount + 6} parameters, the 'weights' block holds ${model.paramCount}`));
  });

  it('a NaN or infinite weight (CRC fixed) is refused as non-finite, naming where', async () => {
    const H = headerLength(bytes);
    for (const [value, index] of [[NaN, 5], [Infinity, 0], [-Infinity, model.paramCount - 1]] as const) {
      const bad = bytes.slice();
      new DataView(bad.buffer).setFloat32(16 + H + 4 * index, value, true);
      const msg = await decode(reseal(bad));
      expect(msg).toMatch(new RegExp(`block 'weights' holds a non-finite value \\(${value}\\) at index ${index}`));
    }
    // also when encoded from a model whose weights went NaN
    const w = model.getWeights();
    w[17] = NaN;
    const file = encodeModelFile({ spec: model.spec(), blocks: { weights: w }, meta: {} });
    expect(await decode(file)).toMatch(/non-finite.*index 17/);
  });

  it('other header faults: unknown layer type, bad inputWidth, no weights block, trailing data', async () => {
    expect(await decode(withHeader(bytes, (h) => ({ ...h, layers: [{ type: 'lstm' }] })))).toMatch(/unknown layer type 'lstm'/);
    expect(await decode(withHeader(bytes, (h) => ({ ...h, inputWidth: 0 })))).toMatch(/inputWidth.*positive integer.*0/);
    expect(await decode(withHeader(bytes, (h) => ({ ...h, blocks: [{ name: 'other', length: model.paramCount }] })))).toMatch(/no 'weights' block/);
    const longer = new Uint8Array(bytes.length + 8);
    longer.set(bytes.subarray(0, bytes.length - 4));
    expect(await decode(reseal(longer))).toMatch(/trailing data/);
  });

  it('a refused file leaves no partial model behind', async () => {
    const before = wasm.liveAllocations;
    const bad = bytes.slice();
    bad[bytes.length - 9] ^= 0xff;
    expect(await errorOf(() => deserializeModel(bad, wasm, 'x.simdnet'))).toMatch(/^x\.simdnet: checksum/);
    expect(wasm.liveAllocations).toBe(before);
  });

  it('random single-byte corruption anywhere is always refused (never a silent load)', async () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 200; trial++) {
      const bad = bytes.slice();
      const at = rng.int(bad.length);
      bad[at] ^= 1 + rng.int(255);
      await decode(bad); // throws a non-SimdnetError or returns normally → the test fails
    }
  });
});
