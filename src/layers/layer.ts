// What every layer is: a pair of plain functions, forward and backward, over tensors the model owns.
// A layer keeps no activations of its own: Sequential hands it the input x and output y it saved in
// forward, so the same layer serves every batch size without allocating.

import type { ActCode, Backend, Tensor } from '../backend/backend.js';
import type { ParamDecl } from '../param-layout.js';
import type { Rng } from '../random.js';

/** The explicit description of a layer, as written in model files (and, later, ONNX export). */
export type LayerSpec =
  | { type: 'linear'; in: number; out: number; init?: InitName }
  | { type: 'relu' }
  | { type: 'tanh' }
  | { type: 'sigmoid' }
  | { type: 'softmax' }
  /** seed: the mask's own seed (written by the model; absent, drawn from the model's seed and the layer index) */
  | { type: 'dropout'; rate: number; seed?: number };

/** Byte pointers of one parameter tensor and of its gradient. */
export interface ParamPointers {
  value: number;
  grad: number;
}

export type InitName = 'glorotUniform' | 'heNormal' | 'uniform';

export interface Layer {
  readonly type: LayerSpec['type'];
  /** Width of the output for an input of width `inWidth`; throws when the layer cannot take it. */
  outputWidth(inWidth: number, where: string): number;
  /** The parameter tensors, in the order they are laid out (ParamLayout); none for an activation. */
  readonly params: readonly ParamDecl[];
  /** Binds the layer to its tensors in the model's parameter and gradient blocks, by declared name. */
  bind(backend: Backend, at: Record<string, ParamPointers>): void;
  /** y = layer(x) */
  forward(x: Tensor, y: Tensor): void;
  /** Given dy = ∂L/∂y, accumulates parameter gradients and writes dx = ∂L/∂x (unless dx is null). */
  backward(x: Tensor, y: Tensor, dy: Tensor, dx: Tensor | null): void;
  spec(): LayerSpec;
  /** Layers that act differently in training (Dropout): told by Sequential.setTraining, with the step. */
  setTraining?(on: boolean, step: number): void;
  /** Layers with a seed of their own (Dropout): told the model's seed and their index when the model is built. */
  seedFrom?(modelSeed: number, index: number): void;
  /** An elementwise activation a preceding layer can apply in its own write-back: its ACT code. */
  readonly fusableAct?: ActCode;
  /** y = next(layer(x)) in one kernel, where `act` is next's fusableAct (a layer that can, e.g. Linear). */
  forwardFused?(x: Tensor, y: Tensor, act: ActCode): void;
}
