// The wasm module's interface (src/backend/abi.ts) against the module and its sources:
//
//   * the numbers copied from assembly/ (gemm_block modes, loss_sums kinds, ACT and NOISE codes, the strip width) are
//     the ones there;
//   * every export the backend names is in each build, and each SPLIT rule fits its kernel: argument positions inside
//     the export's arity, a column piece taking the kernel's arguments then (lo, hi);
//   * src/backend has no import cycle (type-only imports included).

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GEMM_SCRATCH_FLOATS } from '../src/backend/conv-scratch.js';
import { EXPORT_NAMES, GEMM_MODE, KERNEL_NAMES, SPLIT, SUM_KIND, THREAD_FNS } from '../src/backend/abi.js';
import { ACT, NOISE, STRIP_WIDTH } from '../src/backend/backend.js';
import { importCycles } from './support/imports.js';

const root = resolve(__dirname, '..');

/** `export const NAME: i32 = N` of an assembly/ file. */
function asConst(file: string, name: string): number {
  const m = new RegExp(`export const ${name}: i32 = (\\d+);`).exec(readFileSync(join(root, 'assembly', file), 'utf8'));
  if (!m) throw new Error(`assembly/${file} declares no ${name}`);
  return Number(m[1]);
}

describe('abi.ts', () => {
  it('its numbers are the ones assembly/ declares', () => {
    for (const [name, v] of Object.entries(GEMM_MODE)) expect(v, name).toBe(asConst('gemm.ts', name));
    for (const [name, v] of Object.entries(SUM_KIND)) expect(v, name).toBe(asConst('loss.ts', name));
    for (const [name, v] of Object.entries(ACT)) expect(v, `ACT.${name}`).toBe(asConst('activations.ts', `ACT_${name.toUpperCase()}`));
    expect(STRIP_WIDTH, 'STRIP_WIDTH').toBe(asConst('gemm.ts', 'SW'));
    for (const [name, v] of Object.entries(NOISE)) expect(v, `NOISE.${name}`).toBe(asConst('noise.ts', `NOISE_${name.toUpperCase().replace('-', '_')}`));
  });

  it('every build exports what the backend calls, and each split rule fits its kernel', async () => {
    const arity = new Map<string, number>();
    for (const build of ['simd', 'relaxed', 'scalar', 'simd-threads', 'relaxed-threads']) {
      const module = new WebAssembly.Module(readFileSync(join(root, 'build', `simdnet.${build}.wasm`)));
      const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
      expect(EXPORT_NAMES.filter((n) => !names.has(n)), build).toEqual([]);
      if (build === 'simd') {
        const { instance } = await WebAssembly.instantiate(readFileSync(join(root, 'build', 'simdnet.simd.wasm')), { env: { abort() {} } });
        for (const n of EXPORT_NAMES) arity.set(n, (instance.exports[n] as (...a: number[]) => unknown).length);
        // conv-scratch.ts sizes the conv kernels' scratch with a copy of the GEMM's
        expect(4 * GEMM_SCRATCH_FLOATS, 'GEMM_SCRATCH_FLOATS').toBe((instance.exports.gemm_scratch_bytes as () => number)());
      }
    }
    expect(new Set(THREAD_FNS).size).toBe(THREAD_FNS.length);
    for (const name of KERNEL_NAMES) {
      const r = SPLIT[name], n = arity.get(name)!;
      expect(n, name).toBeLessThanOrEqual(20); // a task slot's arguments
      if (r.kind === 'parts') {
        for (const [arg] of r.steps) expect(arg, `${name}: a pointer step`).toBeLessThan(n);
        for (const arg of [r.n, r.counter, r.scratch]) expect(arg, name).toBeLessThan(n);
      } else if (r.kind === 'range') {
        expect(arity.get(r.piece), `${name}'s piece ${r.piece} takes its arguments and (lo, hi)${r.gemmScratch ? ' and a scratch' : ''}`).toBe(n + 2 + (r.gemmScratch ? 1 : 0));
        expect(r.scratch, name).toBeLessThan(n);
      } else if (r.kind === 'scaled') {
        expect(arity.get(r.piece), `${name}'s piece ${r.piece}: (out, p, t, n, s)`).toBe(5);
      } else if (r.kind === 'chunks') {
        expect(r.ptrs, name).toBeLessThan(n);
      }
    }
  });

  it('src/backend has no import cycle', () => {
    expect(importCycles(join(root, 'src', 'backend'))).toEqual([]);
    expect(readFileSync(join(root, 'src', 'backend', 'threads.ts'), 'utf8')).not.toMatch(/from '\.\/threaded\.js'/); // the cycle there was
  });
});
