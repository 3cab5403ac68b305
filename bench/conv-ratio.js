// The conv kernels' one-thread rate over the square GEMM's by process CPU time (unlike conv.js's wall-clock rounds, a
// figure that holds on a loaded machine): 32→32 3×3 same at 28×28, batch 64, each pass, round-robin with the 512³
// GEMM, the median of per-round ratios. node bench/conv-ratio.js [simd|relaxed-simd] [rounds] (after npm run build;
// relaxed-simd needs node --experimental-wasm-relaxed-simd).
import { createWasmBackend } from '../dist/backend/wasm.js';
import { convScratchFloats } from '../dist/backend/conv-scratch.js';
const variant = process.argv[2] ?? 'simd';
const be = await createWasmBackend({ variant, threads: 1 });
const k = be.kernels;
const T = (n) => { const t = be.alloc(1, n); be.write(t, Float32Array.from({ length: n }, () => Math.random() - 0.5)); return t; };
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const n = 512, a = T(n * n), b = T(n * n), c = T(n * n);
const B = 64, C = 32, OC = 32, g = [C, 28, 28, OC, 28, 28, 3, 3, 1, 1, 1, 1];
const x = T(B * C * 784), y = T(B * OC * 784), w = T(OC * C * 9), bb = T(OC), s = T(convScratchFloats(...g.slice(0, 10))), dw = T(OC * C * 9), db = T(OC);
const fl = 2 * B * OC * 784 * C * 9;
const fns = {
  gemm: [2 * n ** 3, () => k.gemm(c.ptr, a.ptr, b.ptr, n, n, n, 0, 0, 0)],
  'forward (+bias, relu)': [fl, () => k.conv2d_forward(y.ptr, x.ptr, w.ptr, bb.ptr, s.ptr, B, ...g, 1)],
  'backward-data': [fl, () => k.conv2d_backward_data(x.ptr, y.ptr, w.ptr, s.ptr, B, ...g)],
  'backward-weights (+db)': [fl, () => k.conv2d_backward_weights(dw.ptr, db.ptr, y.ptr, x.ptr, s.ptr, B, ...g)],
};
for (const [, f] of Object.values(fns)) for (let i = 0; i < 3; i++) f();
const rounds = Number(process.argv[3] ?? 7), rates = {};
for (let r = 0; r < rounds; r++) for (const [name, [flops, f]] of Object.entries(fns)) {
  const t0 = cpu(); let m = 0; do { f(); m++; } while (cpu() - t0 < 0.25);
  (rates[name] ??= []).push(flops * m / (cpu() - t0) / 1e9);
}
const med = (xs) => [...xs].sort((p, q) => p - q)[xs.length >> 1];
console.log(`${variant}, one thread, CPU time, ${rounds} rounds: 512³ GEMM ${med(rates.gemm).toFixed(1)} GFLOP/s`);
for (const name of Object.keys(fns).slice(1)) console.log(`  conv 32→32 3×3 same 28×28 b64 ${name}: ${med(rates[name]).toFixed(1)} GFLOP/s, ${med(rates[name].map((v, i) => v / rates.gemm[i])).toFixed(2)} of the GEMM (median of per-round ratios)`);
