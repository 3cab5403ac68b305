// Noise models for the denoising autoencoder: corrupt clean pixels (0..1) into a preallocated output.
// All seeded through an Rng, no allocation per call. Browser-safe.
//
//   gaussian     clip(x + f·N(0,1), 0, 1), f default 0.3 (the reference's noise_factor)
//   salt-pepper  each pixel with probability f is set to 0 or 1, equal odds
//   mask         each pixel with probability f is set to 0
//
// Speed: gaussian runs on 8000×784 values per epoch. A method call per random number and a branchy clip
// (MNIST is mostly 0, so half the noisy values fall below 0 at random) each cost about as much as the rest,
// so the xoshiro128** step of random.ts is inlined on local state (read and written back through
// getState/setState; a test checks it matches Rng.nextU32) and the clip is branch-free.

import { check } from '../errors.js';
import type { Rng } from '../random.js';

export type NoiseKind = 'gaussian' | 'salt-pepper' | 'mask';

export const NOISE_KINDS: readonly NoiseKind[] = ['gaussian', 'salt-pepper', 'mask'];

/** The factor each kind uses when none is given. */
// gaussian 0.3 is the reference's noise_factor; the other two are our own pick, not tuned.
export const DEFAULT_NOISE_FACTOR: Record<NoiseKind, number> = { gaussian: 0.3, 'salt-pepper': 0.2, mask: 0.3 };

const TWO_32 = 4294967296;

/** What is wrong with a noise setting (undefined: nothing): the one statement of the rule, which applyNoise, fit's
 *  batches and the CLI's flags each word with their own subject ('noise:', '--noise-factor:'). */
export function noiseProblem(kind: string, factor: unknown): string | undefined {
  if (!(NOISE_KINDS as readonly string[]).includes(kind)) return `unknown kind ${JSON.stringify(kind)}, expected one of ${NOISE_KINDS.join(', ')}`;
  if (!(typeof factor === 'number' && Number.isFinite(factor) && factor >= 0)) return `${kind} factor must be a finite number ≥ 0, got ${factor}`;
  if (kind !== 'gaussian' && factor > 1) return `${kind} factor is the fraction of pixels hit and must be in [0, 1], got ${factor}`;
  return undefined;
}

export function checkNoise(kind: string, factor: unknown): void {
  const problem = noiseProblem(kind, factor);
  check(problem === undefined, () => `noise: ${problem}`);
}

/**
 * out[i] = noise(clean[i]) for every i. `out` may be `clean` itself (in place). Advances `rng`.
 * factor: gaussian std-dev (finite, ≥ 0); salt-pepper / mask the fraction of pixels hit (0..1).
 */
export function applyNoise(out: Float32Array, clean: Float32Array, kind: NoiseKind, factor: number, rng: Rng): void {
  checkNoise(kind, factor);
  check(
    out.length === clean.length,
    () => `noise: output has ${out.length} values but the clean input has ${clean.length}`,
  );
  if (kind === 'gaussian') gaussian(out, clean, factor, rng);
  else impulse(out, clean, factor, kind === 'salt-pepper', rng);
}

// ---- gaussian ---------------------------------------------------------------------------------------------

// Marsaglia's polar form of Box–Muller: two normals per log and sqrt, no sin/cos;
// (u, v) uniform in the unit disc, s = u²+v², then u·m and v·m with m = sqrt(−2 ln s / s) are N(0,1).
function gaussian(out: Float32Array, clean: Float32Array, f: number, rng: Rng): void {
  const state = rng.getState();
  let s0 = state[0] | 0, s1 = state[1] | 0, s2 = state[2] | 0, s3 = state[3] | 0;
  const n = out.length;
  for (let i = 0; i < n; i += 2) {
    let u: number, v: number, s: number;
    do {
      // two xoshiro128** outputs as signed int32 → uniform in [−1, 1)
      let x = Math.imul(s1, 5);
      const r1 = Math.imul((x << 7) | (x >>> 25), 9);
      let t = s1 << 9;
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
      x = Math.imul(s1, 5);
      const r2 = Math.imul((x << 7) | (x >>> 25), 9);
      t = s1 << 9;
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
      u = r1 * (2 / TWO_32);
      v = r2 * (2 / TWO_32);
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = f * Math.sqrt((-2 * Math.log(s)) / s);
    out[i] = clip01(clean[i] + u * m);
    if (i + 1 < n) out[i + 1] = clip01(clean[i + 1] + v * m);
  }
  rng.setState([s0, s1, s2, s3, state[4]]);
}

/** min(max(a, 0), 1) without branches: (a+|a|)/2 is max(a, 0) exactly; then b − max(b−1, 0) is min(b, 1)
 *  exactly for b ≤ 2 and within 2⁻⁵¹ of 1 above it, which the Float32 store rounds to 1. */
function clip01(a: number): number {
  const b = (a + Math.abs(a)) * 0.5;
  const d = b - 1;
  return b - (d + Math.abs(d)) * 0.5;
}

// ---- salt-pepper and mask ---------------------------------------------------------------------------------

// One 32-bit draw per pixel: r < f·2³² hits the pixel; for salt-pepper, r below half of that is pepper (0).
function impulse(out: Float32Array, clean: Float32Array, f: number, saltPepper: boolean, rng: Rng): void {
  const state = rng.getState();
  let s0 = state[0] | 0, s1 = state[1] | 0, s2 = state[2] | 0, s3 = state[3] | 0;
  const hit = f * TWO_32;
  const half = hit * 0.5;
  for (let i = 0; i < out.length; i++) {
    const x = Math.imul(s1, 5);
    const r = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
    out[i] = r < hit ? (saltPepper && r >= half ? 1 : 0) : clean[i];
  }
  rng.setState([s0, s1, s2, s3, state[4]]);
}
