// How the CLI runs its kernels: how many threads, and whether relaxed SIMD is on. Node ≥ 22 runs relaxed SIMD by
// default; Node 20 only behind V8's --experimental-wasm-relaxed-simd, which `simdnet` turns on for itself at start
// (before any module is compiled). --no-relaxed, or SIMDNET_NO_RELAXED=1 (which createBackend honours for every
// caller), keeps the plain SIMD build.

import { setFlagsFromString } from 'node:v8';
import { createBackend } from '../backend/index.js';
import type { Backend, BackendName } from '../backend/backend.js';
import { SimdnetError } from '../errors.js';
import { availableWasmVariants, relaxedOffByEnv } from '../backend/wasm.js';

export interface RunOptions {
  /** Kernel threads (default: every core). */
  threads?: number;
  /** false: the SIMD build even where relaxed SIMD runs. */
  relaxed?: boolean;
}

/** Turns on relaxed SIMD where this Node has it behind a flag (Node 20), unless SIMDNET_NO_RELAXED is set. */
export function enableRelaxedSimd(): void {
  if (relaxedOffByEnv() || availableWasmVariants().includes('relaxed-simd')) return;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
}

/** The backend the CLI's commands run on. */
export async function cliBackend(name: BackendName, run: RunOptions = {}): Promise<Backend> {
  if (name !== 'wasm') {
    // both choose how wasm kernels run: with js they would be ignored without a word
    const given = [run.threads !== undefined && `--threads ${run.threads}`, run.relaxed === false && '--no-relaxed'].filter(Boolean);
    if (given.length) throw new SimdnetError(`${given.join(' and ')}: the ${name} backend runs on one thread and has no wasm builds; give them with the wasm backend only`, 'E_OPTION');
    return createBackend(name);
  }
  const noRelaxed = run.relaxed === false; // SIMDNET_NO_RELAXED: createBackend reads it itself
  const variant = noRelaxed && availableWasmVariants()[0] === 'relaxed-simd' ? 'simd' : undefined;
  return createBackend('wasm', { threads: run.threads, variant });
}

/** e.g. "wasm (relaxed-simd, 2 threads)", "wasm (simd, 1 thread: the scalar build has no threads)" */
export function describeBackend(b: Backend): string {
  const threads = `${b.threads} thread${b.threads === 1 ? '' : 's'}`;
  return `${b.name} (${b.variant}${b.name === 'js' ? '' : `, ${threads}${b.threadsNote ? `: ${b.threadsNote}` : ''}`})`;
}
