// What every layer is: a pair of plain functions, forward and backward, over tensors the model owns.
// A layer keeps no activations of its own: Sequential hands it the input x and output y it saved in
// forward, and the scratch it declared, so the same layer serves every batch size without allocating.
// A layer declares what it needs (as llm.c's fill_in_activation_sizes adds up): its output shape from its input
// shape, its parameter tensors (ParamLayout lays them out) and its per-batch scratch (memory.ts counts it).

import type { ActCode, Backend, Tensor } from '../backend/backend.js';
import type { ParamDecl } from '../param-layout.js';

/** A per-sample shape: `[features]` for dense data or `[C, H, W]` for images (NCHW, as PyTorch and ONNX). In a
 *  kernel a batch is a (B, product of the shape) tensor, a row holding one sample channel-major (c·H·W + h·W + w). */
export type Shape = readonly number[];

/** [h, w] */
export type Pair = [number, number];
/** [top, left, bottom, right]: ONNX's pads (begins, then ends). */
export type Pads = [number, number, number, number];

/** The explicit description of a layer, as written in model files (and ONNX export's metadata). */
export type LayerSpec =
  | { type: 'linear'; in: number; out: number; init?: InitName }
  | { type: 'relu' }
  | { type: 'tanh' }
  | { type: 'sigmoid' }
  | { type: 'softmax' }
  /** seed: the mask's own seed (written by the model; absent, drawn from the model's seed and the layer index) */
  | { type: 'dropout'; rate: number; seed?: number }
  /** [C, H, W] → [C·H·W]; the same memory (no copy) */
  | { type: 'flatten' }
  /** the per-sample target shape, -1 allowed once (the rest of the values); the same memory (no copy) */
  | { type: 'reshape'; shape: number[] }
  | { type: 'conv2d'; in: number; out: number; kernel: Pair; stride: Pair; padding: Pads | 'same'; bias: boolean; init?: InitName }
  | { type: 'conv-transpose2d'; in: number; out: number; kernel: Pair; stride: Pair; padding: Pads; outputPadding: Pair; bias: boolean; init?: InitName }
  | { type: 'maxpool2d'; kernel: Pair; stride: Pair; padding: Pads }
  | { type: 'avgpool2d'; kernel: Pair; stride: Pair; padding: Pads; countIncludePad: boolean }
  /** nearest neighbour, integer factors [h, w] */
  | { type: 'upsample2d'; scale: Pair }
  /** space to depth (nn.PixelUnshuffle): [C, H, W] → [C·r², H/r, W/r], r = factor */
  | { type: 'pixel-unshuffle2d'; factor: number }
  /** depth to space (nn.PixelShuffle): [C·r², H, W] → [C, H·r, W·r] */
  | { type: 'pixel-shuffle2d'; factor: number };

/** Byte pointers of one parameter tensor and of its gradient. */
export interface ParamPointers {
  value: number;
  grad: number;
}

/** Linear: glorotUniform (default), heNormal, uniform (the reference network's U(-1, 1)). Conv layers: pytorch
 *  (their default: U(±1/√fan_in) for W and b), heNormal, glorotUniform. */
export type InitName = 'glorotUniform' | 'heNormal' | 'uniform' | 'pytorch';

export interface Layer {
  readonly type: LayerSpec['type'];
  /** The per-sample output shape for a per-sample input shape; throws E_SHAPE naming `where` (e.g. "layer 3
   *  (linear)"), the expected and the actual shape when the layer cannot take it. Pure: it may be called on a
   *  layer that is not bound (model files, ONNX export and the memory estimate walk the chain without a backend). */
  outputShape(inShape: Shape, where: string): Shape;
  /** The parameter tensors, in the order they are laid out (ParamLayout); none for an activation. */
  readonly params: readonly ParamDecl[];
  /** Called once by Sequential after the shape chain is known: the layer's tensors in the model's parameter and
   *  gradient blocks (by declared name) and its input shape. */
  bind(backend: Backend, at: Record<string, ParamPointers>, inShape: Shape): void;
  /** Per-batch scratch in f32 elements for a batch of `batch` rows of input shape `inShape` (im2col panels, max
   *  pool's argmax). Absent or 0 = none. Sequential allocates it once per workspace (batch size) and memory.ts
   *  counts it; it lives as long as the workspace, so forward may leave something for backward. Called on unbound
   *  layers too (the CLI's memory check before the model is built): compute it from the arguments. */
  scratchSize?(batch: number, inShape: Shape): number;
  /** The output is the input's memory seen as another shape (Flatten, Reshape): Sequential gives the layer no
   *  tensors of its own (y is x, dx is dy) and forward and backward have nothing to do. */
  readonly inPlace?: boolean;
  /** y = layer(x); `scratch` is the layer's (null when it declares none). */
  forward(x: Tensor, y: Tensor, scratch: Tensor | null): void;
  /** Given dy = ∂L/∂y, accumulates parameter gradients and writes dx = ∂L/∂x (unless dx is null). */
  backward(x: Tensor, y: Tensor, dy: Tensor, dx: Tensor | null, scratch: Tensor | null): void;
  spec(): LayerSpec;
  /** How summary() and toString() name it, e.g. "Conv2D(1→32, 3×3, s1, same)"; absent: from its spec. */
  describe?(): string;
  /** Layers that act differently in training (Dropout): told by Sequential.setTraining, with the step. */
  setTraining?(on: boolean, step: number): void;
  /** Layers with a seed of their own (Dropout): told the model's seed and their index when the model is built. */
  seedFrom?(modelSeed: number, index: number): void;
  /** An elementwise activation a preceding layer can apply in its own write-back: its ACT code. */
  readonly fusableAct?: ActCode;
  /** y = next(layer(x)) in one kernel, where `act` is next's fusableAct (a layer that can, e.g. Linear). */
  forwardFused?(x: Tensor, y: Tensor, act: ActCode, scratch: Tensor | null): void;
  /** Inference on a copy of the weights laid out for products of a handful of rows (Linear: pack_strips), which
   *  predict keeps and Sequential refreshes after the weights change: the copy's f32 elements (unbound layers too). */
  packedSize?(): number;
  /** Writes that copy of the current weights into `packed`. */
  pack?(packed: Tensor): void;
  /** forward (act = ACT.none) or forwardFused from the packed copy: the same bits. */
  forwardPacked?(x: Tensor, y: Tensor, act: ActCode, packed: Tensor): void;
}
