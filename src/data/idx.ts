// The full MNIST (60,000 train + 10,000 test) from the IDX files in a folder the user gives. Node only.
//
// IDX (LeCun's format, big-endian): uint32 magic 0x00000803 (ubyte, 3 dims) for images, followed by
// count, rows, cols and count·rows·cols pixel bytes; 0x00000801 (ubyte, 1 dim) for labels, followed by
// count and count label bytes. Files may be plain or gzipped. Fashion-MNIST uses the same files.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { SimdnetError, check } from '../errors.js';
import { IMAGE_WIDTH, NUM_CLASSES, makeDataset, type DataSplit, type Dataset } from './dataset.js';
import { dequantize } from './mnist-binary.js';

export type IdxKind = 'images' | 'labels';

export interface IdxFile {
  kind: IdxKind;
  count: number;
  /** images: count×28×28 pixel bytes; labels: count bytes in 0..9. A view into the input bytes. */
  data: Uint8Array;
}

const MAGIC: Record<IdxKind, number> = { images: 0x00000803, labels: 0x00000801 };
const HEADER: Record<IdxKind, number> = { images: 16, labels: 8 };
const SIDE = 28;

const hex = (n: number) => '0x' + n.toString(16).padStart(8, '0');

/**
 * Parses one IDX file's (already gunzipped) bytes. `kind` defaults to what `fileName` says ("images" or
 * "labels"), else to what the magic says. Every error is a SimdnetError that starts with `fileName`.
 */
export function parseIdx(bytes: Uint8Array, fileName: string, kind?: IdxKind): IdxFile {
  const fail = (msg: string): never => {
    throw new SimdnetError(`${fileName}: ${msg}`, 'E_FILE_CORRUPT');
  };
  if (bytes.length < 4) fail(`truncated: ${bytes.length} bytes, shorter than the 4-byte IDX magic`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  kind ??= /images/i.test(fileName) ? 'images' : /labels/i.test(fileName) ? 'labels'
    : magic === MAGIC.labels ? 'labels' : 'images';
  if (magic !== MAGIC[kind]) {
    const got = magic === MAGIC.images ? ' (an images file)' : magic === MAGIC.labels ? ' (a labels file)' : '';
    fail(`wrong magic: expected ${hex(MAGIC[kind])} (IDX ${kind}) but got ${hex(magic)}${got}`);
  }
  const header = HEADER[kind];
  if (bytes.length < header) fail(`truncated: ${bytes.length} bytes, shorter than the ${header}-byte IDX ${kind} header`);
  const count = view.getUint32(4);
  if (kind === 'images') {
    const rows = view.getUint32(8);
    const cols = view.getUint32(12);
    if (rows !== SIDE || cols !== SIDE) fail(`wrong image size: expected 28×28 but the header says ${rows}×${cols}`);
  }
  const itemBytes = kind === 'images' ? IMAGE_WIDTH : 1;
  const expected = header + count * itemBytes;
  if (bytes.length !== expected) {
    const what = kind === 'images' ? `${count} images of 28×28` : `${count} labels`;
    const problem = bytes.length < expected ? 'truncated' : 'trailing data';
    fail(`${problem}: header says ${what} (${expected} bytes) but the file has ${bytes.length} bytes`);
  }
  const data = bytes.subarray(header, expected);
  if (kind === 'labels') {
    for (let i = 0; i < count; i++) {
      if (data[i] >= NUM_CLASSES) fail(`label ${data[i]} at index ${i} is out of range 0..9`);
    }
  }
  return { kind, count, data };
}

/** Reads one IDX file, gunzipping it when it is gzipped (by the .gz name or the 1f 8b gzip magic). */
export function readIdxFile(path: string, kind?: IdxKind): IdxFile {
  const name = basename(path);
  let bytes: Uint8Array;
  try {
    const buf = readFileSync(path);
    bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength); // a plain view, not a Buffer
  } catch (e) {
    throw new SimdnetError(`${name}: cannot read ${path} (${(e as Error).message})`, 'E_FILE');
  }
  if (name.endsWith('.gz') || (bytes[0] === 0x1f && bytes[1] === 0x8b)) bytes = gunzipCapped(bytes, name, kind);
  return parseIdx(bytes, name, kind);
}

/** Inflates no more than the IDX header inside declares (a gzip bomb stops at that size, not at memory's end):
 *  first the header alone, from the stream's start, whose magic is checked before its count is trusted (a gzipped
 *  text file would otherwise declare terabytes), then the whole stream capped at header + items. */
function gunzipCapped(bytes: Uint8Array, name: string, kind?: IdxKind): Uint8Array {
  const view = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  let head: Uint8Array;
  try {
    head = view(gunzipSync(bytes.subarray(0, Math.min(bytes.length, 4096)), { finishFlush: zlibConstants.Z_SYNC_FLUSH }));
  } catch (e) {
    throw new SimdnetError(`${name}: corrupt gzip stream (${(e as Error).message})`, 'E_FILE_CORRUPT');
  }
  let limit = 64 * 1024 * 1024; // header unreadable here: parseIdx below names the problem
  if (head.length >= 4) {
    const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const magic = dv.getUint32(0);
    const isLabels = kind === 'labels' || (kind === undefined && magic === MAGIC.labels);
    const k: IdxKind = isLabels ? 'labels' : 'images';
    // not an IDX file (or the other kind): parseIdx names the magic it found, from the first bytes alone
    if (magic !== MAGIC[k]) parseIdx(head, name, kind);
    if (head.length >= HEADER[k]) {
      const count = dv.getUint32(4);
      limit = HEADER[k] + count * (isLabels ? 1 : IMAGE_WIDTH);
      // deflate expands at most 1032:1, so a declared size beyond that cannot be in this stream
      const most = bytes.length * 1032;
      if (limit > most) {
        const what = isLabels ? `${count} labels` : `${count} images of 28×28`;
        throw new SimdnetError(`${name}: truncated: header says ${what} (${limit} bytes) but a ${bytes.length}-byte gzip stream inflates to at most ${most} bytes`, 'E_FILE_CORRUPT');
      }
    }
  }
  try {
    return view(gunzipSync(bytes, { maxOutputLength: Math.max(1, limit) }));
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw new SimdnetError(`${name}: trailing data: the header declares ${limit} bytes but the gzip stream inflates to more (stopped there)`, 'E_FILE_CORRUPT');
    throw new SimdnetError(`${name}: corrupt gzip stream (${(e as Error).message})`, 'E_FILE_CORRUPT');
  }
}

/** The names looked for, in order, for one file: `train-images-idx3-ubyte` → also `.gz`, and the dotted spelling. */
function candidates(base: string): string[] {
  const dotted = base.replace(/-(idx\d-ubyte)$/, '.$1'); // train-images-idx3-ubyte → train-images.idx3-ubyte
  return [base, base + '.gz', dotted, dotted + '.gz'];
}

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/**
 * Loads MNIST (or anything in its IDX layout) from `dir`: train from train-*, test from t10k-*, in file
 * order. Each of the four files may be plain or .gz, spelled `train-images-idx3-ubyte` or `train-images.idx3-ubyte`.
 */
export function loadIdxMnist(dir: string): DataSplit {
  check(
    existsSync(dir) && statSync(dir).isDirectory(),
    `MNIST folder ${dir}: not found or not a folder (expected one holding ${Object.values(FILES).join(', ')}, plain or .gz)`,
    'E_FILE',
  );
  const paths: Record<string, string> = {};
  const missing: string[] = [];
  for (const [key, base] of Object.entries(FILES)) {
    const found = candidates(base).find((n) => existsSync(join(dir, n)));
    if (found) paths[key] = join(dir, found);
    else missing.push(`${base} (looked for ${candidates(base).join(', ')})`);
  }
  check(missing.length === 0, () => `MNIST folder ${dir}: missing ${missing.join('; ')}`, 'E_FILE');
  const part = (imagesPath: string, labelsPath: string): Dataset => {
    const images = readIdxFile(imagesPath, 'images');
    const labels = readIdxFile(labelsPath, 'labels');
    check(
      images.count === labels.count,
      `${basename(imagesPath)} / ${basename(labelsPath)}: count mismatch: ${images.count} images but ${labels.count} labels`,
      'E_FILE_CORRUPT',
    );
    // an empty set would only fail later, as "got 0 values", without the file's name
    check(images.count > 0, `${basename(imagesPath)}: holds 0 images (and ${basename(labelsPath)} 0 labels); a set needs at least one digit`, 'E_FILE_CORRUPT');
    return makeDataset(dequantize(images.data), new Uint8Array(labels.data)); // a copy, not a view of the file
  };
  return {
    train: part(paths.trainImages, paths.trainLabels),
    test: part(paths.testImages, paths.testLabels),
  };
}
