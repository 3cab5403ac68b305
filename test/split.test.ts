// The split rules (src/backend/split.ts) as threaded.ts runs them, on a recording pool: each part's arguments are
// the ones worked out here by hand from the rule's definition (DESIGN.md, Threads). The kernels the rules drive
// are test/threads.test.ts's business (same bits for any thread count); this pins the cuts, pointer steps, counters
// and per-thread scratch panels, including the `rows` + scratch form no shipped kernel uses yet.

import { describe, expect, it } from 'vitest';
import type { RawExports } from '../src/backend/abi.js';
import { FN } from '../src/backend/abi.js';
import { columns, elements, rows } from '../src/backend/split.js';
import { threadedKernels } from '../src/backend/threaded.js';
import type { ThreadPool } from '../src/backend/threads.js';

/** A pool of `size` threads that records each run's tasks (export index and arguments) instead of running them. */
function recordingPool(size: number) {
  const slots: number[][] = Array.from({ length: size }, () => []);
  const runs: { fn: number; args: number[] }[][] = [];
  const pool = {
    size,
    set(t: number, fn: number, ...args: number[]) {
      slots[t] = [fn, ...args];
    },
    setArgs(t: number, fn: number, args: Float64Array, count: number) {
      slots[t] = [fn, ...Array.from(args.subarray(0, count))];
    },
    setArg(t: number, i: number, v: number) {
      slots[t][1 + i] = v;
    },
    run(parts: number) {
      runs.push(slots.slice(0, parts).map(([fn, ...args]) => ({ fn, args })));
    },
    result: () => 0,
  };
  return { pool: pool as unknown as ThreadPool, runs };
}

/** Exports whose one-thread calls are recorded too (a call too small to split runs the export itself). */
function recordingExports(arity: Record<string, number>) {
  const direct: { name: string; args: number[] }[] = [];
  const ex: Record<string, unknown> = { loss_chunk: () => 4096 };
  for (const [name, n] of Object.entries(arity)) {
    const params = Array.from({ length: n }, (_, i) => `a${i}`);
    // a function of the export's arity (the rules read `length`, as wasm exports have it)
    ex[name] = new Function('rec', `return function (${params}) { rec(Array.prototype.slice.call(arguments, 0, ${n})); }`)((args: number[]) => direct.push({ name, args }));
  }
  return { ex: ex as unknown as RawExports, direct };
}

const ctx = (pool: ThreadPool) => ({ pool, scratch: [], sums: 0, sumsCapacity: 0, f64: () => new Float64Array(0) });

describe('split rules', () => {
  it('rows with a per-thread scratch panel: samples cut in whole rows, each pointer by its own row size, panel t at scratch + t·bytes', () => {
    // (out, x, scratch, B, C, W): out rows of C·W floats, x rows of 7 floats, a panel of C·16 bytes per thread
    const { pool, runs } = recordingPool(3);
    const { ex, direct } = recordingExports({ relu_backward: 6 });
    const k = threadedKernels(ex, ctx(pool), { relu_backward: rows(3, 1, [[0, (a) => a[4] * a[5]], [1, 7]], { scratch: [2, (a) => a[4] * 16] }) });
    const call = k.relu_backward as unknown as (...a: number[]) => void;
    call(1000, 50000, 90000, 10, 2, 5);
    expect(direct).toEqual([]);
    // 10 rows in 3 parts: ceil(10/3) = 4 rows a part, the last takes the rest
    expect(runs).toEqual([[
      { fn: FN.relu_backward, args: [1000, 50000, 90000, 4, 2, 5] },
      { fn: FN.relu_backward, args: [1000 + 4 * 4 * 10, 50000 + 4 * 4 * 7, 90000 + 2 * 16, 4, 2, 5] },
      { fn: FN.relu_backward, args: [1000 + 4 * 8 * 10, 50000 + 4 * 8 * 7, 90000 + 2 * 2 * 16, 2, 2, 5] },
    ]]);
    // 2 rows on 3 threads: 2 parts (never more parts than rows)
    call(1000, 50000, 90000, 2, 2, 5);
    expect(runs[1].map((t) => t.args[3])).toEqual([1, 1]);
    // one row: the export itself, arguments as given (panel 0)
    call(1000, 50000, 90000, 1, 2, 5);
    expect(direct).toEqual([{ name: 'relu_backward', args: [1000, 50000, 90000, 1, 2, 5] }]);
  });

  it('elements: cuts on 16 elements, a null pointer stays null, a counter (u32) moves with the part', () => {
    const { pool, runs } = recordingPool(2);
    const { ex } = recordingExports({ dropout_apply: 7 });
    const k = threadedKernels(ex, ctx(pool), { dropout_apply: elements(2, 1, { counter: 5 }) });
    k.dropout_apply(4096, 0, 0.5, 11, 12, 2 ** 32 - 10, 100);
    // 100 elements in 2 parts: ceil(100/2/16)·16 = 64
    expect(runs[0]).toEqual([
      { fn: FN.dropout_apply, args: [4096, 0, 0.5, 11, 12, 2 ** 32 - 10, 64] },
      { fn: FN.dropout_apply, args: [4096 + 4 * 64, 0, 0.5, 11, 12, 54, 36] },
    ]);
  });

  it('below the minimum work per thread a call runs on the calling thread', () => {
    const { pool, runs } = recordingPool(4);
    const { ex, direct } = recordingExports({ relu_forward: 3 });
    const k = threadedKernels(ex, ctx(pool), { relu_forward: elements(2, 1000) });
    k.relu_forward(64, 128, 1999); // 1 part of ≥ 1000
    k.relu_forward(64, 128, 3000); // 3 parts
    expect(direct).toEqual([{ name: 'relu_forward', args: [64, 128, 1999] }]);
    expect(runs[0].map((t) => t.args[2])).toEqual([1008, 1008, 984]);
  });

  it('columns: the piece gets the kernel\'s arguments and its column range [lo, hi)', () => {
    const { pool, runs } = recordingPool(2);
    const { ex } = recordingExports({ col_sum: 5, col_sum_cols: 7 });
    const k = threadedKernels(ex, ctx(pool), { col_sum: columns('col_sum_cols', 3, 4, 1, (a) => a[2] * a[3]) });
    k.col_sum(256, 512, 3, 10, 1);
    // 10 columns, cuts on 4: [0, 8), [8, 10)
    expect(runs[0]).toEqual([
      { fn: FN.col_sum_cols, args: [256, 512, 3, 10, 1, 0, 8] },
      { fn: FN.col_sum_cols, args: [256, 512, 3, 10, 1, 8, 10] },
    ]);
  });
});
