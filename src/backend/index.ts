// Picks and creates a backend by name: 'wasm' (default; relaxed-SIMD, SIMD or scalar by feature probe) or 'js'.

import { BACKEND_NAMES, type Backend, type BackendName } from './backend.js';
import { SimdnetError } from '../errors.js';
import { createJsBackend } from './js.js';
import { createWasmBackend } from './wasm.js';

export type WasmOptions = NonNullable<Parameters<typeof createWasmBackend>[0]>;

export type { Backend, BackendName, Kernels, Tensor } from './backend.js';
export { ACT, BACKEND_NAMES, NOISE, type ActCode } from './backend.js';
export { createJsBackend, createWasmBackend };

export async function createBackend(name: BackendName = 'wasm', options: WasmOptions = {}): Promise<Backend> {
  if (name === 'wasm') return createWasmBackend(options);
  if (name === 'js') return createJsBackend();
  throw new SimdnetError(`backend: expected ${BACKEND_NAMES.map((n) => `'${n}'`).join(' or ')}, got '${name}'`, 'E_OPTION');
}
