// The model file's CRC-32 (src/formats/crc32.ts) against the standard check values and against zlib's crc32.

import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../src/formats/crc32.js';
import { Rng } from '../src/random.js';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('crc32', () => {
  it('gives the published check values', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(ascii('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });

  it("equals zlib's crc32 on random inputs of every length up to 300, and on a view into a larger buffer", () => {
    const rng = new Rng(7);
    for (let n = 0; n <= 300; n++) {
      const bytes = new Uint8Array(n).map(() => Math.floor(rng.next() * 256));
      expect(crc32(bytes)).toBe(zlibCrc32(bytes));
    }
    const big = new Uint8Array(1000).map((_, i) => (i * 31) & 0xff);
    expect(crc32(big.subarray(100, 900))).toBe(zlibCrc32(big.subarray(100, 900)));
  });
});
