// fit's options, checked by name and type before anything runs: a typo (validationSplt) would otherwise train
// something other than what was asked, silently.

import { SimdnetError } from '../errors.js';

/** What each option must be: a test and the words for the error. */
export type OptionRule = [test: (v: unknown) => boolean, expected: string];

export const isObject = (v: unknown) => typeof v === 'object' && v !== null;
export const isFunction = (v: unknown) => typeof v === 'function';

/** Throws E_OPTION for an unknown key (with the nearest known one) or a value of the wrong kind. Undefined
 *  values pass: they mean the default. */
export function checkOptions(who: string, options: object, rules: Record<string, OptionRule>): void {
  for (const [key, value] of Object.entries(options)) {
    const rule = rules[key];
    if (!rule) {
      const near = nearest(key, Object.keys(rules));
      throw new SimdnetError(`${who}: unknown option "${key}"${near ? ` (did you mean "${near}"?)` : ''}; known options: ${Object.keys(rules).join(', ')}`, 'E_OPTION');
    }
    if (value !== undefined && !rule[0](value)) throw new SimdnetError(`${who}: ${key} must be ${rule[1]}, got ${describe(value)}`, 'E_OPTION');
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return `"${v.slice(0, 40)}"`;
  if (typeof v === 'object') return `an object (${v.constructor?.name ?? 'Object'})`;
  if (typeof v === 'function') return 'a function';
  return String(v);
}

/** The known name closest to `key` (case-insensitive edit distance ≤ 1/3 of its length, at least 2), if any. */
export function nearest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}
