// The small timing harness for what benny (benchmark.js) does not fit: calls that take milliseconds to
// seconds (GEMM, whole training steps, tfjs ops). Warm up (JIT and wasm tier-up, first touch of memory), size
// a sample to a fixed wall time, then take samples round-robin over all the contenders, so each one sees the
// same share of whatever else the shared machine is doing; report the median per call. Medians, because a
// process stealing a core inflates some samples and the median ignores them.

/** Harness settings of a full and a quick (smoke) run. maxMs caps the sampling time of one contender. */
export const FULL = { warmupMs: 100, warmupCalls: 3, sampleMs: 50, rounds: 7, maxMs: 1200 };
export const QUICK = { warmupMs: 30, warmupCalls: 3, sampleMs: 10, rounds: 3, maxMs: 200 };

export function median(xs) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function geomean(xs) {
  const v = xs.filter((x) => Number.isFinite(x) && x > 0);
  return v.length === 0 ? NaN : Math.exp(v.reduce((a, x) => a + Math.log(x), 0) / v.length);
}

const now = () => performance.now();

/**
 * Times synchronous functions side by side. Each is warmed up (≥ warmupMs and ≥ warmupCalls calls), gets an
 * iteration count so one sample lasts ~sampleMs, then rounds go round-robin: one sample of each per round,
 * up to `rounds`, a contender dropping out once it has spent maxMs (it always gets one sample).
 * Returns { [key]: { seconds (median per call), samples, iters, perRound (seconds per call in round i) } }.
 */
export function measureMany(fns, opts = FULL) {
  const { warmupMs, warmupCalls = 1, sampleMs, rounds, maxMs } = opts;
  const st = Object.entries(fns).map(([key, fn]) => {
    const t0 = now();
    let calls = 0;
    // ≥ warmupMs, and ≥ warmupCalls unless that would take longer than maxMs (second-long calls)
    do {
      fn();
      calls++;
    } while (now() - t0 < warmupMs || (calls < warmupCalls && now() - t0 < maxMs));
    const perCall = (now() - t0) / calls;
    return { key, fn, iters: Math.max(1, Math.round(sampleMs / Math.max(perCall, 1e-6))), samples: [], spent: 0 };
  });
  for (let r = 0; r < rounds; r++) {
    let any = false;
    for (const s of st) {
      if (s.samples.length > 0 && s.spent > maxMs) continue;
      any = true;
      const { fn, iters } = s;
      const t0 = now();
      for (let i = 0; i < iters; i++) fn();
      const dt = now() - t0;
      s.spent += dt;
      s.samples.push(dt / iters / 1000);
    }
    if (!any) break;
  }
  return Object.fromEntries(st.map((s) => [s.key, { seconds: median(s.samples), samples: s.samples.length, iters: s.iters, perRound: s.samples }]));
}

/**
 * Rate of a over rate of b (same work per call: b's seconds over a's), paired by round: the median of the
 * per-round ratios. Samples of one round were taken within a fraction of a second of each other, so a load
 * that slows both cancels out — what a ratio of two medians on a shared machine cannot promise.
 */
export function pairedRatio(aPerRound, bPerRound) {
  const n = Math.min(aPerRound?.length ?? 0, bPerRound?.length ?? 0);
  const xs = [];
  for (let i = 0; i < n; i++) xs.push(bPerRound[i] / aPerRound[i]);
  return median(xs);
}

/** Times one function (see measureMany). */
export function measure(fn, opts = FULL) {
  return measureMany({ fn }, opts).fn;
}
