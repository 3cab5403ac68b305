// What training a model needs of WASM linear memory, in one place. The model checks its own blocks when it is
// built, fit checks the rest before it allocates anything, and the CLI checks the whole run from the flags before
// building the model: so an oversized run fails at once, saying which part is big and what to shrink.

import { mib } from './backend/heap.js';
import { check } from './errors.js';

/** Weights and their gradients: two float32 blocks of the parameter count. */
export function modelBytes(paramCount: number): number {
  return 2 * 4 * paramCount;
}

/** One batch size's workspace: every layer's activations and their gradients, and the target
 *  (`widths` = the input width, then each layer's output width). */
export function workspaceBytes(widths: readonly number[], B: number): number {
  const sum = widths.reduce((n, w) => n + w, 0);
  return 4 * B * (2 * sum - widths[0] + widths[widths.length - 1]);
}

/** What predict's batches may hold of activations: large enough that each GEMM runs at its full rate (and a thread
 *  pack its share of the weights once for many rows), small enough for a page's memory and for L3. */
export const PREDICT_BYTES = 16 * 2 ** 20;

/** predict's two activation buffers (each step reads one, writes the other) of `rows` rows of the widest layer. */
export function predictBytes(widths: readonly number[], rows: number): number {
  return 2 * 4 * rows * Math.max(...widths);
}

/** predict's batch size: the rows PREDICT_BYTES (or, when less is left, half of what is left) hold; at least one. */
export function predictRows(widths: readonly number[], available: number): number {
  return Math.max(1, Math.floor(Math.min(PREDICT_BYTES, available / 2) / predictBytes(widths, 1)));
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
  widths: readonly number[];
  batchSize: number;
  rows: number;
  sameTargets: boolean;
  optimizer: { name: string; slots: number };
  withModel: boolean;
}): MemoryPart[] {
  const B = Math.min(o.batchSize, o.rows);
  const last = o.rows % B;
  const inW = o.widths[0], outW = o.widths[o.widths.length - 1];
  return [
    { what: 'weights and gradients', bytes: o.withModel ? modelBytes(o.paramCount) : 0 },
    { what: `${o.optimizer.name} state`, bytes: optimizerBytes(o.paramCount, o.optimizer.slots) },
    { what: `batches of ${B}`, bytes: workspaceBytes(o.widths, B) + (last > 0 ? workspaceBytes(o.widths, last) : 0) },
    { what: 'the training set', bytes: trainingSetBytes(o.rows, inW, outW, o.sameTargets) },
  ];
}
