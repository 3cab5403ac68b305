// The loss chart, hand-written SVG: the running train loss (a thin line, updated every few batches), the
// train loss of each epoch (dots) and the test loss of each epoch (a line with dots, epoch 0 = untrained).

export interface ChartData {
  /** [epochs elapsed (fractional), running train loss] */
  running: [number, number][];
  /** [epoch, loss] */
  train: [number, number][];
  test: [number, number][];
  /** Epochs planned, the x-axis length. */
  epochs: number;
}

const H = 260;
const M = { left: 62, right: 16, top: 16, bottom: 36 };

const esc = (s: string) => s.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Round tick steps: 1, 2, 5 × 10^k, about `count` of them over [lo, hi]. */
function ticks(lo: number, hi: number, count: number): number[] {
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

/** Log-scale ticks: 1, 2, 5 × 10^k inside [lo, hi] (thinned to 1 × 10^k when there are many decades). */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  const decades = Math.log10(hi / lo);
  const steps = decades > 2.5 ? [1] : decades > 1.2 ? [1, 2, 5] : [1, 1.5, 2, 3, 4, 5, 6, 8];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++)
    for (const m of steps) {
      const v = +(m * 10 ** k).toPrecision(6);
      if (v >= lo && v <= hi) out.push(v);
    }
  return out;
}

export function renderChart(svg: SVGSVGElement, data: ChartData): void {
  // draw at the element's own width so text is 1:1 (the viewBox would scale it otherwise)
  const W = Math.max(320, Math.round(svg.clientWidth || svg.parentElement?.clientWidth || 640));
  const all = [...data.running, ...data.train, ...data.test].map((p) => p[1]).filter((v) => Number.isFinite(v) && v > 0);
  const xMax = Math.max(1, data.epochs);
  // a log axis: the loss falls fast in the first epoch and slowly after, and both parts should be visible
  let lo = all.length ? Math.min(...all) : 0.1;
  let hi = all.length ? Math.max(...all) : 1;
  if (hi / lo < 1.5) (lo /= 1.25), (hi *= 1.25);
  lo /= 1.06;
  hi *= 1.06;
  const x = (v: number) => M.left + (v / xMax) * (W - M.left - M.right);
  const y = (v: number) => M.top + (1 - Math.log(v / lo) / Math.log(hi / lo)) * (H - M.top - M.bottom);
  const ok = (p: [number, number]) => Number.isFinite(p[1]) && p[1] > 0;
  const path = (pts: [number, number][]) => pts.filter(ok).map((p, i) => `${i ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
  const dots = (pts: [number, number][], cls: string) =>
    pts.filter(ok).map((p) => `<circle class="${cls}" cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="3.5"><title>epoch ${p[0]}: ${p[1].toFixed(4)}</title></circle>`).join('');

  const yTicks = logTicks(lo, hi);
  const xTicks = ticks(0, xMax, Math.min(xMax, 10)).filter((v) => Number.isInteger(v));
  const parts: string[] = [];
  for (const t of yTicks) {
    parts.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}"/>`);
    parts.push(`<text class="tick" x="${M.left - 8}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${+t.toPrecision(3)}</text>`);
  }
  for (const t of xTicks) parts.push(`<text class="tick" x="${x(t)}" y="${H - M.bottom + 18}" text-anchor="middle">${t}</text>`);
  parts.push(`<line class="axis" x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}"/>`);
  parts.push(`<text class="label" x="${(M.left + W - M.right) / 2}" y="${H - 4}" text-anchor="middle">epoch</text>`);
  parts.push(`<text class="label" x="14" y="${M.top + (H - M.top - M.bottom) / 2}" text-anchor="middle" transform="rotate(-90 14 ${M.top + (H - M.top - M.bottom) / 2})">loss (log scale)</text>`);
  parts.push(`<path class="running" d="${path(data.running)}"/>`);
  parts.push(`<path class="test" d="${path(data.test)}"/>`);
  parts.push(dots(data.train, 'train-dot'), dots(data.test, 'test-dot'));
  if (!all.length) parts.push(`<text class="empty" x="${W / 2}" y="${H / 2}" text-anchor="middle">${esc('Press Train to start')}</text>`);
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.innerHTML = parts.join('');
}
