// ONNX for conv graphs, checked by things nobody here wrote:
//   * PyTorch's own files (test/fixtures/onnx, torch.onnx.export at opsets 11, 13 and 17) map to the layer specs
//     of the modules PyTorch exported, with the shapes PyTorch computed;
//   * the mapping both ways, ONNX → specs → ONNX, runs in onnxruntime-node on the fixtures' inputs and gives
//     PyTorch's outputs (so import read each attribute as PyTorch meant it, and export writes it as ONNX means it);
//     the onnx checker (full_check) passes every file export writes;
//   * conv graphs in other exporters' layouts (onnx.helper: auto_pad, Resize by sizes, half_pixel, output_shape,
//     Constant value_ints) give what onnxruntime gives for the original file; the files simdnet must refuse are
//     refused with one line naming the node, the attribute and its value.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { createWasmBackend } from '../src/backend/wasm.js';
import { serializeModel } from '../src/formats/model-file.js';
import { AvgPool2D, Conv2D, ConvTranspose2D, Flatten, Linear, MaxPool2D, PixelShuffle2D, PixelUnshuffle2D, ReLU, Reshape, Sigmoid, Softmax, Tanh, Upsample2D, type Layer } from '../src/layers/index.js';
import { Sequential } from '../src/model.js';
import { encodeLayers, exportOnnx } from '../src/onnx/export.js';
import { importOnnx, readOnnx, readOnnxGraph, type OnnxGraph } from '../src/onnx/import.js';
import { f32, fixture, fixtureIndex, FIXTURES, maxDiff, refusal, runOrt, runPeer, TOL, type PeerCheck } from './support/onnx.js';

const index = fixtureIndex();
const convs = Object.entries(index).filter(([, e]) => e.modules.includes('Conv2d'));
const reencode = (g: OnnxGraph) => encodeLayers(g.layers, g.params, g.shapes, { from: 'test' });

/** PyTorch module → the simdnet layer type it becomes */
const TYPE_OF: Record<string, string> = {
  Conv2d: 'conv2d', ConvTranspose2d: 'conv-transpose2d', MaxPool2d: 'maxpool2d', AvgPool2d: 'avgpool2d', Upsample: 'upsample2d', Up: 'upsample2d',
  Flatten: 'flatten', View: 'reshape', Linear: 'linear', ReLU: 'relu', Sigmoid: 'sigmoid', Tanh: 'tanh', Softmax: 'softmax',
  PixelShuffle: 'pixel-shuffle2d', PixelUnshuffle: 'pixel-unshuffle2d',
};

/** conv graphs in other exporters' layouts (test/support/onnx_conv_peer.py) and the layers they map to */
const SPECS_OTHER: Record<string, string[]> = {
  'conv-auto-pad-same-upper-valid': ['conv2d same', 'relu', 'conv2d 0,0,0,0', 'avgpool2d'],
  'resize-sizes-half-pixel-opset11': ['upsample2d 3,2', 'conv2d 1,1,1,1', 'sigmoid', 'upsample2d 3,1'],
  'convtranspose-output-shape-reshape': ['conv-transpose2d 1,1,1,1', 'tanh', 'reshape', 'linear', 'softmax'],
  'depth-space-dcr-one-channel': ['pixel-unshuffle2d 2', 'conv2d 1,1,1,1', 'pixel-shuffle2d 3', 'pixel-unshuffle2d 3', 'pixel-shuffle2d 3'],
};

/** simdnet models with per-sample shapes, exported: [layers, input shape] */
const KINDS: Record<string, () => [Layer[], number[]]> = {
  'flatten-reshape': () => [[new Flatten(), new Linear(3 * 13 * 11, 24), new Tanh(), new Linear(24, 2 * 6 * 5), new Reshape([2, -1, 5]), new Sigmoid()], [3, 13, 11]],
  'flatten-classifier': () => [[new Flatten(), new Linear(196, 16, { init: 'heNormal' }), new ReLU(), new Linear(16, 10), new Softmax()], [1, 14, 14]],
  // pools on odd sizes with padding, both count_include_pad, a rectangular upsampling
  pools: () => [[new MaxPool2D(3, { stride: 2, padding: 1 }), new Upsample2D([2, 3]), new AvgPool2D(2, { padding: 1, countIncludePad: false }), new Tanh(),
    new AvgPool2D(3, { stride: 2, padding: 1 }), new Flatten(), new Linear(60, 5), new Softmax()], [3, 13, 11]],
  // the conv autoencoder: 'same' (auto_pad SAME_UPPER), max pools, a transposed conv with output_padding, an upsampling
  'conv-ae': () => [[new Conv2D(1, 8, 3, { padding: 'same' }), new ReLU(), new MaxPool2D(2), new Conv2D(8, 4, 3, { padding: 1 }), new ReLU(), new MaxPool2D(2),
    new ConvTranspose2D(4, 8, 3, { stride: 2, padding: 1, outputPadding: 1 }), new Tanh(), new Upsample2D(2), new Conv2D(8, 1, 3, { padding: 1, bias: false }), new Sigmoid()], [1, 28, 28]],
  'cnn-classifier': () => [[new Conv2D(1, 6, 5, { stride: 2, padding: 2, init: 'heNormal' }), new ReLU(), new AvgPool2D(3, { stride: 2, padding: 1, countIncludePad: false }), new Conv2D(6, 8, 3), new Tanh(),
    new AvgPool2D(2, { padding: 1 }), new Flatten(), new Linear(72, 10), new Softmax()], [1, 28, 28]],
  // odd sizes; rectangular kernels, strides, scales; pads that differ at each side; 'same' with stride 2 on an odd size
  odd: () => [[new Conv2D(3, 5, [3, 5], { stride: [2, 1], padding: [1, 2, 0, 1] }), new ReLU(), new MaxPool2D(3, { stride: 2, padding: 1 }),
    new ConvTranspose2D(5, 4, [3, 2], { stride: [2, 3], padding: [1, 0, 0, 1], outputPadding: [1, 2], bias: false }), new Sigmoid(), new Upsample2D([2, 3]),
    new Conv2D(4, 2, 3, { stride: 2, padding: 'same', init: 'glorotUniform' }), new Tanh()], [3, 13, 11]],
  // the denoiser at half resolution: PixelUnshuffle on one channel (a SpaceToDepth), PixelShuffle (a DepthToSpace CRD)
  'shuffle-denoiser': () => [[new PixelUnshuffle2D(2), new Conv2D(4, 8, 3, { padding: 'same' }), new ReLU(), new Conv2D(8, 4, 3, { padding: 'same' }), new PixelShuffle2D(2), new Sigmoid()], [1, 28, 28]],
  // PixelUnshuffle on 3 channels (Reshape → Transpose → Reshape), factors 2 and 3, odd sizes
  'shuffle-channels': () => [[new PixelUnshuffle2D(3), new Conv2D(27, 8, 1), new Tanh(), new PixelShuffle2D(2), new PixelUnshuffle2D(2), new PixelShuffle2D(2), new Sigmoid()], [3, 9, 15]],
};
const exported: Record<string, { model: Sequential; bytes: Uint8Array; path: string }> = {};
let backend: Backend;

let dir: string;
let peer: { checked: Record<string, PeerCheck>; written: Record<string, { onnx: string; input: string; shape: number[] }> };
/** each fixture re-encoded from its specs, and where it was written */
const reencoded: Record<string, { bytes: Uint8Array; path: string }> = {};
const worst = { torch: 0, ort: 0, predict: 0, simdnet: 0 };

beforeAll(async () => {
  backend = await createWasmBackend();
  dir = mkdtempSync(join(tmpdir(), 'simdnet-onnx-conv-'));
  for (const [name, make] of Object.entries(KINDS)) {
    const [layers, inputShape] = make();
    const model = new Sequential(layers, { backend, seed: 7, inputShape });
    const bytes = exportOnnx(model, { meta: { kind: name } });
    exported[name] = { model, bytes, path: join(dir, `${name}.onnx`) };
    writeFileSync(exported[name].path, bytes);
  }
  for (const [name, e] of convs) {
    const bytes = reencode(readOnnxGraph(fixture(e.onnx), name));
    reencoded[name] = { bytes, path: join(dir, `${name}.reencoded.onnx`) };
    writeFileSync(reencoded[name].path, bytes);
  }
  peer = runPeer('onnx_conv_peer.py', dir, [...Object.values(reencoded), ...Object.values(exported)].map((r) => r.path));
}, 120_000);

afterAll(() => {
  for (const e of Object.values(exported)) e.model.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
  console.log(`onnx conv: largest |difference| of the re-encoded fixtures in onnxruntime vs PyTorch ${worst.torch.toExponential(2)}; of other exporters' layouts vs onnxruntime on the original ${worst.ort.toExponential(2)}; of simdnet's exports in onnxruntime vs model.predict ${worst.predict.toExponential(2)}; of simdnet's predict on the imported files vs PyTorch or onnxruntime ${worst.simdnet.toExponential(2)}`);
});

describe("PyTorch's conv files (torch.onnx.export, PyTorch 1.13, opsets 11, 13, 17)", () => {
  it('there are conv fixtures at each of opsets 11, 13 and 17, and the conv autoencoder of ../shared is one', () => {
    expect(new Set(convs.map(([, e]) => e.opset))).toEqual(new Set([11, 13, 17]));
    expect(convs.map(([n]) => n)).toContain('conv-ae-1x28x28-opset17');
    expect(convs.length).toBeGreaterThanOrEqual(12);
  });

  for (const [name, e] of convs) {
    it(`${name}: the specs of PyTorch's modules (${e.modules.join(', ')}), the input's shape and PyTorch's output shape`, () => {
      const g = readOnnxGraph(fixture(e.onnx), name);
      expect(g.layers.map((l) => l.type)).toEqual(e.modules.map((m) => TYPE_OF[m]));
      expect(g.shapes[0]).toEqual(e.input.shape.slice(1));
      expect(g.shapes.at(-1)).toEqual(e.output.shape.slice(1));
      expect(g.opset).toBe(e.opset);
    });

    it(`${name}: its specs, written back as ONNX, give PyTorch's outputs in onnxruntime within ${TOL}; the onnx checker passes the file`, async () => {
      const y = await runOrt(reencoded[name].bytes, f32(join(FIXTURES, e.input.file)), e.input.shape);
      const d = maxDiff(y, f32(join(FIXTURES, e.output.file)));
      worst.torch = Math.max(worst.torch, d);
      expect(d).toBeLessThan(TOL);
      const c = peer.checked[reencoded[name].path];
      expect(c.error).toBeUndefined();
      expect(c.ok).toBe(true);
      expect([c.ir, c.opsets]).toEqual([8, { '': 17 }]);
      expect(c.inputs).toEqual([['x', ['N', ...e.input.shape.slice(1)]]]);
      expect(c.outputs).toEqual([['y', ['N', ...e.output.shape.slice(1)]]]);
    });

    it(`${name}: ONNX → specs → ONNX → specs gives the same specs, weights and shapes`, () => {
      const g = readOnnxGraph(fixture(e.onnx), name);
      const back = readOnnxGraph(reencoded[name].bytes, name);
      expect(back.layers).toEqual(g.layers);
      expect(back.shapes).toEqual(g.shapes);
      expect(back.params.length).toBe(g.params.length);
      back.params.forEach((p, k) => {
        expect(Object.keys(p)).toEqual(Object.keys(g.params[k]));
        for (const key of Object.keys(p)) expect(Buffer.from(p[key].buffer, p[key].byteOffset, p[key].byteLength).equals(Buffer.from(g.params[k][key].buffer, g.params[k][key].byteOffset, g.params[k][key].byteLength))).toBe(true);
      });
    });
  }

  it('what PyTorch writes is mapped as PyTorch means it: a zero Pad + AveragePool is count_include_pad, a Resize is an integer upsampling, a Reshape keeps -1 out', () => {
    const specs = (name: string) => readOnnxGraph(fixture(index[name].onnx), name).layers;
    expect(specs('avgpool-3x13x11-opset13').filter((l) => l.type === 'avgpool2d')).toEqual([
      { type: 'avgpool2d', kernel: [3, 3], stride: [2, 2], padding: [1, 1, 1, 1], countIncludePad: true },
      { type: 'avgpool2d', kernel: [2, 2], stride: [1, 1], padding: [1, 1, 1, 1], countIncludePad: false },
      { type: 'avgpool2d', kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0], countIncludePad: true },
    ]);
    expect(specs('odd-3x13x11-opset17').filter((l) => l.type !== 'relu' && l.type !== 'sigmoid' && l.type !== 'tanh')).toEqual([
      { type: 'conv2d', in: 3, out: 5, kernel: [3, 5], stride: [2, 1], padding: [1, 2, 1, 2], bias: true },
      { type: 'maxpool2d', kernel: [3, 3], stride: [2, 2], padding: [1, 1, 1, 1] },
      { type: 'conv-transpose2d', in: 5, out: 4, kernel: [3, 2], stride: [2, 3], padding: [1, 0, 1, 0], outputPadding: [1, 2], bias: true },
      { type: 'upsample2d', scale: [2, 3] },
      { type: 'conv2d', in: 4, out: 3, kernel: [5, 5], stride: [1, 1], padding: [2, 2, 2, 2], bias: true },
    ]);
    expect(specs('nobias-1x12x12-opset17').filter((l) => 'bias' in l).map((l) => 'bias' in l && l.bias)).toEqual([false, false, false]);
    expect(specs('reshape-1x14x14-opset13').find((l) => l.type === 'reshape')).toEqual({ type: 'reshape', shape: [4, 7, 7] });
  });

  it("a conv layer's weights are the file's as they are: W (out, in, kh, kw), ConvTranspose W (in, out, kh, kw), b (out)", () => {
    const g = readOnnxGraph(fixture('conv-ae-1x28x28-opset17.onnx'));
    expect(g.params.map((p) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.length])))).toEqual([{ W: 8 * 1 * 9, b: 8 }, {}, {}, { W: 8 * 8 * 9, b: 8 }, {}, { W: 1 * 8 * 9, b: 1 }, {}]);
  });
});

describe("other exporters' conv layouts, written by onnx.helper", () => {
  for (const [name, types] of Object.entries(SPECS_OTHER)) {
    it(`${name}: mapped to ${types.join(', ')}; written back, onnxruntime gives what it gives for the original within ${TOL}`, async () => {
      const w = peer.written[name];
      const bytes = new Uint8Array(readFileSync(w.onnx));
      const g = readOnnxGraph(bytes, name);
      expect(g.layers.map((l) => ('padding' in l && l.type !== 'avgpool2d' ? `${l.type} ${l.padding}` : l.type === 'upsample2d' ? `${l.type} ${l.scale}` : 'factor' in l ? `${l.type} ${l.factor}` : l.type))).toEqual(types);
      const x = f32(w.input);
      const d = maxDiff(await runOrt(reencode(g), x, w.shape), await runOrt(bytes, x, w.shape));
      worst.ort = Math.max(worst.ort, d);
      expect(d).toBeLessThan(TOL);
    });
  }

  const REFUSALS: Record<string, [string, string]> = {
    'refuse-group': ['import: node 0 "Conv": attribute group = 2 is not supported (only 1: no grouped or depthwise convolutions)', 'E_UNSUPPORTED'],
    'refuse-dilations': ['import: node 0 "Conv": attribute dilations = (2, 2) is not supported (only 1: no dilated convolutions)', 'E_UNSUPPORTED'],
    'refuse-same-lower': ['import: node 0 "Conv": attribute auto_pad = SAME_LOWER is not supported (only NOTSET with pads, VALID, and SAME_UPPER for a Conv)', 'E_UNSUPPORTED'],
    'refuse-conv1d': ["import: node 0 \"Conv\": W 'W1' has shape (4, 2, 3): only 2-D convolutions are supported (W (out, in, kh, kw))", 'E_UNSUPPORTED'],
    'refuse-ceil-mode': ['import: node 1 "MaxPool": attribute ceil_mode = 1 is not supported (only 0: floor, PyTorch\'s default)', 'E_UNSUPPORTED'],
    'refuse-maxpool-indices': ["import: node 1 \"MaxPool\": its second output (Indices, 'idx') is not supported", 'E_UNSUPPORTED'],
    'refuse-resize-linear': ['import: node 2 "Resize": attribute mode = linear is not supported (only nearest)', 'E_UNSUPPORTED'],
    'refuse-resize-round-asymmetric': ['import: node 1 "Resize": coordinate_transformation_mode asymmetric with nearest_mode round_prefer_ceil is not supported (it is not integer nearest upsampling; supported: asymmetric with floor, half_pixel with round_prefer_floor or round_prefer_ceil)', 'E_UNSUPPORTED'],
    'refuse-resize-fraction': ['import: node 1 "Resize": scales (1.5, 2) are not supported (only integer upsampling factors)', 'E_UNSUPPORTED'],
    'refuse-pad-reflect': ['import: node 1 "Pad": attribute mode = reflect is not supported (only constant zero padding)', 'E_UNSUPPORTED'],
    'refuse-pad-before-maxpool': ['import: node 1 "Pad": is supported only right before a Conv or an AveragePool (zero padding they take in), not before node 2 "MaxPool"', 'E_UNSUPPORTED'],
    'refuse-softmax-channels': ['import: node 1 "Softmax": over a 4-D value (N, 4, 8, 8) is not supported (only over features: put a Flatten before it)', 'E_UNSUPPORTED'],
    'refuse-output-shape': ['import: node 1 "ConvTranspose": attribute output_shape = (16, 16) is not supported: it does not agree with the input (N, 4, 8, 8), the kernel, strides, pads and output_padding (give pads and no output_shape)', 'E_UNSUPPORTED'],
    'refuse-reshape-batch': ['import: node 1 "Reshape": shape (2, -1) is not supported (expected (0 or -1 for the batch, then the per-sample shape))', 'E_UNSUPPORTED'],
    'refuse-leaky-relu': ['import: node 1 "LeakyRelu" is not supported (supported: Gemm, MatMul, Add, Conv, ConvTranspose, MaxPool, AveragePool, Pad, Resize, Upsample, DepthToSpace, SpaceToDepth, Flatten, Reshape, Relu, Sigmoid, Tanh, Softmax, Dropout, Identity)', 'E_UNSUPPORTED'],
    'refuse-depth-to-space-dcr': ["import: node 1 \"DepthToSpace\": mode DCR on 8 channels is not supported: its channel order is not PyTorch's nn.PixelShuffle (mode CRD, simdnet's PixelShuffle2D); the two agree only when C/blocksize² = 1", 'E_UNSUPPORTED'],
    'refuse-space-to-depth-channels': ["import: node 1 \"SpaceToDepth\": on 4 channels is not supported: its channel order (block offset first) is not PyTorch's nn.PixelUnshuffle (simdnet's PixelUnshuffle2D); the two agree only on 1 channel", 'E_UNSUPPORTED'],
    'refuse-transpose-not-shuffle': ['import: node 1 "Reshape": Reshape (-1, 4, 4, 2, 4, 2) → Transpose (perm 0, 1, 2, 4, 3, 5) → Reshape (-1, 16, 4, 4) on (N, 4, 8, 8) is not supported (only the chains that are nn.PixelShuffle or nn.PixelUnshuffle)', 'E_UNSUPPORTED'],
    'refuse-transpose-alone': ['import: node 1 "Transpose" is not supported (supported: Gemm, MatMul, Add, Conv, ConvTranspose, MaxPool, AveragePool, Pad, Resize, Upsample, DepthToSpace, SpaceToDepth, Flatten, Reshape, Relu, Sigmoid, Tanh, Softmax, Dropout, Identity); simdnet layers are NCHW throughout (a Softmax over channels exports as Transpose, Softmax, Transpose); a Transpose is read only between a 6-D Reshape and a Reshape back, as a pixel (un)shuffle', 'E_UNSUPPORTED'],
    'refuse-channels-mismatch': ['import: node 0 "Conv": has weights for 3 input channels, the value before it has 2 (N, 2, 8, 8)', 'E_SHAPE'],
  };
  for (const [name, [message, code]] of Object.entries(REFUSALS)) {
    it(`${name}: refused with one line naming the node and what it holds`, () => {
      const bytes = new Uint8Array(readFileSync(peer.written[name].onnx));
      expect(refusal(() => readOnnx(bytes))).toEqual({ message, code });
    });
  }
});

describe("PyTorch's conv files run in simdnet", () => {
  for (const [name, e] of convs) {
    it(`${name}: importOnnx, then predict gives PyTorch's output within ${TOL}`, () => {
      const model = importOnnx(fixture(e.onnx), { backend, name });
      try {
        expect(model.inputShape).toEqual(e.input.shape.slice(1));
        expect(model.shapes.at(-1)).toEqual(e.output.shape.slice(1));
        const d = maxDiff(model.predict(f32(join(FIXTURES, e.input.file))), f32(join(FIXTURES, e.output.file)));
        worst.simdnet = Math.max(worst.simdnet, d);
        expect(d).toBeLessThan(TOL);
      } finally {
        model.dispose();
      }
    });
  }

  for (const name of Object.keys(SPECS_OTHER)) {
    it(`${name} (onnx.helper): predict gives what onnxruntime gives for the file within ${TOL}`, async () => {
      const w = peer.written[name];
      const bytes = new Uint8Array(readFileSync(w.onnx));
      const model = importOnnx(bytes, { backend, name });
      try {
        const x = f32(w.input);
        const d = maxDiff(model.predict(x), await runOrt(bytes, x, w.shape));
        worst.simdnet = Math.max(worst.simdnet, d);
        expect(d).toBeLessThan(TOL);
      } finally {
        model.dispose();
      }
    });
  }
});

describe('export of models with image shapes: onnxruntime, the checker, round trips', () => {
  it('PixelShuffle2D is a DepthToSpace (CRD); PixelUnshuffle2D a SpaceToDepth on one channel, else Reshape → Transpose → Reshape', () => {
    expect(peer.checked[exported['shuffle-denoiser'].path].ops).toEqual(['SpaceToDepth', 'Conv', 'Relu', 'Conv', 'DepthToSpace', 'Sigmoid']);
    expect(peer.checked[exported['shuffle-channels'].path].ops).toEqual(['Reshape', 'Transpose', 'Reshape', 'Conv', 'Tanh', 'DepthToSpace', 'Reshape', 'Transpose', 'Reshape', 'DepthToSpace', 'Sigmoid']);
  });

  for (const name of Object.keys(KINDS)) {
    it(`${name}: onnxruntime-node gives model.predict's outputs within ${TOL}; the checker reads x (N, ...inputShape) → y (N, ...outputShape)`, async () => {
      const { model, bytes, path } = exported[name];
      const x = new Float32Array(5 * model.inputWidth).map((_, i) => ((i * 7919) % 1000) / 1000);
      const d = maxDiff(await runOrt(bytes, x, [5, ...model.inputShape]), model.predict(x));
      worst.predict = Math.max(worst.predict, d);
      expect(d).toBeLessThan(TOL);
      const c = peer.checked[path];
      expect(c.error).toBeUndefined();
      expect(c.inputs).toEqual([['x', ['N', ...model.inputShape]]]);
      expect(c.outputs).toEqual([['y', ['N', ...model.shapes.at(-1)!]]]);
    });

    it(`${name}: simdnet → ONNX → simdnet gives the same spec (input shape too), identical weights and identical model file bytes`, () => {
      const { model, bytes } = exported[name];
      const c = readOnnx(bytes, name);
      expect(c.spec).toEqual(model.spec());
      expect(Buffer.from(c.weights.buffer).equals(Buffer.from(model.getWeights().buffer))).toBe(true);
      const back = importOnnx(bytes, { backend });
      try {
        expect(Buffer.from(serializeModel(back, c.meta)).equals(Buffer.from(serializeModel(model, { kind: name })))).toBe(true);
      } finally {
        back.dispose();
      }
    });
  }
});
