// Shapes: the one owner of the shape chain (a model's input shape, then each layer's output shape) and of the
// output-size formulas of conv, transposed conv, pooling, upsampling and pixel shuffle (PyTorch's and ONNX's).
// Layers call these; Sequential, the model file, ONNX export, the summary and memory.ts read the chain from
// layerShapes.

import { SimdnetError, check } from '../errors.js';
import type { Layer, Pads, Pair, Shape } from './layer.js';

export type { Shape, Pair, Pads } from './layer.js';

/** Values in one sample of a shape: the product of its dimensions (a row's width in a kernel's tensor). */
export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** `[1, 28, 28]` → "[1, 28, 28]" (a shape in messages). */
export function showShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** A batch of a shape as summary() prints it: "(B, 32, 28, 28)". */
export function batchShape(shape: Shape): string {
  return `(B, ${shape.join(', ')})`;
}

/** Checks a per-sample shape (1 to 3 positive integer dimensions) and returns a frozen copy. */
export function checkShape(shape: unknown, what: string): Shape {
  check(Array.isArray(shape) && shape.length >= 1 && shape.length <= 3 && shape.every((d) => Number.isInteger(d) && d > 0),
    () => `${what}: expected a shape of 1 to 3 positive integers ([features] or [C, H, W]), got ${JSON.stringify(shape)}`, 'E_SHAPE');
  return Object.freeze([...(shape as number[])]);
}

/** The shape chain: the input shape, then each layer's output shape. Throws E_SHAPE naming the layer ("layer 3
 *  (linear): …") when a layer cannot take the shape before it. */
export function layerShapes(layers: readonly Layer[], inputShape: Shape): Shape[] {
  const shapes: Shape[] = [checkShape(inputShape, 'input shape')];
  layers.forEach((layer, i) => {
    const out = layer.outputShape(shapes[i], `layer ${i} (${layer.type})`);
    shapes.push(checkShape(out, `layer ${i} (${layer.type}) output shape`));
  });
  return shapes;
}

/** f32 elements of scratch a chain's layers declare for a batch of `batch` rows, layer by layer (0: none). */
export function scratchSizes(layers: readonly Layer[], shapes: readonly Shape[], batch: number): number[] {
  return layers.map((layer, i) => {
    const n = layer.scratchSize ? layer.scratchSize(batch, shapes[i]) : 0;
    check(Number.isInteger(n) && n >= 0, () => `layer ${i} (${layer.type}): scratchSize(${batch}) must be an integer ≥ 0, got ${n}`, 'E_INVALID');
    return n;
  });
}

// ---- output sizes along one axis (PyTorch's and ONNX's formulas) -------------------------------------------

/** Convolution and pooling (floor mode): floor((n + padBegin + padEnd − k) / s) + 1. */
export function convOutSize(n: number, k: number, s: number, padBegin: number, padEnd: number): number {
  return Math.floor((n + padBegin + padEnd - k) / s) + 1;
}

/** Transposed convolution: (n − 1)·s − padBegin − padEnd + k + outputPadding. */
export function convTransposeOutSize(n: number, k: number, s: number, padBegin: number, padEnd: number, outputPadding: number): number {
  return (n - 1) * s - padBegin - padEnd + k + outputPadding;
}

/** Nearest upsampling by an integer factor. */
export function upsampleOutSize(n: number, scale: number): number {
  return n * scale;
}

/** 'same' padding (ONNX SAME_UPPER, Keras/TF 'same'): output ceil(n/s); total pad max((ceil(n/s) − 1)·s + k − n, 0),
 *  begin floor(total/2), end the rest. Returns [begin, end]. */
export function samePadding(n: number, k: number, s: number): [number, number] {
  const total = Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
  const begin = Math.floor(total / 2);
  return [begin, total - begin];
}

// ---- 2-D: [C, H, W] shapes, for the conv and pool layers ---------------------------------------------------

/** The input as [C, H, W]; E_SHAPE naming `where` when it is not an image (e.g. a flat [784]: reshape it first). */
export function imageShape(inShape: Shape, where: string, layer: string): [number, number, number] {
  check(inShape.length === 3, () => `${where}: ${layer} expects an input of shape [C, H, W], got ${showShape(inShape)}${inShape.length === 1 ? ' (a Reshape before it makes one)' : ''}`, 'E_SHAPE');
  return [inShape[0], inShape[1], inShape[2]];
}

/** Pads for an [H, W] input: explicit ones as they are, 'same' resolved (samePadding on each axis). */
export function resolvePads(padding: Pads | 'same', H: number, W: number, kernel: Pair, stride: Pair): Pads {
  if (padding !== 'same') return padding;
  const [top, bottom] = samePadding(H, kernel[0], stride[0]);
  const [left, right] = samePadding(W, kernel[1], stride[1]);
  return [top, left, bottom, right];
}

/** [H, W] out of a conv or pool window; E_SHAPE when the window does not fit (an output of size < 1). */
export function windowOutput(H: number, W: number, kernel: Pair, stride: Pair, pads: Pads, where: string, layer: string): Pair {
  const Ho = convOutSize(H, kernel[0], stride[0], pads[0], pads[2]);
  const Wo = convOutSize(W, kernel[1], stride[1], pads[1], pads[3]);
  check(Ho >= 1 && Wo >= 1, () => `${where}: ${layer} on a ${H}×${W} input with pads [${pads.join(', ')}] gives a ${Ho}×${Wo} output; the ${kernel[0]}×${kernel[1]} window must fit in the padded input`, 'E_SHAPE');
  return [Ho, Wo];
}

/** Conv2D's output shape: [out, Ho, Wo] for an [in, H, W] input. */
export function conv2dOutputShape(inShape: Shape, where: string, layer: string, o: { in: number; out: number; kernel: Pair; stride: Pair; padding: Pads | 'same' }): Shape {
  const [C, H, W] = imageShape(inShape, where, layer);
  check(C === o.in, () => `${where}: ${layer} expects ${o.in} input channels, got ${showShape(inShape)} (${C} channels)`, 'E_SHAPE');
  return [o.out, ...windowOutput(H, W, o.kernel, o.stride, resolvePads(o.padding, H, W, o.kernel, o.stride), where, layer)];
}

/** ConvTranspose2D's output shape: [out, Ho, Wo] for an [in, H, W] input. */
export function convTranspose2dOutputShape(inShape: Shape, where: string, layer: string, o: { in: number; out: number; kernel: Pair; stride: Pair; padding: Pads; outputPadding: Pair }): Shape {
  const [C, H, W] = imageShape(inShape, where, layer);
  check(C === o.in, () => `${where}: ${layer} expects ${o.in} input channels, got ${showShape(inShape)} (${C} channels)`, 'E_SHAPE');
  const Ho = convTransposeOutSize(H, o.kernel[0], o.stride[0], o.padding[0], o.padding[2], o.outputPadding[0]);
  const Wo = convTransposeOutSize(W, o.kernel[1], o.stride[1], o.padding[1], o.padding[3], o.outputPadding[1]);
  check(Ho >= 1 && Wo >= 1, () => `${where}: ${layer} on a ${H}×${W} input gives a ${Ho}×${Wo} output; its pads [${o.padding.join(', ')}] are too large`, 'E_SHAPE');
  return [o.out, Ho, Wo];
}

/** MaxPool2D's and AvgPool2D's output shape: [C, Ho, Wo]. */
export function pool2dOutputShape(inShape: Shape, where: string, layer: string, o: { kernel: Pair; stride: Pair; padding: Pads }): Shape {
  const [C, H, W] = imageShape(inShape, where, layer);
  return [C, ...windowOutput(H, W, o.kernel, o.stride, o.padding, where, layer)];
}

/** Upsample2D's output shape: [C, H·sh, W·sw]. */
export function upsample2dOutputShape(inShape: Shape, where: string, layer: string, scale: Pair): Shape {
  const [C, H, W] = imageShape(inShape, where, layer);
  return [C, upsampleOutSize(H, scale[0]), upsampleOutSize(W, scale[1])];
}

/** PixelUnshuffle2D's output shape: [C·r², H/r, W/r]; E_SHAPE unless r divides H and W. */
export function pixelUnshuffle2dOutputShape(inShape: Shape, where: string, layer: string, r: number): Shape {
  const [C, H, W] = imageShape(inShape, where, layer);
  check(H % r === 0 && W % r === 0, () => `${where}: ${layer} needs H and W divisible by its factor ${r}, got ${showShape(inShape)} (${H}×${W})`, 'E_SHAPE');
  return [C * r * r, H / r, W / r];
}

/** PixelShuffle2D's output shape: [C/r², H·r, W·r]; E_SHAPE unless r² divides C. */
export function pixelShuffle2dOutputShape(inShape: Shape, where: string, layer: string, r: number): Shape {
  const [C, H, W] = imageShape(inShape, where, layer);
  check(C % (r * r) === 0, () => `${where}: ${layer} needs channels divisible by its factor² ${r * r}, got ${showShape(inShape)} (${C} channels)`, 'E_SHAPE');
  return [C / (r * r), H * r, W * r];
}

// ---- constructor arguments, as PyTorch takes them ----------------------------------------------------------

/** A kernel, stride, scale or output padding given as n or [h, w]: [h, w], each an integer ≥ `min`. */
export function toPair(v: unknown, what: string, min = 1): Pair {
  const pair = typeof v === 'number' ? [v, v] : v;
  if (Array.isArray(pair) && pair.length === 2 && pair.every((d) => Number.isInteger(d) && d >= min)) return [pair[0], pair[1]];
  throw new SimdnetError(`${what}: expected an integer ≥ ${min} or [h, w] of them, got ${JSON.stringify(v)}`, 'E_INVALID');
}

/** Padding given as n, [ph, pw], [top, left, bottom, right] or (when `same` is allowed) 'same'. */
export function toPads(v: unknown, what: string, allowSame: boolean): Pads | 'same' {
  if (v === 'same' && allowSame) return 'same';
  const ok = (a: unknown[]) => a.every((d) => Number.isInteger(d) && (d as number) >= 0);
  if (typeof v === 'number' && ok([v])) return [v, v, v, v];
  if (Array.isArray(v) && v.length === 2 && ok(v)) return [v[0], v[1], v[0], v[1]];
  if (Array.isArray(v) && v.length === 4 && ok(v)) return [v[0], v[1], v[2], v[3]];
  throw new SimdnetError(`${what}: expected an integer ≥ 0, [ph, pw], [top, left, bottom, right]${allowSame ? " or 'same'" : ''}, got ${JSON.stringify(v)}`, 'E_INVALID');
}
