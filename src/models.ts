// Ready-made models: the denoising autoencoder of the reference, with any hidden stack, and its convolutional
// twin (a stack of 'same' convolutions at full resolution).

import type { Backend } from './backend/backend.js';
import { check } from './errors.js';
import { IMAGE_WIDTH } from './data/dataset.js';
import { activationLayer, type InitName, type LayerSpec } from './layers/index.js';
import { Sequential, type ModelSpec } from './model.js';

export interface AutoencoderOptions {
  /** 'dense' (the default); `autoencoder(backend, { kind: 'conv' })` takes ConvAutoencoderOptions. */
  kind?: 'dense';
  /** Hidden layer sizes, e.g. [128] (the reference) or [256, 64, 256]. */
  hidden?: number[];
  /** Hidden activation: relu (the reference), tanh or sigmoid. */
  activation?: string;
  init?: InitName;
  /** Pixels per image (784 for MNIST). */
  width?: number;
  /** Dropout rate after each hidden activation (default 0: no Dropout layers). */
  dropout?: number;
  seed?: number;
}

/** The autoencoder's layer list: width → hidden… (activation, then Dropout when `dropout` > 0) → width Sigmoid, so
 *  outputs are pixels in 0..1.
 *  The one description of it: autoencoder() builds it, a resumed run checks its checkpoint against it. */
export function autoencoderSpec(options: Omit<AutoencoderOptions, 'seed'> = {}): ModelSpec {
  const width = options.width ?? IMAGE_WIDTH;
  const hidden = options.hidden ?? [128];
  check(Array.isArray(hidden) && hidden.length > 0 && hidden.every((h) => Number.isInteger(h) && h > 0), `autoencoder: hidden sizes must be positive integers, got [${hidden.join(', ')}]`);
  const activation = activationLayer(options.activation ?? 'relu').spec(); // validates the name
  const rate = options.dropout ?? 0;
  check(typeof rate === 'number' && rate >= 0 && rate < 1, `autoencoder: dropout must be a rate in [0, 1), got ${rate}`, 'E_INVALID');
  const dropout: LayerSpec[] = rate > 0 ? [{ type: 'dropout', rate }] : [];
  const layers: LayerSpec[] = [];
  let from = width;
  for (const h of hidden) {
    layers.push({ type: 'linear', in: from, out: h, ...(options.init ? { init: options.init } : {}) }, activation, ...dropout);
    from = h;
  }
  layers.push({ type: 'linear', in: from, out: width, ...(options.init ? { init: options.init } : {}) }, { type: 'sigmoid' });
  return { inputWidth: width, layers };
}

export interface ConvAutoencoderOptions {
  /** Feature maps of each hidden convolution (each k×k, 'same', then ReLU); default [32, 32, 32, 32]. */
  channels?: number[];
  /** Kernel size of every convolution (odd); default 3. */
  kernel?: number;
  /** Per-sample image shape [C, H, W]; default [1, 28, 28] (MNIST). */
  imageShape?: [number, number, number];
  /** Work at 1/r the resolution: PixelUnshuffle2D(r) before the convolutions (which then take and give C·r²
   *  channels) and PixelShuffle2D(r) after them, before the Sigmoid. 1 or absent: none (full resolution). */
  pixelShuffle?: number;
  init?: InitName;
  seed?: number;
}

/** The default image shape of the conv models: one channel of 28×28 (MNIST). */
export const IMAGE_SHAPE: [number, number, number] = [1, 28, 28];

/** The conv denoiser's layer list: image → conv k×k 'same' + ReLU per entry of `channels` → conv back to the image's
 *  channels + Sigmoid (pixels in 0..1); with `pixelShuffle` r > 1 the convolutions sit between PixelUnshuffle2D(r)
 *  and PixelShuffle2D(r) (on C·r² channels at H/r × W/r), and the Sigmoid comes last still, so BCE keeps its fused
 *  gradient. The one description of it, as autoencoderSpec is of the dense one. */
export function convAutoencoderSpec(options: Omit<ConvAutoencoderOptions, 'seed'> = {}): ModelSpec {
  const [C, H, W] = options.imageShape ?? IMAGE_SHAPE;
  check([C, H, W].every((n) => Number.isInteger(n) && n > 0), `conv autoencoder: imageShape must be three positive integers [C, H, W], got [${options.imageShape?.join(', ')}]`);
  const channels = options.channels ?? [32, 32, 32, 32];
  check(Array.isArray(channels) && channels.length > 0 && channels.every((c) => Number.isInteger(c) && c > 0), `conv autoencoder: channels must be positive integers, got [${channels.join(', ')}]`);
  const k = options.kernel ?? 3;
  check(Number.isInteger(k) && k > 0 && k % 2 === 1, `conv autoencoder: kernel must be an odd positive integer (so 'same' keeps the size), got ${k}`);
  const r = options.pixelShuffle ?? 1;
  check(Number.isInteger(r) && r >= 1, `conv autoencoder: pixelShuffle must be an integer ≥ 1 (1: none), got ${r}`);
  check(H % r === 0 && W % r === 0, `conv autoencoder: pixelShuffle ${r} must divide the image's height and width, got ${H}×${W}`, 'E_SHAPE');
  const conv = (from: number, to: number): LayerSpec => ({ type: 'conv2d', in: from, out: to, kernel: [k, k], stride: [1, 1], padding: 'same', bias: true, ...(options.init ? { init: options.init } : {}) });
  const layers: LayerSpec[] = r > 1 ? [{ type: 'pixel-unshuffle2d', factor: r }] : [];
  const depth = C * r * r;
  let from = depth;
  for (const c of channels) {
    layers.push(conv(from, c), { type: 'relu' });
    from = c;
  }
  layers.push(conv(from, depth), ...(r > 1 ? [{ type: 'pixel-shuffle2d', factor: r } as const] : []), { type: 'sigmoid' });
  return { inputWidth: C * H * W, inputShape: [C, H, W], layers };
}

/** The dense autoencoder (default), or with `kind: 'conv'` the conv denoiser (convAutoencoderSpec). */
export function autoencoder(backend: Backend, options: AutoencoderOptions | (ConvAutoencoderOptions & { kind: 'conv' }) = {}): Sequential {
  if ((options as { kind?: string }).kind === 'conv') return Sequential.fromSpec(convAutoencoderSpec(options as ConvAutoencoderOptions), { backend, seed: options.seed });
  return Sequential.fromSpec(autoencoderSpec(options as AutoencoderOptions), { backend, seed: options.seed });
}

/** A model's layer chain in words, e.g. "linear 784→128, relu, dropout 0.2, linear 128→784, sigmoid" (init and
 *  dropout seeds not included). */
export function describeLayers(spec: ModelSpec): string {
  return spec.layers.map(describeLayer).join(', ');
}

function describeLayer(l: LayerSpec): string {
  switch (l.type) {
    case 'linear': return `linear ${l.in}→${l.out}`;
    case 'dropout': return `dropout ${l.rate}`;
    case 'conv2d': return `conv ${l.in}→${l.out} ${l.kernel.join('×')}${l.stride.some((s) => s !== 1) ? ` s${l.stride.join('×')}` : ''}`;
    case 'conv-transpose2d': return `conv-transpose ${l.in}→${l.out} ${l.kernel.join('×')} s${l.stride.join('×')}`;
    case 'maxpool2d': case 'avgpool2d': return `${l.type === 'maxpool2d' ? 'maxpool' : 'avgpool'} ${l.kernel.join('×')}`;
    case 'upsample2d': return `upsample ×${l.scale.join('×')}`;
    case 'pixel-unshuffle2d': return `pixel-unshuffle ${l.factor}`;
    case 'pixel-shuffle2d': return `pixel-shuffle ${l.factor}`;
    default: return l.type;
  }
}
