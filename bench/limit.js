// The WASM SIMD ceiling of this machine (bench/limit.ts): compiled here with the AssemblyScript compiler API
// into build/bench-limit.{simd,relaxed}.wasm (rebuilt when limit.ts is newer), then timed.

import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const CONFIG = here('./limit.asconfig.json');
const SOURCE = here('./limit.ts');
export const LIMIT_WASM = { simd: here('../build/bench-limit.simd.wasm'), relaxed: here('../build/bench-limit.relaxed.wasm') };

async function mtime(p) {
  try {
    return (await stat(p)).mtimeMs;
  } catch {
    return -1;
  }
}

/** Compiles both builds of limit.ts unless they are up to date. */
export async function buildLimit() {
  const src = await mtime(SOURCE);
  for (const target of ['simd', 'relaxed']) {
    if ((await mtime(LIMIT_WASM[target])) > src) continue;
    const { default: asc } = await import('assemblyscript/asc');
    let err = '';
    const { error } = await asc.main(['--config', CONFIG, '--target', target], {
      stdout: { write() {} },
      stderr: { write: (s) => (err += s) },
      // atomically (temp file, then rename): a concurrent bench or test never reads half a module
      async writeFile(name, contents, baseDir) {
        const file = path.resolve(baseDir, name);
        await mkdir(path.dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        await writeFile(tmp, contents);
        await rename(tmp, file);
      },
    });
    if (error) throw new Error(`bench: could not compile bench/limit.ts (${target}): ${error.message}\n${err}`);
  }
}

/** Instantiates one build: { run() (one call), flops (per call) }, or null if this runtime cannot run it. */
export async function loadLimit(target) {
  const bytes = await readFile(LIMIT_WASM[target]);
  if (!WebAssembly.validate(bytes)) return null;
  const { instance } = await WebAssembly.instantiate(bytes, { env: { abort() {} } });
  const { run, FLOPS_PER_ITER } = instance.exports;
  const n = 1 << 16; // ~0.15 ms per call at tens of GFLOP/s
  let sink = 0;
  return {
    run: () => (sink += run(n, 0.999, 0.001)),
    flops: FLOPS_PER_ITER.value * n,
    check: () => Number.isFinite(sink),
  };
}
