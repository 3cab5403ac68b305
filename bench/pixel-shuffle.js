// The conv denoiser at half resolution beside the plain one: a training step (batch 64, BCE, Adam) of the `--preset
// conv` model (3×3 convs 1-32-32-32-32-1 at 28×28) and of `--pixel-shuffle 2` models (PixelUnshuffle2D(2), 3×3 convs
// 4-c-c-c-c-4 at 14×14, PixelShuffle2D(2)), one thread, by process CPU time (a figure that holds on a loaded machine),
// round-robin, the median of per-round ratios; and the pixel shuffle kernels' share of the step.
// node bench/pixel-shuffle.js [rounds] (after npm run build)
import { createWasmBackend } from '../dist/backend/wasm.js';
import { loadBundledMnist } from '../dist/data/mnist-bundled.js';
import { Sequential } from '../dist/model.js';
import { convAutoencoderSpec } from '../dist/models.js';
import { createOptimizer } from '../dist/optimizers.js';
import { trainStep } from '../dist/training/step.js';

const rounds = Number(process.argv[2] ?? 7);
const be = await createWasmBackend({ threads: 1 });
const B = 64;
const x = loadBundledMnist().train.images.subarray(0, B * 784);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const specs = {
  'plain 1-32×4-1 at 28×28 (--preset conv)': convAutoencoderSpec({ channels: [32, 32, 32, 32] }),
  'pixel shuffle 2, 4-64×4-4 at 14×14': convAutoencoderSpec({ channels: [64, 64, 64, 64], pixelShuffle: 2 }),
  'pixel shuffle 2, 4-32×4-4 at 14×14': convAutoencoderSpec({ channels: [32, 32, 32, 32], pixelShuffle: 2 }),
};
const runs = Object.entries(specs).map(([name, spec]) => {
  const model = Sequential.fromSpec(spec, { backend: be, seed: 1 });
  const opt = createOptimizer('adam', { lr: 1e-3 });
  let step = 0;
  return { name, params: model.paramCount, f: () => trainStep(model, { x, y: x }, 'bce', opt, step++), ms: [] };
});
// the two kernels alone, forward and backward of both layers (four calls) at the recipe's shape
const t = be.alloc(B, 784), u = be.alloc(B, 784);
runs.push({ name: 'pixel_unshuffle + pixel_shuffle, forward and backward, 64×1×28×28', f: () => {
  for (let i = 0; i < 2; i++) { be.kernels.pixel_unshuffle(u.ptr, t.ptr, B, 14, 14, 2); be.kernels.pixel_shuffle(t.ptr, u.ptr, B, 14, 14, 2); }
}, ms: [] });
for (const r of runs) for (let i = 0; i < 2; i++) r.f();
for (let k = 0; k < rounds; k++)
  for (const r of runs) {
    const t0 = cpu();
    let m = 0;
    do { r.f(); m++; } while (cpu() - t0 < 0.5);
    r.ms.push(((cpu() - t0) / m) * 1e3);
  }
const med = (xs) => [...xs].sort((p, q) => p - q)[xs.length >> 1];
console.log(`${be.variant}, one thread, CPU time, ${rounds} rounds, batch ${B}`);
for (const r of runs) console.log(`  ${r.name}${r.params ? ` (${r.params.toLocaleString('en')} parameters)` : ''}: ${med(r.ms).toFixed(3)} ms${r === runs[0] ? '' : `, ${med(r.ms.map((v, i) => v / runs[0].ms[i])).toPrecision(2)}× the plain step (median of per-round ratios)`}`);
be.dispose();
