// src/ has no import cycle, type-only imports included (issue 17: fit's types lived in train.ts, the callbacks' in
// training/callbacks.ts, each importing the other; the backend's threads.ts and threaded.ts likewise).

import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCycles } from './support/imports.js';

const src = resolve(__dirname, '../src');

describe('imports', () => {
  it('src/ has no import cycle', () => {
    expect(importCycles(src)).toEqual([]);
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    // two files whose types import each other, as train.ts and training/callbacks.ts did
    expect(importCycles(resolve(__dirname, 'fixtures/import-cycle'))).toEqual(['test/fixtures/import-cycle/a.ts → test/fixtures/import-cycle/b.ts → test/fixtures/import-cycle/a.ts']);
  });
});
