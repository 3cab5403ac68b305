// Files in Node: written atomically (temp file, fsync, rename) so a crash never leaves half a file, and
// read with errors that name the file.

import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync, mkdirSync, writeFileSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { SimdnetError } from '../errors.js';
import type { Sequential } from '../model.js';
import { deserializeModel, serializeModel } from '../formats/model-file.js';

/** The temp file writeFileAtomic writes before renaming it to `path`. */
const tempName = (path: string, pid = process.pid) => join(dirname(path), `.${basename(path)}.${pid}.tmp`);
const TEMP = /^\.(.+)\.(\d+)\.tmp$/;

/** Writes `data` to `path` via a temp file in the same folder, fsynced, then renamed over the target.
 *  Errors (a folder that is a file, a full disk) are SimdnetErrors naming the path; the temp file goes. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = tempName(path);
  try {
    mkdirSync(dirname(path), { recursive: true });
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
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      /* there was no folder to make it in */
    }
    throw new SimdnetError(`cannot write ${path} (${(e as Error).message})`, 'E_FILE');
  }
  try {
    const dir = openSync(dirname(path), 'r'); // persist the rename itself
    fsyncSync(dir);
    closeSync(dir);
  } catch {
    /* some file systems cannot fsync a directory */
  }
}

/** Makes `dir` (and its parents) if needed; a SimdnetError when it cannot be a folder. */
export function ensureFolder(dir: string, what = 'output folder'): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new SimdnetError(`${what} ${dir}: cannot be made (${(e as Error).message})`, 'E_FILE');
  }
  // writable now, not after an epoch of training (a read-only folder or file system)
  const probe = join(dir, `.write-test.${process.pid}.tmp`);
  try {
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (e) {
    throw new SimdnetError(`${what} ${dir}: cannot be written (${(e as Error).message})`, 'E_FILE');
  }
}

/** Removes writeFileAtomic's temp files of `names` in `dir` left by processes that are gone (killed mid-write).
 *  Returns the names removed. */
export function removeStaleTemps(dir: string, names: readonly string[]): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const m = TEMP.exec(entry);
    if (!m || !names.includes(m[1]) || Number(m[2]) === process.pid || alive(Number(m[2]))) continue;
    rmSync(join(dir, entry), { force: true });
    removed.push(entry);
  }
  return removed;
}

/** Takes DIR/.simdnet.lock for this process, so a second run into the folder is refused while the first lives (a
 *  lock whose process is gone is taken over). Returns the release, also run at exit. */
export function lockFolder(dir: string, what = 'output folder'): () => void {
  const path = join(dir, '.simdnet.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' }); // exclusive: exactly one process creates it
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new SimdnetError(`${what} ${dir}: cannot take its lock ${path} (${(e as Error).message})`, 'E_FILE');
      let pid = NaN;
      try {
        pid = Number(readFileSync(path, 'utf8').trim());
      } catch {
        continue; // released meanwhile
      }
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
        throw new SimdnetError(`${what} ${dir} is in use by another simdnet run (pid ${pid}, lock ${path}); wait for it to end or pick another --out`, 'E_LOCKED');
      rmSync(path, { force: true }); // its process is gone: take the lock over
      continue;
    }
    const release = () => {
      try {
        if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path, { force: true });
      } catch {
        // already gone
      }
      process.removeListener('exit', release);
    };
    process.on('exit', release);
    return release;
  }
  throw new SimdnetError(`${what} ${dir}: could not take its lock ${path} (other processes keep taking it)`, 'E_LOCKED');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, but not ours
  }
}

/** Reads a whole file, with a one-line error naming it when it is missing or unreadable. */
export function readFileChecked(path: string, what = 'file'): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SimdnetError(`${what} ${path}: no such file`, 'E_FILE');
    if (code === 'EISDIR') throw new SimdnetError(`${what} ${path}: is a folder, expected a file`, 'E_FILE');
    throw new SimdnetError(`${what} ${path}: cannot read (${(e as Error).message})`, 'E_FILE');
  }
}

export function saveModel(path: string, model: Sequential, meta: Record<string, unknown> = {}): void {
  writeFileAtomic(path, serializeModel(model, meta));
}

export function loadModel(path: string, backend: Backend): { model: Sequential; meta: Record<string, unknown> } {
  return deserializeModel(readFileChecked(path, 'model'), backend, path);
}
