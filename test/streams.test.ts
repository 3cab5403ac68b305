// Compressed streams that are too short or too long (issue 12), as generators: PNG image data and gzipped IDX
// files whose inflated size is anything from empty to a bomb, around the exact size their header declares.
// Each file is accepted exactly when it inflates to the declared size (an oracle written here, Adam7 included),
// otherwise refused with a SimdnetError naming the file; a bomb is never inflated past its declared size.

import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readIdxFile } from '../src/data/idx.js';
import { readDigitPng } from '../src/node/pictures.js';
import { outcome } from './support/backends.js';
import { idxImages, idxLabels } from './support/idx.js';


/** How many raw bytes of what the data is: `exact` give or take, none, or a bomb of many times it. */
const rawLength = (exact: number) =>
  fc.oneof(
    fc.constant(exact),
    fc.constant(0),
    fc.integer({ min: 1, max: Math.max(1, exact - 1) }),
    fc.integer({ min: exact + 1, max: exact + 64 }),
    fc.integer({ min: 2, max: 50 }).map((k) => exact * k), // a bomb: compresses to almost nothing
  );

// =====================================================================================================
// PNG
// =====================================================================================================

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  const body = new Uint8Array([...new TextEncoder().encode(type), ...data]);
  out.set(body, 4);
  view.setUint32(8 + data.length, crc32(body));
  return out;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/** Raw (filtered) bytes of a w×h image: one filter byte per row of each pass (PNG spec 8.2, Adam7 passes). */
function pngRawSize(w: number, h: number, colorType: number, bitDepth: number, interlace: number): number {
  const rowBytes = (width: number) => (width === 0 ? 0 : 1 + Math.ceil((width * CHANNELS[colorType] * bitDepth) / 8));
  if (!interlace) return h * rowBytes(w);
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.ceil((w - x0) / dx), ph = Math.ceil((h - y0) / dy);
    if (pw > 0 && ph > 0) total += ph * rowBytes(pw);
  }
  return total;
}

function pngFile(colorType: number, bitDepth: number, interlace: number, raw: Uint8Array, idats: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, 28);
  new DataView(ihdr.buffer).setUint32(4, 28);
  ihdr.set([bitDepth, colorType, 0, 0, interlace], 8);
  const z = deflateSync(raw, { level: 9 });
  const parts = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  const cut = Math.ceil(z.length / idats);
  for (let i = 0; i < z.length; i += cut) parts.push(chunk('IDAT', z.subarray(i, i + cut)));
  if (z.length === 0) parts.push(chunk('IDAT', new Uint8Array()));
  parts.push(chunk('IEND', new Uint8Array()));
  return new Uint8Array(Buffer.concat(parts));
}

describe('PNG image data inflating short, exact, long or as a bomb', () => {
  it('1,000 generated 28×28 PNGs (every colour type, 8 and 16 bits, Adam7, 1–3 IDAT chunks): decoded exactly when the data is the size the header declares', () => {
    const stats = { decoded: 0, short: 0, long: 0 };
    const shape = fc.record({ colorType: fc.constantFrom(0, 2, 4, 6), bitDepth: fc.constantFrom(8, 16), interlace: fc.constantFrom(0, 1), idats: fc.integer({ min: 1, max: 3 }) });
    fc.assert(
      fc.property(
        shape.chain((s) => fc.tuple(fc.constant(s), rawLength(pngRawSize(28, 28, s.colorType, s.bitDepth, s.interlace)))),
        ([{ colorType, bitDepth, interlace, idats }, length]) => {
          const exact = pngRawSize(28, 28, colorType, bitDepth, interlace);
          // zeros: filter type 0 on every row and black pixels, so any exact-size data decodes
          const raw = new Uint8Array(length);
          const r = outcome(() => readDigitPng(pngFile(colorType, bitDepth, interlace, raw, idats), 'gen.png'), 'gen.png');
          if (length === exact) {
            expect(r.ok, r.ok ? '' : r.message).toBe(true);
            if (r.ok) expect(Array.from(r.value).every((v) => v === 0)).toBe(true);
            stats.decoded++;
          } else {
            expect(r.ok).toBe(false);
            if (!r.ok) expect(r.message).toMatch(length < exact ? /truncated image data/ : /inflates to more than/);
            if (length < exact) stats.short++;
            else stats.long++;
          }
        },
      ),
      { seed: 21, numRuns: 1000 },
    );
    expect(Math.min(stats.decoded, stats.short, stats.long)).toBeGreaterThan(100);
  });
});

// =====================================================================================================
// gzipped IDX
// =====================================================================================================

describe('gzipped IDX files inflating short, exact, long or as a bomb', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simdnet-streams-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('600 generated files (images and labels, 1–100 items): read exactly when the stream holds what the header declares; a bomb is refused as trailing data (test/data.test.ts holds its memory to the declared size)', () => {
    const stats = { read: 0, short: 0, long: 0 };
    const item = fc.record({ kind: fc.constantFrom<'images' | 'labels'>('images', 'labels'), count: fc.integer({ min: 1, max: 100 }) });
    fc.assert(
      fc.property(
        item.chain((s) => fc.tuple(fc.constant(s), rawLength(s.count * (s.kind === 'images' ? 784 : 1)))),
        ([{ kind, count }, length]) => {
          const exact = count * (kind === 'images' ? 784 : 1);
          const head = kind === 'images' ? idxImages(new Uint8Array(0), { count }) : idxLabels(new Uint8Array(0), { count });
          const file = new Uint8Array(head.length + length); // the body all zeros: valid pixels and valid labels
          file.set(head);
          const name = `${kind === 'images' ? 'train-images-idx3-ubyte' : 'train-labels-idx1-ubyte'}.gz`;
          writeFileSync(join(dir, name), gzipSync(file, { level: 1 }));
          const r = outcome(() => readIdxFile(join(dir, name), kind), name);
          if (length === exact) {
            expect(r.ok, r.ok ? '' : r.message).toBe(true);
            if (r.ok) expect(r.value.count).toBe(count);
            stats.read++;
          } else {
            expect(r.ok).toBe(false);
            if (!r.ok) expect(r.message).toMatch(length < exact ? /truncated/ : /trailing data/);
            if (length < exact) stats.short++;
            else stats.long++;
          }
        },
      ),
      { seed: 22, numRuns: 600 },
    );
    expect(Math.min(stats.read, stats.short, stats.long)).toBeGreaterThan(60);
  });
});
