// `simdnet export` and `simdnet import`, and `train --init-from`: ONNX files on disk.

import { extname, resolve } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { SimdnetError } from '../errors.js';
import type { Sequential } from '../model.js';
import { decodeModelFile, deserializeModel, encodeModelFile } from '../formats/model-file.js';
import { encodeOnnx } from '../onnx/export.js';
import { importOnnx, readOnnx } from '../onnx/import.js';
import { readFileChecked, writeFileAtomic } from '../node/files.js';

/** path's extension (lower case) when it is one of `allowed`; else a refusal naming the flag. */
function extensionOf(flag: string, path: string, allowed: readonly string[]): string {
  const ext = extname(path).toLowerCase();
  if (!allowed.includes(ext)) throw new SimdnetError(`${flag} ${path}: expected ${allowed.map((e) => `a ${e}`).join(' or ')} file, got ${ext ? `a '${ext}'` : 'no'} extension`, 'E_OPTION');
  return ext;
}

/** export's and import's --out: named for the format written, and not the file read (it would be replaced). */
function checkOutFile(outPath: string, ext: string, inPath: string): void {
  extensionOf('--out', outPath, [ext]);
  if (resolve(outPath) === resolve(inPath)) throw new SimdnetError(`--out ${outPath}: is the file being read; write to another file`, 'E_OPTION');
}

/** model.simdnet (or a checkpoint) → .onnx, with the file's metadata as metadata_props. */
export function exportFile(modelPath: string, outPath: string): void {
  checkOutFile(outPath, '.onnx', modelPath);
  const file = decodeModelFile(readFileChecked(modelPath, 'model'), modelPath);
  writeFileAtomic(outPath, encodeOnnx(file.spec, file.blocks.weights, file.meta));
}

/** .onnx → model.simdnet; returns what was read, for the CLI's summary line. */
export function importFile(onnxPath: string, outPath: string): ReturnType<typeof readOnnx> {
  checkOutFile(outPath, '.simdnet', onnxPath);
  const contents = readOnnx(readFileChecked(onnxPath, 'ONNX file'), `import ${onnxPath}`);
  writeFileAtomic(outPath, encodeModelFile({ spec: contents.spec, blocks: { weights: contents.weights }, meta: contents.meta }));
  return contents;
}

/** The starting model of `train --init-from`: an .onnx file or a .simdnet model file, by its extension. */
export function loadInitModel(path: string, backend: Backend): Sequential {
  if (extensionOf('--init-from', path, ['.onnx', '.simdnet']) === '.onnx') return importOnnx(readFileChecked(path, '--init-from'), { backend, name: `--init-from ${path}` });
  return deserializeModel(readFileChecked(path, '--init-from'), backend, `--init-from ${path}`).model;
}
