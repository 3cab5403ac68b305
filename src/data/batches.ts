// The data pipeline of fit: the training set copied into the backend's memory once, each epoch's order written
// there, and every batch gathered — with its input noise — by one kernel (gather_noise), split across the
// backend's threads. The noise of a pixel depends only on (seed, stream, row, column): the same for any batch
// order, batch size or thread count, so a resumed run redraws exactly what the straight run drew.

import { NOISE, type Backend, type Tensor } from '../backend/backend.js';
import { noiseKey } from '../backend/noise-js.js';
import { checkNoise, type NoiseKind } from './noise.js';

/** The test set's noise stream (training epochs use epoch + 1, fixed noise stream 0). */
export const TEST_NOISE_STREAM = 0x7e57da7a;

/** A noise kind and factor with the keys of one stream. */
export interface NoiseDraw {
  code: number;
  factor: number;
  k0: number;
  k1: number;
}

export function noiseDraw(kind: NoiseKind, factor: number, seed: number, stream: number): NoiseDraw {
  checkNoise(kind, factor);
  const [k0, k1] = noiseKey(seed, stream);
  return { code: NOISE[kind], factor, k0, k1 };
}

export class DeviceSet {
  readonly rows: number;
  private readonly x: Tensor;
  private readonly y: Tensor; // the same tensor as x when the targets are the inputs (an autoencoder)
  private readonly order: Tensor; // i32 row indices
  private disposed = false;

  constructor(readonly backend: Backend, x: Float32Array, y: Float32Array, readonly inW: number, readonly outW: number) {
    this.rows = x.length / inW;
    const blocks: Tensor[] = [];
    try {
      this.x = backend.alloc(this.rows, inW);
      blocks.push(this.x);
      backend.write(this.x, x);
      if (y === x) this.y = this.x;
      else {
        this.y = backend.alloc(this.rows, outW);
        blocks.push(this.y);
        backend.write(this.y, y);
      }
      this.order = backend.alloc(1, this.rows);
    } catch (e) {
      for (const t of blocks) backend.free(t); // never half a set
      throw e;
    }
  }

  /** This epoch's row order (a permutation of 0..rows−1). */
  setOrder(order: Int32Array): void {
    new Int32Array(this.backend.memory.buffer, this.order.ptr, this.rows).set(order);
  }

  /** input, target (rows, ·) = the rows order[start .. start+rows), the inputs with `noise` (or clean). */
  gather(input: Tensor, target: Tensor, start: number, rows: number, noise: NoiseDraw | null): void {
    const k = this.backend.kernels;
    const idx = this.order.ptr + 4 * start;
    if (noise) k.gather_noise(input.ptr, this.x.ptr, idx, 0, rows, this.inW, noise.code, noise.factor, noise.k0, noise.k1);
    else k.gather_noise(input.ptr, this.x.ptr, idx, 0, rows, this.inW, NOISE.none, 0, 0, 0);
    k.gather_noise(target.ptr, this.y.ptr, idx, 0, rows, this.outW, NOISE.none, 0, 0, 0);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.backend.free(this.order);
    if (this.y !== this.x) this.backend.free(this.y);
    this.backend.free(this.x);
  }
}

/** clean with the noise of `draw` applied to every row (row r uses the stream's row r), computed by the backend's
 *  kernel: the same values fit's evaluation sees. */
export function noisyCopy(backend: Backend, clean: Float32Array, width: number, draw: NoiseDraw): Float32Array {
  const rows = clean.length / width;
  const src = backend.alloc(rows, width);
  let dst: Tensor | undefined;
  try {
    dst = backend.alloc(rows, width);
    backend.write(src, clean);
    backend.kernels.gather_noise(dst.ptr, src.ptr, 0, 0, rows, width, draw.code, draw.factor, draw.k0, draw.k1);
    return backend.read(dst);
  } finally {
    if (dst) backend.free(dst);
    backend.free(src);
  }
}
