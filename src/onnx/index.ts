// ONNX in and out (browser-safe: bytes in, bytes out).

export { exportOnnx, encodeOnnx, ONNX_IR_VERSION, ONNX_OPSET, type ExportOptions } from './export.js';
export { importOnnx, readOnnx, SUPPORTED_OPS, OPSETS, IR_VERSIONS, type OnnxContents } from './import.js';
