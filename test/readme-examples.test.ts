// README.md's API examples run as written: every fenced block marked `ts runnable` is run by Node against the
// built package (dist/, what `import … from 'simdnet'` resolves to in Node), must exit 0, and must print what its
// last `// prints: …` comment says. The examples are plain JavaScript inside, so no compiler stands between the
// text and the run.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const readme = readFileSync(resolve(__dirname, '../README.md'), 'utf8');
const blocks = [...readme.matchAll(/^```ts runnable\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
const entry = pathToFileURL(resolve(__dirname, '../dist/node.js')).href;
const dir = mkdtempSync(join(tmpdir(), 'simdnet-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README API examples', () => {
  it('there are runnable examples, each with what it prints', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const b of blocks) expect(b).toMatch(/\/\/ prints: .+\n$/);
  });

  it.each(blocks.map((code, i) => ({ i: i + 1, code })))('example $i runs and prints what it says', ({ i, code }) => {
    const expected = code.match(/\/\/ prints: (.+)\n$/)![1];
    expect(code).toMatch(/from 'simdnet';/);
    const file = join(dir, `example-${i}.mjs`);
    writeFileSync(file, code.replaceAll("from 'simdnet';", `from '${entry}';`));
    const run = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 600_000 }); // the CNN classifier trains 5 epochs
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(expected);
  }, 600_000);
});
