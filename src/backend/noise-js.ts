// The js twin of assembly/noise.ts's gather_noise: the same stream (its header comment is the definition), in
// plain TS on the views of the whole memory. The draws are the same integers; the normals use Math.log / cos / sin
// in f64, so they agree with the wasm builds within ~1e-6·(1 + |z|) (test/noise-kernel.test.ts), and salt-pepper /
// mask agree bit for bit. Rows are independent, as in the kernel.

const GOLDEN = 0x9e3779b9;
const INV24 = 1 / 16777216; // 2^-24
const TWO_PI = 2 * Math.PI;

/** lowbias32 (Wellons): a u32 → u32 bijection (returned as int32 bits; callers `>>> 0` where it matters) */
function hash(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  return x ^ (x >>> 16);
}

/** rand(c) = hash(hash(c + k0) ^ k1), u32 (dropout's masks draw it too) */
export function rand(c: number, k0: number, k1: number): number {
  return hash(hash((c + k0) | 0) ^ k1) >>> 0;
}

/** splitmix32's output function: a u32 bijection with good avalanche */
function mix32(z: number): number {
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * The two u32 keys (k0, k1) of gather_noise for a seed and a stream, splitmix32-style: the seed (as u32, `>>> 0`,
 * the convention of Rng) and the stream are each mixed, combined, and the result advanced twice by the golden
 * gamma: k0 = mix(x + γ), k1 = mix(x + 2γ), x = mix(seed + γ) ^ mix(stream + 2γ) (γ = 0x9e3779b9, mod 2^32).
 * Streams: epoch + 1 for the training epochs (a fresh corruption per epoch), a constant for the test set (the same
 * noisy test images every evaluation). Same (seed, stream) → same keys → the same noise, on any backend and any
 * split of the batch; different pairs give unrelated keys (with near certainty: collisions of x are 2^-32 events).
 */
export function noiseKey(seed: number, stream: number): [number, number] {
  const x = (mix32(((seed >>> 0) + GOLDEN) | 0) ^ mix32(((stream >>> 0) + 2 * GOLDEN) | 0)) >>> 0;
  return [mix32((x + GOLDEN) | 0), mix32((x + 2 * GOLDEN) | 0)];
}

/** clip to [0, 1] with the kernel's selects: NaN passes through */
function clip(v: number): number {
  const a = v < 0 ? 0 : v;
  return a > 1 ? 1 : a;
}

/** dst(count,width) row r = noise(source row s), s = idx ? i32 idx[r] : row0 + r, of src(·,width); byte pointers. */
export function gatherNoiseJs(f32: Float32Array, i32: Int32Array, dst: number, src: number, idx: number, row0: number, count: number, width: number, kind: number, factor: number, k0: number, k1: number): void {
  const F = Math.fround(factor);
  for (let r = 0; r < count; r++) {
    const s = idx ? i32[(idx >>> 2) + r] : row0 + r;
    const d = (dst >>> 2) + r * width;
    const x = (src >>> 2) + s * width;
    if (kind === 1) gaussianRow(f32, d, x, s, width, F, k0 | 0, k1 | 0);
    else if (kind === 2 || kind === 3) impulseRow(f32, d, x, s, width, kind === 2, F, k0 | 0, k1 | 0);
    else f32.copyWithin(d, x, x + width);
  }
}

// one pair per (block, lane): pixels j (cos) and j + 4 (sin) of block b = j >> 3
function gaussianRow(f32: Float32Array, d: number, x: number, s: number, width: number, F: number, k0: number, k1: number): void {
  const P = ((width + 7) >> 3) << 2;
  const base = Math.imul(s, P);
  for (let j0 = 0; j0 < width; j0 += 8) {
    const cb = base + ((j0 >> 3) << 2);
    for (let l = 0; l < 4; l++) {
      const j = j0 + l;
      if (j >= width) break;
      const c2 = (cb + l) << 1; // 2·cp mod 2^32 (int32 bits)
      const h1 = rand(c2, k0, k1), h2 = rand(c2 | 1, k0, k1);
      const u1 = ((h1 >>> 8) + 1) * INV24;
      const u2 = (h2 >>> 8) * INV24;
      const rho = Math.sqrt(-2 * Math.log(u1));
      const a = TWO_PI * u2;
      f32[d + j] = clip(Math.fround(f32[x + j] + Math.fround(F * Math.fround(rho * Math.cos(a)))));
      if (j + 4 < width) f32[d + j + 4] = clip(Math.fround(f32[x + j + 4] + Math.fround(F * Math.fround(rho * Math.sin(a)))));
    }
  }
}

function impulseRow(f32: Float32Array, d: number, x: number, s: number, width: number, saltPepper: boolean, F: number, k0: number, k1: number): void {
  const base = Math.imul(s, width);
  const half = Math.fround(F / 2);
  for (let j = 0; j < width; j++) {
    const u = (rand(base + j, k0, k1) >>> 8) * INV24;
    if (u < F) f32[d + j] = saltPepper && u >= half ? 1 : 0;
    else f32[d + j] = f32[x + j];
  }
}
