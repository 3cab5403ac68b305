// The input-noise kernel of the data pipeline, gather_noise: one 64×784 batch gathered from the 8,000 training rows
// through a shuffled index, with gaussian (0.3), salt-pepper (0.2) or mask (0.3) noise, on the wasm build of this
// process at 1 thread and at every core; beside it, today's JS generator applyNoise (src/data/noise.ts, xoshiro128**
// and the polar Box–Muller) on a 64×784 batch of the same rows — it noises in place, it does not gather.
// Values/s = 64·784 / seconds per call. Round-robin, so the ratios are paired round by round.

import { NOISE } from '../dist/backend/backend.js';
import { noiseDraw } from '../dist/data/batches.js';
import { applyNoise, DEFAULT_NOISE_FACTOR } from '../dist/data/noise.js';
import { Rng } from '../dist/random.js';
import { measureMany, pairedRatio } from './harness.js';

export const NOISE_CASES = ['gaussian', 'salt-pepper', 'mask'];

/** The 8,000 bundled training digits (cached), or seeded pixels when `rows` asks for a synthetic set. */
let digits;
async function trainingRows(rows) {
  if (rows == null) {
    digits ??= (await import('../dist/node.js')).loadBundledMnist().train.images;
    return digits;
  }
  return Float32Array.from({ length: rows * 784 }, (_, i) => ((i * 2654435761) >>> 24) / 255);
}

/**
 * @param {object} set   scalingEngines(…) (engines by thread count; only 1 and the largest are used)
 * @param {object} o     rows (default: the 8,000 digits), batch (64), kinds, opts (harness), log
 */
export async function runNoise(set, { rows, batch = 64, kinds = NOISE_CASES, opts, log = () => {} }) {
  const W = 784;
  const x = await trainingRows(rows);
  const n = x.length / W;
  const counts = [...new Set([1, set.counts[set.counts.length - 1]])];
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  new Rng(7).shuffle(order);
  const batches = Math.floor(n / batch);

  // each backend: the set and the index in its memory, one output batch
  const dev = counts.map((t) => {
    const be = set.engines[t].backend;
    const src = be.alloc(n, W);
    be.write(src, x);
    const idx = be.alloc(1, n);
    new Int32Array(be.memory.buffer, idx.ptr, n).set(order);
    const dst = be.alloc(batch, W);
    return { t, be, src, idx, dst };
  });
  const out = [];
  try {
    for (const kind of kinds) {
      const factor = DEFAULT_NOISE_FACTOR[kind];
      const draw = noiseDraw(kind, factor, 0, 1);
      const fns = {};
      for (const d of dev) {
        const k = d.be.kernels;
        let b = 0;
        fns[`wasm×${d.t}`] = () => {
          k.gather_noise(d.dst.ptr, d.src.ptr, d.idx.ptr + 4 * b * batch, 0, batch, W, NOISE[kind], factor, draw.k0, draw.k1);
          b = (b + 1) % batches;
        };
      }
      // applyNoise: a contiguous batch of rows (what it was given when the whole set was noised at once)
      const js = new Float32Array(batch * W);
      const rng = new Rng(3);
      let b = 0;
      fns.applyNoise = () => {
        applyNoise(js, x.subarray(b * batch * W, (b + 1) * batch * W), kind, factor, rng);
        b = (b + 1) % batches;
      };
      const r = measureMany(fns, opts);
      const vps = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, (batch * W) / v.seconds]));
      const perRound = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.perRound]));
      const ratios = {};
      for (const d of dev) ratios[`wasm×${d.t}/applyNoise`] = pairedRatio(perRound[`wasm×${d.t}`], perRound.applyNoise);
      const top = counts[counts.length - 1];
      if (top !== 1) ratios[`wasm×${top}/wasm×1`] = pairedRatio(perRound[`wasm×${top}`], perRound['wasm×1']);
      out.push({ kind, factor, build: set.variant, rows: n, batch, width: W, threads: counts, valuesPerSec: vps, ratios, perRound });
      log(`noise ${set.variant} ${kind.padEnd(11)} ${Object.entries(vps).map(([k, v]) => `${k} ${(v / 1e6).toFixed(0)} M/s`).join('  ')}`);
    }
  } finally {
    for (const d of dev) {
      d.be.free(d.dst);
      d.be.free(d.idx);
      d.be.free(d.src);
    }
  }
  return out;
}
