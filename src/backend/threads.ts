// The thread pool of the threaded wasm builds: workers (worker_threads in Node, Web Workers in browsers) that each
// instantiate the one compiled module over the one shared memory, created once per backend.
//
// A call runs `parts` tasks: the caller writes each task (an export's index and its arguments) into a slot of a
// control block in the shared memory, opens the tasks for claiming, bumps a generation counter and runs task 0
// itself. Every thread, the caller included, then claims the next unclaimed task (one compare-and-swap on a word
// that holds both the next task and the task count) until none is left; the caller returns when every task is
// finished. A worker that wakes late (a sleeping thread takes ~30 µs to wake, and on a busy machine another
// process may hold its core for milliseconds) finds its task done by the caller: a call is never slower than on
// one thread by more than a claim. Which thread runs a task does not change its result: a task's arguments (its
// part of the output, its scratch) are fixed when it is written. Workers spin briefly on the counter before
// Atomics.wait, then sleep until the next call. No message passing after start-up: a call allocates nothing, in
// JS or in wasm.
//
// The worker's code is the function `threadMain` below, turned into source text: no worker file to find, so
// bundlers and CDNs have nothing to get wrong (it must stay self-contained: no imports, no outer names).

import { SimdnetError } from '../errors.js';
import { THREAD_FNS } from './abi.js';

// Control block: i32 words, then one slot per task (f64: [fn, 20 arguments, return value]).
const GEN = 0; // generation: bumped once per call (workers wait on it)
const FINISHED = 1; // tasks finished in this call
const EXIT = 2; // non-zero: workers leave their loop
const ERROR = 3; // 1 + index of the first task that threw
const CLAIM = 4; // (next unclaimed task) << 16 | task count: claimed by compare-and-swap, reset in one store per call
const HEADER_BYTES = 64;
const SLOT = 22; // f64 per slot
const SLOT_BYTES = 8 * SLOT;

/** Bytes of the control block for `threads` threads. */
export function controlBytes(threads: number): number {
  return HEADER_BYTES + SLOT_BYTES * threads;
}

/** Spins before Atomics.wait: about 50-100 µs of Atomics.load, the gap between two kernels of a step. With more
 *  threads than cores a spinning thread only keeps a working one off its core: then wait almost at once. The caller
 *  also waits at once when a worker has not even started its task (another process has its core). */
export const SPINS = 20000;
export const SPINS_OVERSUBSCRIBED = 100;

interface ThreadInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctl: number;
  threads: number;
  names: readonly string[];
  spins: number;
}

// Runs inside each worker (as source text: self-contained).
async function threadMain(init: ThreadInit, post: (message: unknown) => void): Promise<void> {
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(init.module, {
      env: {
        memory: init.memory,
        abort(_m: number, _f: number, line: number, col: number) {
          throw new Error(`kernel aborted at ${line}:${col}`);
        },
      },
    });
  } catch (e) {
    post({ error: String((e as Error)?.message ?? e) });
    return;
  }
  const ex = instance.exports as Record<string, (...a: number[]) => number>;
  const fns = init.names.map((n) => ex[n]);
  const ctl = new Int32Array(init.memory.buffer, init.ctl, 16);
  const slots = new Float64Array(init.memory.buffer, init.ctl + 64, 22 * init.threads); // HEADER_BYTES, SLOT
  // the generation is read before "ready": the caller's first call comes after it, and must be seen as new
  let seen = Atomics.load(ctl, 0);
  post({ ready: true });
  for (;;) {
    let spins = 0;
    while (Atomics.load(ctl, 0) === seen) {
      if (++spins >= init.spins) {
        Atomics.wait(ctl, 0, seen);
        spins = 0;
      }
    }
    seen = Atomics.load(ctl, 0);
    if (Atomics.load(ctl, 2) !== 0) break;
    // claim tasks until none is left (the word holds next << 16 | count; a stale view fails the exchange)
    for (;;) {
      const v = Atomics.load(ctl, 4);
      const t = v >>> 16;
      if (t >= (v & 0xffff)) break;
      if (Atomics.compareExchange(ctl, 4, v, v + 0x10000) !== v) continue;
      const o = 22 * t;
      try {
        const r = fns[slots[o]](slots[o + 1], slots[o + 2], slots[o + 3], slots[o + 4], slots[o + 5], slots[o + 6], slots[o + 7], slots[o + 8], slots[o + 9], slots[o + 10], slots[o + 11], slots[o + 12], slots[o + 13], slots[o + 14], slots[o + 15], slots[o + 16], slots[o + 17], slots[o + 18], slots[o + 19], slots[o + 20]);
        slots[o + 21] = typeof r === 'number' ? r : 0;
      } catch {
        Atomics.compareExchange(ctl, 3, 0, t + 1);
      }
      Atomics.add(ctl, 1, 1);
      Atomics.notify(ctl, 1);
    }
  }
  post({ exited: true });
}

const NODE_WORKER = 'node:worker_threads';
const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;

interface AnyWorker {
  terminate(): unknown;
}

let unavailable: string | null | undefined; // the answer does not change within a thread: probed once

/** Why this runtime cannot run threads from here, or null when it can. */
export function threadsUnavailable(): string | null {
  if (unavailable === undefined) unavailable = probeThreads();
  return unavailable;
}

function probeThreads(): string | null {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined')
    return typeof (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === 'boolean' && !(globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated
      ? 'the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp), so it has no SharedArrayBuffer'
      : 'this runtime has no SharedArrayBuffer';
  if (!isNode && typeof Worker === 'undefined') return 'this runtime has no Web Workers';
  if (!isNode) {
    // Atomics.wait throws on a browser's main thread: threads run inside a Worker (e.g. the training worker)
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    } catch {
      return "Atomics.wait is not allowed on a page's main thread; create the backend inside a Web Worker";
    }
  }
  return null;
}

export class ThreadPool {
  private readonly ctl: Int32Array;
  private readonly slots: Float64Array;
  private readonly fns: ((...a: number[]) => number)[];
  private disposed = false;

  private constructor(
    readonly size: number,
    memory: WebAssembly.Memory,
    ctlPtr: number,
    exports: WebAssembly.Exports,
    private readonly workers: AnyWorker[],
    private readonly spins: number,
  ) {
    this.ctl = new Int32Array(memory.buffer, ctlPtr, 16);
    this.slots = new Float64Array(memory.buffer, ctlPtr + HEADER_BYTES, SLOT * size);
    this.fns = THREAD_FNS.map((n) => exports[n] as (...a: number[]) => number);
  }

  /** Starts `size − 1` workers over `memory` (the caller is thread 0); ctlPtr is a zeroed block of controlBytes(size). */
  static async create(module: WebAssembly.Module, memory: WebAssembly.Memory, exports: WebAssembly.Exports, size: number, ctlPtr: number, spins = SPINS): Promise<ThreadPool> {
    const workers: AnyWorker[] = [];
    const ready: Promise<void>[] = [];
    const source = `(${threadMain.toString()})`;
    try {
      for (let index = 1; index < size; index++) {
        const init: ThreadInit = { module, memory, ctl: ctlPtr, threads: size, names: THREAD_FNS, spins };
        ready.push(
          new Promise<void>((resolve, reject) => {
            const onMessage = (m: { ready?: boolean; error?: string }) => {
              if (m?.ready) resolve();
              else if (m?.error) reject(new Error(m.error));
            };
            const start = async () => {
              if (isNode) {
                const { Worker: NodeWorker } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_WORKER)) as typeof import('node:worker_threads');
                const w = new NodeWorker(`import('node:worker_threads').then(({ workerData, parentPort }) => ${source}(workerData, (m) => parentPort.postMessage(m)));`, { eval: true, workerData: init });
                w.on('message', (m) => {
                  // once running, a worker never keeps the process alive: a process that trained exits by itself
                  if (m?.ready) w.unref();
                  onMessage(m);
                });
                w.on('error', reject);
                workers.push(w);
              } else {
                const url = URL.createObjectURL(new Blob([`self.onmessage = (e) => ${source}(e.data, (m) => self.postMessage(m));`], { type: 'text/javascript' }));
                const w = new Worker(url);
                URL.revokeObjectURL(url);
                w.onmessage = (e) => onMessage(e.data);
                w.onerror = (e) => reject(new Error(e.message || 'worker failed to start'));
                w.postMessage(init);
                workers.push(w);
              }
            };
            start().catch(reject);
          }),
        );
      }
      await Promise.all(ready);
    } catch (e) {
      for (const w of workers) w.terminate();
      throw new SimdnetError(`wasm backend: could not start ${size - 1} kernel threads (${(e as Error).message})`, 'E_RUNTIME');
    }
    return new ThreadPool(size, memory, ctlPtr, exports, workers, spins);
  }

  /** Task of thread t: export FN index `fn` with up to 16 arguments (missing ones are 0). */
  set(t: number, fn: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0, a8 = 0, a9 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0, a14 = 0, a15 = 0): void {
    const s = this.slots;
    const o = t * SLOT;
    s[o] = fn;
    s[o + 1] = a0; s[o + 2] = a1; s[o + 3] = a2; s[o + 4] = a3; s[o + 5] = a4; s[o + 6] = a5; s[o + 7] = a6; s[o + 8] = a7;
    s[o + 9] = a8; s[o + 10] = a9; s[o + 11] = a10; s[o + 12] = a11; s[o + 13] = a12; s[o + 14] = a13; s[o + 15] = a14; s[o + 16] = a15;
  }

  /** Task of thread t: export FN index `fn` with the first `count` arguments of `args`; setArg then changes one. */
  setArgs(t: number, fn: number, args: Float64Array, count: number): void {
    const s = this.slots;
    const o = t * SLOT;
    s[o] = fn;
    for (let i = 0; i < count; i++) s[o + 1 + i] = args[i]; // later ones are left: an export ignores extra arguments
  }

  /** Argument i of thread t's task. */
  setArg(t: number, i: number, value: number): void {
    this.slots[t * SLOT + 1 + i] = value;
  }

  /** Runs tasks 0..parts−1 (task 0 on the calling thread; the rest on whichever thread claims them first, the
   *  caller too) and returns when all are done. */
  run(parts: number): void {
    if (this.disposed) throw new SimdnetError('wasm backend: the backend was disposed; create a new one', 'E_DISPOSED');
    const ctl = this.ctl;
    if (parts > 1) {
      Atomics.store(ctl, FINISHED, 0);
      Atomics.store(ctl, CLAIM, (1 << 16) | parts); // task 0 is the caller's
      Atomics.add(ctl, GEN, 1);
      Atomics.notify(ctl, GEN);
    }
    // a task that throws on this thread is rethrown once every claimed task is finished (a worker may still be
    // writing into memory the next call reuses)
    let thrown = this.runTask(0);
    if (parts > 1) {
      let finished = 1;
      // then whatever no worker has claimed yet
      for (;;) {
        const v = Atomics.load(ctl, CLAIM);
        const t = v >>> 16;
        if (t >= parts) break;
        if (Atomics.compareExchange(ctl, CLAIM, v, v + 0x10000) !== v) continue;
        thrown ??= this.runTask(t);
        finished++;
      }
      // the tasks a worker claimed: it is running them, so spin (a while), then wait
      let spins = 0;
      for (let done = Atomics.load(ctl, FINISHED); done + finished < parts; done = Atomics.load(ctl, FINISHED)) {
        if (++spins >= this.spins) {
          Atomics.wait(ctl, FINISHED, done, 20);
          spins = 0;
        }
      }
      const failed = Atomics.load(ctl, ERROR);
      if (failed !== 0) {
        Atomics.store(ctl, ERROR, 0);
        throw new SimdnetError(`wasm backend: ${THREAD_FNS[this.slots[(failed - 1) * SLOT]]} failed on a kernel thread (a kernel trap: a bad pointer or size)`, 'E_RUNTIME');
      }
    }
    if (thrown !== undefined) throw thrown;
  }

  /** Runs task t on this thread; returns what it threw, if anything. */
  private runTask(t: number): unknown {
    const s = this.slots;
    const o = t * SLOT;
    try {
      s[o + 21] = this.fns[s[o]](s[o + 1], s[o + 2], s[o + 3], s[o + 4], s[o + 5], s[o + 6], s[o + 7], s[o + 8], s[o + 9], s[o + 10], s[o + 11], s[o + 12], s[o + 13], s[o + 14], s[o + 15], s[o + 16], s[o + 17], s[o + 18], s[o + 19], s[o + 20]) ?? 0;
      return undefined;
    } catch (e) {
      return e;
    }
  }

  /** The return value of thread t's last task. */
  result(t: number): number {
    return this.slots[t * SLOT + SLOT - 1];
  }

  /** Stops and terminates every worker. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.ctl, EXIT, 1);
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
    for (const w of this.workers) w.terminate();
  }

  /** Live workers (for tests of clean exit). */
  get workerCount(): number {
    return this.disposed ? 0 : this.workers.length;
  }
}
