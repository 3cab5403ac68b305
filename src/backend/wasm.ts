// The wasm backend: loads build/simdnet.<variant>.wasm (AssemblyScript kernels, assembly/), runs its kernels
// on the module's own exported memory, and allocates tensors above its static data (heap_base()).
//
// Variant choice (as tfjs-backend-wasm): probe the runtime with WebAssembly.validate on two tiny modules,
// one using a relaxed-SIMD op and one a SIMD op; take relaxed-simd → simd → scalar. Node 20 validates
// relaxed SIMD only with --experimental-wasm-relaxed-simd, so there the probe picks simd.
//
// No static import of node modules: the file must bundle for the browser. Node's fs is imported
// dynamically, and only for file: URLs.

import type { Backend, Kernels } from './backend.js';
import { HeapBackend } from './heap.js';
import { SimdnetError } from '../errors.js';

export type WasmVariant = 'relaxed-simd' | 'simd' | 'scalar';

export interface WasmBackendOptions {
  /** Force a build; an error if this runtime cannot run it. Default: the best the runtime supports. */
  variant?: WasmVariant;
  /** Where the .wasm is, or its bytes. Default: build/simdnet.<variant>.wasm next to the package. */
  wasm?: URL | string | ArrayBuffer | Uint8Array;
}

// =====================================================================================================
// Feature probes: (module (func i32.const 0 i32x4.splat [×3 f32x4.relaxed_madd] drop))
// =====================================================================================================

const HEAD = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00];
const SPLAT = [0x41, 0x00, 0xfd, 0x11]; // i32.const 0; i32x4.splat
const SIMD_PROBE = new Uint8Array([...HEAD, 0x0a, 0x09, 0x01, 0x07, 0x00, ...SPLAT, 0x1a, 0x0b]);
const RELAXED_PROBE = new Uint8Array([...HEAD, 0x0a, 0x14, 0x01, 0x12, 0x00, ...SPLAT, ...SPLAT, ...SPLAT, 0xfd, 0x85, 0x02, 0x1a, 0x0b]);

/** The builds this runtime can run, best first. */
export function availableWasmVariants(): WasmVariant[] {
  if (typeof WebAssembly !== 'object') return [];
  const out: WasmVariant[] = [];
  const simd = WebAssembly.validate(SIMD_PROBE);
  if (simd && WebAssembly.validate(RELAXED_PROBE)) out.push('relaxed-simd');
  if (simd) out.push('simd');
  out.push('scalar');
  return out;
}

// One literal URL per build, so bundlers (Vite, webpack 5) see and emit each asset.
function defaultWasmUrl(variant: WasmVariant): URL {
  switch (variant) {
    case 'relaxed-simd':
      return new URL('../../build/simdnet.relaxed.wasm', import.meta.url);
    case 'simd':
      return new URL('../../build/simdnet.simd.wasm', import.meta.url);
    case 'scalar':
      return new URL('../../build/simdnet.scalar.wasm', import.meta.url);
  }
}

// =====================================================================================================
// Loading
// =====================================================================================================

const NODE_FS = 'node:fs/promises';
const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;

async function loadBytes(src: URL | string | ArrayBuffer | Uint8Array): Promise<BufferSource> {
  if (src instanceof ArrayBuffer || ArrayBuffer.isView(src)) return src as BufferSource;
  let url: URL | undefined;
  if (src instanceof URL) url = src;
  else if (/^[a-z][a-z0-9+.-]+:/i.test(src) && !/^[a-z]:[\\/]/i.test(src)) url = new URL(src); // not C:\
  try {
    if (url === undefined ? isNode : url.protocol === 'file:') {
      // a specifier bundlers cannot see: Vite would warn that it externalized node:fs for the browser and
      // webpack 5 fails on the node: scheme, though this branch never runs in a browser
      const fs: typeof import('node:fs/promises') = await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_FS);
      return await fs.readFile(url ?? src);
    }
    const res = await fetch(url ?? src);
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    return await res.arrayBuffer();
  } catch (e) {
    throw new SimdnetError(`wasm backend: could not load the kernels from ${String(url ?? src)} (${(e as Error).message}); run \`npm run build:wasm\`?`);
  }
}

const KERNEL_NAMES: ReadonlyArray<keyof Kernels> = [
  'gemm', 'linear_forward', 'linear_act_forward', 'linear_backward', 'bias_add', 'col_sum',
  'relu_forward', 'relu_backward', 'tanh_forward', 'tanh_backward', 'sigmoid_forward', 'sigmoid_backward',
  'softmax_forward', 'softmax_backward',
  'mse_loss', 'mse_backward', 'bce_loss', 'bce_backward', 'sigmoid_bce_backward', 'softmax_ce_loss', 'softmax_ce_backward',
  'sgd_update', 'momentum_update', 'adam_update', 'fill', 'has_non_finite', 'gather_noise',
];

// =====================================================================================================
// Backend
// =====================================================================================================

class WasmBackend extends HeapBackend implements Backend {
  readonly name = 'wasm' as const;
  /** The module's exports themselves: a kernel call is a direct call into wasm. */
  readonly kernels: Kernels;

  constructor(readonly variant: WasmVariant, exports: WebAssembly.Exports) {
    super(exports.memory as WebAssembly.Memory, (exports.heap_base as () => number)());
    const kernels: Partial<Record<keyof Kernels, unknown>> = {};
    for (const k of KERNEL_NAMES) kernels[k] = exports[k];
    this.kernels = Object.freeze(kernels) as Kernels;
  }
}

/** Loads the kernels and returns a Backend over the module's memory. */
export async function createWasmBackend(options: WasmBackendOptions = {}): Promise<Backend> {
  const available = availableWasmVariants();
  if (available.length === 0) throw new SimdnetError('wasm backend: this runtime has no WebAssembly; use the js backend');
  const variant = options.variant ?? available[0];
  if (!(['relaxed-simd', 'simd', 'scalar'] as const).includes(variant))
    throw new SimdnetError(`wasm backend: unknown variant '${variant}', expected 'relaxed-simd', 'simd' or 'scalar'`);
  if (!available.includes(variant))
    throw new SimdnetError(`wasm backend: variant '${variant}' is not supported by this runtime (it can run: ${available.join(', ')})`);

  const bytes = await loadBytes(options.wasm ?? defaultWasmUrl(variant));
  let instance: WebAssembly.Instance;
  try {
    ({ instance } = await WebAssembly.instantiate(bytes, {
      env: {
        abort(_msg: number, _file: number, line: number, col: number) {
          throw new SimdnetError(`wasm backend: kernel aborted at ${line}:${col}`);
        },
      },
    }));
  } catch (e) {
    throw new SimdnetError(`wasm backend: could not instantiate the ${variant} kernels (${(e as Error).message})`);
  }
  const ex = instance.exports;
  const missing = [...KERNEL_NAMES, 'heap_base', 'memory'].filter((k) => !(k in ex));
  if (missing.length > 0) throw new SimdnetError(`wasm backend: the ${variant} module lacks exports: ${missing.join(', ')} (stale build? run \`npm run build:wasm\`)`);
  return new WasmBackend(variant, ex);
}
