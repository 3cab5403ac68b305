// Conv kernels (assembly/conv.ts): GFLOP/s of each pass at the conv denoiser's shapes (28×28 digits, batch 64),
// next to the square GEMM (512³ NN) timed in the same rounds, on one thread and on two. The ratio conv / GEMM is
// paired round by round (harness.js pairedRatio): the issue's target is ≥ 0.8 on one thread.
//
// FLOPs count the convolution's multiply-adds (2·B·OC·OH·OW·C·KH·KW per pass, the same for all three passes), not
// the im2col/col2im copies or padding taps: the rate is what a user's conv runs at, overheads included.
//
//   node bench/conv.js [--quick] [--variant simd|relaxed-simd] [--threads 1,2]   (after npm run build)

import os from 'node:os';
import { measureMany, pairedRatio, FULL, QUICK } from './harness.js';
import { randomArray } from './engines.js';
import { createWasmBackend } from '../dist/backend/wasm.js';
import { convScratchFloats, convTransposeScratchFloats } from '../dist/backend/conv-scratch.js';

/** A conv layer: x (C,H,W) → y (OC,OH,OW), kernel k×k, stride s, pads on every side; transposed: outPad too. */
export const layer = (name, C, H, W, OC, k, s, pads, transposed = false, outPad = 0) => ({ name, C, H, W, OC, k, s, pads, transposed, outPad });

/** The conv denoiser's layers (1→32→32→…→1 at 28×28) and the Keras example's stride-2 transposed conv. */
export const CONV_LAYERS = [
  layer('conv 1→32 3×3 same 28×28', 1, 28, 28, 32, 3, 1, 1),
  layer('conv 32→32 3×3 same 28×28', 32, 28, 28, 32, 3, 1, 1),
  layer('conv 32→1 3×3 same 28×28', 32, 28, 28, 1, 3, 1, 1),
  layer('convT 32→32 3×3 s2 14→28', 32, 14, 14, 32, 3, 2, 1, true, 1),
];
export const CONV_BATCH = 64;
const PASSES = ['forward', 'backward-data', 'backward-weights'];

function dims(l) {
  if (!l.transposed) {
    const OH = Math.floor((l.H + 2 * l.pads - l.k) / l.s) + 1, OW = Math.floor((l.W + 2 * l.pads - l.k) / l.s) + 1;
    return { OH, OW, macs: l.OC * OH * OW * l.C * l.k * l.k };
  }
  const OH = (l.H - 1) * l.s - 2 * l.pads + l.k + l.outPad, OW = (l.W - 1) * l.s - 2 * l.pads + l.k + l.outPad;
  return { OH, OW, macs: l.C * l.H * l.W * l.OC * l.k * l.k };
}

/** One pass of one layer on backend `be`: { run, flops, dispose }. */
function convCall(be, l, pass, B) {
  const { OH, OW, macs } = dims(l);
  const k = be.kernels;
  const t = [];
  const tensor = (n, seed) => {
    const x = be.alloc(1, n);
    be.write(x, randomArray(n, seed));
    t.push(x);
    return x;
  };
  const g = [l.C, l.H, l.W, l.OC, OH, OW, l.k, l.k, l.s, l.s, l.pads, l.pads];
  const S = be.threads * (l.transposed ? convTransposeScratchFloats : convScratchFloats)(...g.slice(0, 10));
  const scratch = tensor(Math.max(S, 4), 1);
  const x = tensor(B * l.C * l.H * l.W, 2), y = tensor(B * l.OC * OH * OW, 3), w = tensor(l.OC * l.C * l.k * l.k, 4), b = tensor(l.OC, 5);
  const dw = tensor(l.OC * l.C * l.k * l.k, 6), db = tensor(l.OC, 7);
  const fw = l.transposed ? k.conv_transpose2d_forward : k.conv2d_forward;
  const bd = l.transposed ? k.conv_transpose2d_backward_data : k.conv2d_backward_data;
  const bw = l.transposed ? k.conv_transpose2d_backward_weights : k.conv2d_backward_weights;
  const run = {
    forward: () => fw(y.ptr, x.ptr, w.ptr, b.ptr, scratch.ptr, B, ...g, 1),
    'backward-data': () => bd(x.ptr, y.ptr, w.ptr, scratch.ptr, B, ...g),
    'backward-weights': () => bw(dw.ptr, db.ptr, y.ptr, x.ptr, scratch.ptr, B, ...g),
  }[pass];
  return { run, flops: 2 * B * macs, dispose: () => t.forEach((x) => be.free(x)) };
}

/** The square GEMM of the table: C = A·B, 512³ (256³ quick). */
function gemmCall(be, n) {
  const a = be.alloc(n, n), b = be.alloc(n, n), c = be.alloc(n, n);
  be.write(a, randomArray(n * n, 8));
  be.write(b, randomArray(n * n, 9));
  return { run: () => be.kernels.gemm(c.ptr, a.ptr, b.ptr, n, n, n, 0, 0, 0), flops: 2 * n ** 3, dispose: () => [a, b, c].forEach((x) => be.free(x)) };
}

/**
 * Every pass of every layer at each thread count, round-robin with the square GEMM of the same backend.
 * @returns {{ variant, gemm: { [threads]: GFLOP/s }, rows: { layer, pass, threads, gflops, vsGemm, speedup }[] }}
 */
export async function runConv({ variant = 'simd', threads = [1, Math.min(2, os.availableParallelism?.() ?? os.cpus().length)].filter((t, i, a) => a.indexOf(t) === i), layers = CONV_LAYERS, batch = CONV_BATCH, quick = false, opts = quick ? QUICK : FULL, log = () => {} } = {}) {
  const n = quick ? 256 : 512;
  const bes = [];
  for (const t of threads) bes.push(await createWasmBackend({ variant, threads: t }));
  const rows = [];
  const gemm = {};
  try {
    const gemms = bes.map((be) => gemmCall(be, n));
    for (const l of layers) {
      for (const pass of PASSES) {
        if (pass === 'backward-data' && l.C === 1) continue; // a first layer has no dx to compute
        const calls = bes.map((be) => convCall(be, l, pass, batch));
        const fns = {};
        bes.forEach((be, i) => {
          fns[`gemm×${be.threads}`] = gemms[i].run;
          fns[`conv×${be.threads}`] = calls[i].run;
        });
        const r = measureMany(fns, opts);
        bes.forEach((be, i) => {
          const t = be.threads;
          const gf = calls[i].flops / r[`conv×${t}`].seconds / 1e9;
          gemm[t] = Math.max(gemm[t] ?? 0, gemms[i].flops / r[`gemm×${t}`].seconds / 1e9);
          // conv rate / GEMM rate, paired by round: (gemm s/call ÷ conv s/call) scaled by the flops per call
          const vsGemm = pairedRatio(r[`conv×${t}`].perRound, r[`gemm×${t}`].perRound) * (calls[i].flops / gemms[i].flops);
          const speedup = t === bes[0].threads ? 1 : pairedRatio(r[`conv×${t}`].perRound, r[`conv×${bes[0].threads}`].perRound);
          rows.push({ layer: l.name, pass, threads: t, gflops: gf, vsGemm, speedup });
          log(`${variant} ${l.name} ${pass} ×${t}: ${gf.toFixed(1)} GFLOP/s, ${vsGemm.toFixed(2)} of ${n}³ GEMM${t === bes[0].threads ? '' : `, ${speedup.toFixed(2)}× over 1 thread`}`);
        });
        calls.forEach((c) => c.dispose());
      }
    }
    gemms.forEach((g) => g.dispose());
  } finally {
    bes.forEach((be) => be.dispose());
  }
  return { variant, square: n, batch, gemm, rows };
}

/** Markdown: one row per layer and pass, GFLOP/s and the ratio to the square GEMM per thread count. */
export function convTable(res) {
  const counts = [...new Set(res.rows.map((r) => r.threads))];
  const head = `| ${res.variant}, batch ${res.batch} | pass | ${counts.map((t) => `GFLOP/s ×${t} | vs ${res.square}³ GEMM ×${t}`).join(' | ')} | ×${counts.at(-1)} / ×${counts[0]} |`;
  const lines = [head, `|${' --- |'.repeat(2 + 2 * counts.length + 1)}`];
  const keys = [...new Set(res.rows.map((r) => `${r.layer}\u0000${r.pass}`))];
  for (const key of keys) {
    const [layerName, pass] = key.split('\u0000');
    const rs = counts.map((t) => res.rows.find((r) => r.layer === layerName && r.pass === pass && r.threads === t));
    lines.push(`| ${layerName} | ${pass} | ${rs.map((r) => `${r.gflops.toFixed(1)} | ${r.vsGemm.toFixed(2)}`).join(' | ')} | ${rs.at(-1).speedup.toFixed(2)}× |`);
  }
  lines.push(`| ${res.square}³ GEMM NN | | ${counts.map((t) => `${res.gemm[t].toFixed(1)} | 1`).join(' | ')} | |`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, def) => {
    const i = process.argv.indexOf(name);
    return i < 0 ? def : process.argv[i + 1];
  };
  const res = await runConv({
    variant: arg('--variant', 'simd'),
    threads: arg('--threads', '1,2').split(',').map(Number),
    quick: process.argv.includes('--quick'),
    log: (m) => console.error(m),
  });
  console.log(convTable(res));
}
