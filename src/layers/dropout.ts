// Dropout (inverted, Srivastava et al. 2014): in training, each element is kept with probability 1 − rate and
// scaled by 1/(1 − rate); out of training (predict, evaluate) it is the identity. Never fused with a Linear.
//
// The mask is not random state but a function: element i of a batch in step s is kept when the draw
// rand(i) of assembly/dropout.ts with the keys noiseKey(layerSeed, s) is ≥ rate, so the same step gives the same
// mask on any backend, any thread count, and after a resume (the layer's seed is in its spec, so in model files).
// Backward recomputes the mask from the same keys rather than storing it: no memory per batch size, nothing to
// keep in step between forward and backward, and the hash costs about what reading a stored mask would.

import type { Backend, Kernels, Tensor } from '../backend/backend.js';
import { noiseKey } from '../backend/noise-js.js';
import { check } from '../errors.js';
import type { Layer, LayerSpec, Shape } from './layer.js';

// the noise streams of a layer seed: far from the data pipeline's (epochs, test set), one per layer
const DROPOUT_STREAM = 0x44524f50; // 'DROP'

export class Dropout implements Layer {
  readonly type = 'dropout';
  readonly params = [] as const;
  readonly rate: number;
  private k!: Kernels;
  private layerSeed: number | undefined;
  /** The rate of the current mode (0 out of training: every element kept, scale 1) and the step's keys. */
  private active = 0;
  private k0 = 0;
  private k1 = 0;

  /** `seed`: the layer's own seed (default: drawn from the model's seed and the layer's index). */
  constructor(rate: number, options: { seed?: number } = {}) {
    check(typeof rate === 'number' && Number.isFinite(rate) && rate >= 0 && rate < 1, () => `Dropout: rate must be a number in [0, 1), got ${typeof rate === 'string' ? `'${rate}'` : rate}`, 'E_INVALID');
    const seed = options?.seed;
    check(seed === undefined || (Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32), () => `Dropout: seed must be an integer in [0, 2^32), got ${seed}`, 'E_INVALID');
    this.rate = rate;
    this.layerSeed = seed;
  }

  /** Any shape, as it is (elementwise). */
  outputShape(inShape: Shape, _where: string): Shape {
    return inShape;
  }
  bind(backend: Backend): void {
    this.k = backend.kernels;
  }

  /** Called by Sequential when it is built: the seed, unless the spec gave one. */
  seedFrom(modelSeed: number, index: number): void {
    this.layerSeed ??= noiseKey(modelSeed, DROPOUT_STREAM + index)[0];
  }

  /** Called by Sequential.setTraining: on, the mask of `step`; off, the identity. */
  setTraining(on: boolean, step: number): void {
    this.active = on ? this.rate : 0;
    [this.k0, this.k1] = noiseKey(this.layerSeed ?? 0, step);
  }

  forward(x: Tensor, y: Tensor): void {
    this.k.dropout_apply(y.ptr, x.ptr, this.active, this.k0, this.k1, 0, x.rows * x.cols);
  }
  backward(_x: Tensor, _y: Tensor, dy: Tensor, dx: Tensor | null): void {
    // ∂y/∂x is the same mask times the same scale: the same kernel on dy
    if (dx) this.k.dropout_apply(dx.ptr, dy.ptr, this.active, this.k0, this.k1, 0, dy.rows * dy.cols);
  }
  spec(): LayerSpec {
    return this.layerSeed === undefined ? { type: 'dropout', rate: this.rate } : { type: 'dropout', rate: this.rate, seed: this.layerSeed };
  }
}
