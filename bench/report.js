// Ratios and the Markdown tables. "wasm" in a ratio is the SIMD build in the stock-Node process (what
// `createBackend()` picks on Node 20 without flags); relaxed/SIMD comes from the flagged process alone.

import { geomean, pairedRatio } from './harness.js';
import { convTable } from './conv.js';

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
    ...threadSummary(r),
  };
}

/** The targets the threading issue set; a figure meets its target when it is at least (at most, for `max`) this. */
export const TARGETS = {
  gemm512TwoThreads: { min: 1.75, what: '512³ GEMM, 2 threads over 1' },
  refStepTwoThreads: { min: 1.6, what: 'reference training step (b64), 2 threads over 1' },
  fitOverSteps: { max: 1.1, what: 'fit epoch over the same steps alone' },
  overNumpy: { min: 1.3, what: 'simdnet epoch (all cores) over numpy + OpenBLAS (best)' },
  overTfjs: { min: 25, what: 'simdnet epoch (all cores) over tfjs-layers fit on tfjs-wasm' },
  // issue 16: the conv training epoch
  convPresetOverTorch: { min: 0.7, what: 'conv epoch of the --preset conv model, simdnet speed over PyTorch CPU' },
  convKerasOverTorch: { min: 3, what: 'conv epoch of the Keras example, simdnet speed over PyTorch CPU' },
  convOverTfjs: { min: 200, what: 'conv epoch of the Keras example, simdnet (all cores) over tfjs-layers on tfjs-backend-cpu' },
};

/** Thread speedups by build (2 threads and every core), the epoch table's ratios, the noise ratios. */
function threadSummary(r) {
  const out = {};
  if (r.threadScaling?.length) {
    out.threadSpeedup = Object.fromEntries(r.threadScaling.map((b) => {
      const top = b.threads[b.threads.length - 1];
      const at = (e) => ({ 2: e.speedup[2] ?? NaN, [top]: e.speedup[top] });
      return [b.build, {
        threads: b.threads,
        gemm: Object.fromEntries(b.gemm.map((g) => [`${g.id} (${g.origin})`, at(g)])),
        steps: Object.fromEntries(b.steps.map((st) => [st.name, at(st)])),
        gemm512: b.gemm.find((g) => g.M === 512 && g.N === 512 && g.K === 512 && g.trans === 'NN')?.speedup[2] ?? NaN,
        refStep: b.steps.find((st) => st.hidden?.length === 1 && st.hidden[0] === 128 && st.batchSize === 64)?.speedup[2] ?? NaN,
      }];
    }));
  }
  if (r.epoch && !r.epoch.error) out.epoch = r.epoch.ratios;
  if (r.convEpoch && !r.convEpoch.error) {
    out.convEpoch = Object.fromEntries(r.convEpoch.models.map((m) => [m.name, { overTorch: m.overTorch, threadSpeedup: m.threadSpeedup, overTfjs: m.tfjs?.overTfjs ?? null }]));
  }
  if (r.noise?.length) {
    out.noise = r.noise.map((n) => ({ kind: n.kind, build: n.build, ...n.ratios }));
  }
  return out;
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
  out.push(...threadTables(r, s));
  out.push('');
  out.push('**Training steps**, samples/s, one thread (forward, loss, backward, update; same weights and batch everywhere)');
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
    out.push(`† relaxed figures (and the relaxed rows of the thread and noise tables) come from the process run with ${(r.processes.relaxed.execArgv ?? []).join(' ') || 'relaxed SIMD'}, at other minutes than the ` +
      'stock-Node columns: set them against the relaxed/SIMD ratios (paired with a SIMD run in that process), not against the SIMD column.');
  }
  return out.join('\n');
}

const BUILD = { simd: 'SIMD', 'relaxed-simd': 'relaxed†' };
const secs = (x) => (Number.isFinite(x) ? `${x.toFixed(3)} s` : '–');
const meets = (x, t) => (!Number.isFinite(x) ? '' : (t.min != null ? x >= t.min : x <= t.max) ? ' ✓' : ' ✗');
const target = (t) => (t.min != null ? `≥ ${t.min}×` : `≤ ${t.max}×`);

/** The thread-scaling, epoch and noise tables (results of schema 2; nothing for older ones). */
function threadTables(r, s) {
  const out = [];
  const sc = r.threadScaling ?? [];
  if (sc.length) {
    const counts = [...new Set(sc.flatMap((b) => b.threads))].sort((a, b) => a - b);
    const more = counts.filter((t) => t > 1);
    out.push('');
    out.push(`**Thread scaling**: kernel threads 1 … ${counts[counts.length - 1]} (\`createWasmBackend({ variant, threads })\`; 1 = the plain build, no workers). ` +
      'GEMM in GFLOP/s, steps in samples/s; ×t = speedup of t threads over 1, paired round by round (median of per-round ratios); ' +
      'efficiency = ×t / t.');
    out.push('');
    const rows = [];
    for (const b of sc) {
      const gains = (e) => more.flatMap((t) => [times2(e.speedup[t]), pct(e.speedup[t] / t)]);
      for (const g of b.gemm) rows.push([`${g.M}×${g.N}×${g.K} ${g.trans}`, g.origin, BUILD[b.build] ?? b.build, ...counts.map((t) => num(g.gflops[t])), ...gains(g)]);
      for (const st of b.steps) rows.push([`step ${st.name}`, 'samples/s', BUILD[b.build] ?? b.build, ...counts.map((t) => num(st.samplesPerSec[t], 0)), ...gains(st)]);
    }
    out.push(table(['case', 'from', 'build', ...counts.map((t) => `${t} thread${t === 1 ? '' : 's'}`), ...more.flatMap((t) => [`×${t}`, `efficiency ×${t}`])], rows,
      ['---', '---', '---', ...counts.map(() => '---:'), ...more.flatMap(() => ['---:', '---:'])]));
    const ts = s.threadSpeedup ?? {};
    const loads = sc.map((b) => b.loadavg ? `${BUILD[b.build] ?? b.build} ${b.loadavg.start[0].toFixed(1)} → ${b.loadavg.end[0].toFixed(1)}` : null).filter(Boolean);
    const targetLine = Object.entries(ts).map(([build, v]) => `${BUILD[build] ?? build}: 512³ ${times2(v.gemm512)}${meets(v.gemm512, TARGETS.gemm512TwoThreads)}, ` +
      `reference step ${times2(v.refStep)}${meets(v.refStep, TARGETS.refStepTwoThreads)}`).join('; ');
    out.push('');
    out.push(`Targets at 2 threads: 512³ GEMM ${target(TARGETS.gemm512TwoThreads)}, reference step ${target(TARGETS.refStepTwoThreads)} — ${targetLine}.` +
      (loads.length ? ` 1-minute load average over the table: ${loads.join(', ')} (on ${r.machine.availableParallelism ?? r.machine.cores} cores, another busy process leaves the threads a core short).` : '') +
      (sc.some((b) => Object.keys(b.notes ?? {}).length) ? ` Notes: ${sc.flatMap((b) => Object.values(b.notes ?? {})).join('; ')}.` : ''));
  }
  const e = r.epoch;
  if (e && !e.error) {
    const tops = e.threads[e.threads.length - 1];
    const er = e.ratios;
    out.push('');
    out.push(`**Reference epoch**: ${e.model}; ${e.rows.toLocaleString('en-US')} training digits, ${e.steps} steps, no test set. ` +
      `Seconds per epoch, median of ${e.rounds - e.warmupRounds} rounds after a warm-up round; in each round every engine runs one epoch, one after the other. ` +
      '"steps alone" = the same number of step-bench steps (one fixed batch) on the same backend, half just before and half just after its epoch. ' +
      'Ratios are medians of per-round ratios (over tfjs: the ratio of the medians).');
    out.push('');
    const rows = [];
    for (const t of e.threads) {
      const x = e.simdnet[t];
      rows.push([`simdnet ${{ simd: 'SIMD', 'relaxed-simd': 'relaxed-SIMD' }[e.build] ?? e.build} fit`, `${x.threads}${x.threadsNote ? ` (${x.threadsNote})` : ''}`, secs(x.medianAfterFirst), secs(x.stepsAloneMedian), times2(x.fitOverSteps),
        t === tops ? '1×' : times2(perRoundRatio(x.epochSeconds, e.simdnet[tops].epochSeconds))]);
    }
    if (e.numpy) for (const t of e.numpyThreads) {
      const x = e.numpy[t];
      rows.push([`numpy ${x.numpy ?? ''} + ${x.blas ?? 'BLAS'}${x.coretype ? ` (${x.coretype})` : ''}`, `${x.threads ?? t} (OpenBLAS)`, secs(x.medianAfterFirst), '–', '–', times2(er.overNumpy?.[t])]);
    }
    if (e.tfjs) rows.push([`tfjs-layers model.fit, tfjs-wasm ${e.tfjs.tfjs}`, '1', secs(e.tfjs.medianAfterFirst), '–', '–', times2(er.overTfjs)]);
    out.push(table(['engine', 'threads', 'epoch', 'steps alone', 'epoch / steps alone', `simdnet ${tops} threads faster by`], rows));
    out.push('');
    const skipped = [...(e.notes ?? []), ...(e.tfjs ? [] : ['tfjs fit not run (--quick)'])];
    out.push(`simdnet, ${tops} threads: ${times2(er.threads)} faster than 1 thread; epoch / steps alone ${times2(er.fitOverSteps?.[tops])} (target ${target(TARGETS.fitOverSteps)}${meets(er.fitOverSteps?.[tops], TARGETS.fitOverSteps)}); ` +
      `over numpy (its best thread count each round) ${times2(er.overNumpyBest)} (target ${target(TARGETS.overNumpy)}${meets(er.overNumpyBest, TARGETS.overNumpy)}); ` +
      `over tfjs fit ${times2(er.overTfjs)} (target ${target(TARGETS.overTfjs)}${meets(er.overTfjs, TARGETS.overTfjs)}); ` +
      `1 thread over numpy 1 thread ${times2(er.oneThreadOverNumpyOneThread)}.` + (skipped.length ? ` ${skipped.join('; ')}.` : '') +
      (e.loadavg?.length ? ` 1-minute load average after each round: ${e.loadavg.map((x) => x.toFixed(1)).join(', ')}.` : ''));
  } else if (e?.error) {
    out.push('');
    out.push(`**Reference epoch**: failed (${String(e.error).split('\n')[0]}).`);
  }
  out.push(...convEpochTable(r.convEpoch));
  out.push(...inferenceTable(r.inference));
  const nz = r.noise ?? [];
  if (nz.length) {
    const top = Math.max(...nz.flatMap((n) => n.threads));
    out.push('');
    out.push(`**Noise**: \`gather_noise\`, one ${nz[0].batch}×${nz[0].width} batch gathered from ${nz[0].rows.toLocaleString('en-US')} rows through a shuffled index, ` +
      'millions of values/s; `applyNoise` = the JS generator (src/data/noise.ts) on a batch of the same size (no gather), in the same rounds.');
    out.push('');
    out.push(table(['noise', 'build', 'wasm 1 thread', `wasm ${top} threads`, 'applyNoise (js)', 'wasm 1 thread / js', `wasm ${top} threads / js`, `${top} threads / 1`], nz.map((n) => [
      `${n.kind} ${n.factor}`, BUILD[n.build] ?? n.build, num(n.valuesPerSec['wasm×1'] / 1e6, 0), num(n.valuesPerSec[`wasm×${top}`] / 1e6, 0), num(n.valuesPerSec.applyNoise / 1e6, 0),
      times2(n.ratios['wasm×1/applyNoise']), times2(n.ratios[`wasm×${top}/applyNoise`]), times2(n.ratios[`wasm×${top}/wasm×1`]),
    ])));
  }
  out.push(...convTables(r));
  return out;
}

/** The conv kernels' tables (conv.js), one per build. */
function convTables(r) {
  const out = [];
  for (const c of r.conv ?? []) {
    out.push('');
    out.push(`**Conv kernels** (${BUILD[c.variant] ?? c.variant}): each pass at the conv denoiser's shapes, batch ${c.batch}, GFLOP/s of the convolution's multiply-adds, ` +
      `and its rate over the ${c.square}³ GEMM's on the same thread count, paired round by round (issue 16's target: conv GEMMs ≥ 0.8 of the square GEMM's on one thread).`);
    out.push('');
    out.push(convTable(c));
  }
  return out;
}

/** The conv training epoch table (bench/conv-epoch.js): simdnet fit beside PyTorch CPU and tfjs-layers on tfjs-cpu. */
export function convEpochTable(ce) {
  const out = [];
  if (!ce) return out;
  out.push('');
  if (ce.error) {
    out.push(`**Conv training epoch**: failed (${String(ce.error).split('\n')[0]}).`);
    return out;
  }
  const counts = ce.threads, top = counts.at(-1);
  const s1 = (x) => (Number.isFinite(x) ? `${x.toFixed(x >= 10 ? 1 : x >= 1 ? 2 : 3)} s` : '–');
  const build = { simd: 'SIMD', 'relaxed-simd': 'relaxed-SIMD', scalar: 'scalar' }[ce.build] ?? ce.build;
  const torch = ce.models.find((m) => m.torch)?.torch;
  const tf = ce.models.find((m) => m.tfjs)?.tfjs;
  out.push(`**Conv training epoch**: simdnet \`fit\` (${build} build, as \`simdnet train\` runs it) beside PyTorch ${torch ?? ''} CPU on the same ` +
    `layers (bench/conv_peer.py builds them from simdnet's spec), BCE, Adam 1e-3, gaussian noise 0.3 fresh per epoch, ${ce.samples.toLocaleString('en-US')} training digits. ` +
    `Seconds per epoch, median of ${ce.rounds} round${ce.rounds === 1 ? '' : 's'}; in each round every engine runs one epoch, one after the other ` +
    '(PyTorch: one Python process a round, at each thread count a fresh model, 8 untimed warm-up steps, then the epoch). "simdnet / PyTorch" = simdnet\'s speed over ' +
    'PyTorch\'s at the same thread count (> 1: simdnet is faster), the median of per-round ratios. ' +
    (tf ? `tfjs-layers ${tf.tfjs} \`model.fit\` on tfjs-backend-cpu (tfjs-backend-wasm cannot train a conv net, tfjs#8474) trains ${tf.samples} digits once, after the rounds; ` +
      `its ratio is simdnet's samples/s at ${top} threads (median epoch) over tfjs's.` : ''));
  out.push('');
  const head = ['model', 'batch', 'forward MFLOP / sample', ...counts.map((t) => `simdnet ${t} thread${t === 1 ? '' : 's'}`), `simdnet ×${top}`,
    ...counts.map((t) => `PyTorch ${t} thread${t === 1 ? '' : 's'}`), ...counts.map((t) => `simdnet / PyTorch, ${t} thread${t === 1 ? '' : 's'}`),
    'tfjs-cpu samples/s', `simdnet ${top} threads / tfjs-cpu`];
  out.push(table(head, ce.models.map((m) => [m.name, String(m.batchSize), num(m.mflopsPerSample), ...counts.map((t) => s1(m.median.simdnet[t])), times2(m.threadSpeedup),
    ...counts.map((t) => s1(m.median.torch[t])), ...counts.map((t) => times2(m.overTorch?.[t])),
    m.tfjs ? num(m.tfjs.samplesPerSecond, 2) : '–', m.tfjs ? times2(m.tfjs.overTfjs) : '–'])));
  out.push('');
  const judged = (m, tg) => (m?.overTorch ? counts.map((t) => `${t} thread${t === 1 ? '' : 's'} ${times2(m.overTorch[t])}${meets(m.overTorch[t], tg)}`).join(', ') : 'no PyTorch figure');
  const preset = ce.models.find((m) => m.role === 'preset'), keras = ce.models.find((m) => m.role === 'keras');
  const lines = [];
  if (preset) lines.push(`${preset.name} ${target(TARGETS.convPresetOverTorch)} PyTorch — ${judged(preset, TARGETS.convPresetOverTorch)}`);
  if (keras) lines.push(`Keras example ${target(TARGETS.convKerasOverTorch)} PyTorch — ${judged(keras, TARGETS.convKerasOverTorch)}`);
  if (keras) lines.push(`over tfjs-cpu ${target(TARGETS.convOverTfjs)} — ${keras.tfjs ? `${times2(keras.tfjs.overTfjs)}${meets(keras.tfjs.overTfjs, TARGETS.convOverTfjs)}` : 'not run'}`);
  out.push((lines.length ? `Targets (issue 16): ${lines.join('; ')}. ` : '') + (ce.notes?.length ? `${ce.notes.join('; ')}. ` : '') +
    (Object.entries(ce.actualThreads ?? {}).some(([t, a]) => Number(t) !== a) ? `Threads asked / run: ${Object.entries(ce.actualThreads).map(([t, a]) => `${t}/${a}`).join(', ')}. ` : '') +
    (ce.loadavg?.length ? `1-minute load average after each round: ${ce.loadavg.map((x) => x.toFixed(1)).join(', ')}.` : ''));
  return out;
}

/** The inference table (bench/inference.js): predict beside onnxruntime-web / -node and its own GEMM kernels. */
export function inferenceTable(inf) {
  const out = [];
  if (!inf) return out;
  out.push('');
  if (inf.error) {
    out.push(`**Inference**: failed (${String(inf.error).split('\n')[0]}).`);
    return out;
  }
  const peers = Object.keys(inf.versions ?? {});
  const us = (x) => (!Number.isFinite(x) ? '–' : x >= 10000 ? `${(x / 1000).toFixed(1)} ms` : x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${x.toFixed(0)} µs`);
  out.push(`**Inference**: \`model.predict(x)\` of a 784-H-784 ReLU/sigmoid model (simdnet ${BUILD[inf.build] ?? inf.build} build) beside the same model exported with ` +
    `\`exportOnnx\` in ${peers.map((p) => `${p} ${inf.versions[p]}`).join(' and ') || 'no peer (none loaded)'}, ${inf.threads} threads each, on ${inf.inputs === 'noise' ? 'uniform noise in (0, 1) (no zeros for simdnet to skip)' : 'the bundled test digits'}. ` +
    `Median call, round-robin over ${inf.rounds} rounds; ratios are medians of per-round ratios. "of GEMM" = the model's two GEMMs alone ` +
    '(`gemm` on the same inputs and ReLU outputs, the batch already in memory, no bias or activation) over the whole predict, at the largest row count: what the calls around the kernels leave of the kernel rate.');
  out.push('');
  const rows = inf.cases.map((c) => [c.model, c.rows.toLocaleString('en-US'), us(c.us.simdnet), ...peers.map((p) => us(c.us[p])),
    times2(c.overOrtWeb), times2(c.overOrtNode), c.ofGemm == null ? '–' : `${pct(c.ofGemm)} (${num(c.gemmGflops)} GFLOP/s)`,
    c.rows === 1 ? times2(c.spread) : '–']);
  out.push(table(['model', 'rows', 'simdnet predict', ...peers, 'simdnet / ort-web', 'simdnet / ort-node', 'of GEMM', 'rounds max/min'], rows));
  const web = inf.cases.map((c) => c.overOrtWeb).filter(Number.isFinite);
  const gem = inf.cases.filter((c) => c.ofGemm != null);
  const one = inf.cases.find((c) => c.rows === 1 && c.width === 512);
  out.push('');
  out.push(`Targets: predict ≥ 1.5× onnxruntime-web everywhere — lowest ${times2(Math.min(...web))}${meets(Math.min(...web), { min: 1.5 })}; ` +
    `at ${gem[0]?.rows.toLocaleString('en-US') ?? '–'} rows ≥ 80% of the GEMM kernels — lowest ${gem.length ? pct(Math.min(...gem.map((c) => c.ofGemm))) : '–'}${gem.length ? meets(Math.min(...gem.map((c) => c.ofGemm)), { min: 0.8 }) : ''}` +
    (one ? `; one row 784-512-784 ≤ 150 µs — ${us(one.us.simdnet)}${meets(one.us.simdnet, { max: 150 })}, its ${one.rounds} rounds' medians within 1.5× — ${times2(one.spread)}${meets(one.spread, { max: 1.5 })}` : '') +
    '.' + (inf.notes?.length ? ` ${inf.notes.join('; ')}.` : ''));
  return out;
}

/** Speedups and near-1 ratios with two decimals (1.84×), large ones as times() does. */
function times2(x) {
  return Number.isFinite(x) && x < 10 ? `${x.toFixed(2)}×` : times(x);
}

/** median over rounds ≥ 1 of a[i] / b[i] (seconds: how much faster b is) */
function perRoundRatio(a, b) {
  const xs = [];
  for (let i = 1; i < Math.min(a.length, b.length); i++) xs.push(a[i] / b[i]);
  xs.sort((p, q) => p - q);
  const m = xs.length >> 1;
  return xs.length ? (xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2) : NaN;
}
