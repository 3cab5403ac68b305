// The wasm backend: loads a build of the kernels (AssemblyScript, assembly/; embedded in the JS: embedded.ts), runs its
// kernels on the module's memory (its own exported one, or with threads a shared one it imports, which the pool's
// workers instantiate the same module over: threads.ts, threaded.ts), and allocates tensors above its static data.
//
// Variant choice (as tfjs-backend-wasm): probe the runtime with WebAssembly.validate on two tiny modules,
// one using a relaxed-SIMD op and one a SIMD op; take relaxed-simd → simd → scalar. Node 20 validates
// relaxed SIMD only with --experimental-wasm-relaxed-simd, so there the probe picks simd.
//
// No static import of node modules: the file must bundle for the browser. Node's fs is imported
// dynamically, and only for a `wasm` option that is a path or a file: URL.

import type { Backend, Kernels } from './backend.js';
import { HeapBackend } from './heap.js';
import { EXPORT_NAMES, KERNEL_NAMES, type RawExports } from './abi.js';
import { threadedKernels } from './threaded.js';
import { SPINS, SPINS_OVERSUBSCRIBED, ThreadPool, controlBytes, threadsUnavailable } from './threads.js';
import { SimdnetError } from '../errors.js';
import { embeddedWasm, type EmbeddedBuild } from './embedded.js';

/** The wasm builds, fastest first. */
export const WASM_VARIANTS = ['relaxed-simd', 'simd', 'scalar'] as const;
export type WasmVariant = (typeof WASM_VARIANTS)[number];
/** The most kernel threads a backend takes (the caller included); the CLI's --threads checks against it too. */
export const MAX_THREADS = 1024;

/** Where a .wasm build comes from: a URL (fetched; file: read in Node), a path (Node), or its bytes. */
export type WasmSource = URL | string | ArrayBuffer | Uint8Array;

export interface WasmBackendOptions {
  /** Force a build; an error if this runtime cannot run it. Default: the best the runtime supports. */
  variant?: WasmVariant;
  /** Kernel threads, the caller included: default every core (os.availableParallelism() or
   *  navigator.hardwareConcurrency); 1 runs everything on the calling thread. Fewer run when the runtime cannot
   *  (no SharedArrayBuffer, a page that is not cross-origin isolated, a browser's main thread): backend.threadsNote
   *  says why. Results are bit-identical whatever the count. */
  threads?: number;
  /** The .wasm of the chosen build (simdnet.<variant>[-threads].wasm) as a URL, a path (Node) or its bytes.
   *  Default: the bytes embedded in the package's JS (build/embedded/), which need no URL and no bundler setup. */
  wasm?: WasmSource;
}

// =====================================================================================================
// Feature probes: (module (func i32.const 0 i32x4.splat [×3 f32x4.relaxed_madd] drop)), and whether the
// relaxed multiply-add is fused
// =====================================================================================================

const HEAD = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00];
const SPLAT = [0x41, 0x00, 0xfd, 0x11]; // i32.const 0; i32x4.splat
const SIMD_PROBE = new Uint8Array([...HEAD, 0x0a, 0x09, 0x01, 0x07, 0x00, ...SPLAT, 0x1a, 0x0b]);
const RELAXED_PROBE = new Uint8Array([...HEAD, 0x0a, 0x14, 0x01, 0x12, 0x00, ...SPLAT, ...SPLAT, ...SPLAT, 0xfd, 0x85, 0x02, 0x1a, 0x0b]);

// (module (func (export "f") (result f32) v128.const a, v128.const b, v128.const c, f32x4.relaxed_madd, f32x4.extract_lane 0))
// with a = 1 + 2⁻²³, b = 1 − 2⁻²³, c = −1 on every lane: −2⁻⁴⁶ when the multiply-add is fused (one rounding: V8,
// SpiderMonkey on FMA hardware), 0 when it is not (a·b rounds to 1 first: JavaScriptCore, so Bun and Safari).
const f32x4Const = (bits: number) => [0xfd, 0x0c, ...Array.from({ length: 16 }, (_, i) => (bits >>> (8 * (i % 4))) & 0xff)];
const MADD_BODY = [0x00, ...f32x4Const(0x3f800001), ...f32x4Const(0x3f7ffffe), ...f32x4Const(0xbf800000), 0xfd, 0x85, 0x02, 0xfd, 0x1f, 0x00, 0x0b];
const MADD_PROBE = new Uint8Array([
  ...HEAD.slice(0, 8), 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7d, 0x03, 0x02, 0x01, 0x00, 0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00,
  0x0a, MADD_BODY.length + 2, 0x01, MADD_BODY.length, ...MADD_BODY,
]);

/** Whether this runtime runs relaxed SIMD, and whether its multiply-add is fused. Not fused, the relaxed-simd build
 *  computes exactly what the simd build does (its only relaxed op is the multiply-add), so it is not offered. */
export function relaxedSimd(): 'fused' | 'unfused' | 'none' {
  if (typeof WebAssembly !== 'object' || !WebAssembly.validate(RELAXED_PROBE)) return 'none';
  const f = new WebAssembly.Instance(new WebAssembly.Module(MADD_PROBE)).exports.f as () => number;
  return f() === 0 ? 'unfused' : 'fused';
}

/** The builds this runtime can run, best first; relaxed-simd only where its multiply-add is fused. */
export function availableWasmVariants(): WasmVariant[] {
  if (typeof WebAssembly !== 'object') return [];
  const out: WasmVariant[] = [];
  const simd = WebAssembly.validate(SIMD_PROBE);
  if (simd && relaxedSimd() === 'fused') out.push('relaxed-simd');
  if (simd) out.push('simd');
  out.push('scalar');
  return out;
}

/** Set to 1 in the environment (Node, Deno, Bun), it makes the default build simd where relaxed-simd runs. */
export const NO_RELAXED_ENV = 'SIMDNET_NO_RELAXED';

/** Whether NO_RELAXED_ENV is set (not '' or '0'); false where there is no environment, or Deno may not read it. */
export function relaxedOffByEnv(): boolean {
  if (!isNode) return false;
  const deno = (globalThis as { Deno?: { permissions?: { querySync?(d: { name: string; variable: string }): { state: string } } } }).Deno;
  if (deno && deno.permissions?.querySync?.({ name: 'env', variable: NO_RELAXED_ENV }).state !== 'granted') return false; // never a prompt
  const v = process.env[NO_RELAXED_ENV];
  return v !== undefined && v !== '' && v !== '0';
}

// =====================================================================================================
// Loading: the bytes come embedded in the package's JS (embedded.ts), so a bundler, dev server or CDN handles them
// as it handles any JS module, with nothing to configure; `wasm` (a URL, a path or bytes) overrides them.
// docs/DESIGN.md, "Loading".
// =====================================================================================================

/** The file stem of a build: simdnet.<stem>.wasm. */
function buildName(variant: WasmVariant, threaded: boolean): EmbeddedBuild {
  return ((variant === 'relaxed-simd' ? 'relaxed' : variant) + (threaded ? '-threads' : '')) as EmbeddedBuild;
}

const NODE_FS = 'node:fs/promises';
const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** What came back instead of a module, e.g. `text/html starting '<!do' (412 bytes)`. */
function describeBytes(bytes: Uint8Array, type?: string | null): string {
  const head = Array.from(bytes.subarray(0, 4), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
  return `${type ? type + ' ' : ''}${bytes.length === 0 ? 'with no bytes' : `starting '${head}' (${bytes.length} bytes)`}`;
}

const isWasm = (bytes: Uint8Array) => WASM_MAGIC.every((b, i) => bytes[i] === b);

async function loadBytes(src: WasmSource, build: string): Promise<Uint8Array<ArrayBuffer>> {
  const hint = `set the \`wasm\` option to the URL, path or bytes of simdnet.${build}.wasm, or leave it out to use the embedded build`;
  if (src instanceof ArrayBuffer || ArrayBuffer.isView(src)) {
    // a copy of a view (it may be over a SharedArrayBuffer, which WebAssembly.compile does not take)
    const bytes = src instanceof ArrayBuffer ? new Uint8Array(src) : new Uint8Array(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
    if (!isWasm(bytes)) throw new SimdnetError(`wasm backend: the \`wasm\` bytes are not a WebAssembly module: expected '\\x00asm', got ${describeBytes(bytes)}; ${hint}`, 'E_OPTION');
    return bytes;
  }
  let url: URL | undefined;
  if (src instanceof URL) url = src;
  else if (/^[a-z][a-z0-9+.-]+:/i.test(src) && !/^[a-z]:[\\/]/i.test(src)) url = new URL(src); // not C:\
  let bytes: Uint8Array<ArrayBuffer>;
  let type: string | null = null;
  try {
    if (url === undefined ? isNode : url.protocol === 'file:') {
      // a specifier bundlers cannot see: Vite would warn that it externalized node:fs for the browser and
      // webpack 5 fails on the node: scheme, though this branch never runs in a browser
      const fs: typeof import('node:fs/promises') = await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_FS);
      bytes = new Uint8Array(await fs.readFile(url ?? src));
    } else {
      const res = await fetch(url ?? src);
      type = res.headers.get('content-type');
      if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
      bytes = new Uint8Array(await res.arrayBuffer());
    }
  } catch (e) {
    throw new SimdnetError(`wasm backend: could not load the kernels from ${String(url ?? src)} (${(e as Error).message}); ${hint}`, 'E_FILE');
  }
  if (!isWasm(bytes))
    throw new SimdnetError(`wasm backend: could not load the kernels from ${String(url ?? src)}: expected a WebAssembly module, got ${describeBytes(bytes, type)}; ${hint}`, 'E_FILE_CORRUPT');
  return bytes;
}

// =====================================================================================================
// Backend
// =====================================================================================================

class WasmBackend extends HeapBackend implements Backend {
  readonly name = 'wasm' as const;
  readonly kernels: Kernels;
  private pool: ThreadPool | null = null;

  constructor(
    readonly variant: WasmVariant,
    readonly exports: RawExports & { memory?: WebAssembly.Memory },
    memory: WebAssembly.Memory,
    maxPages: number,
    /** Why fewer threads run than were asked for (undefined when all run). */
    readonly threadsNote?: string,
    /** Bytes above the static data kept for the threads (control block, GEMM scratch, loss sums). */
    reserved = 0,
  ) {
    super(memory, exports.heap_base() + reserved, maxPages);
    // one thread: the module's exports themselves, a kernel call is a direct call into wasm
    const kernels: Partial<Record<keyof Kernels, unknown>> = {};
    for (const k of KERNEL_NAMES) kernels[k] = exports[k];
    this.kernels = kernels as Kernels;
  }

  /** Kernel threads, the calling thread included. */
  get threads(): number {
    return this.pool?.size ?? 1;
  }

  /** Live workers (0 after dispose). */
  get workers(): number {
    return this.pool?.workerCount ?? 0;
  }

  async startThreads(module: WebAssembly.Module, layout: ThreadLayout): Promise<void> {
    const ex = this.exports;
    const spins = layout.threads <= availableParallelism() ? SPINS : SPINS_OVERSUBSCRIBED;
    this.pool = await ThreadPool.create(module, this.memory, ex as unknown as WebAssembly.Exports, layout.threads, layout.ctl, spins);
    const f64 = () => new Float64Array(this.memory.buffer);
    let view = f64();
    const kernels = threadedKernels(ex, {
      pool: this.pool, scratch: layout.scratch, sums: layout.sums, sumsCapacity: SUMS_CAPACITY,
      f64: () => (view.buffer === this.memory.buffer ? view : (view = f64())),
    });
    Object.assign(this.kernels, kernels);
  }

  override dispose(): void {
    this.pool?.dispose();
    super.dispose();
  }
}

/** Cores this runtime reports. */
export function availableParallelism(): number {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (isNode) {
    const os = (process as unknown as { getBuiltinModule?: (m: string) => { availableParallelism?: () => number; cpus(): unknown[] } }).getBuiltinModule?.('node:os');
    if (os) return os.availableParallelism?.() ?? os.cpus().length;
  }
  return Math.max(1, nav?.hardwareConcurrency ?? 1);
}

/** Loads the kernels and returns a Backend over the module's memory (a shared one when threads run). */
export async function createWasmBackend(options: WasmBackendOptions = {}): Promise<Backend> {
  const available = availableWasmVariants();
  if (available.length === 0) throw new SimdnetError('wasm backend: this runtime has no WebAssembly; use the js backend');
  const variant = options.variant ?? (relaxedOffByEnv() ? available.find((v) => v !== 'relaxed-simd')! : available[0]);
  if (!WASM_VARIANTS.includes(variant))
    throw new SimdnetError(`wasm backend: unknown variant '${variant}', expected ${WASM_VARIANTS.map((v) => `'${v}'`).join(', ')}`);
  if (!available.includes(variant)) {
    const why = variant === 'relaxed-simd' && relaxedSimd() === 'unfused' ? `; its relaxed multiply-add is not fused, so that build would compute exactly what 'simd' does` : '';
    throw new SimdnetError(`wasm backend: variant '${variant}' is not supported by this runtime (it can run: ${available.join(', ')})${why}`);
  }
  const asked = options.threads ?? availableParallelism();
  if (!(Number.isInteger(asked) && asked >= 1 && asked <= MAX_THREADS))
    throw new SimdnetError(`wasm backend: threads must be an integer from 1 to ${MAX_THREADS}, got ${options.threads}`);
  let note: string | undefined;
  if (asked > 1) note = variant === 'scalar' ? 'the scalar build has no threads (this runtime has no SIMD)' : threadsUnavailable() ?? undefined;
  const threads = note === undefined ? asked : 1;
  const threaded = threads > 1;

  const bytes = options.wasm === undefined ? embeddedWasm(buildName(variant, threaded)) : await loadBytes(options.wasm, buildName(variant, threaded));
  let module: WebAssembly.Module;
  let instance: WebAssembly.Instance;
  let memory: WebAssembly.Memory | undefined;
  let maxPages = 65536;
  try {
    module = await WebAssembly.compile(bytes);
    if (threaded) ({ memory, maxPages } = sharedMemory(module));
    instance = await WebAssembly.instantiate(module, {
      env: {
        ...(memory ? { memory } : {}),
        abort(_msg: number, _file: number, line: number, col: number) {
          throw new SimdnetError(`wasm backend: kernel aborted at ${line}:${col}`);
        },
      },
    });
  } catch (e) {
    if (e instanceof SimdnetError) throw e;
    throw new SimdnetError(`wasm backend: could not instantiate the ${variant}${threaded ? '+threads' : ''} kernels (${(e as Error).message})`);
  }
  const ex = instance.exports;
  const missing = [...EXPORT_NAMES, ...(memory ? [] : ['memory'])].filter((k) => !(k in ex));
  if (missing.length > 0) throw new SimdnetError(`wasm backend: the ${variant} module lacks exports: ${missing.join(', ')} (a \`wasm\` option naming another version's build, or a stale build: run \`npm run build\`)`, 'E_RUNTIME');
  const raw = ex as unknown as WasmBackend['exports'];
  const layout = threaded ? threadLayout(raw, threads, memory!) : undefined;
  const backend = new WasmBackend(variant, raw, memory ?? (ex.memory as WebAssembly.Memory), maxPages, note, layout?.bytes);
  if (layout) await backend.startThreads(module, layout);
  return backend;
}

const SUMS_CAPACITY = 1 << 12; // loss chunk sums over up to 16 M elements; larger losses run on one thread

interface ThreadLayout {
  threads: number;
  ctl: number;
  scratch: number[];
  sums: number;
  bytes: number;
}

// The threads' own memory, right above the static data (so it never counts as a tensor allocation): the control
// block, a GEMM scratch per worker (thread 0 uses the module's static one), the loss chunk sums.
function threadLayout(ex: WasmBackend['exports'], threads: number, memory: WebAssembly.Memory): ThreadLayout {
  const base = ex.heap_base();
  const up = (n: number) => Math.ceil(n / 64) * 64;
  let at = up(base);
  const ctl = at;
  at = up(at + controlBytes(threads));
  const scratch = [ex.gemm_scratch()];
  for (let t = 1; t < threads; t++, at = up(at + ex.gemm_scratch_bytes())) scratch.push(at);
  const sums = at;
  at = up(at + 8 * SUMS_CAPACITY);
  const need = Math.ceil(at / 65536) - memory.buffer.byteLength / 65536;
  if (need > 0) memory.grow(need);
  return { threads, ctl, scratch, sums, bytes: at - base };
}

// The memory a threaded module imports: shared, with the module's own initial size and the largest maximum the
// runtime grants (4 GiB, else 2 or 1 GiB: a shared memory reserves its maximum up front).
function sharedMemory(module: WebAssembly.Module): { memory: WebAssembly.Memory; maxPages: number } {
  const desc = WebAssembly.Module.imports(module).find((i) => i.kind === 'memory');
  if (!desc) throw new SimdnetError('wasm backend: the threaded build imports no memory (a `wasm` option naming a build without threads, or a stale build: run `npm run build`)', 'E_RUNTIME');
  let last: unknown;
  for (const maximum of [65536, 32768, 16384]) {
    try {
      return { memory: new WebAssembly.Memory({ initial: 32, maximum, shared: true }), maxPages: maximum };
    } catch (e) {
      last = e;
    }
  }
  throw new SimdnetError(`wasm backend: could not create a shared memory (${(last as Error).message})`);
}
