// Sequential: a list of layers over one backend. Parameters and gradients are each one contiguous block carved
// into per-layer slices; activations are allocated once per batch size and reused, so a training step in
// steady state allocates nothing.

import { ACT, type ActCode, type Backend, type Tensor } from './backend/backend.js';
import { mib } from './backend/heap.js';
import { bytesLeft, modelBytes, ownTensors, packedBytes, predictBytes, predictRows, workspaceBytes } from './memory.js';
import { SimdnetError, check } from './errors.js';
import { layerFromSpec, type Layer } from './layers/index.js';
import { toMatrix, type Rows } from './data/convert.js';
import type { ParamPointers } from './layers/layer.js';
import { batchShape, checkShape, layerShapes, scratchSizes, shapeSize, showShape, type Shape } from './layers/shapes.js';
import { inputShapeField, specInputShape, type ModelSpec } from './model-spec.js';
import { ParamLayout, type NamedWeights } from './param-layout.js';
import { getLoss, type Loss, type LossName } from './losses.js';
import { Rng } from './random.js';

export type { ModelSpec } from './model-spec.js';

interface Workspace {
  /** acts[0] is the input (filled by the caller), acts[i+1] the output of layer i (acts[i] itself when layer i is
   *  in place). */
  acts: Tensor[];
  /** grads[i] is ∂L/∂acts[i]; grads[0] is never needed. */
  grads: (Tensor | null)[];
  /** The target batch, same shape as the output. */
  target: Tensor;
  /** scratch[i]: what layer i declared (scratchSize), or null. */
  scratch: (Tensor | null)[];
  /** Every block above once (in-place layers share theirs), for dispose. */
  blocks: Tensor[];
}

/** predict's memory: two activation buffers of `rows` rows, the layers' scratch for that many, every block once, and
 *  the step tensors per batch size (predictViews). */
interface Inference {
  rows: number;
  bufs: Tensor[];
  scratch: (Tensor | null)[];
  blocks: Tensor[];
  views: Map<number, Tensor[]>;
}

/** predict's batches of at most this many rows run the layers that can (Linear) on their packed copy of the weights
 *  (Layer.pack: W in strips of 24 columns, streamed in memory order, no packing per call; the same bits), larger
 *  ones the GEMM. Measured per layer on digits (simd, 2 threads; both paths leave out zero inputs): at 8 rows the
 *  strips take 0.55-0.75 of the GEMM's time for the first layer and 0.8-0.9 for the second, at 16 about the same,
 *  at 32 1.05-1.1×; threads take whole strips, each a contiguous block. */
export const PACKED_ROWS = 8;

/** One step of the forward pass: layer `layer` alone (act = null), or the layer and the activation right after it
 *  in one kernel (act = the activation's fusableAct), writing the activation's output acts[layer + 2]. */
interface ForwardStep {
  layer: number;
  act: ActCode | null;
}

export class Sequential {
  readonly backend: Backend;
  readonly layers: Layer[];
  /** Values in an input row: the product of inputShape. */
  readonly inputWidth: number;
  readonly outputWidth: number;
  /** The per-sample input shape, e.g. [784] or [1, 28, 28]. */
  readonly inputShape: Shape;
  /** The per-sample output shape. */
  readonly outputShape: Shape;
  /** The input shape, then each layer's output shape (the one chain: layerShapes). */
  readonly shapes: readonly Shape[];
  /** Where each layer's tensors sit in `params` and `grads` (the one owner of offsets). */
  readonly layout: ParamLayout;
  readonly params: Tensor;
  readonly grads: Tensor;
  /** The input width, then each layer's output width (the sizes of `shapes`). */
  readonly widths: readonly number[];
  private readonly plan: ForwardStep[];
  /** The last layer that is not in place (Flatten and Reshape after it change no value); -1 when there is none. */
  private readonly lastComputing: number;
  private workspaces = new Map<number, Workspace>();
  /** predict's memory (predictBuffers), made by its first call. */
  private inference?: Inference;
  /** predict's packed copy of the weights (Layer.pack; null for a layer without one), made by its first batch of at
   *  most PACKED_ROWS rows; `fresh` until the weights change (weightsChanged); used while they are `finite`. */
  private packed?: { tensors: (Tensor | null)[]; fresh: boolean; finite: boolean };
  private isDisposed = false;
  private mode = { on: false, step: 0 };
  /** fit's hold on this model while it runs (set and cleared by fit alone): a second fit is refused, and so are
   *  setWeights and dispose, except from that fit's own callbacks (earlyStopping's restoreBest, a user's). */
  readonly fitting = { running: false, inCallback: 0 };

  /** `inputShape`: the per-sample input shape, e.g. [1, 28, 28] (or `inputWidth` for [inputWidth]; neither: the
   *  first layer's, when it is a Linear).
   *  `fuse` (default true): run each layer that can fuse (Linear) and the ReLU/Sigmoid/Tanh after it as one kernel; false runs every layer alone
   *  (the same results bit for bit: for comparisons and benchmarks). */
  constructor(layers: Layer[], options: { backend: Backend; seed?: number; inputShape?: readonly number[]; inputWidth?: number; fuse?: boolean }) {
    check(options?.backend != null, 'Sequential: options.backend is required (await createBackend())');
    check(Array.isArray(layers) && layers.length > 0, 'Sequential: expected a non-empty list of layers');
    layers.forEach((l, i) => check(l != null && typeof (l as Layer).spec === 'function' && typeof (l as Layer).forward === 'function', () => `Sequential: layer ${i} is ${l === null ? 'null' : typeof l}, expected a layer (new Linear(…), new ReLU(), …)`));
    this.backend = options.backend;
    this.layers = layers;
    this.inputShape = modelInputShape(layers[0], options.inputShape, options.inputWidth);
    this.shapes = Object.freeze(layerShapes(layers, this.inputShape));
    this.outputShape = this.shapes[layers.length];
    this.widths = Object.freeze(this.shapes.map(shapeSize));
    this.inputWidth = this.widths[0];
    this.outputWidth = this.widths[layers.length];
    this.plan = forwardPlan(layers, options.fuse ?? true);
    let lastComputing = layers.length - 1;
    while (lastComputing >= 0 && layers[lastComputing].inPlace) lastComputing--;
    this.lastComputing = lastComputing;
    layers.forEach((layer, i) => layer.seedFrom?.(options.seed ?? 0, i)); // Dropout's mask seed

    this.layout = new ParamLayout(layers);
    const total = this.layout.total;
    // weights and gradients, checked before anything is allocated (an optimizer needs up to twice as much again)
    const need = modelBytes(total);
    const available = bytesLeft(this.backend);
    check(need <= available, () => `Sequential: ${total} parameters need ${mib(need)} for weights and gradients, but WASM linear memory is limited to 4 GiB (${mib(available)} left); use smaller layers`, 'E_MEMORY');
    const blocks: Tensor[] = [];
    try {
      blocks.push(this.backend.alloc(1, total), this.backend.alloc(1, total));
      const init = new Float32Array(total);
      const rng = new Rng(options.seed ?? 0);
      layers.forEach((layer, i) => {
        const at: Record<string, ParamPointers> = {};
        layer.params.forEach((p) => {
          const slot = this.layout.slot(i, p.name);
          at[p.name] = { value: blocks[0].ptr + slot.offset * 4, grad: blocks[1].ptr + slot.offset * 4 };
          p.init(this.layout.view(init, slot), rng);
        });
        layer.bind(this.backend, at, this.shapes[i]);
      });
      this.backend.write(blocks[0], init);
    } catch (e) {
      for (const t of blocks) this.backend.free(t); // never half a model
      if (e instanceof RangeError) throw new SimdnetError(`Sequential: could not allocate ${total} parameters (${e.message})`);
      throw e;
    }
    [this.params, this.grads] = blocks;
  }

  /** True after dispose(): the model's memory went back to the backend. */
  get disposed(): boolean {
    return this.isDisposed;
  }

  static fromSpec(spec: ModelSpec, options: { backend: Backend; seed?: number; fuse?: boolean }): Sequential {
    check(Array.isArray(spec?.layers), 'model spec: expected a list of layers');
    const layers = spec.layers.map((s, i) => layerFromSpec(s, `layer ${i}`));
    const inputShape = specInputShape(spec);
    return new Sequential(layers, { ...options, inputShape });
  }

  /** The layers and the input shape (recorded only when it is not flat, so dense model files keep their bytes). */
  spec(): ModelSpec {
    return { inputWidth: this.inputWidth, ...inputShapeField(this.inputShape), layers: this.layers.map((l) => l.spec()) };
  }

  get paramCount(): number {
    return this.params.cols;
  }

  /** A table as Keras prints it: each layer, its output shape (B = any batch size) and parameter count, and the total. */
  summary(): string {
    const rows = this.layers.map((l, i) => [`${i} ${layerName(l)}`, batchShape(this.shapes[i + 1]), this.layout.countOf(i).toLocaleString('en-US')]);
    const head = ['layer', 'output shape', 'params'];
    const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
    const line = (r: string[]) => `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padStart(w[2])}`;
    const rule = '─'.repeat(w[0] + w[1] + w[2] + 4);
    return [line(head), rule, `${'input'.padEnd(w[0])}  ${batchShape(this.inputShape).padEnd(w[1])}  ${''.padStart(w[2])}`, ...rows.map(line), rule,
      `total ${this.paramCount.toLocaleString('en-US')} parameters (${mib(4 * this.paramCount)} of float32)`].join('\n');
  }

  /** One line: the layer chain and the parameter count (String(model), template literals, console.log). */
  toString(): string {
    return `Sequential(${this.inputShape.length > 1 ? showShape(this.inputShape) : this.inputWidth} → ${this.layers.map(layerName).join(' → ')}; ${this.paramCount.toLocaleString('en-US')} params${this.isDisposed ? ', disposed' : ''})`;
  }

  // ---- forward / backward on tensors already in the backend -------------------------------------------

  /** The input tensor for a batch of B rows; fill it (backend.write / gatherRows), then call forward(B). */
  input(B: number): Tensor {
    return this.workspace(B).acts[0];
  }

  /** The target tensor for a batch of B rows (same shape as the output). */
  target(B: number): Tensor {
    return this.workspace(B).target;
  }

  /** The output tensor of a batch of B rows: what the last forward(B) wrote. */
  output(B: number): Tensor {
    return this.workspace(B).acts[this.layers.length];
  }

  /** Runs every layer on input(B); returns the output tensor (owned by the model, valid until the next call).
   *  A fused Linear + activation pair leaves the pre-activation acts[i+1] unwritten: no backward reads it
   *  (the activation's backward uses its output y, the Linear's its input x). */
  forward(B: number): Tensor {
    const ws = this.workspace(B);
    const acts = ws.acts;
    for (let s = 0; s < this.plan.length; s++) {
      const { layer: i, act } = this.plan[s];
      this.step(s, acts[i], acts[act === null ? i + 1 : i + 2], ws.scratch[i]);
    }
    return acts[this.layers.length];
  }

  /** Forward step s of the plan: its layer alone, or the layer and the activation after it in one kernel. */
  private step(s: number, x: Tensor, y: Tensor, scratch: Tensor | null): void {
    const { layer, act } = this.plan[s];
    if (act === null) this.layers[layer].forward(x, y, scratch);
    else this.layers[layer].forwardFused!(x, y, act, scratch);
  }

  /** Training mode (off by default): Dropout masks with the masks of `step` (the global step count, so a resumed
   *  run draws the same ones); off, every layer is the identity it is at inference. The training step turns it on
   *  before each forward pass; predict and evaluate run with it off whatever it is. */
  setTraining(on: boolean, step = 0): void {
    check(typeof on === 'boolean', () => `setTraining: expected true or false, got ${typeof on === 'string' ? `'${on}'` : on}`, 'E_INVALID');
    check(Number.isInteger(step) && step >= 0, () => `setTraining: step must be an integer ≥ 0, got ${step}`, 'E_INVALID');
    // two fields, not a fresh object: a training step sets the mode twice and allocates nothing
    this.mode.on = on;
    this.mode.step = step;
    for (const layer of this.layers) layer.setTraining?.(on, step);
  }

  /** Whether training mode is on, and its step. */
  get training(): { on: boolean; step: number } {
    return { ...this.mode };
  }

  /** forward(B) with training off (the mode is put back after), and an error (not NaN outputs) when an output is NaN
   *  or ±Inf: rows start.. of a predict or an evaluation. Finite weights can still overflow float32 (a weight of 3e38
   *  passes every load check). */
  forwardFinite(B: number, start: number, what: string): Tensor {
    const { on, step } = this.mode;
    if (on) this.setTraining(false);
    let y: Tensor;
    try {
      y = this.forward(B);
    } finally {
      if (on) this.setTraining(true, step);
    }
    if (this.backend.kernels.has_non_finite(y.ptr, B * this.outputWidth) !== 0) throw nonFiniteOutput(start, B, what);
    return y;
  }

  /** Loss of the last forward(B) against target(B), and (when `backward`) its gradients accumulated. */
  loss(B: number, lossOrName: Loss | LossName, backward: boolean): number {
    const loss = getLoss(lossOrName);
    const ws = this.workspace(B);
    const L = this.layers.length;
    const k = this.backend.kernels;
    const out = ws.acts[L];
    const value = loss.value(k, out.ptr, ws.target.ptr, B, this.outputWidth);
    if (!backward) return value;
    this.weightsChanged(); // gradients: an update follows
    const r = this.lastComputing;
    const last = this.layers[Math.max(r, 0)];
    if (loss.fusedGradient && last.type === loss.fusesWith) {
      // fused: ∂L/∂z of the last layer's input, skipping its own backward (and the views after it, which change
      // no value)
      const dz = ws.grads[r];
      if (dz) loss.fusedGradient(k, dz.ptr, out.ptr, ws.target.ptr, B, this.outputWidth);
      this.backwardFrom(r - 1, ws);
    } else {
      if (loss.name === 'crossentropy') throw new SimdnetError(`loss crossentropy: the model must end with a Softmax layer, its last layer is ${last.type}`);
      loss.gradient(k, ws.grads[L]!.ptr, out.ptr, ws.target.ptr, B, this.outputWidth);
      this.backwardFrom(L - 1, ws);
    }
    return value;
  }

  /** Backpropagates ∂L/∂output (a (B, outputWidth) tensor you filled) through every layer. */
  backward(B: number, dOutput: Tensor): void {
    const ws = this.workspace(B);
    this.weightsChanged(); // gradients: an update follows
    check(dOutput?.backend === this.backend, () => `backward: the gradient tensor belongs to ${dOutput?.backend ? `another ${dOutput.backend.name} backend` : 'no backend'}, not this model's ${this.backend.name} backend`);
    check(dOutput.rows === B && dOutput.cols === this.outputWidth, () => `backward: expected a (${B}, ${this.outputWidth}) gradient, got (${dOutput.rows}, ${dOutput.cols})`);
    // trailing in-place layers (Flatten, Reshape) pass dOutput through as it is: start at the last layer before them
    const last = this.lastComputing;
    if (last < 0) return;
    this.layers[last].backward(ws.acts[last], ws.acts[last + 1], dOutput, ws.grads[last], ws.scratch[last]);
    this.backwardFrom(last - 1, ws);
  }

  private backwardFrom(last: number, ws: Workspace): void {
    for (let i = last; i >= 0; i--) this.layers[i].backward(ws.acts[i], ws.acts[i + 1], ws.grads[i + 1]!, ws.grads[i], ws.scratch[i]);
  }

  zeroGrad(): void {
    this.alive();
    this.weightsChanged(); // a training step follows
    this.backend.kernels.fill(this.grads.ptr, 0, this.grads.cols);
  }

  // ---- convenience on host arrays -----------------------------------------------------------------------

  /** Runs the model on the rows of x (a Float32Array of rows × inputWidth floats, or number[][]) with training off;
   *  returns rows × outputWidth floats. Batches are as large as PREDICT_BYTES of activations allow (or `batchSize`).
   *  An input NaN or ±Inf is refused with its row and column (as fit refuses one in its data), not passed through to
   *  that row's outputs. */
  predict(inputs: Rows, batchSize?: number): Float32Array {
    this.alive();
    const x = this.predictInputs(inputs);
    return this.predictBatches(x, batchSize, null);
  }

  /** predict into `out` (rows × outputWidth floats, e.g. the last call's): no output array per call. Returns out. */
  predictInto(out: Float32Array, inputs: Rows, batchSize?: number): Float32Array {
    this.alive();
    const x = this.predictInputs(inputs);
    const rows = x.length / this.inputWidth, outW = this.outputWidth;
    check(out instanceof Float32Array && out.length === rows * outW, () => `predictInto: expected out as a Float32Array of ${rows} rows × ${outW} = ${rows * outW} values, got ${out instanceof Float32Array ? `${out.length} values` : typeof out}`, 'E_SHAPE');
    return this.predictBatches(x, batchSize, out);
  }

  /** predict's batches over the rows of x, their outputs copied into `out`; without one (predict), into a new array:
   *  a single batch's is one slice of the heap (no zero-filled array first). */
  private predictBatches(x: Float32Array, batchSize: number | undefined, out: Float32Array | null): Float32Array {
    const inW = this.inputWidth, outW = this.outputWidth;
    const rows = x.length / inW;
    check(batchSize === undefined || (Number.isInteger(batchSize) && batchSize > 0), `predict: batchSize must be a positive integer, got ${batchSize}`);
    if (rows === 0) return out ?? new Float32Array(0);
    const B0 = Math.min(rows, batchSize ?? predictRows(this, bytesLeft(this.backend)));
    const inf = this.predictBuffers(B0);
    const k = this.backend.kernels;
    const { on, step } = this.mode;
    if (on) this.setTraining(false);
    try {
      for (let start = 0; start < rows; start += B0) {
        const B = Math.min(B0, rows - start);
        const acts = this.predictViews(inf, B);
        // in: one copy (views of both arrays: no allocation per batch); the input must be finite
        const input = acts[0];
        this.backend.heapF32().set(x.subarray(start * inW, (start + B) * inW), input.ptr >>> 2);
        if (k.has_non_finite(input.ptr, B * inW) !== 0) throw nonFiniteInput(x, inW, start, 'predict');
        const packed = B <= PACKED_ROWS ? this.packedWeights() : null;
        for (let s = 0; s < this.plan.length; s++) {
          const { layer, act } = this.plan[s];
          const p = packed?.[layer];
          if (p) this.layers[layer].forwardPacked!(acts[s], acts[s + 1], act ?? ACT.none, p);
          else this.step(s, acts[s], acts[s + 1], inf.scratch[layer]);
        }
        const y = acts[this.plan.length];
        if (k.has_non_finite(y.ptr, B * outW) !== 0) throw nonFiniteOutput(start, B, 'predict');
        const heap = this.backend.heapF32(), at = y.ptr >>> 2;
        if (!out && B === rows) out = heap.slice(at, at + B * outW);
        else (out ??= new Float32Array(rows * outW)).set(heap.subarray(at, at + B * outW), start * outW);
      }
    } finally {
      if (on) this.setTraining(true, step);
    }
    return out!;
  }

  private predictInputs(inputs: Rows): Float32Array {
    const x = toMatrix(inputs, this.inputWidth, 'predict');
    check(x != null && typeof x.length === 'number' && typeof x.subarray === 'function', 'predict: expected the inputs as a Float32Array (rows × inputWidth values)');
    check(x.length % this.inputWidth === 0, () => `predict: expected a multiple of ${this.inputWidth} values (rows × inputWidth), got ${x.length}`);
    return x;
  }

  /** predict's memory for batches of `rows` rows: two activation buffers (a step reads one and writes the other; an
   *  in-place layer stays in its input's) and the layers' scratch; no gradients, no target. Grown when a call needs
   *  more rows. */
  private predictBuffers(rows: number): Inference {
    const have = this.inference;
    if (have && have.rows >= rows) return have;
    const bytes = predictBytes(this, rows);
    const available = bytesLeft(this.backend) + (have ? predictBytes(this, have.rows) : 0);
    check(bytes <= available, () => `predict: batches of ${rows} rows need ${mib(bytes)} of activations, but WASM linear memory is limited to 4 GiB (${mib(available)} left); use a smaller batchSize`, 'E_MEMORY');
    this.freeInference();
    const blocks: Tensor[] = [];
    const alloc = (r: number, c: number) => {
      const t = this.backend.alloc(r, c);
      blocks.push(t);
      return t;
    };
    try {
      const width = Math.max(...this.widths);
      const bufs = [alloc(rows, width), alloc(rows, width)];
      const scratch = scratchSizes(this.layers, this.shapes, rows).map((n) => (n > 0 ? alloc(1, n) : null));
      this.inference = { rows, bufs, scratch, blocks, views: new Map() };
    } catch (e) {
      for (const t of blocks) this.backend.free(t);
      throw e;
    }
    return this.inference;
  }

  /** Each plan step's input and output for a batch of B rows, as views of the two buffers: made once per B (a
   *  predict has at most two: its batches and its last one). */
  private predictViews(inf: Inference, B: number): Tensor[] {
    let acts = inf.views.get(B);
    if (acts) return acts;
    if (inf.views.size >= 4) inf.views.clear();
    acts = [];
    let buf = 0;
    for (let s = 0; s <= this.plan.length; s++) {
      const i = s < this.plan.length ? this.plan[s].layer : this.layers.length;
      if (s > 0 && !this.layers[this.plan[s - 1].layer].inPlace) buf ^= 1; // the previous step wrote the other buffer
      const t = inf.bufs[buf];
      acts.push({ ptr: t.ptr, rows: B, cols: this.widths[i], backend: t.backend, id: t.id });
    }
    inf.views.set(B, acts);
    return acts;
  }

  /** The packed copy of the weights (packed), packed again when the weights changed since; null when linear memory
   *  cannot hold it (predict then runs the GEMM: slower for a few rows, the same bits). */
  private packedWeights(): (Tensor | null)[] | null {
    let pk = this.packed;
    if (!pk) {
      if (packedBytes(this) > bytesLeft(this.backend) / 2) return null;
      const tensors: (Tensor | null)[] = [];
      try {
        for (const layer of this.layers) {
          const n = layer.packedSize?.() ?? 0;
          tensors.push(n > 0 ? this.backend.alloc(1, n) : null);
        }
      } catch (e) {
        for (const t of tensors) if (t) this.backend.free(t);
        if (e instanceof RangeError) return null;
        throw e;
      }
      this.packed = pk = { tensors, fresh: false, finite: false };
    }
    if (!pk.fresh) {
      // the packed kernels skip weights whose inputs are 0 (assembly/gemm.ts, ZERO_SKIP): the GEMM's bits only for
      // finite weights (0·Inf is NaN), so weights that overflowed take the GEMM, whose NaN predict reports
      pk.finite = this.backend.kernels.has_non_finite(this.params.ptr, this.paramCount) === 0;
      if (pk.finite) pk.tensors.forEach((t, i) => t && this.layers[i].pack!(t));
      pk.fresh = true;
    }
    return pk.finite ? pk.tensors : null;
  }

  /** Tells the model its weights changed (setWeights, an optimizer step and the training calls say so themselves):
   *  predict packs its copy of them again before it next uses it. Call it after writing `params` any other way. */
  weightsChanged(): void {
    if (this.packed) this.packed.fresh = false;
  }

  private freeInference(): void {
    if (!this.inference) return;
    for (const t of this.inference.blocks) this.backend.free(t);
    this.inference = undefined;
  }

  /** Every parameter as one flat copy, laid out by `layout`; or, given a layer index, that layer's tensors by name. */
  getWeights(): Float32Array;
  getWeights(layer: number): NamedWeights[];
  getWeights(layer?: number): Float32Array | NamedWeights[] {
    this.alive();
    const all = this.backend.read(this.params);
    if (layer === undefined) return all;
    this.checkLayer('getWeights', layer);
    return this.layout.ofLayer(layer).map((s) => ({ name: s.name, shape: [...s.shape], values: this.layout.view(all, s).slice() }));
  }

  /** Sets every parameter from one flat array (laid out by `layout`); or, given a layer index, the named tensors
   *  of that layer (each { name, values }, shape optional but checked when given); checked before anything is written. */
  setWeights(weights: Float32Array): void;
  setWeights(layer: number, tensors: { name: string; shape?: readonly number[]; values: ArrayLike<number> }[]): void;
  setWeights(first: Float32Array | number, tensors?: { name: string; shape?: readonly number[]; values: ArrayLike<number> }[]): void {
    this.alive();
    this.notFitting('setWeights');
    if (typeof first !== 'number') {
      const weights = first;
      check(weights?.length === this.paramCount, () => `setWeights: expected ${this.paramCount} values, got ${weights?.length}`, 'E_SHAPE');
      for (let i = 0; i < weights.length; i++) if (!Number.isFinite(weights[i])) throw new SimdnetError(`setWeights: value ${i} is ${weights[i]}, expected finite numbers`);
      this.backend.write(this.params, weights);
      this.weightsChanged();
      return;
    }
    const layer = first;
    this.checkLayer('setWeights', layer);
    check(Array.isArray(tensors), 'setWeights: expected a list of { name, values } after the layer index');
    const all = this.backend.read(this.params);
    for (const t of tensors) {
      const slot = this.layout.slot(layer, t?.name);
      const where = `setWeights: layer ${layer} '${slot.name}'`;
      if (t.shape !== undefined) check(t.shape.length === slot.shape.length && t.shape.every((d, i) => d === slot.shape[i]), () => `${where}: expected shape [${slot.shape.join(', ')}], got [${[...t.shape!].join(', ')}]`, 'E_SHAPE');
      check(t.values?.length === slot.length, () => `${where}: expected ${slot.length} values, got ${t.values?.length}`, 'E_SHAPE');
      for (let i = 0; i < slot.length; i++) if (!Number.isFinite(t.values[i])) throw new SimdnetError(`${where}: value ${i} is ${t.values[i]}, expected finite numbers`);
      all.set(t.values, slot.offset);
    }
    this.backend.write(this.params, all);
    this.weightsChanged();
  }

  private checkLayer(what: string, layer: number): void {
    check(Number.isInteger(layer) && layer >= 0 && layer < this.layers.length, () => `${what}: expected a layer index from 0 to ${this.layers.length - 1}, got ${layer}`);
  }

  /** The largest |weight|, or NaN when a parameter is NaN or ±Inf (the divergence watch's measure of growth). */
  maxAbsWeight(): number {
    this.alive();
    if (!this.weightsFinite()) return NaN;
    const w = this.backend.heapF32().subarray(this.params.ptr >>> 2, (this.params.ptr >>> 2) + this.paramCount);
    let max = 0;
    for (let i = 0; i < w.length; i++) {
      const a = Math.abs(w[i]);
      if (a > max) max = a;
    }
    return max;
  }

  /** True when every parameter is finite. */
  weightsFinite(): boolean {
    this.alive();
    return this.backend.kernels.has_non_finite(this.params.ptr, this.paramCount) === 0;
  }

  /** Returns every block this model allocated to the backend. */
  dispose(): void {
    if (this.isDisposed) return;
    this.notFitting('dispose');
    for (const ws of this.workspaces.values()) for (const t of ws.blocks) this.backend.free(t);
    this.workspaces.clear();
    this.freeInference();
    for (const t of this.packed?.tensors ?? []) if (t) this.backend.free(t);
    this.packed = undefined;
    this.backend.free(this.params);
    this.backend.free(this.grads);
    this.isDisposed = true;
  }

  private notFitting(what: string): void {
    if (this.fitting.running && this.fitting.inCallback === 0)
      throw new SimdnetError(`${what}: ${this} is being trained by a fit() call; await it first (or call ${what} from one of its callbacks)`, 'E_LOCKED');
  }

  private alive(): void {
    if (this.isDisposed) throw new SimdnetError('Sequential: this model was disposed; build or load a new one', 'E_DISPOSED');
  }

  private workspace(B: number): Workspace {
    let ws = this.workspaces.get(B);
    if (ws) return ws;
    this.alive();
    check(Number.isInteger(B) && B > 0, `batch size: expected a positive integer, got ${B}`);
    // activations, their gradients, the target and the layers' scratch: checked as a whole first, so a batch too
    // big for memory fails before anything is allocated
    const bytes = workspaceBytes(this, B);
    const available = bytesLeft(this.backend);
    check(bytes <= available, () => `batch size ${B}: the activations need ${mib(bytes)}, but WASM linear memory is limited to 4 GiB (${mib(available)} left); use smaller batches`, 'E_MEMORY');
    const blocks: Tensor[] = [];
    const alloc = (w: number) => {
      const t = this.backend.alloc(B, w);
      blocks.push(t);
      return t;
    };
    try {
      // an in-place layer's output is its input (and its gradient the gradient of its input); grads[0] would be
      // ∂L/∂input, which nothing needs
      const own = ownTensors(this.layers);
      const acts: Tensor[] = [];
      this.widths.forEach((w, i) => acts.push(own.acts[i] ? alloc(w) : acts[i - 1]));
      const grads: (Tensor | null)[] = [];
      this.widths.forEach((w, i) => grads.push(own.grads[i] ? alloc(w) : i === 0 ? null : grads[i - 1]));
      const target = alloc(this.outputWidth);
      const scratch = scratchSizes(this.layers, this.shapes, B).map((n) => (n > 0 ? this.backend.alloc(1, n) : null));
      for (const t of scratch) if (t) blocks.push(t);
      ws = { acts, grads, target, scratch, blocks };
    } catch (e) {
      for (const t of blocks) this.backend.free(t);
      throw e;
    }
    this.workspaces.set(B, ws);
    return ws;
  }
}

/** The input shape Sequential's options give: inputShape (checked against inputWidth when both are given), else
 *  [inputWidth], else the first layer's when it is a Linear. */
function modelInputShape(first: Layer, inputShape: readonly number[] | undefined, inputWidth: number | undefined): Shape {
  if (inputShape !== undefined) {
    const shape = checkShape(inputShape, 'Sequential: options.inputShape');
    check(inputWidth === undefined || inputWidth === shapeSize(shape), () => `Sequential: options.inputShape ${showShape(shape)} holds ${shapeSize(shape)} values, options.inputWidth says ${inputWidth}`, 'E_SHAPE');
    return shape;
  }
  if (inputWidth !== undefined) return checkShape([inputWidth], 'Sequential: options.inputWidth');
  const spec = first.spec();
  check(spec.type === 'linear', () => `Sequential: the first layer is ${spec.type}, not Linear, so options.inputShape or options.inputWidth is required (e.g. inputShape: [1, 28, 28])`, 'E_SHAPE');
  return [spec.type === 'linear' ? spec.in : 0];
}

/** The forward steps: each layer that can fuse followed by a fusable activation becomes one step (when `fuse`). */
function forwardPlan(layers: Layer[], fuse: boolean): ForwardStep[] {
  const plan: ForwardStep[] = [];
  for (let i = 0; i < layers.length; i++) {
    const act = fuse && layers[i].forwardFused && i + 1 < layers.length ? layers[i + 1].fusableAct : undefined;
    plan.push({ layer: i, act: act ?? null });
    if (act !== undefined) i++; // the activation's forward is done by the fused step
  }
  return plan;
}

/** Non-finite outputs of finite inputs: the weights overflow float32 (a weight of 3e38 passes every load check). */
function nonFiniteOutput(start: number, B: number, what: string): SimdnetError {
  return new SimdnetError(`${what}: the model's outputs for rows ${start}..${start + B - 1} are not finite (NaN or ±Inf): its weights overflow in float32; retrain with a lower learning rate`, 'E_DIVERGED');
}

/** The first NaN or ±Inf of x from row `start` on, named as fit names one in its data: the input is refused, not
 *  blamed on the weights as non-finite outputs would be. */
function nonFiniteInput(x: Float32Array, width: number, start: number, what: string): SimdnetError {
  let i = start * width;
  while (Number.isFinite(x[i])) i++;
  return new SimdnetError(`${what}: input value ${x[i]} at row ${Math.floor(i / width)}, column ${i % width}; the inputs must be finite numbers`, 'E_INVALID');
}

/** A layer as the summary names it: Linear(784, 128), ReLU, … (or as it describes itself). */
function layerName(l: Layer): string {
  if (l.describe) return l.describe();
  const s = l.spec();
  if (s.type === 'linear') return `Linear(${s.in}, ${s.out})`;
  if (s.type === 'dropout') return `Dropout(${s.rate})`;
  const names: Record<string, string> = { relu: 'ReLU', tanh: 'Tanh', sigmoid: 'Sigmoid', softmax: 'Softmax' };
  return names[s.type] ?? s.type[0].toUpperCase() + s.type.slice(1);
}
