// The pooling and upsampling kernels (assembly/pool.ts) at a conv net's size, 64×32×28×28 (B×C×H×W; upsample
// from 14×14 to 28×28): wasm SIMD at 1 and 2 threads, the scalar build and the js backend, round-robin (harness.js),
// so the ratios are paired round by round. GB/s counts the bytes a kernel must move (inputs read once, outputs
// written once; max pool's i32 indices too); ns/element is per element of the 28×28 side.
//
//   node bench/pool.js [--quick] [--variant simd|relaxed-simd] [--threads 2]      (after `npm run build`)

import { createJsBackend, createWasmBackend } from '../dist/backend/index.js';
import { FULL, QUICK, measureMany, pairedRatio } from './harness.js';
import { randomArray } from './engines.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const opts = args.includes('--quick') ? QUICK : FULL;
const variant = opt('--variant', 'simd');
const T = Number(opt('--threads', 2));

const [B, C, H, W] = [64, 32, 28, 28];
const N = B * C, BIG = N * H * W, SMALL = (N * H * W) / 4;

/** Each case: its kernel call on one backend's tensors, and the bytes it moves. */
const CASES = [
  { id: 'maxpool2d 2×2 s2 forward', bytes: 4 * (BIG + 2 * SMALL), call: (k, t) => k.maxpool2d_forward(t.small, t.idx, t.big, N, H, W, H / 2, W / 2, 2, 2, 2, 2, 0, 0) },
  { id: 'maxpool2d 2×2 s2 backward', bytes: 4 * (BIG + 2 * SMALL), call: (k, t) => k.maxpool2d_backward(t.big2, t.small, t.idx, N, H, W, H / 2, W / 2, 2, 2, 2, 2, 0, 0) },
  { id: 'avgpool2d 2×2 s2 forward', bytes: 4 * (BIG + SMALL), call: (k, t) => k.avgpool2d_forward(t.small, t.big, N, H, W, H / 2, W / 2, 2, 2, 2, 2, 0, 0, 1) },
  { id: 'avgpool2d 2×2 s2 backward', bytes: 4 * (BIG + SMALL), call: (k, t) => k.avgpool2d_backward(t.big2, t.small, N, H, W, H / 2, W / 2, 2, 2, 2, 2, 0, 0, 1) },
  { id: 'upsample2d ×2 forward', bytes: 4 * (BIG + SMALL), call: (k, t) => k.upsample2d_forward(t.big2, t.small, N, H / 2, W / 2, 2, 2) },
  { id: 'upsample2d ×2 backward', bytes: 4 * (BIG + SMALL), call: (k, t) => k.upsample2d_backward(t.small, t.big, N, H / 2, W / 2, 2, 2) },
  // the generic path: overlapping 3×3 windows, padding
  { id: 'maxpool2d 3×3 s1 pad 1 forward', bytes: 4 * 3 * BIG, call: (k, t) => k.maxpool2d_forward(t.big2, t.idxBig, t.big, N, H, W, H, W, 3, 3, 1, 1, 1, 1) },
  { id: 'avgpool2d 3×3 s1 pad 1 forward', bytes: 4 * 2 * BIG, call: (k, t) => k.avgpool2d_forward(t.big2, t.big, N, H, W, H, W, 3, 3, 1, 1, 1, 1, 1) },
];

const contenders = [
  [`${variant} ×1`, () => createWasmBackend({ variant, threads: 1 })],
  [`${variant} ×${T}`, () => createWasmBackend({ variant, threads: T })],
  ['scalar ×1', () => createWasmBackend({ variant: 'scalar', threads: 1 })],
  ['js', createJsBackend],
];
const engines = [];
for (const [id, make] of contenders) {
  const be = await make();
  const t = {}; // pointers
  for (const [name, n] of Object.entries({ big: BIG, big2: BIG, small: SMALL, idx: SMALL, idxBig: BIG })) {
    const tensor = be.alloc(1, n);
    be.write(tensor, randomArray(n, n + name.length));
    t[name] = tensor.ptr;
  }
  engines.push({ id, be, t });
}
console.log(`pool kernels at ${B}×${C}×${H}×${W}, ${engines.map((e) => `${e.id} (${e.be.threads} thread${e.be.threads > 1 ? 's' : ''})`).join(', ')}; ${args.includes('--quick') ? 'quick' : 'full'} rounds`);
// the maximum's indices must be real for the backward: one forward on each backend first
for (const e of engines) CASES[0].call(e.be.kernels, e.t);

const [one, many, scalar, js] = engines.map((e) => e.id);
const rows = [];
for (const c of CASES) {
  const r = measureMany(Object.fromEntries(engines.map((e) => [e.id, () => c.call(e.be.kernels, e.t)])), opts);
  const gbs = (id) => c.bytes / r[id].seconds / 1e9;
  const ns = (id) => (r[id].seconds / BIG) * 1e9;
  rows.push({ id: c.id, gbs: Object.fromEntries(engines.map((e) => [e.id, gbs(e.id)])), threads: pairedRatio(r[many].perRound, r[one].perRound), simd: pairedRatio(r[one].perRound, r[scalar].perRound), js: pairedRatio(r[one].perRound, r[js].perRound) });
  console.log(
    `${c.id.padEnd(32)} ${engines.map((e) => `${e.id} ${gbs(e.id).toFixed(2)} GB/s ${ns(e.id).toFixed(2)} ns/el`).join(' | ')} | ${T} threads ×${rows.at(-1).threads.toFixed(2)}, SIMD/scalar ×${rows.at(-1).simd.toFixed(2)}, vs js ×${rows.at(-1).js.toFixed(1)}`,
  );
}
for (const e of engines) e.be.dispose();
