// simdnet/infer: what running a trained model needs (a backend, the layers, Sequential, the model file or an
// ONNX file, metrics), without training (fit, optimizers, noise, batching) or data loading. Browser-safe, like
// the main entry; a page that only denoises or classifies ships less (README, "Package").

export { createBackend, createJsBackend, createWasmBackend, ACT } from './backend/index.js';
export { availableWasmVariants, availableParallelism, type WasmVariant, type WasmSource, type WasmBackendOptions } from './backend/wasm.js';
export type { Backend, BackendName, Tensor, WasmOptions } from './backend/index.js';
export { SimdnetError, ERROR_CODES, type ErrorCode } from './errors.js';
export { Linear, ReLU, Tanh, Sigmoid, Softmax, Flatten, Reshape, Conv2D, ConvTranspose2D, MaxPool2D, AvgPool2D, Upsample2D, PixelUnshuffle2D, PixelShuffle2D, layerFromSpec } from './layers/index.js';
export type { Layer, LayerSpec, Shape } from './layers/index.js';
export { Sequential, type ModelSpec } from './model.js';
export { decodeModelFile, deserializeModel, MODEL_VERSION, type ModelFile } from './formats/model-file.js';
export { psnr, meanSquaredError, accuracy } from './metrics.js';
export { importOnnx } from './onnx/import.js';
