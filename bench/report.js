// Ratios and the Markdown tables. "wasm" in a ratio is the SIMD build in the stock-Node process (what
// `createBackend()` picks on Node 20 without flags); relaxed/SIMD comes from the flagged process alone.

import { geomean, pairedRatio } from './harness.js';

const CASES = ['NN', 'TN', 'NT', 'TT'];
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);

/** Engine a over engine b on one entry: paired by round when the rounds were kept (GEMM, steps), else the
 *  ratio of the two figures (benny's elementwise suites). `proc` is the entry or its relaxedProc. */
function engineRatio(proc, metric, a, b) {
  if (!proc) return NaN;
  if (proc.perRound?.[a]?.length && proc.perRound?.[b]?.length) return pairedRatio(proc.perRound[a], proc.perRound[b]);
  return ratio(proc[metric]?.[a], proc[metric]?.[b]);
}
const relaxedOverSimd = (e, metric) => engineRatio(e.relaxedProc, metric, 'wasm-relaxed', 'wasm-simd');

/** A GEMM's fraction of the ceiling of the same build, paired round by round with the limit loop timed
 *  beside it in the same process (SIMD: main, relaxed: the flagged child). */
function fraction(r, g, build) {
  const [proc, engine] = build === 'simd' ? [g, 'wasm-simd'] : [g.relaxedProc, 'wasm-relaxed'];
  const t = proc?.perRound?.[engine], tl = proc?.perRound?.[`limit:${build}`];
  if (t?.length && tl?.length) return pairedRatio(t, tl) * (g.flops / proc.limitFlops[build]);
  return ratio(proc?.gflops?.[engine], r.limit[build]?.gflops);
}

/** Geomeans per transpose case (NN, TN, NT, TT), over the transposed ones, and over all shapes. */
function byCase(gemm, f) {
  const out = {};
  for (const c of CASES) out[c] = geomean(gemm.filter((g) => g.trans === c).map(f));
  out.transposed = geomean(gemm.filter((g) => g.trans !== 'NN').map(f));
  out.all = geomean(gemm.map(f));
  return out;
}

function versus(r, other) {
  return {
    gemm: byCase(r.gemm, (g) => engineRatio(g, 'gflops', 'wasm-simd', other)),
    elementwise: geomean(r.elementwise.map((e) => engineRatio(e, 'gbps', 'wasm-simd', other))),
    steps: Object.fromEntries(r.steps.map((s) => [s.name, engineRatio(s, 'samplesPerSec', 'wasm-simd', other)])),
  };
}

export function summarize(r) {
  return {
    limitGflops: Object.fromEntries(Object.entries(r.limit).map(([k, v]) => [k, v.gflops])),
    fractionOfLimit: { simd: byCase(r.gemm, (g) => fraction(r, g, 'simd')), relaxed: byCase(r.gemm, (g) => fraction(r, g, 'relaxed')) },
    relaxedOverSimd: {
      gemm: byCase(r.gemm, (g) => relaxedOverSimd(g, 'gflops')),
      elementwise: geomean(r.elementwise.map((e) => relaxedOverSimd(e, 'gbps'))),
      steps: Object.fromEntries(r.steps.map((s) => [s.name, relaxedOverSimd(s, 'samplesPerSec')])),
    },
    wasmOverTfjsWasm: versus(r, 'tfjs-wasm'),
    wasmOverTfjsWasmTransposeFirst: versus(r, 'tfjs-wasm-xt'),
    wasmOverTfjsCpu: versus(r, 'tfjs-cpu'),
    wasmOverJs: versus(r, 'js'),
    wasmOverScalar: versus(r, 'wasm-scalar'),
  };
}

// =====================================================================================================
// Markdown
// =====================================================================================================

const COLS = [['wasm-relaxed', 'relaxed†'], ['wasm-simd', 'SIMD'], ['wasm-scalar', 'scalar'], ['js', 'js'], ['tfjs-wasm', 'tfjs-wasm'], ['tfjs-wasm-xt', 'tfjs-wasm+T'], ['tfjs-cpu', 'tfjs-cpu']];
const num = (x, d = 1) => (Number.isFinite(x) ? (Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en-US') : x.toFixed(d)) : '–');
const times = (x) => (Number.isFinite(x) ? `${x >= 10 ? x.toFixed(0) : x.toFixed(x >= 1 ? 1 : 2)}×` : '–');
const pct = (x) => (Number.isFinite(x) ? `${Math.round(100 * x)}%` : '–');
const row = (cells) => `| ${cells.join(' | ')} |`;
const table = (head, rows, align) => [row(head), row(align ?? head.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(row)].join('\n');

export function markdown(r) {
  const s = r.summary ?? summarize(r);
  // the engine columns a table's entries have
  const colsOf = (list, metric) => COLS.filter(([id]) => list.some((e) => Number.isFinite(e[metric]?.[id])));
  const out = [];
  const lim = s.limitGflops;
  out.push(`${r.machine.cpu} (${r.machine.cores} cores, ${r.machine.platform}), Node ${r.runtime.node} (V8 ${r.runtime.v8}), ` +
    `tfjs ${r.packages['@tensorflow/tfjs-core']}, AssemblyScript ${r.packages.assemblyscript}; ${r.date}${r.quick ? ', **quick run**' : ''}. ` +
    `Load average ${r.machine.loadavg.start.map((x) => x.toFixed(1)).join('/')} at start (shared machine).`);
  out.push('');
  out.push(`WASM SIMD ceiling (bench/limit.ts: 12 f32x4 accumulators, register-only; best of the run's samples): mul+add **${num(lim.simd)} GFLOP/s**` +
    (Number.isFinite(lim.relaxed) ? `, relaxed_madd (FMA) **${num(lim.relaxed)} GFLOP/s**` : ', relaxed not measured') + '.');
  out.push('');
  out.push('**Summary**: geometric means over the shapes of each case; "wasm" = the SIMD build on stock Node. GEMM and step ratios ' +
    'are paired round by round (medians of per-round ratios), so load from other processes cancels out.');
  out.push('');
  const fr = s.fractionOfLimit, ro = s.relaxedOverSimd;
  const caseRow = (label, o, f) => [label, ...[...CASES, 'transposed', 'all'].map((c) => f(o[c]))];
  out.push(table(['GEMM', 'NN', 'TN', 'NT', 'TT', 'transposed', 'all'], [
    caseRow('SIMD, fraction of mul+add limit', fr.simd, pct),
    caseRow('relaxed, fraction of FMA limit', fr.relaxed, pct),
    caseRow('relaxed / SIMD', ro.gemm, times),
    caseRow('wasm / tfjs-wasm', s.wasmOverTfjsWasm.gemm, times),
    caseRow('wasm / tfjs-wasm+T (tf.transpose first)', s.wasmOverTfjsWasmTransposeFirst.gemm, times),
    caseRow('wasm / tfjs-cpu', s.wasmOverTfjsCpu.gemm, times),
    caseRow('wasm / js', s.wasmOverJs.gemm, times),
    caseRow('wasm / scalar', s.wasmOverScalar.gemm, times),
  ]));
  out.push('');
  out.push(table(['other ratios', 'wasm / tfjs-wasm', 'wasm / tfjs-wasm+T', 'wasm / tfjs-cpu', 'wasm / js', 'wasm / scalar', 'relaxed / SIMD'], [
    ['elementwise kernels', times(s.wasmOverTfjsWasm.elementwise), '–', times(s.wasmOverTfjsCpu.elementwise), times(s.wasmOverJs.elementwise), times(s.wasmOverScalar.elementwise), times(ro.elementwise)],
    ...r.steps.map((st) => [`training step ${st.name}`, ...[s.wasmOverTfjsWasm, s.wasmOverTfjsWasmTransposeFirst, s.wasmOverTfjsCpu, s.wasmOverJs, s.wasmOverScalar, ro].map((o) => times(o.steps[st.name]))]),
  ]));
  out.push('');
  out.push('**Training steps**, samples/s (forward, loss, backward, update; same weights and batch everywhere)');
  out.push('');
  let cols = colsOf(r.steps, 'samplesPerSec');
  out.push(table(['model', ...cols.map(([, l]) => l), 'first loss (all engines)'], r.steps.map((st) => {
    const losses = Object.values(st.firstLoss ?? {});
    return [st.name, ...cols.map(([id]) => num(st.samplesPerSec[id], 0)), losses.length ? `${Math.min(...losses).toFixed(5)}–${Math.max(...losses).toFixed(5)}` : '–'];
  })));
  out.push('');
  out.push('**GEMM**, GFLOP/s; C(M×N) = op(A)·op(B), K inner; case NN/TN/NT/TT = A, B transposed or not');
  out.push('');
  cols = colsOf(r.gemm, 'gflops');
  out.push(table(['M×N×K', 'case', 'from', ...cols.map(([, l]) => l), 'SIMD % limit', 'relaxed % limit', 'wasm/tfjs-wasm', 'wasm/js', 'relaxed/SIMD'], r.gemm.map((g) => [
    `${g.M}×${g.N}×${g.K}`, g.trans, g.origin, ...cols.map(([id]) => num(g.gflops[id], g.gflops[id] < 10 ? 2 : 1)),
    pct(fraction(r, g, 'simd')), pct(fraction(r, g, 'relaxed')), times(engineRatio(g, 'gflops', 'wasm-simd', 'tfjs-wasm')), times(engineRatio(g, 'gflops', 'wasm-simd', 'js')), times(relaxedOverSimd(g, 'gflops')),
  ]), ['---', '---', '---', ...cols.map(() => '---:'), '---:', '---:', '---:', '---:', '---:']));
  out.push('');
  out.push('**Elementwise**, GB/s (f32 bytes read + written per call); activations on 64×784, adam on 100,000 parameters');
  out.push('');
  cols = colsOf(r.elementwise, 'gbps');
  out.push(table(['kernel', ...cols.map(([, l]) => l), 'wasm/tfjs-wasm', 'wasm/js', 'relaxed/SIMD'], r.elementwise.map((e) => [
    e.name, ...cols.map(([id]) => num(e.gbps[id], 2)), times(engineRatio(e, 'gbps', 'wasm-simd', 'tfjs-wasm')), times(engineRatio(e, 'gbps', 'wasm-simd', 'js')), times(relaxedOverSimd(e, 'gbps')),
  ])));
  if (r.processes?.relaxed && !r.processes.relaxed.error) {
    out.push('');
    out.push(`† relaxed figures come from the process run with ${(r.processes.relaxed.execArgv ?? []).join(' ') || 'relaxed SIMD'}, at other minutes than the ` +
      'stock-Node columns: set them against the relaxed/SIMD ratios (paired with a SIMD run in that process), not against the SIMD column.');
  }
  return out.join('\n');
}
