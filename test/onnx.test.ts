// ONNX out and in, checked by things nobody here wrote:
//   * onnxruntime-node runs every exported model kind; its outputs match model.predict on 100 test digits;
//   * the onnx package (Debian's python3-onnx) passes onnx.checker.check_model(full_check=True) on every
//     exported file and reads back IR 8, opset 17, the dynamic batch N, the names and the metadata;
//   * PyTorch's own files (test/fixtures/onnx, torch.onnx.export) import and reproduce PyTorch's outputs;
//   * files written by onnx.helper in the layouts of other exporters (tf2onnx MatMul + Add with float_data,
//     opset 11 / IR 6, float16) match numpy's float64 output, and the files simdnet must refuse are refused
//     with one clear message each;
//   * round trips give identical weights and identical model file bytes; an imported PyTorch model
//     fine-tuned for one epoch lowers its test loss and onnxruntime agrees with it afterwards.
// The parameter layout (getWeights/setWeights by layer and name) is checked here too: the exporter stands on it.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { createWasmBackend } from '../src/backend/wasm.js';
import { loadBundledMnist } from '../src/data/mnist-bundled.js';
import { Dropout, Linear, ReLU, Sigmoid, Softmax, Tanh, type Layer } from '../src/layers/index.js';
import { Sequential } from '../src/model.js';
import { decodeModelFile, serializeModel } from '../src/formats/model-file.js';
import { autoencoder } from '../src/models.js';
import { exportOnnx } from '../src/onnx/export.js';
import { importOnnx, readOnnx } from '../src/onnx/import.js';
import { fit } from '../src/training/fit.js';
import { evaluate } from '../src/training/evaluate.js';
import { errorOf } from './support/backends.js';
import { f32, fixture, fixtureIndex, FIXTURES, maxDiff, refusal, runOrt, runPeer, TOL, type PeerCheck } from './support/onnx.js';

const CLI = join(import.meta.dirname, '../dist/cli/main.js');

let backend: Backend;
let data: ReturnType<typeof loadBundledMnist>;
let digits: Float32Array; // 100 test digits
let dir: string;
/** what the onnx package said about each exported file, and the files it wrote */
let peer: { checked: Record<string, PeerCheck>; written: Record<string, { onnx: string; shape?: number[] }> };
/** the largest |onnxruntime − simdnet| and |PyTorch − simdnet| over every case (the closing figures) */
const worst = { ort: 0, torch: 0, numpy: 0 };


/** The exported model kinds: each activation, a deep one, the trained default, a classifier. */
const KINDS: Record<string, () => Layer[]> = {
  relu: () => [new Linear(784, 32), new ReLU(), new Linear(32, 784), new Sigmoid()],
  tanh: () => [new Linear(784, 32), new Tanh(), new Linear(32, 784), new Sigmoid()],
  sigmoid: () => [new Linear(784, 32, { init: 'uniform' }), new Sigmoid(), new Linear(32, 784), new Sigmoid()],
  deep: () => [new Linear(784, 64, { init: 'heNormal' }), new ReLU(), new Linear(64, 16), new Tanh(), new Linear(16, 64), new ReLU(), new Linear(64, 784), new Sigmoid()],
  classifier: () => [new Linear(784, 32), new ReLU(), new Linear(32, 10), new Softmax()],
  dropout: () => [new Linear(784, 32), new ReLU(), new Dropout(0.3), new Linear(32, 784), new Sigmoid()],
};
/** test loss of the imported PyTorch autoencoder before and after one epoch of fine-tuning */
const tuning = { before: NaN, after: NaN };
const exported: Record<string, { model: Sequential; bytes: Uint8Array; path: string; meta: Record<string, unknown> }> = {};

beforeAll(async () => {
  backend = await createWasmBackend();
  data = loadBundledMnist();
  digits = data.test.images.subarray(0, 100 * 784);
  dir = mkdtempSync(join(tmpdir(), 'simdnet-onnx-'));
  for (const [name, layers] of Object.entries(KINDS)) {
    const model = new Sequential(layers(), { backend, seed: 5 });
    exported[name] = { model, bytes: new Uint8Array(), path: '', meta: { kind: name } };
  }
  // the trained default: the reference autoencoder after one epoch on a quarter of the bundled digits
  const trained = autoencoder(backend, { seed: 1 });
  const part = data.train.images.subarray(0, 2000 * 784);
  await fit(trained, { train: { x: part, y: part } }, { epochs: 1, loss: 'bce', optimizer: 'adam', seed: 1, noise: { kind: 'gaussian', factor: 0.3 } });
  exported.trained = { model: trained, bytes: new Uint8Array(), path: '', meta: { loss: 'bce', noise: 'gaussian', noiseFactor: 0.3, seed: 1, data: 'bundled' } };
  // PyTorch's files come back out too: one as imported, one fine-tuned for an epoch on the bundled digits
  exported.reexported = { model: importOnnx(fixture('deep-tanh-784-256-64-256-784-opset17.onnx'), { backend }), bytes: new Uint8Array(), path: '', meta: {} };
  const tuned = importOnnx(fixture('ae-784-128-784-opset17.onnx'), { backend });
  const test = { x: data.test.images, y: data.test.images };
  tuning.before = evaluate(tuned, test, { loss: 'bce' }).testLoss;
  tuning.after = (await fit(tuned, { train: { x: data.train.images, y: data.train.images }, test }, { epochs: 1, loss: 'bce', optimizer: 'adam', seed: 3 })).epochs[0].testLoss;
  exported.finetuned = { model: tuned, bytes: new Uint8Array(), path: '', meta: { loss: 'bce', finetuned: 'ae-784-128-784-opset17.onnx' } };
  for (const [name, e] of Object.entries(exported)) {
    e.bytes = exportOnnx(e.model, { meta: e.meta });
    e.path = join(dir, `${name}.onnx`);
    writeFileSync(e.path, e.bytes);
  }
  // one python start-up: check every exported file, write the other exporters' layouts
  peer = runPeer('onnx_peer.py', dir, Object.values(exported).map((e) => e.path));
}, 120_000);

afterAll(() => {
  for (const e of Object.values(exported)) e.model.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
  console.log(`onnx: largest |difference| vs onnxruntime ${worst.ort.toExponential(2)}, vs PyTorch ${worst.torch.toExponential(2)}, vs numpy (other exporters' layouts) ${worst.numpy.toExponential(2)}; fine-tune test loss ${tuning.before.toFixed(4)} → ${tuning.after.toFixed(4)}`);
});

describe('export', () => {
  for (const name of [...Object.keys(KINDS), 'trained', 'reexported', 'finetuned']) {
    it(`${name}: onnxruntime-node gives model.predict's outputs on 100 test digits within ${TOL}`, async () => {
      const { model, bytes } = exported[name];
      const y = await runOrt(bytes, digits, [100, 784]);
      const d = maxDiff(y, model.predict(digits));
      worst.ort = Math.max(worst.ort, d);
      expect(d).toBeLessThan(TOL);
    });
  }

  it('the onnx checker (full_check) passes every exported file; it reads IR 8, opset 17, x (N, in) → y (N, out) and the metadata', () => {
    for (const [name, e] of Object.entries(exported)) {
      const c = peer.checked[e.path];
      expect(c.error, name).toBeUndefined();
      expect(c.ok).toBe(true);
      expect(c.ir).toBe(8);
      expect(c.opsets).toEqual({ '': 17 });
      expect(c.inputs).toEqual([['x', ['N', e.model.inputWidth]]]);
      expect(c.outputs).toEqual([['y', ['N', e.model.outputWidth]]]);
      const ops = e.model.spec().layers.map((l) => ({ linear: 'Gemm', relu: 'Relu', tanh: 'Tanh', sigmoid: 'Sigmoid', softmax: 'Softmax', dropout: 'Dropout' })[l.type]);
      expect(c.ops).toEqual(ops);
      for (const [key, value] of Object.entries(e.meta)) expect(JSON.parse(c.metadata[key])).toEqual(value);
    }
  });

  it('the same model and metadata give the same bytes', () => {
    const e = exported.deep;
    expect(Buffer.from(exportOnnx(e.model, { meta: e.meta })).equals(Buffer.from(e.bytes))).toBe(true);
  });

  it('onnxruntime takes any batch size (the batch dimension is dynamic)', async () => {
    const e = exported.classifier;
    for (const rows of [1, 7]) expect(maxDiff(await runOrt(e.bytes, digits.subarray(0, rows * 784), [rows, 784]), e.model.predict(digits.subarray(0, rows * 784)))).toBeLessThan(TOL);
  });
});

describe("import: PyTorch's own files (torch.onnx.export, PyTorch 1.13)", () => {
  const mlps = Object.entries(fixtureIndex()).filter(([, e]) => !e.modules.includes('Conv2d'));
  expect(mlps.length).toBe(5);
  for (const [name, e] of mlps) {
    it(`${name} (${e.modules.join(', ')}) reproduces PyTorch's output within ${TOL}`, async () => {
      const bytes = fixture(e.onnx);
      const model = importOnnx(bytes, { backend });
      try {
        const x = f32(join(FIXTURES, e.input.file));
        const torch = f32(join(FIXTURES, e.output.file));
        expect(model.inputWidth).toBe(e.input.shape.slice(1).reduce((n, d) => n * d, 1));
        expect(model.outputWidth).toBe(e.output.shape[1]);
        const d = maxDiff(model.predict(x), torch);
        worst.torch = Math.max(worst.torch, d);
        expect(d).toBeLessThan(TOL);
        // and onnxruntime reads the same file, with the fixture's own input shape
        expect(maxDiff(await runOrt(bytes, x, e.input.shape), torch)).toBeLessThan(TOL);
      } finally {
        model.dispose();
      }
    });
  }

  it('the Flatten one declares (N, 1, 28, 28) input: the model takes [1, 28, 28] (784 values a sample) and flattens it', () => {
    const [name, e] = mlps.find(([n]) => n.startsWith('flatten'))!;
    expect(e.input.shape).toEqual([10, 1, 28, 28]);
    const c = readOnnx(fixture(e.onnx), name);
    expect(c.spec.inputWidth).toBe(784);
    expect(c.spec.inputShape).toEqual([1, 28, 28]);
    expect(c.spec.layers.map((l) => l.type)).toEqual(['flatten', 'linear', 'relu', 'linear', 'sigmoid']);
  });
});

describe("import: other exporters' layouts, written by onnx.helper", () => {
  for (const name of ['tf2onnx-matmul-add-float-data', 'opset11-ir6-gemm-transb-softmax', 'float16-weights', 'keras-dropout']) {
    it(`${name} matches numpy's float64 output within ${TOL}`, () => {
      const w = peer.written[name];
      const model = importOnnx(new Uint8Array(readFileSync(w.onnx)), { backend });
      try {
        const base = w.onnx.slice(0, -'.onnx'.length);
        const d = maxDiff(model.predict(f32(`${base}.input.f32`)), f32(`${base}.output.f32`));
        if (name === 'keras-dropout') expect(model.spec().layers.map((l) => (l.type === 'dropout' ? `dropout ${l.rate}` : l.type))).toEqual(['linear', 'relu', 'dropout 0.2', 'linear', 'sigmoid']);
        worst.numpy = Math.max(worst.numpy, d);
        expect(d).toBeLessThan(TOL);
      } finally {
        model.dispose();
      }
    });
  }

  const CODES: Record<string, string> = { 'refuse-missing-initializer': 'E_UNSUPPORTED', 'refuse-wrong-shape': 'E_SHAPE' };
  const REFUSALS: Record<string, string> = {
    'refuse-float64': `import: node 0 "Gemm": B 'W1' holds float64 weights, which simdnet does not convert (it computes in float32): export the model in float32 (model.float() in PyTorch)`,
    'refuse-external-data': `import: node 0 "Gemm": B 'W1' is stored in an external data file ('weights.bin'); simdnet reads single-file ONNX models (save with the weights inside, e.g. onnx.save(model, path, save_as_external_data=False))`,
    'refuse-layernorm': 'import: node 2 "LayerNormalization" is not supported (supported: Gemm, MatMul, Add, Conv, ConvTranspose, MaxPool, AveragePool, Pad, Resize, Upsample, DepthToSpace, SpaceToDepth, Flatten, Reshape, Relu, Sigmoid, Tanh, Softmax, Dropout, Identity)',
    'refuse-opset18': 'import: opset 18 is not supported (supported: 11–17)',
    'refuse-4d-without-flatten': 'import: node 0 "Gemm": takes a 4-D input; simdnet layers take (N, features), put a Flatten in front',
    'refuse-opset10': 'import: opset 10 is not supported (supported: 11–17)',
    'refuse-ir9': 'import: IR version 9 is not supported (supported: 6–8)',
    'refuse-missing-initializer': `import: node 2 "Gemm": input C 'b2' is not an initializer (weights must be constants in the file)`,
    'refuse-wrong-shape': 'import: node 2 "Gemm": has weights for 9 inputs, the value before it has 8 features',
  };
  for (const [name, message] of Object.entries(REFUSALS)) {
    it(`${name}: refused with one clear message, nothing allocated`, async () => {
      const before = backend.liveAllocations;
      const bytes = new Uint8Array(readFileSync(peer.written[name].onnx));
      expect(await errorOf(() => importOnnx(bytes, { backend }))).toBe(message);
      expect(refusal(() => readOnnx(bytes)).code).toBe(CODES[name] ?? 'E_UNSUPPORTED');
      expect(backend.liveAllocations).toBe(before);
    });
  }

  it('truncated and corrupt protobuf, and not ONNX at all', async () => {
    const bytes = exported.relu.bytes;
    expect(await errorOf(() => importOnnx(bytes.subarray(0, 1000), { backend }))).toMatch(/^import: not a readable ONNX file \(.*corrupt or truncated protobuf at byte \d+: field \d+ declares \d+ bytes, \d+ are left\)$/);
    expect(await errorOf(() => importOnnx(new TextEncoder().encode('{"not": "onnx"}'), { backend }))).toMatch(/^import: /);
    expect(await errorOf(() => importOnnx(new Uint8Array(0), { backend }))).toBe('import: the file is empty');
    expect(refusal(() => readOnnx(bytes.subarray(0, 1000))).code).toBe('E_FILE_CORRUPT');
    // a million and one 2-byte fields: refused by count, not read into a million objects
    const many = new Uint8Array(2 * (2 ** 20 + 1)).fill(0x08); // tag (field 1, varint), value 8, …
    expect(await errorOf(() => readOnnx(many))).toBe('import: not a readable ONNX file (ONNX: more than 1048576 fields in one message (a packed field would be one); the file is corrupt or not one simdnet reads)');
    expect(await errorOf(() => importOnnx(serializeModel(exported.relu.model), { backend }))).toMatch(/^import: /);
  });
});

describe('round trips', () => {
  it('simdnet → ONNX → simdnet: identical weights and identical model file bytes, for every kind', () => {
    for (const [name, e] of Object.entries(exported)) {
      const c = readOnnx(e.bytes, name);
      expect(Buffer.from(c.weights.buffer).equals(Buffer.from(e.model.getWeights().buffer)), name).toBe(true);
      expect(c.spec).toEqual(e.model.spec());
      const imported = importOnnx(e.bytes, { backend });
      const again = serializeModel(imported, c.meta);
      imported.dispose();
      expect(Buffer.from(again).equals(Buffer.from(serializeModel(e.model, e.meta))), name).toBe(true);
    }
  });

  it("simdnet's layer metadata is used only when it is valid and describes the graph's own chain", () => {
    const bytes = exported.deep.bytes;
    const text = Buffer.from(bytes).toString('latin1');
    expect(readOnnx(bytes).spec.layers[0]).toEqual({ type: 'linear', in: 784, out: 64, init: 'heNormal' });
    // an init nobody has (same length: the protobuf lengths still hold), and sizes of another model
    const edited = (from: string, to: string) => new Uint8Array(Buffer.from(text.replace(from, to), 'latin1'));
    expect(readOnnx(edited('"init":"heNormal"', '"init":"heNormaX"')).spec.layers[0]).toEqual({ type: 'linear', in: 784, out: 64, init: 'glorotUniform' });
    expect(readOnnx(edited('"in":784,"out":64,"init":"heNormal"', '"in":784,"out":65,"init":"heNormal"')).spec.layers[0].init).toBe('glorotUniform');
  });

  it("PyTorch → simdnet → ONNX: onnxruntime on the re-export still gives PyTorch's output", async () => {
    const x = f32(join(FIXTURES, 'deep-tanh-784-256-64-256-784-opset17.input.f32'));
    const d = maxDiff(await runOrt(exported.reexported.bytes, x, [10, 784]), f32(join(FIXTURES, 'deep-tanh-784-256-64-256-784-opset17.output.f32')));
    worst.torch = Math.max(worst.torch, d);
    expect(d).toBeLessThan(TOL);
  });

  it('an imported PyTorch autoencoder fine-tuned one epoch on the bundled digits lowers its test loss (onnxruntime agrees after export: above)', () => {
    expect(tuning.after).toBeLessThan(0.9 * tuning.before);
    expect(maxDiff(exported.finetuned.model.getWeights(), readOnnx(fixture('ae-784-128-784-opset17.onnx')).weights)).toBeGreaterThan(0);
  });

  it('the CLI: import a PyTorch file, fine-tune it with train --init-from, export it; onnxruntime runs the result', async () => {
    const simdnet = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
    const onnxIn = join(FIXTURES, 'nobias-784-32-784-opset17.onnx');
    const imported = join(dir, 'nobias.simdnet');
    let r = simdnet('import', onnxIn, '--out', imported);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`wrote ${imported}: 784-32-784 relu/sigmoid from pytorch 1.13.0 (IR 8, opset 17)\n`);
    const start = decodeModelFile(new Uint8Array(readFileSync(imported))).blocks.weights;
    r = simdnet('train', '--init-from', onnxIn, '--epochs', '1', '--out', join(dir, 'run'), '--threads', '1');
    expect(r.status, r.stderr).toBe(0);
    const tuned = decodeModelFile(new Uint8Array(readFileSync(join(dir, 'run/model.simdnet'))));
    expect(tuned.spec.layers.map((l) => l.type)).toEqual(['linear', 'relu', 'linear', 'sigmoid']);
    expect(tuned.blocks.weights.length).toBe(start.length);
    expect(maxDiff(tuned.blocks.weights, start)).toBeGreaterThan(0); // trained from, not replaced
    const out = join(dir, 'tuned.onnx');
    r = simdnet('export', '--model', join(dir, 'run/model.simdnet'), '--out', out);
    expect(r.stdout).toBe(`wrote ${out}\n`);
    // and back: the same model file, byte for byte (weights, layers, inits and the run's metadata)
    const back = join(dir, 'back.simdnet');
    r = simdnet('import', out, '--out', back);
    expect(r.stderr).toBe('');
    expect(readFileSync(back).equals(readFileSync(join(dir, 'run/model.simdnet')))).toBe(true);
    const model = importOnnx(new Uint8Array(readFileSync(out)), { backend });
    try {
      expect(maxDiff(await runOrt(new Uint8Array(readFileSync(out)), digits, [100, 784]), model.predict(digits))).toBeLessThan(TOL);
    } finally {
      model.dispose();
    }
    r = simdnet('train', '--init-from', onnxIn, '--hidden', '64', '--out', join(dir, 'run2'));
    expect(r.stderr).toBe('simdnet: --init-from takes the layers from its file; do not give --hidden with it\n');
    const classifier = join(FIXTURES, 'classifier-784-64-10-softmax-opset13.onnx');
    r = simdnet('train', '--init-from', classifier, '--out', join(dir, 'run3'));
    expect(r.stderr).toBe(`simdnet: --init-from ${classifier}: expected a denoising autoencoder (dense: linear 784→h, relu|tanh|sigmoid, …, linear h→784, sigmoid; or conv on 1×28×28: conv 1→c 3×3, relu, …, conv c→1 3×3, sigmoid, possibly between pixel-unshuffle r and pixel-shuffle r), this model is linear 784→64, relu, linear 64→10, softmax\n`);
    // PyTorch's conv autoencoder: a model file with its input shape and conv layers
    const conv = join(dir, 'conv.simdnet');
    r = simdnet('import', join(FIXTURES, 'conv-ae-1x28x28-opset17.onnx'), '--out', conv);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`wrote ${conv}: (N, 1, 28, 28) → conv2d, relu, maxpool2d, conv-transpose2d, relu, conv2d, sigmoid from pytorch 1.13.0 (IR 8, opset 17)\n`);
    expect(decodeModelFile(new Uint8Array(readFileSync(conv))).spec.inputShape).toEqual([1, 28, 28]);
    // and it gives PyTorch's outputs
    const convModel = importOnnx(fixture('conv-ae-1x28x28-opset17.onnx'), { backend });
    try {
      expect(maxDiff(convModel.predict(f32(join(FIXTURES, 'conv-ae-1x28x28-opset17.input.f32'))), f32(join(FIXTURES, 'conv-ae-1x28x28-opset17.output.f32')))).toBeLessThan(TOL);
    } finally {
      convModel.dispose();
    }
  }, 120_000);
});

describe('the parameter layout: getWeights / setWeights by layer and name', () => {
  it('each Linear declares W (in, out) then b (out); the offsets run end to end in layer order', () => {
    const m = exported.deep.model;
    const expected = [[0, 'W', [784, 64]], [0, 'b', [64]], [2, 'W', [64, 16]], [2, 'b', [16]], [4, 'W', [16, 64]], [4, 'b', [64]], [6, 'W', [64, 784]], [6, 'b', [784]]];
    expect(m.layout.slots.map((s) => [s.layer, s.name, s.shape])).toEqual(expected);
    let offset = 0;
    for (const s of m.layout.slots) {
      expect(s.offset).toBe(offset);
      offset += s.shape.reduce((n, d) => n * d, 1);
    }
    expect(m.paramCount).toBe(offset);
    const flat = m.getWeights();
    for (const s of m.layout.slots) {
      const [t] = m.getWeights(s.layer).filter((w) => w.name === s.name);
      expect(t.shape).toEqual(s.shape);
      expect(Array.from(t.values)).toEqual(Array.from(flat.subarray(s.offset, s.offset + t.values.length)));
    }
    expect(m.getWeights(1)).toEqual([]);
  });

  it('setWeights(layer, tensors) changes that tensor only; bad names, shapes and values are refused before anything is written', async () => {
    const m = new Sequential(KINDS.relu(), { backend, seed: 2 });
    try {
      const before = m.getWeights();
      const b = new Float32Array(784).fill(0.25);
      m.setWeights(2, [{ name: 'b', values: b }]);
      const after = m.getWeights();
      const s = m.layout.slot(2, 'b');
      for (let i = 0; i < after.length; i++) expect(after[i]).toBe(i >= s.offset && i < s.offset + 784 ? 0.25 : before[i]);
      expect(await errorOf(() => m.setWeights(2, [{ name: 'B', values: b }]))).toBe("layer 2 has no parameter 'B' (it has W, b)");
      expect(await errorOf(() => m.setWeights(1, [{ name: 'W', values: b }]))).toBe("layer 1 has no parameter 'W' (it has no parameters)");
      expect(await errorOf(() => m.setWeights(0, [{ name: 'W', shape: [32, 784], values: new Float32Array(784 * 32) }]))).toBe("setWeights: layer 0 'W': expected shape [784, 32], got [32, 784]");
      expect(await errorOf(() => m.setWeights(0, [{ name: 'b', values: new Float32Array(31) }]))).toBe("setWeights: layer 0 'b': expected 32 values, got 31");
      expect(await errorOf(() => m.setWeights(0, [{ name: 'b', values: new Float32Array(32) }, { name: 'W', values: new Float32Array(784 * 32).fill(NaN) }]))).toBe("setWeights: layer 0 'W': value 0 is NaN, expected finite numbers");
      expect(await errorOf(() => m.getWeights(4))).toBe('getWeights: expected a layer index from 0 to 3, got 4');
      expect(Array.from(m.getWeights())).toEqual(Array.from(after)); // the refused calls wrote nothing
    } finally {
      m.dispose();
    }
  });
});
