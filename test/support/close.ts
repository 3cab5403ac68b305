// The one closeness check: every element of `got` within atol + rtol·|want| of `want` (a NaN only matches a NaN),
// failing with how many elements are off and the worst of them.

export function expectClose(what: string, got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): void {
  if (got.length !== want.length) throw new Error(`${what}: expected ${want.length} elements, got ${got.length}`);
  let bad = 0;
  let worst = -1;
  let worstRatio = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const tol = atol + rtol * Math.abs(w);
    const ok = Number.isNaN(w) ? Number.isNaN(g) : g === w || Math.abs(g - w) <= tol;
    if (!ok) {
      bad++;
      const ratio = Number.isFinite(g) ? Math.abs(g - w) / tol : Infinity;
      if (ratio > worstRatio || worst < 0) [worst, worstRatio] = [i, ratio];
    }
  }
  if (bad > 0)
    throw new Error(`${what}: ${bad}/${want.length} elements off (atol ${atol}, rtol ${rtol}); worst at [${worst}]: got ${got[worst]}, want ${want[worst]}, |diff| ${Math.abs(got[worst] - want[worst]).toExponential(3)}`);
}

/** max |got − want| over the elements (for the figures a suite reports) */
export function maxAbsError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
  return m;
}
