// PNG inputs of `simdnet denoise`, on the function side (test/cli.test.ts covers the command): readDigitPng
// takes 28×28 PNGs of any colour type, converts colour to gray (Rec. 601 luma) and says so, and refuses
// other sizes and non-PNG bytes with a SimdnetError naming the file — also for mutated PNGs (fuzzed) and for
// a small file that declares a huge image (refused from its header, before decoding).

import fc from 'fast-check';
import { PNG } from 'pngjs';
import { crc32, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SimdnetError } from '../src/errors.js';
import { digitPng, readDigitPng } from '../src/node/pictures.js';
import { errorOf } from './support/backends.js';

type ColorType = 0 | 2 | 4 | 6;

/** One PNG chunk: length, type, data, CRC-32 (for files written by hand). */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(Buffer.from(type, 'latin1'), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A width×height PNG of colour type `colorType` from RGBA pixels (gray types take R). */
function png(width: number, height: number, rgba: (i: number) => [number, number, number, number], colorType: ColorType = 6, bitDepth: 8 | 16 = 8): Uint8Array {
  const img = new PNG({ width, height, colorType, bitDepth, inputColorType: 6, inputHasAlpha: true });
  if (bitDepth === 16) {
    // pngjs takes 16-bit input as 2 bytes per channel
    const wide = new Uint16Array(width * height * 4);
    for (let i = 0; i < width * height; i++) wide.set(rgba(i).map((v) => v * 257), 4 * i);
    img.data = Buffer.from(wide.buffer);
  } else {
    img.data = Buffer.alloc(width * height * 4);
    for (let i = 0; i < width * height; i++) img.data.set(rgba(i), 4 * i);
  }
  return new Uint8Array(PNG.sync.write(img, { colorType, bitDepth, inputColorType: 6, inputHasAlpha: true }));
}

const gray = (v: (i: number) => number) => (i: number): [number, number, number, number] => [v(i), v(i), v(i), 255];

describe('readDigitPng accepts 28×28 PNGs', () => {
  it('8-bit gray: pixels / 255, no note', () => {
    const notes: string[] = [];
    const out = readDigitPng(png(28, 28, gray((i) => i % 256), 0), 'g.png', (m) => notes.push(m));
    expect(out.length).toBe(784);
    for (let i = 0; i < 784; i++) expect(out[i]).toBeCloseTo((i % 256) / 255, 6);
    expect(notes).toEqual([]);
  });

  it('digitPng → readDigitPng round-trips within one gray level', () => {
    const pixels = Float32Array.from({ length: 784 }, (_, i) => (i * 7919) % 1000 / 999);
    const back = readDigitPng(digitPng(pixels), 'roundtrip.png');
    for (let i = 0; i < 784; i++) expect(Math.abs(back[i] - pixels[i])).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
  });

  it('16-bit gray, gray+alpha and RGBA gray are gray too: no note', () => {
    for (const [type, depth] of [[0, 16], [4, 8], [6, 8], [2, 8]] as const) {
      const notes: string[] = [];
      const out = readDigitPng(png(28, 28, gray((i) => (i * 3) % 256), type, depth), `t${type}.png`, (m) => notes.push(m));
      expect(out[100]).toBeCloseTo(44 / 255, 2);
      expect(notes).toEqual([]);
    }
  });

  it('colour is converted to gray with Rec. 601 luma, and the note says so, naming the file', () => {
    const notes: string[] = [];
    const out = readDigitPng(png(28, 28, (i) => [i % 3 === 0 ? 255 : 0, i % 3 === 1 ? 255 : 0, i % 3 === 2 ? 255 : 0, 255], 2), 'red-green-blue.png', (m) => notes.push(m));
    expect(out[0]).toBeCloseTo(0.299, 5);
    expect(out[1]).toBeCloseTo(0.587, 5);
    expect(out[2]).toBeCloseTo(0.114, 5);
    expect(notes).toEqual(['red-green-blue.png: colour image converted to grayscale']);
  });

  it('transparent pixels count as black', () => {
    const out = readDigitPng(png(28, 28, (i) => [255, 255, 255, i === 0 ? 0 : i === 1 ? 51 : 255]), 'alpha.png');
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo(0.2, 5);
    expect(out[2]).toBe(1);
  });
});

describe('readDigitPng refuses, with a SimdnetError naming the file', () => {
  it.each([
    [27, 28],
    [28, 27],
    [1, 1],
    [56, 56],
    [280, 28],
  ])('a %i×%i image', async (w, h) => {
    expect(await errorOf(() => readDigitPng(png(w, h, gray(() => 128), 0), 'odd.png'))).toBe(`odd.png: expected a 28×28 image, got ${w}×${h}`);
  });

  it('a small file declaring a 100000×100000 image is refused from its header (nothing decoded)', async () => {
    // signature, IHDR (100000×100000, 8-bit gray) and a tiny IDAT: ~60 bytes that would decode to 10 GB
    const ihdr = new Uint8Array(13);
    new DataView(ihdr.buffer).setUint32(0, 100000);
    new DataView(ihdr.buffer).setUint32(4, 100000);
    ihdr.set([8, 0, 0, 0, 0], 8);
    const bomb = Uint8Array.from([...[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], ...chunk('IHDR', ihdr), ...chunk('IDAT', deflateSync(Buffer.alloc(1000))), ...chunk('IEND', new Uint8Array())]);
    expect(bomb.length).toBeLessThan(100);
    expect(await errorOf(() => readDigitPng(bomb, 'bomb.png'))).toBe('bomb.png: expected a 28×28 image, got 100000×100000');
  });

  it.each([
    ['empty', new Uint8Array()],
    ['text', new TextEncoder().encode('these are not pixels\n')],
    ['a JPEG header', Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])],
    ['the PNG signature alone', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
  ])('non-PNG bytes: %s', async (_label, bytes) => {
    expect(await errorOf(() => readDigitPng(bytes, 'x.png'))).toMatch(/^x\.png: not a readable PNG/);
  });

  it('a truncated PNG (every cut past the header)', async () => {
    const good = png(28, 28, gray((i) => i % 256), 0);
    for (let n = 24; n < good.length; n += 7) expect(await errorOf(() => readDigitPng(good.subarray(0, n), 'cut.png'))).toMatch(/^cut\.png: not a readable PNG/);
  });

  it('a 28×28 PNG whose image data inflates short (100 of its 812 bytes, or none) or long is refused, every time (issue 12)', async () => {
    const ihdr = new Uint8Array(13);
    new DataView(ihdr.buffer).setUint32(0, 28);
    new DataView(ihdr.buffer).setUint32(4, 28);
    ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit gray: 28 rows of 1 filter byte + 28 pixels = 812 bytes
    const file = (raw: Uint8Array) => Uint8Array.from([...[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], ...chunk('IHDR', ihdr), ...chunk('IDAT', deflateSync(raw)), ...chunk('IEND', new Uint8Array())]);
    for (let run = 0; run < 5; run++) {
      // the same bytes refused the same way each time (a decoder reading past the data saw stale memory)
      expect(await errorOf(() => readDigitPng(file(new Uint8Array(100)), 'short.png'))).toBe('short.png: not a readable PNG (truncated image data: 100 of the 812 bytes a 28×28 image needs)');
      expect(await errorOf(() => readDigitPng(file(new Uint8Array(0)), 'empty.png'))).toBe('empty.png: not a readable PNG (truncated image data: 0 of the 812 bytes a 28×28 image needs)');
    }
    expect(await errorOf(() => readDigitPng(file(new Uint8Array(5000)), 'long.png'))).toBe('long.png: not a readable PNG (the image data inflates to more than the 812 bytes a 28×28 image needs)');
    // and the exact size decodes: 812 zero bytes are filter 0 rows of black pixels
    expect(Array.from(readDigitPng(file(new Uint8Array(812)), 'ok.png')).every((x) => x === 0)).toBe(true);
  });

  it('500 mutated 28×28 PNGs (fast-check, seed 42): 784 pixels in [0, 1], or a SimdnetError naming the file', () => {
    const good = png(28, 28, (i) => [i % 256, (i * 3) % 256, (i * 7) % 256, 255], 6);
    let refused = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (edits) => {
        const bytes = good.slice();
        for (const [at, v] of edits) bytes[at] = v;
        try {
          const out = readDigitPng(bytes, 'mutated.png');
          expect(out.length).toBe(784);
          expect(out.every((v) => v >= 0 && v <= 1)).toBe(true);
        } catch (e) {
          if (!(e instanceof SimdnetError)) throw e;
          expect(e.message).toMatch(/^mutated\.png: /);
          refused++;
        }
      }),
      { seed: 42, numRuns: 500 },
    );
    expect(refused).toBeGreaterThan(100);
  });
});
