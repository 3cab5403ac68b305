// The backends every numeric test runs on: the js reference and each wasm build this runtime can run
// (Node 20 runs simd and scalar; relaxed-simd only behind a flag).

import type { Backend } from '../../src/backend/backend.js';
import { SimdnetError } from '../../src/errors.js';
import { createJsBackend } from '../../src/backend/js.js';
import { availableWasmVariants, createWasmBackend } from '../../src/backend/wasm.js';

export interface BackendCase {
  label: string;
  make: () => Promise<Backend>;
}

export function backendCases(): BackendCase[] {
  return [
    { label: 'js', make: createJsBackend },
    ...availableWasmVariants().map((variant) => ({ label: `wasm ${variant}`, make: () => createWasmBackend({ variant }) })),
  ];
}

/** Runs fn (sync or async), expects a SimdnetError and returns it. */
export async function simdnetErrorOf(fn: () => unknown): Promise<SimdnetError> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof SimdnetError)) throw new Error(`expected a SimdnetError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    return e;
  }
  throw new Error('expected a SimdnetError, nothing was thrown');
}

/** fn's result, or the message of the SimdnetError it threw, which must start with `name` (the file read);
 *  anything else fails: for properties where a refusal is as good an answer as a value. */
export function outcome<T>(fn: () => T, name: string): { ok: true; value: T } | { ok: false; message: string } {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (!(e instanceof SimdnetError)) throw new Error(`expected a SimdnetError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    if (!e.message.startsWith(name)) throw new Error(`the error should start with the file name ${name}: ${e.message}`);
    return { ok: false, message: e.message };
  }
}

/** Runs fn (sync or async), expects a SimdnetError and returns its message. */
export async function errorOf(fn: () => unknown): Promise<string> {
  return (await simdnetErrorOf(fn)).message;
}
