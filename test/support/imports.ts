// The import graph of a source folder (type-only imports included, as a cycle of types is still a cycle of
// vocabulary): the cycles in it, each as a path of files relative to the repository.

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** Every import cycle among the .ts files under `dir` (relative imports only), as 'a.ts → b.ts → a.ts'. */
export function importCycles(dir: string): string[] {
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));
  const deps = new Map<string, string[]>();
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    deps.set(f, [...text.matchAll(/^(?:import|export)\b[^;]*?from '(\.[^']+)'/gms)].map((m) => resolve(dirname(f), m[1]).replace(/\.js$/, '.ts')));
  }
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(ROOT, p)).join(' → '));
      return;
    }
    state.set(f, 'open');
    for (const d of deps.get(f) ?? []) visit(d, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of files) visit(f, []);
  return cycles;
}
