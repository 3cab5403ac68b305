// Every SimdnetError carries a stable code: the documented list is the exported one, and representative
// failures of each kind report the code of that kind (not only a message a program would have to parse).

import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../src/backend/js.js';
import { createBackend } from '../src/backend/index.js';
import { ERROR_CODES, SimdnetError, type ErrorCode } from '../src/errors.js';
import { parseIdx, loadIdxMnist } from '../src/data/idx.js';
import { readDigitPng, digitPng } from '../src/node/pictures.js';
import { getLoss } from '../src/losses.js';
import { Linear, ReLU } from '../src/layers/index.js';
import { Sequential } from '../src/model.js';
import { decodeModelFile, serializeModel } from '../src/formats/model-file.js';
import { simdnetErrorOf } from './support/backends.js';

const codeOf = async (fn: () => unknown): Promise<ErrorCode> => (await simdnetErrorOf(fn)).code;

describe('error codes', () => {
  it('docs/robustness.md lists exactly the exported codes, with their meanings', () => {
    const doc = readFileSync(new URL('../docs/robustness.md', import.meta.url), 'utf8');
    const listed = [...doc.matchAll(/^\| `(E_[A-Z_]+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2].replace(/`/g, '')]);
    expect(Object.fromEntries(listed)).toEqual(ERROR_CODES);
  });

  it('a plain SimdnetError is E_INVALID; the code survives a rewrap', () => {
    expect(new SimdnetError('x').code).toBe('E_INVALID');
    expect(new SimdnetError('x', 'E_SHAPE').code).toBe('E_SHAPE');
  });

  it('each kind of failure reports its code', async () => {
    const backend = await createJsBackend();
    const model = new Sequential([new Linear(4, 3), new ReLU()], { backend });
    const kept = model.input(2);
    // shapes
    expect(await codeOf(() => backend.write(kept, new Float32Array(7)))).toBe('E_SHAPE');
    expect(await codeOf(() => new Sequential([new Linear(4, 3), new Linear(5, 2)], { backend }))).toBe('E_SHAPE');
    // options
    expect(await codeOf(() => getLoss('toString' as never))).toBe('E_OPTION');
    expect(await codeOf(() => createBackend('gpu' as never))).toBe('E_OPTION');
    // files
    const empty = mkdtempSync(join(tmpdir(), 'simdnet-codes-'));
    expect(await codeOf(() => loadIdxMnist(join(empty, 'nope')))).toBe('E_FILE');
    expect(await codeOf(() => loadIdxMnist(empty))).toBe('E_FILE');
    expect(await codeOf(() => parseIdx(new Uint8Array([0, 0, 8, 3, 0, 0, 0, 5]), 'x.idx'))).toBe('E_FILE_CORRUPT');
    const png = digitPng(new Float32Array(784));
    expect(await codeOf(() => readDigitPng(png.subarray(0, png.length - 20), 'cut.png'))).toBe('E_FILE_CORRUPT');
    const file = serializeModel(new Sequential([new Linear(2, 2)], { backend }));
    const flipped = file.slice();
    flipped[flipped.length - 9] ^= 1;
    expect(await codeOf(() => decodeModelFile(flipped, 'm.simdnet'))).toBe('E_FILE_CORRUPT');
    expect(await codeOf(() => decodeModelFile(file.subarray(0, 30), 'm.simdnet'))).toBe('E_FILE_CORRUPT');
    // memory
    expect(await codeOf(() => model.input(2 ** 28))).toBe('E_MEMORY');
    expect(await codeOf(() => new Sequential([new Linear(50_000, 50_000)], { backend }))).toBe('E_MEMORY'); // 18.6 GiB of weights (was E_INVALID)
    // after dispose
    model.dispose();
    expect(await codeOf(() => model.predict(new Float32Array(4)))).toBe('E_DISPOSED');
    expect(await codeOf(() => backend.write(kept, new Float32Array(8)))).toBe('E_DISPOSED');
  });
});
