// Browser helpers: a model to and from IndexedDB, from a URL, and to a download, always as the bytes of a
// .simdnet model file (src/formats/model-file.ts), so a model saved one way loads every other way, in Node too.
// Browser APIs are looked up when a helper is called, never at import: this module is safe to import anywhere.

import type { Backend } from './backend/backend.js';
import { SimdnetError, check } from './errors.js';
import type { Sequential } from './model.js';
import { deserializeModel, serializeModel } from './formats/model-file.js';

/** The IndexedDB database and object store the helpers use (one record per model name: the file's bytes). */
export const IDB_DATABASE = 'simdnet';
export const IDB_STORE = 'models';

type Loaded = { model: Sequential; meta: Record<string, unknown> };

/** Saves the model's current weights under `name` (replacing a model of that name). */
export async function saveModelToIndexedDB(model: Sequential, name: string, meta: Record<string, unknown> = {}): Promise<void> {
  checkName(name);
  const bytes = serializeModel(model, meta);
  const db = await openDb();
  try {
    await request(db.transaction(IDB_STORE, 'readwrite').objectStore(IDB_STORE).put(bytes, name), `saving '${name}'`, true);
  } finally {
    db.close();
  }
}

/** The model saved under `name`, on `backend` (validated as any model file: never a partial model). */
export async function loadModelFromIndexedDB(name: string, options: { backend: Backend }): Promise<Loaded> {
  checkName(name);
  checkBackend(options);
  const db = await openDb();
  let stored: unknown, names: IDBValidKey[];
  try {
    const store = db.transaction(IDB_STORE, 'readonly').objectStore(IDB_STORE);
    [stored, names] = await Promise.all([request(store.get(name), `loading '${name}'`), request(store.getAllKeys(), 'listing models')]);
  } finally {
    db.close();
  }
  if (stored === undefined)
    throw new SimdnetError(`indexedDB: no model named '${name}' in '${IDB_DATABASE}' (saved: ${names.length ? names.map((n) => `'${String(n)}'`).join(', ') : 'none'})`, 'E_FILE');
  if (!(stored instanceof Uint8Array)) throw new SimdnetError(`indexedDB: the record '${name}' is not a simdnet model file (not bytes)`, 'E_FILE_CORRUPT');
  return deserializeModel(stored, options.backend, `indexedDB '${name}'`);
}

/** The model file at `url` (fetched), on `backend`. Errors name the URL and, for a failed response, its status. */
export async function loadModelFromUrl(url: string | URL, options: { backend: Backend }): Promise<Loaded> {
  checkBackend(options);
  check((typeof url === 'string' && url.length > 0) || url instanceof URL, () => `loadModelFromUrl: expected a URL, got ${url === '' ? "''" : String(url)}`, 'E_INVALID');
  // named absolute (as fetch resolves it against the page), so the message says which server answered
  const base = (globalThis as { location?: { href: string } }).location?.href;
  let where = String(url);
  try {
    where = new URL(url, base).href;
  } catch {
    // not a URL this runtime can resolve: fetch will say so, named as given
  }
  let bytes: Uint8Array;
  try {
    const res = await fetch(url);
    if (!res.ok) throw new SimdnetError(`${where}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}, expected a simdnet model file`, 'E_FILE');
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    if (e instanceof SimdnetError) throw e;
    throw new SimdnetError(`${where}: could not fetch the model (${(e as Error)?.message ?? e})`, 'E_FILE');
  }
  return deserializeModel(bytes, options.backend, where);
}

/** Offers the model's current weights as a download named `filename` (the page's document must be there). */
export function downloadModel(model: Sequential, filename = 'model.simdnet', meta: Record<string, unknown> = {}): void {
  check(typeof filename === 'string' && filename.length > 0, () => `downloadModel: expected a file name, got ${String(filename)}`, 'E_INVALID');
  const doc = (globalThis as { document?: Document }).document;
  if (!doc || typeof URL.createObjectURL !== 'function') throw new SimdnetError('downloadModel: needs a page (document and URL.createObjectURL); in Node use saveModel', 'E_RUNTIME');
  const bytes = serializeModel(model, meta);
  const href = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
  const a = doc.createElement('a');
  a.href = href;
  a.download = filename;
  a.style.display = 'none';
  doc.body.appendChild(a);
  a.click();
  a.remove();
  // revoked after the click has been handled: revoking at once can cancel the download in some browsers
  setTimeout(() => URL.revokeObjectURL(href), 1000);
}

function checkName(name: string): void {
  check(typeof name === 'string' && name.length > 0, () => `indexedDB: expected a model name (a non-empty string), got ${typeof name === 'string' ? "''" : String(name)}`, 'E_INVALID');
}

function checkBackend(options: { backend: Backend }): void {
  check(options?.backend != null && typeof options.backend.alloc === 'function', 'expected options.backend (await createBackend())', 'E_INVALID');
}

function openDb(): Promise<IDBDatabase> {
  const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!idb) return Promise.reject(new SimdnetError('indexedDB: this runtime has no IndexedDB (a browser page or worker has)', 'E_RUNTIME'));
  const open = idb.open(IDB_DATABASE, 1);
  open.onupgradeneeded = () => {
    if (!open.result.objectStoreNames.contains(IDB_STORE)) open.result.createObjectStore(IDB_STORE);
  };
  return request(open, `opening '${IDB_DATABASE}'`);
}

/** A request's result; a failure as a SimdnetError saying what was being done. `commit`: wait for the transaction. */
function request<T>(req: IDBRequest<T>, doing: string, commit = false): Promise<T> {
  return new Promise((resolve, reject) => {
    const fail = (err: DOMException | null) => reject(new SimdnetError(`indexedDB: ${doing} failed (${err?.name ?? 'error'}: ${err?.message ?? 'unknown'})`, 'E_FILE'));
    req.onerror = () => fail(req.error);
    if (commit && req.transaction) {
      const tx = req.transaction;
      tx.oncomplete = () => resolve(req.result);
      tx.onabort = () => fail(tx.error);
    } else req.onsuccess = () => resolve(req.result);
  });
}
