// simdnet: the browser-safe API (no node: imports). Node adds file helpers in './node.js'.

export { createBackend, createJsBackend, createWasmBackend, ACT, NOISE } from './backend/index.js';
export { availableWasmVariants, availableParallelism, type WasmVariant, type WasmSource, type WasmBackendOptions } from './backend/wasm.js';
export type { Backend, BackendName, Kernels, Tensor, WasmOptions } from './backend/index.js';
export { SimdnetError, ERROR_CODES, type ErrorCode } from './errors.js';
export { Linear, ReLU, Tanh, Sigmoid, Softmax, Dropout, Flatten, Reshape, Conv2D, ConvTranspose2D, MaxPool2D, AvgPool2D, Upsample2D, PixelUnshuffle2D, PixelShuffle2D, layerFromSpec } from './layers/index.js';
export type { Layer, LayerSpec, InitName, Shape, Pair, Pads } from './layers/index.js';
export { Sequential, type ModelSpec } from './model.js';
export { ParamLayout, type ParamDecl, type ParamSlot, type NamedWeights } from './param-layout.js';
export { autoencoder, convAutoencoderSpec, IMAGE_SHAPE, type AutoencoderOptions, type ConvAutoencoderOptions } from './models.js';
export { getLoss, mse, bce, crossentropy, type Loss, type LossName } from './losses.js';
export { createOptimizer, clipScale, DEFAULT_LR, type Optimizer, type OptimizerName, type OptimizerOptions } from './optimizers.js';
export { fit, epochRng } from './training/fit.js';
export { evaluate, type Evaluation } from './training/evaluate.js';
export { noisyTestInputs, splitValidation } from './training/sets.js';
export type { FitOptions, FitSet, History, EpochMetrics, BatchInfo, MetricName, NoiseOptions, Progress } from './training/types.js';
export { trainStep, Trainer, type Batch } from './training/step.js';
export { earlyStopping, reduceLROnPlateau, type EarlyStoppingOptions, type ReduceLROnPlateauOptions, type Monitor } from './training/callbacks.js';
export type { Callback, CallbackState, TrainingContext } from './training/types.js';
export { stepDecay, exponentialDecay, cosineDecay, type Schedule } from './training/schedules.js';
export { recipe, BEST_PRESET, LR_SCHEDULES, type LrScheduleName, type RecipeOptions } from './training/recipes.js';
export { psnr, meanSquaredError, accuracy } from './metrics.js';
export { encodeModelFile, decodeModelFile, serializeModel, deserializeModel, MODEL_VERSION, type ModelFile } from './formats/model-file.js';
export { Rng } from './random.js';
export { exportOnnx, encodeOnnx, importOnnx, readOnnx, SUPPORTED_OPS, ONNX_IR_VERSION, ONNX_OPSET, type ExportOptions, type OnnxContents } from './onnx/index.js';
export * from './data/index.js';
export { DATA_SPLIT_SEED, BUNDLED_TRAIN_COUNT, IMAGE_WIDTH, WASM_VARIANTS } from './shared.js';
export { saveModelToIndexedDB, loadModelFromIndexedDB, loadModelFromUrl, downloadModel, IDB_DATABASE, IDB_STORE } from './browser.js';
