// The elementwise comparison every parity test uses: |got − want| ≤ atol + rtol·|want| (NaN only where NaN is
// wanted), failing with the count of elements off and the worst one.

import { expect } from 'vitest';

export function assertClose(what: string, got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): void {
  expect(got.length, `${what}: length`).toBe(want.length);
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

/** max |got − want| over the elements */
export function maxAbsError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
  return m;
}
