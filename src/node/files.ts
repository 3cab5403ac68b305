// Files in Node: written atomically (temp file, fsync, rename) so a crash never leaves half a file, and
// read with errors that name the file.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { SimdnetError } from '../errors.js';
import type { Sequential } from '../model.js';
import { deserializeModel, serializeModel } from '../model-file.js';

/** Writes `data` to `path` via a temp file in the same folder, fsynced, then renamed over the target. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  try {
    const dir = openSync(dirname(path), 'r'); // persist the rename itself
    fsyncSync(dir);
    closeSync(dir);
  } catch {
    /* some file systems cannot fsync a directory */
  }
}

/** Reads a whole file, with a one-line error naming it when it is missing or unreadable. */
export function readFileChecked(path: string, what = 'file'): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SimdnetError(`${what} ${path}: no such file`);
    if (code === 'EISDIR') throw new SimdnetError(`${what} ${path}: is a folder, expected a file`);
    throw new SimdnetError(`${what} ${path}: cannot read (${(e as Error).message})`);
  }
}

export function saveModel(path: string, model: Sequential, meta: Record<string, unknown> = {}): void {
  writeFileAtomic(path, serializeModel(model, meta));
}

export function loadModel(path: string, backend: Backend): { model: Sequential; meta: Record<string, unknown> } {
  return deserializeModel(readFileChecked(path, 'model'), backend, path);
}
