// The kernel builds the package ships inside its JS: build/embedded/kernels.js (scripts/embed-wasm.mjs writes it),
// imported statically. A lazy import() per build would let a page fetch one build, but it splits the bundle,
// and Vite's default worker format (iife) refuses a split bundle: a module Worker that imports simdnet would not
// build. The five builds differ in few bytes, so the module holds one whole and four deltas (~27 KB gzipped for
// all five against ~21 KB for one). docs/DESIGN.md, "Loading".
//
// Delta format (the encoder is scripts/embed-wasm.mjs): varint target length, then repeated
//   varint n, n literal bytes, [varint length, varint zigzag(start − end of the previous copy)]
// where the bracket copies `length` bytes of the base from `start`; the patch ends after a literal run.
// Varints are LEB128 (7 bits a byte, low first).

import builds from '../../build/embedded/kernels.js';

/** The names of the embedded builds: simdnet.<build>.wasm. */
export type EmbeddedBuild = keyof typeof builds;

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** `target` rebuilt from `base` and a delta (the format above). */
export function applyDelta(base: Uint8Array, delta: Uint8Array): Uint8Array<ArrayBuffer> {
  let p = 0;
  const varint = (): number => {
    let n = 0;
    for (let scale = 1; ; scale *= 128) {
      const b = delta[p++];
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
    }
  };
  const out = new Uint8Array(varint());
  let o = 0;
  let end = 0;
  for (;;) {
    const literals = varint();
    out.set(delta.subarray(p, p + literals), o);
    (p += literals), (o += literals);
    if (p >= delta.length) break;
    const length = varint();
    const z = varint();
    const start = end + (z % 2 ? -(z + 1) / 2 : z / 2);
    out.set(base.subarray(start, start + length), o);
    o += length;
    end = start + length;
  }
  if (o !== out.length) throw new Error(`a delta gave ${o} bytes, expected ${out.length}`);
  return out;
}

/** The .wasm bytes of an embedded build. */
export function embeddedWasm(build: EmbeddedBuild): Uint8Array<ArrayBuffer> {
  const { from, base64 } = builds[build];
  const data = fromBase64(base64);
  return from === null ? data : applyDelta(embeddedWasm(from as EmbeddedBuild), data);
}
