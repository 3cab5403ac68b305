// Image-quality and classification metrics on host arrays (0..1 pixels).

/** Mean squared error between two equal-length arrays, in float64. */
export function meanSquaredError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
  return sum / a.length;
}

/** PSNR in dB for pixels in 0..1: 10·log10(1/MSE). */
export function psnr(mse: number): number {
  return 10 * Math.log10(1 / mse);
}

/** Fraction of rows whose argmax matches the argmax of the one-hot target. */
export function accuracy(pred: Float32Array, target: Float32Array, width: number): number {
  const rows = pred.length / width;
  let right = 0;
  for (let r = 0; r < rows; r++) if (argmax(pred, r * width, width) === argmax(target, r * width, width)) right++;
  return right / rows;
}

function argmax(a: Float32Array, start: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (a[start + j] > a[start + best]) best = j;
  return best;
}
