// evaluate: a model's loss and metrics on a set (fit's validation and test scores, the CLI's eval), in forward
// passes of at most batchSize rows, with training mode off.

import { accuracy, meanSquaredError, psnr } from '../metrics.js';
import type { LossName } from '../losses.js';
import type { Sequential } from '../model.js';
import { checkSet } from './sets.js';
import type { FitSet } from './types.js';

export interface Evaluation {
  testLoss: number;
  testMse: number;
  psnrNoisy?: number;
  psnrDenoised?: number;
  testAccuracy?: number;
}

/** Loss and metrics of the model on a set, and its predictions. For an image task (input width = output
 *  width) the PSNR of the input x against the target y is that of the noisy input. */
export function evaluate(model: Sequential, set: FitSet, options: { loss: LossName; batchSize?: number; accuracy?: boolean }): Evaluation & { predictions: Float32Array } {
  const inW = model.inputWidth;
  const outW = model.outputWidth;
  checkSet('evaluate', set, inW, outW);
  const count = set.x.length / inW;
  const B = Math.min(options.batchSize ?? 256, count);
  const predictions = new Float32Array(count * outW);
  const backend = model.backend;
  let lossSum = 0;
  for (let start = 0; start < count; start += B) {
    const rows = Math.min(B, count - start);
    backend.write(model.input(rows), set.x, start * inW);
    backend.write(model.target(rows), set.y, start * outW);
    const out = model.forwardFinite(rows, start, 'evaluate');
    lossSum += model.loss(rows, options.loss, false) * rows;
    predictions.set(backend.read(out).subarray(0, rows * outW), start * outW);
  }
  const testMse = meanSquaredError(predictions, set.y);
  const result: Evaluation & { predictions: Float32Array } = { testLoss: lossSum / count, testMse, predictions };
  if (inW === outW) {
    result.psnrNoisy = psnr(meanSquaredError(set.x, set.y));
    result.psnrDenoised = psnr(testMse);
  }
  if (options.loss === 'crossentropy' || options.accuracy) result.testAccuracy = accuracy(predictions, set.y, outW);
  return result;
}
