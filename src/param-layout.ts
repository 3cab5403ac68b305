// The parameter layout: the one owner of where each layer's parameter tensors sit in a model's parameter block.
// Each layer declares its tensors (name, shape, init); the layout lays them end to end, layer by layer, in
// declaration order. The model, its file, checkpoints, the optimizer (through the block's size), the ONNX
// exporter and importer, the benchmarks and the tests all read offsets from here.

import { SimdnetError } from './errors.js';
import type { Rng } from './random.js';

/** A parameter tensor as a layer declares it. */
export interface ParamDecl {
  /** Unique within the layer: 'W', 'b'. */
  readonly name: string;
  /** Row-major, e.g. [IN, OUT] for a Linear's W. */
  readonly shape: readonly number[];
  /** Writes the initial values (out.length = product of shape); called layer by layer in declaration order. */
  init(out: Float32Array, rng: Rng): void;
}

/** Where one declared tensor sits in the block (offsets in floats). */
export interface ParamSlot {
  readonly layer: number;
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly length: number;
}

/** A parameter tensor's values, by name: what getWeights(layer) returns and setWeights(layer, …) takes. */
export interface NamedWeights {
  name: string;
  shape: number[];
  values: Float32Array;
}

export class ParamLayout {
  readonly slots: readonly ParamSlot[];
  /** Floats in the whole block. */
  readonly total: number;

  constructor(layers: readonly { readonly params: readonly ParamDecl[] }[]) {
    const slots: ParamSlot[] = [];
    let offset = 0;
    layers.forEach((layer, i) => {
      for (const p of layer.params) {
        const length = p.shape.reduce((n, d) => n * d, 1);
        slots.push({ layer: i, name: p.name, shape: p.shape, offset, length });
        offset += length;
      }
    });
    this.slots = slots;
    this.total = offset;
  }

  /** The slots of layer `layer`, in declaration order (none for an activation). */
  ofLayer(layer: number): ParamSlot[] {
    return this.slots.filter((s) => s.layer === layer);
  }

  /** Floats of layer `layer`'s tensors (0 for an activation). */
  countOf(layer: number): number {
    return this.ofLayer(layer).reduce((n, s) => n + s.length, 0);
  }

  /** The slot of tensor `name` of layer `layer`; an error naming what exists when there is none. */
  slot(layer: number, name: string): ParamSlot {
    const found = this.slots.find((s) => s.layer === layer && s.name === name);
    if (!found) {
      const names = this.ofLayer(layer).map((s) => s.name);
      throw new SimdnetError(`layer ${layer} has no parameter '${name}' (${names.length ? `it has ${names.join(', ')}` : 'it has no parameters'})`, 'E_INVALID');
    }
    return found;
  }

  /** A view of one tensor in a flat block laid out by this layout. */
  view(block: Float32Array, slot: ParamSlot): Float32Array {
    return block.subarray(slot.offset, slot.offset + slot.length);
  }
}
