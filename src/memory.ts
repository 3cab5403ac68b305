// What training a model needs of WASM linear memory, in one place. The model checks its own blocks when it is
// built, fit checks the rest before it allocates anything, and the CLI checks the whole run from the flags before
// building the model: so an oversized run fails at once, saying which part is big and what to shrink.

import { mib } from './backend/heap.js';
import { check } from './errors.js';
import type { Layer } from './layers/layer.js';
import { scratchSizes, shapeSize, type Shape } from './layers/shapes.js';

/** Weights and their gradients: two float32 blocks of the parameter count. */
export function modelBytes(paramCount: number): number {
  return 2 * 4 * paramCount;
}

/** A model's layers and its shape chain (the input shape, then each layer's output shape): a Sequential is one. */
export interface LayerChain {
  readonly layers: readonly Layer[];
  readonly shapes: readonly Shape[];
}

/** Which tensors of a workspace are blocks of their own. acts[i] (the input, then layer i−1's output) and grads[i]
 *  (∂L/∂acts[i]) are, unless layer i−1 is in place (Flatten, Reshape: its output is its input's memory, and so is
 *  its gradient); grads[0] is never needed. Sequential allocates by it and workspaceBytes counts by it. */
export function ownTensors(layers: readonly Pick<Layer, 'inPlace'>[]): { acts: boolean[]; grads: boolean[] } {
  const acts = [true], grads = [false];
  layers.forEach((layer, i) => {
    acts.push(!layer.inPlace);
    grads.push(!layer.inPlace || i === 0); // an in-place first layer has no grads[0] to share
  });
  return { acts, grads };
}

/** One batch size's workspace: every layer's activations and their gradients, the target, and the scratch each
 *  layer declares (scratchSize), as llm.c's fill_in_activation_sizes adds them up. */
export function workspaceBytes(chain: LayerChain, B: number): number {
  const own = ownTensors(chain.layers);
  let floats = B * shapeSize(chain.shapes[chain.shapes.length - 1]); // the target
  chain.shapes.forEach((shape, i) => (floats += B * shapeSize(shape) * (Number(own.acts[i]) + Number(own.grads[i]))));
  for (const n of scratchSizes(chain.layers, chain.shapes, B)) floats += n;
  return 4 * floats;
}

/** What predict's batches may hold of activations: large enough that each GEMM runs at its full rate (and a thread
 *  packs its share of the weights once for many rows), small enough for a page's memory and for L3. */
export const PREDICT_BYTES = 16 * 2 ** 20;

/** predict's memory for batches of `rows` rows: two activation buffers (each step reads one, writes the other) of
 *  the widest tensor of the chain, and the scratch its layers declare. */
export function predictBytes(chain: LayerChain, rows: number): number {
  const widest = Math.max(...chain.shapes.map(shapeSize));
  return 4 * (2 * rows * widest + scratchSizes(chain.layers, chain.shapes, rows).reduce((n, k) => n + k, 0));
}

/** predict's copy of the weights for batches of a handful of rows: each layer's packedSize (Linear: W in strips). */
export function packedBytes(chain: LayerChain): number {
  return 4 * chain.layers.reduce((n, layer) => n + (layer.packedSize?.() ?? 0), 0);
}

/** predict's batch size: the rows PREDICT_BYTES (or, when less is left, half of what is left) hold; at least one. */
export function predictRows(chain: LayerChain, available: number): number {
  const budget = Math.min(PREDICT_BYTES, available / 2);
  let rows = Math.max(1, Math.floor(budget / predictBytes(chain, 1)));
  while (rows > 1 && predictBytes(chain, rows) > budget) rows = Math.max(1, Math.floor(rows * 0.9)); // scratch not linear in rows
  return rows;
}

/** An optimizer's state: `slots` blocks of the parameter count. */
export function optimizerBytes(paramCount: number, slots: number): number {
  return 4 * slots * paramCount;
}

/** fit's copy of the training set: inputs, targets (none when they are the inputs) and the row order. */
export function trainingSetBytes(rows: number, inWidth: number, outWidth: number, sameTargets: boolean): number {
  return 4 * rows * (inWidth + (sameTargets ? 0 : outWidth) + 1);
}

/** What a backend can still allocate; one that does not say (js) is held to the 4 GiB of wasm32 like the others. */
export function bytesLeft(backend: { readonly availableBytes?: number }): number {
  return backend.availableBytes ?? 2 ** 32;
}

export interface MemoryPart {
  what: string;
  bytes: number;
}

/** Throws E_MEMORY, listing the parts, when they add up to more than `available` bytes. */
export function checkMemory(parts: MemoryPart[], available: number, what: string, advice: string): void {
  const need = parts.reduce((n, p) => n + p.bytes, 0);
  check(need <= available, () => `${what} needs ${mib(need)} of WASM linear memory (${parts.filter((p) => p.bytes > 0).map((p) => `${p.what} ${mib(p.bytes)}`).join(', ')}), but only ${mib(available)} of its 4 GiB are left; ${advice}`, 'E_MEMORY');
}

/** Everything a fit allocates, part by part: the model's blocks (when `withModel`: a run not yet built), the
 *  optimizer's state (unless it exists already), a workspace for the batch size and for the last, smaller batch,
 *  and the training set. */
export function trainingParts(o: {
  paramCount: number;
  chain: LayerChain;
  batchSize: number;
  rows: number;
  sameTargets: boolean;
  optimizer: { name: string; slots: number };
  withModel: boolean;
}): MemoryPart[] {
  const B = Math.min(o.batchSize, o.rows);
  const last = o.rows % B;
  const inW = shapeSize(o.chain.shapes[0]), outW = shapeSize(o.chain.shapes[o.chain.shapes.length - 1]);
  return [
    { what: 'weights and gradients', bytes: o.withModel ? modelBytes(o.paramCount) : 0 },
    { what: `${o.optimizer.name} state`, bytes: optimizerBytes(o.paramCount, o.optimizer.slots) },
    { what: `batches of ${B}`, bytes: workspaceBytes(o.chain, B) + (last > 0 ? workspaceBytes(o.chain, last) : 0) },
    { what: 'the training set', bytes: trainingSetBytes(o.rows, inW, outW, o.sameTargets) },
  ];
}
