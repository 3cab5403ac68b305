// `simdnet export` and `simdnet import`, and `train --init-from`: ONNX files on disk.

import { extname } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { SimdnetError } from '../errors.js';
import type { Sequential } from '../model.js';
import { decodeModelFile, encodeModelFile } from '../model-file.js';
import { encodeOnnx } from '../onnx/export.js';
import { importOnnx, readOnnx } from '../onnx/import.js';
import { loadModel, readFileChecked, writeFileAtomic } from './files.js';

/** model.simdnet (or a checkpoint) → .onnx, with the file's metadata as metadata_props. */
export function exportFile(modelPath: string, outPath: string): void {
  const file = decodeModelFile(readFileChecked(modelPath, 'model'), modelPath);
  writeFileAtomic(outPath, encodeOnnx(file.spec, file.blocks.weights, file.meta));
}

/** .onnx → model.simdnet; returns what was read, for the CLI's summary line. */
export function importFile(onnxPath: string, outPath: string): ReturnType<typeof readOnnx> {
  const contents = readOnnx(readFileChecked(onnxPath, 'ONNX file'), `import ${onnxPath}`);
  writeFileAtomic(outPath, encodeModelFile({ spec: contents.spec, blocks: { weights: contents.weights }, meta: contents.meta }));
  return contents;
}

/** The starting model of `train --init-from`: an .onnx file or a .simdnet model file, by its extension. */
export function loadInitModel(path: string, backend: Backend): Sequential {
  const ext = extname(path).toLowerCase();
  if (ext === '.onnx') return importOnnx(readFileChecked(path, '--init-from'), { backend, name: `--init-from ${path}` });
  if (ext === '.simdnet') return loadModel(path, backend).model;
  throw new SimdnetError(`--init-from ${path}: expected an .onnx or a .simdnet file, got a '${ext || 'no'}' extension`, 'E_OPTION');
}
