// numpy + OpenBLAS peer of simdnet's reference training epoch: runs bench/numpy_peer.py (the model, loss,
// optimizer and epoch are described there) on the 8,000 bundled training digits.
//
// export async function numpyEpoch({ epochs = 3, threads = 1, python = 'python3', log = console.warn } = {})
//   → null when `python -c 'import numpy'` fails (the reason goes to `log`; numpyUnavailable() returns it), else
//     { epochSeconds: number[],   // per epoch: noise + shuffle + every step (time.perf_counter in Python)
//       firstEpochSeconds, medianSeconds, medianAfterFirst,
//       numpy, python, blas, threads, threadsSource, coretype,   // as numpy_peer.py reports them
//       threadsRequested, epochLosses, finalLoss, samples }
//   Writes the digits (raw float32, 784 per row) to a temp file, then runs `python bench/numpy_peer.py FILE
//   --epochs E` with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from its environment (set on this machine,
//   they slow OpenBLAS down) and OPENBLAS_NUM_THREADS = threads. A failing run of the script throws. Needs
//   dist/ (npm run build) for the digits. The machine's `python3` (pyenv) has numpy with OpenBLAS; a Debian
//   /usr/bin/python3 numpy uses reference BLAS and is not the peer.
//
// export async function numpyUnavailable({ python = 'python3' } = {}) → null | string (why numpy cannot run)
//
// Directly: node bench/numpy-peer.js [--epochs 3]   (median epoch seconds with 1 and 2 OpenBLAS threads)

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './harness.js';

const SCRIPT = fileURLToPath(new URL('./numpy_peer.py', import.meta.url));


/** The child's environment: ours without the two OpenBLAS tunings, with the thread count wanted. */
function peerEnv(threads) {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  if (threads != null) env.OPENBLAS_NUM_THREADS = String(threads);
  return env;
}

function run(file, args, env) {
  return new Promise((resolve) => {
    execFile(file, args, { env, maxBuffer: 16 << 20 }, (error, stdout, stderr) => resolve({ error, stdout, stderr }));
  });
}

const checked = new Map();
/** See the comment at the top of this file. */
export async function numpyUnavailable({ python = 'python3' } = {}) {
  if (!checked.has(python)) {
    checked.set(python, run(python, ['-c', 'import numpy'], peerEnv()).then(({ error, stderr }) => {
      if (!error) return null;
      const why = error.code === 'ENOENT' ? `${python} not found` : (stderr.trim().split('\n').pop() || error.message);
      return `numpy peer skipped: \`${python} -c 'import numpy'\` failed (${why})`;
    }));
  }
  return checked.get(python);
}

/** See the comment at the top of this file. */
export async function numpyEpoch({ epochs = 3, threads = 1, python = 'python3', log = console.warn } = {}) {
  if (!(Number.isInteger(threads) && threads >= 1)) throw new Error(`numpy-peer: threads must be a positive integer, not ${threads}`);
  const reason = await numpyUnavailable({ python });
  if (reason) {
    log?.(reason);
    return null;
  }
  const { loadBundledMnist } = await import('../dist/node.js');
  const { images } = (await loadBundledMnist()).train;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'simdnet-numpy-peer-'));
  try {
    const file = path.join(dir, 'train.f32');
    await writeFile(file, new Uint8Array(images.buffer, images.byteOffset, images.byteLength));
    const { error, stdout, stderr } = await run(python, [SCRIPT, file, '--epochs', String(epochs)], peerEnv(threads));
    if (error) throw new Error(`numpy-peer: ${python} ${path.basename(SCRIPT)} failed (${error.code ?? error.signal}): ${stderr.trim() || error.message}`);
    const line = stdout.trim().split('\n').pop();
    let r;
    try {
      r = JSON.parse(line);
    } catch {
      throw new Error(`numpy-peer: ${path.basename(SCRIPT)} printed no JSON line: ${stdout.slice(0, 500)}`);
    }
    return {
      ...r,
      threadsRequested: threads,
      firstEpochSeconds: r.epochSeconds[0],
      medianSeconds: median(r.epochSeconds),
      medianAfterFirst: median(r.epochSeconds.slice(1)),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--epochs');
  const epochs = i >= 0 ? Number(args[i + 1]) : 3;
  for (const threads of [1, 2]) {
    const r = await numpyEpoch({ epochs, threads });
    if (!r) process.exit(0);
    console.log(`numpy ${r.numpy} (${r.blas}, ${r.coretype ?? '?'} kernels), ${r.threads} thread${r.threads === 1 ? '' : 's'}: ` +
      `median epoch ${r.medianSeconds.toFixed(3)} s [${r.epochSeconds.map((s) => s.toFixed(3)).join(', ')}], final loss ${r.finalLoss.toFixed(5)}`);
  }
}
