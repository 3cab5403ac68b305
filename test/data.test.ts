// src/data: the bundled MNIST split, the packed binary form, IDX files, noise models.

import { mkdtempSync, readFileSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SimdnetError } from '../src/errors.js';
import { Rng } from '../src/random.js';
import { idxImages, idxLabels, writeIdxFolder } from './support/idx.js';
import {
  applyNoise,
  decodeDigits,
  loadBundledDigits,
  loadBundledMnist,
  loadIdxMnist,
  oneHot,
  packDigits,
  parseIdx,
  readIdxFile,
  splitDigits,
  type Dataset,
} from '../src/data/node.js';

/** Runs fn, expects a SimdnetError whose one-line message contains every part. */
function expectError(fn: () => unknown, ...parts: string[]): string {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected a SimdnetError containing ${parts.join(' & ')}`).toBeInstanceOf(SimdnetError);
  const msg = (err as Error).message;
  expect(msg).not.toContain('\n');
  for (const p of parts) expect(msg).toContain(p);
  return msg;
}

/** Each image row as a string key, to compare sets of images. */
function rowKeys(images: Float32Array): string[] {
  const keys: string[] = [];
  for (let r = 0; r < images.length / 784; r++) {
    keys.push(Array.from(images.subarray(r * 784, (r + 1) * 784), (v) => Math.round(v * 255)).join(','));
  }
  return keys;
}

/** Bit-for-bit equality of two typed arrays (fast, unlike toEqual on millions of values). */
function sameBits(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function expectSameDataset(a: Dataset, b: Dataset) {
  expect(a.count).toBe(b.count);
  expect(sameBits(a.labels, b.labels)).toBe(true);
  expect(sameBits(a.images, b.images)).toBe(true);
}

// ---- bundled MNIST --------------------------------------------------------------------------------------

describe('bundled MNIST', () => {
  it('loads 8000/2000 digits', () => {
    const split = loadBundledMnist();
    expect(split.train.count).toBe(8000);
    expect(split.test.count).toBe(2000);
    for (const d of [split.train, split.test]) {
      expect(d.width).toBe(784);
      expect(d.images.length).toBe(d.count * 784);
      expect(d.labels.length).toBe(d.count);
    }
  });

  it('has 0..1 pixels on the /255 grid and labels 0..9, every class in train and test', () => {
    const { train, test } = loadBundledMnist();
    for (const d of [train, test]) {
      let min = Infinity, max = -Infinity, offGrid = 0;
      for (const v of d.images) {
        if (v < min) min = v;
        if (v > max) max = v;
        if (v !== Math.fround(Math.round(v * 255) / 255)) offGrid++;
      }
      expect(min).toBe(0);
      expect(max).toBe(1);
      expect(offGrid).toBe(0);
      const perClass = new Array(10).fill(0);
      for (const y of d.labels) perClass[y]++;
      expect(perClass.reduce((a, b) => a + b)).toBe(d.count);
      for (const c of perClass) expect(c).toBeGreaterThan(d.count / 20);
    }
  });

  it("are the mnist package's own digits: the packed file the package ships decodes to its JSON, value for value", () => {
    // the reference: the dev dependency's digits/<d>.json, read here with none of the packing code
    const dir = join(dirname(createRequire(import.meta.url).resolve('mnist')), 'digits');
    const { images, labels } = loadBundledDigits();
    let at = 0;
    let worst = 0;
    for (let d = 0; d < 10; d++) {
      const data = (JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8')) as { data: number[] }).data;
      for (let i = 0; i < data.length; i++, at++) worst = Math.max(worst, Math.abs(images[at] - data[i]));
      expect(Array.from(new Set(labels.subarray((at - data.length) / 784, at / 784)))).toEqual([d]);
    }
    expect(at).toBe(images.length);
    expect(worst).toBeLessThanOrEqual(0.0005 + 1e-7); // the JSON keeps 3 decimals of p/255
  });

  it('is the same split for the same seed, another for another seed', () => {
    const a = loadBundledMnist({ seed: 3 });
    const b = loadBundledMnist({ seed: 3 });
    expectSameDataset(a.train, b.train);
    expectSameDataset(a.test, b.test);
    const c = loadBundledMnist({ seed: 4 });
    expect(sameBits(c.train.labels, a.train.labels)).toBe(false);
    expect(loadBundledMnist({}).train.labels).toEqual(loadBundledMnist({ seed: 0 }).train.labels); // default seed 0
  });

  it('splits into train + test = all digits, with no image in both', () => {
    const all = rowKeys(loadBundledDigits().images);
    const { train, test } = loadBundledMnist({ seed: 11 });
    const count = new Map<string, number>();
    for (const k of all) count.set(k, (count.get(k) ?? 0) + 1);
    for (const k of [...rowKeys(train.images), ...rowKeys(test.images)]) count.set(k, (count.get(k) ?? 0) - 1);
    expect([...count.values()].every((n) => n === 0)).toBe(true);
    const trainSet = new Set(rowKeys(train.images));
    const shared = rowKeys(test.images).filter((k) => trainSet.has(k));
    // an image that occurs twice in the package could land on both sides; there must be no more than that
    const dupes = [...new Set(shared)].filter((k) => all.filter((x) => x === k).length < 2);
    expect(dupes).toEqual([]);
  });

  it('depends on the seed only (not Math.random), and honours trainCount', () => {
    const a = loadBundledMnist({ seed: 5, trainCount: 9000 });
    const spy = vi.spyOn(Math, 'random').mockImplementation(() => {
      throw new Error('Math.random used');
    });
    try {
      const b = loadBundledMnist({ seed: 5, trainCount: 9000 });
      expectSameDataset(a.train, b.train);
      expect(b.test.count).toBe(1000);
    } finally {
      spy.mockRestore();
    }
  });

  it('rejects a bad seed or trainCount', () => {
    expectError(() => loadBundledMnist({ seed: 1.5 }), 'seed', '1.5');
    expectError(() => loadBundledMnist({ seed: -1 }), 'seed', '-1');
    expectError(() => loadBundledMnist({ trainCount: 10000 }), 'trainCount', '1..9999', '10000');
    expectError(() => loadBundledMnist({ trainCount: 0 }), 'trainCount', '0');
  });

  it('returns copies: mutating a split does not change the next one', () => {
    const a = loadBundledMnist({ seed: 2 });
    const first = a.train.images[300];
    a.train.images.fill(7);
    a.train.labels.fill(7);
    const b = loadBundledMnist({ seed: 2 });
    expect(b.train.images[300]).toBe(first);
    expect(new Set(b.train.labels).size).toBe(10);
  });
});

// ---- packed binary form -----------------------------------------------------------------------------------

describe('packed digits (SDMN)', () => {
  it('round-trips exactly and gives the browser the same split as Node', () => {
    const raw = loadBundledDigits();
    const bytes = packDigits(raw.images, raw.labels);
    expect(bytes.length).toBe(8 + 10000 * 785);
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('SDMN');
    const back = decodeDigits(bytes);
    expect(sameBits(back.images, raw.images)).toBe(true);
    expect(back.labels).toEqual(raw.labels);
    // class order: all 0s, then all 1s, ...
    for (let i = 1; i < back.labels.length; i++) expect(back.labels[i] >= back.labels[i - 1]).toBe(true);
    for (const seed of [0, 42]) {
      const browser = splitDigits(back.images, back.labels, seed, 8000);
      const node = loadBundledMnist({ seed });
      expectSameDataset(browser.train, node.train);
      expectSameDataset(browser.test, node.test);
    }
  });

  it('decodes from a view into a larger buffer', () => {
    const images = new Float32Array(2 * 784).map((_, i) => (i % 256) / 255);
    const labels = Uint8Array.of(3, 9);
    const packed = packDigits(images, labels);
    const big = new Uint8Array(packed.length + 5);
    big.set(packed, 3);
    const back = decodeDigits(big.subarray(3, 3 + packed.length));
    expect(back.images).toEqual(images);
    expect(back.labels).toEqual(labels);
  });

  it('rejects bad bytes with a clear message', () => {
    const packed = packDigits(new Float32Array(784 * 2), Uint8Array.of(1, 2));
    expectError(() => decodeDigits(packed.subarray(0, 5)), 'truncated', '8-byte header', '5 bytes');
    const bad = packed.slice();
    bad[0] = 0x58;
    expectError(() => decodeDigits(bad), 'bad magic', 'SDMN', 'XDMN');
    expectError(() => decodeDigits(packed.subarray(0, packed.length - 1)), '2 images', `${packed.length} bytes`, `${packed.length - 1} bytes`);
    const badLabel = packed.slice();
    badLabel[badLabel.length - 1] = 10;
    expectError(() => decodeDigits(badLabel), 'label 10', 'index 1');
    expectError(() => packDigits(new Float32Array(784), Uint8Array.of(1, 2)), '784 values', '2 labels');
    expectError(() => packDigits(new Float32Array(784).fill(1.5), Uint8Array.of(1)), 'pixel 0', '1.5');
  });
});

// ---- IDX files --------------------------------------------------------------------------------------------

function pixelsFor(count: number, salt: number): Uint8Array {
  return new Uint8Array(count * 784).map((_, i) => (i * 7 + salt) % 256);
}

describe('IDX files', () => {
  let dir: string;
  const trainPx = pixelsFor(5, 1);
  const testPx = pixelsFor(3, 2);
  const trainY = Uint8Array.of(0, 1, 2, 9, 5);
  const testY = Uint8Array.of(7, 8, 0);

  /** A fresh folder with the four files; `gz` picks which are gzipped, `dotted` the `.idx3-ubyte` spelling. */
  function makeDir(opts: { gz?: boolean; dotted?: boolean } = {}): string {
    return writeIdxFolder(mkdtempSync(join(dir, 'mnist-')), { train: { images: trainPx, labels: trainY }, test: { images: testPx, labels: testY } }, opts);
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'simdnet-idx-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const opts of [{}, { gz: true }, { dotted: true }, { dotted: true, gz: true }]) {
    it(`reads a folder of ${JSON.stringify(opts)} files`, () => {
      const { train, test } = loadIdxMnist(makeDir(opts));
      expect(train.count).toBe(5);
      expect(test.count).toBe(3);
      expect(train.width).toBe(784);
      expect(train.labels).toEqual(trainY);
      expect(test.labels).toEqual(testY);
      expect(train.images).toEqual(Float32Array.from(trainPx, (p) => p / 255));
      expect(test.images).toEqual(Float32Array.from(testPx, (p) => p / 255));
    });
  }

  it('parseIdx reads images and labels and names the file in every error', () => {
    const img = parseIdx(idxImages(pixelsFor(2, 0)), 'x-images');
    expect(img.kind).toBe('images');
    expect(img.count).toBe(2);
    expect(img.data.length).toBe(2 * 784);
    const lab = parseIdx(idxLabels(Uint8Array.of(4, 2)), 'x-labels');
    expect(lab).toMatchObject({ kind: 'labels', count: 2 });
    // wrong magic: a labels file where images belong, and junk
    expectError(() => parseIdx(idxLabels(Uint8Array.of(1)), 'train-images-idx3-ubyte'),
      'train-images-idx3-ubyte', 'wrong magic', '0x00000803', '0x00000801', 'labels file');
    expectError(() => parseIdx(new TextEncoder().encode('<html>not found</html>'), 'train-labels-idx1-ubyte'),
      'train-labels-idx1-ubyte', 'wrong magic', '0x00000801', '0x3c68746d');
    // wrong dims
    expectError(() => parseIdx(idxImages(new Uint8Array(27 * 28), { rows: 27, cols: 28 }), 'train-images-idx3-ubyte'),
      'train-images-idx3-ubyte', '28×28', '27×28');
    // truncated data, header, magic
    expectError(() => parseIdx(idxImages(new Uint8Array(984), { count: 60000 }), 'train-images-idx3-ubyte'),
      'train-images-idx3-ubyte: truncated: header says 60000 images of 28×28 (47040016 bytes) but the file has 1000 bytes');
    expectError(() => parseIdx(idxLabels(Uint8Array.of(1, 2), { count: 5 }), 't10k-labels-idx1-ubyte'),
      't10k-labels-idx1-ubyte', 'truncated', '5 labels', '13 bytes', '10 bytes');
    expectError(() => parseIdx(idxImages(new Uint8Array(784)).subarray(0, 10), 'a-images'), 'a-images', 'truncated', '16-byte', '10 bytes');
    expectError(() => parseIdx(new Uint8Array(2), 'a-labels'), 'a-labels', 'truncated', '2 bytes');
    // trailing bytes
    expectError(() => parseIdx(idxLabels(Uint8Array.of(1, 2, 3), { count: 2 }), 'a-labels'), 'a-labels', 'trailing', '2 labels', '10 bytes', '11 bytes');
    // label out of range
    expectError(() => parseIdx(idxLabels(Uint8Array.of(1, 12)), 'a-labels'), 'a-labels', 'label 12', 'index 1', '0..9');
  });

  it('a gzip bomb (issue 12): a header of 64 images inflating to 64 MB stops at the declared size, with a message', () => {
    const d = makeDir({ gz: true });
    const bomb = new Uint8Array(16 + 64 * 1024 * 1024);
    bomb.set(idxImages(new Uint8Array(64 * 784)).subarray(0, 16));
    const file = join(d, 'train-images-idx3-ubyte.gz');
    writeFileSync(file, gzipSync(bomb, { level: 1 }));
    const before = process.memoryUsage().arrayBuffers;
    expectError(() => readIdxFile(file), 'train-images-idx3-ubyte.gz: trailing data: the header declares 50192 bytes but the gzip stream inflates to more');
    // nothing near the stream's 64 MB was kept (the cap is the header's 50 KB)
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 1024 * 1024);
    // a well-formed gzipped file still reads, whatever its compressed size
    writeFileSync(file, gzipSync(idxImages(trainPx)));
    expect(readIdxFile(file).count).toBe(5);
  });

  it('a gzip of something that is not IDX (issue 19) is named by its magic before its "count" sizes anything', () => {
    const d = makeDir({ gz: true });
    const file = join(d, 'train-images-idx3-ubyte.gz');
    // any bytes whose first four are neither IDX magic: text, random bytes, a header that only looks close
    fc.assert(fc.property(fc.uint8Array({ minLength: 4, maxLength: 3000 }), fc.boolean(), (raw, gzLevel1) => {
      const magic = new DataView(raw.buffer, raw.byteOffset).getUint32(0);
      fc.pre(magic !== 0x803 && magic !== 0x801);
      writeFileSync(file, gzipSync(raw, { level: gzLevel1 ? 1 : 9 }));
      const msg = expectError(() => readIdxFile(file), 'train-images-idx3-ubyte.gz: wrong magic: expected 0x00000803 (IDX images) but got 0x' + magic.toString(16).padStart(8, '0'));
      expect(msg).not.toMatch(/maxOutputLength|out of range/);
    }), { seed: 19, numRuns: 60 });
    // the red team's case: a text file, gzipped; and through --data's loader
    writeFileSync(file, gzipSync(Buffer.from('hello, this is a README and not a picture of a digit\n'.repeat(200))));
    expectError(() => loadIdxMnist(d), 'train-images-idx3-ubyte.gz: wrong magic', '0x68656c6c');
    // the right magic with a count no stream of this size can hold: refused before inflating, as truncated
    fc.assert(fc.property(fc.integer({ min: 100_000, max: 0xffffffff }), (count) => {
      const head = idxImages(new Uint8Array(784));
      new DataView(head.buffer, head.byteOffset).setUint32(4, count);
      writeFileSync(file, gzipSync(head));
      expectError(() => readIdxFile(file), 'train-images-idx3-ubyte.gz: truncated: header says ' + count + ' images of 28×28', 'gzip stream inflates to at most');
    }), { seed: 190, numRuns: 25 });
  });

  it('names the file when a file in the folder is corrupt', () => {
    const d = makeDir({ gz: true });
    writeFileSync(join(d, 'train-images-idx3-ubyte.gz'), Uint8Array.of(1, 2, 3, 4, 5));
    expectError(() => loadIdxMnist(d), 'train-images-idx3-ubyte.gz: corrupt gzip stream (');
    const cut = gzipSync(idxLabels(trainY));
    writeFileSync(join(d, 'train-images-idx3-ubyte.gz'), gzipSync(idxImages(trainPx)));
    writeFileSync(join(d, 'train-labels-idx1-ubyte.gz'), cut.subarray(0, cut.length - 6));
    expectError(() => loadIdxMnist(d), 'train-labels-idx1-ubyte.gz: corrupt gzip stream (');
    writeFileSync(join(d, 'train-labels-idx1-ubyte.gz'), gzipSync(idxLabels(trainY.subarray(0, 4))));
    expectError(() => loadIdxMnist(d), 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 'count mismatch', '5 images', '4 labels');
    // an empty set is named with its file (it failed later as "got 0 values" before, naming no file)
    writeFileSync(join(d, 'train-images-idx3-ubyte.gz'), gzipSync(idxImages(new Uint8Array(0))));
    writeFileSync(join(d, 'train-labels-idx1-ubyte.gz'), gzipSync(idxLabels(new Uint8Array(0))));
    expectError(() => loadIdxMnist(d), 'train-images-idx3-ubyte.gz: holds 0 images', 'train-labels-idx1-ubyte.gz');
    writeFileSync(join(d, 'train-images-idx3-ubyte.gz'), gzipSync(idxImages(trainPx)));
    writeFileSync(join(d, 'train-labels-idx1-ubyte.gz'), gzipSync(idxLabels(trainY)));
    writeFileSync(join(d, 't10k-images-idx3-ubyte.gz'), gzipSync(idxImages(testPx, { magic: 0x801 })));
    expectError(() => loadIdxMnist(d), 't10k-images-idx3-ubyte.gz', 'wrong magic');
  });

  it('lists the names it looked for when a file or the folder is missing', () => {
    const d = makeDir();
    unlinkSync(join(d, 't10k-labels-idx1-ubyte'));
    expectError(() => loadIdxMnist(d), d, 'missing t10k-labels-idx1-ubyte',
      't10k-labels-idx1-ubyte.gz', 't10k-labels.idx1-ubyte', 't10k-labels.idx1-ubyte.gz');
    expectError(() => loadIdxMnist(join(dir, 'nope')), join(dir, 'nope'), 'not found', 'train-images-idx3-ubyte');
  });

  it('gunzips a gzipped file that is not named .gz', () => {
    const d = makeDir();
    writeFileSync(join(d, 'train-labels-idx1-ubyte'), gzipSync(idxLabels(trainY)));
    expect(loadIdxMnist(d).train.labels).toEqual(trainY);
  });
});

// ---- noise ------------------------------------------------------------------------------------------------

/** Mean and std-dev of out − clean. */
function diffStats(out: Float32Array, clean: Float32Array) {
  let sum = 0, sq = 0;
  for (let i = 0; i < out.length; i++) {
    const d = out[i] - clean[i];
    sum += d;
    sq += d * d;
  }
  const mean = sum / out.length;
  return { mean, std: Math.sqrt(sq / out.length - mean * mean) };
}

/** E[clip(f·z, −c, c)²] for z ~ N(0,1), by the midpoint rule: the std of clipped noise around grey. */
function clippedStd(f: number, c: number): number {
  let e = 0;
  const h = 1e-4;
  for (let z = -10 + h / 2; z < 10; z += h) {
    const d = Math.max(-c, Math.min(c, f * z));
    e += d * d * Math.exp(-z * z / 2) * h;
  }
  return Math.sqrt(e / Math.sqrt(2 * Math.PI));
}

describe('noise', () => {
  const N = 784 * 500;
  const grey = new Float32Array(N).fill(0.5);

  it('gaussian on grey: mean ≈ 0, std ≈ 0.3 before clipping (≈ 0.275 after), within [0, 1]', () => {
    const out = new Float32Array(N);
    applyNoise(out, grey, 'gaussian', 0.3, new Rng(1));
    const { mean, std } = diffStats(out, grey);
    expect(Math.abs(mean)).toBeLessThan(0.003);
    // at 0.5 ± 0.3·z the clip bites beyond |z| > 1.67, which takes the std from 0.3 to ~0.275
    expect(Math.abs(std - clippedStd(0.3, 0.5))).toBeLessThan(0.002);
    expect(clippedStd(0.3, 0.5)).toBeCloseTo(0.2747, 3);
    let lo = 0, hi = 0, outside = 0;
    for (const v of out) {
      if (v === 0) lo++;
      if (v === 1) hi++;
      if (!(v >= 0 && v <= 1)) outside++;
    }
    expect(outside).toBe(0);
    expect(Math.abs(lo / N - 0.0478)).toBeLessThan(0.003); // P(z < −5/3)
    expect(Math.abs(hi / N - 0.0478)).toBeLessThan(0.003);
  });

  it('gaussian is N(0, f²) where it is not clipped', () => {
    const out = new Float32Array(N);
    applyNoise(out, grey, 'gaussian', 0.1, new Rng(2));
    const { mean, std } = diffStats(out, grey);
    expect(Math.abs(mean)).toBeLessThan(0.001);
    expect(Math.abs(std - 0.1)).toBeLessThan(0.001);
    let within1 = 0, within2 = 0;
    for (let i = 0; i < N; i++) {
      const z = Math.abs(out[i] - 0.5) / 0.1;
      if (z < 1) within1++;
      if (z < 2) within2++;
    }
    expect(Math.abs(within1 / N - 0.6827)).toBeLessThan(0.005);
    expect(Math.abs(within2 / N - 0.9545)).toBeLessThan(0.003);
  });

  it('stays in [0, 1] on real digits even with a large factor, and clips exactly', () => {
    const clean = loadBundledMnist().test.images;
    const out = new Float32Array(clean.length);
    applyNoise(out, clean, 'gaussian', 2, new Rng(3));
    let zeros = 0, ones = 0, outside = 0;
    for (const v of out) {
      if (!(v >= 0 && v <= 1) || Object.is(v, -0)) outside++;
      if (v === 0) zeros++;
      if (v === 1) ones++;
    }
    expect(outside).toBe(0);
    expect(zeros).toBeGreaterThan(0);
    expect(ones).toBeGreaterThan(0);
  });

  it('is the same for the same seed, different otherwise, and advances the rng', () => {
    for (const kind of ['gaussian', 'salt-pepper', 'mask'] as const) {
      const a = new Float32Array(N), b = new Float32Array(N), c = new Float32Array(N);
      const rng = new Rng(9);
      applyNoise(a, grey, kind, 0.3, rng);
      applyNoise(b, grey, kind, 0.3, new Rng(9));
      expect(sameBits(b, a)).toBe(true);
      applyNoise(c, grey, kind, 0.3, rng); // the next draw from the same generator
      expect(sameBits(c, a)).toBe(false);
      applyNoise(c, grey, kind, 0.3, new Rng(10));
      expect(sameBits(c, a)).toBe(false);
    }
  });

  it('works in place', () => {
    const clean = loadBundledMnist().test.images.subarray(0, 784 * 50);
    for (const kind of ['gaussian', 'salt-pepper', 'mask'] as const) {
      const out = new Float32Array(clean.length);
      applyNoise(out, clean, kind, 0.4, new Rng(4));
      const x = clean.slice();
      applyNoise(x, x, kind, 0.4, new Rng(4));
      expect(sameBits(x, out)).toBe(true);
    }
  });

  it('draws exactly what Rng.nextU32 gives (the inlined generator matches random.ts)', () => {
    const n = 1001; // odd: the last gaussian value uses half a pair
    const clean = new Float32Array(n).map((_, i) => (i % 11) / 10);
    const ref = new Rng(77);
    const rng = new Rng(77);
    // mask: one draw per pixel
    const out = new Float32Array(n);
    applyNoise(out, clean, 'mask', 0.3, rng);
    for (let i = 0; i < n; i++) expect(out[i]).toBe(ref.nextU32() < 0.3 * 2 ** 32 ? 0 : clean[i]);
    expect(rng.getState()).toEqual(ref.getState());
    // gaussian: the polar method, in float64, stored as float32
    applyNoise(out, clean, 'gaussian', 0.3, rng);
    const s32 = (x: number) => x | 0;
    for (let i = 0; i < n; i += 2) {
      let u: number, v: number, s: number;
      do {
        u = s32(ref.nextU32()) / 2 ** 31;
        v = s32(ref.nextU32()) / 2 ** 31;
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const m = 0.3 * Math.sqrt((-2 * Math.log(s)) / s);
      expect(out[i]).toBe(Math.fround(Math.min(1, Math.max(0, clean[i] + u * m))));
      if (i + 1 < n) expect(out[i + 1]).toBe(Math.fround(Math.min(1, Math.max(0, clean[i + 1] + v * m))));
    }
    expect(rng.getState()).toEqual(ref.getState());
    // the Box–Muller spare of Rng.normal() is left alone
    ref.normal();
    rng.normal();
    applyNoise(out, clean, 'salt-pepper', 0.5, rng);
    for (let i = 0; i < n; i++) ref.nextU32();
    expect(rng.normal()).toBe(ref.normal());
  });

  it('salt-pepper hits a fraction f of pixels, half 0 and half 1; mask sets a fraction f to 0', () => {
    const out = new Float32Array(N);
    applyNoise(out, grey, 'salt-pepper', 0.2, new Rng(5));
    let zeros = 0, ones = 0, same = 0;
    for (const v of out) {
      if (v === 0) zeros++;
      else if (v === 1) ones++;
      else if (v === 0.5) same++;
    }
    expect(zeros + ones + same).toBe(N);
    expect(Math.abs(zeros / N - 0.1)).toBeLessThan(0.003);
    expect(Math.abs(ones / N - 0.1)).toBeLessThan(0.003);
    applyNoise(out, grey, 'mask', 0.35, new Rng(6));
    let masked = 0, other = 0;
    for (const v of out) {
      if (v === 0) masked++;
      else if (v !== 0.5) other++;
    }
    expect(other).toBe(0);
    expect(Math.abs(masked / N - 0.35)).toBeLessThan(0.004);
    applyNoise(out, grey, 'mask', 0, new Rng(6));
    expect(sameBits(out, grey)).toBe(true);
    applyNoise(out, grey, 'mask', 1, new Rng(6));
    expect(out.every((v) => v === 0)).toBe(true);
  });

  it('rejects a bad kind, factor or size', () => {
    const out = new Float32Array(10), clean = new Float32Array(10), rng = new Rng(0);
    expectError(() => applyNoise(out, clean, 'speckle' as never, 0.3, rng), 'speckle', 'gaussian, salt-pepper, mask');
    expectError(() => applyNoise(out, clean, 'gaussian', NaN, rng), 'gaussian factor', 'finite', 'NaN');
    expectError(() => applyNoise(out, clean, 'gaussian', Infinity, rng), 'gaussian factor', 'Infinity');
    expectError(() => applyNoise(out, clean, 'gaussian', -0.1, rng), 'gaussian factor', '≥ 0', '-0.1');
    expectError(() => applyNoise(out, clean, 'mask', 1.5, rng), 'mask factor', '[0, 1]', '1.5');
    expectError(() => applyNoise(out, clean, 'salt-pepper', 2, rng), 'salt-pepper factor', '[0, 1]', '2');
    expectError(() => applyNoise(new Float32Array(9), clean, 'mask', 0.5, rng), '9 values', '10');
    expect(() => applyNoise(out, clean, 'gaussian', 5, rng)).not.toThrow(); // gaussian may exceed 1
  });
});

// ---- dataset helpers --------------------------------------------------------------------------------------

describe('oneHot', () => {
  it('sets one 1 per row', () => {
    expect(Array.from(oneHot(Uint8Array.of(2, 0), 3))).toEqual([0, 0, 1, 1, 0, 0]);
    expect(oneHot(Uint8Array.of(9)).length).toBe(10);
    expectError(() => oneHot(Uint8Array.of(1, 10)), 'label 10', 'index 1', '0..9');
    expectError(() => oneHot(Uint8Array.of(1), 0), 'classes', '0');
  });
});
