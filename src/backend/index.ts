// Picks and creates a backend by name: 'wasm' (default; relaxed-SIMD, SIMD or scalar by feature probe) or 'js'.

import type { Backend, BackendName } from './backend.js';
import { SimdnetError } from '../errors.js';
import { createJsBackend } from './js.js';
import { createWasmBackend } from './wasm.js';

export type WasmOptions = NonNullable<Parameters<typeof createWasmBackend>[0]>;

export type { Backend, BackendName, Kernels, Tensor } from './backend.js';
export { ACT, NOISE, type ActCode } from './backend.js';
export { createJsBackend, createWasmBackend };

export async function createBackend(name: BackendName = 'wasm', options: WasmOptions = {}): Promise<Backend> {
  if (name === 'wasm') return createWasmBackend(options);
  if (name === 'js') return createJsBackend();
  throw new SimdnetError(`backend: expected 'wasm' or 'js', got '${name}'`, 'E_OPTION');
}
