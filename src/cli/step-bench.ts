// Training-step throughput (samples/s) of a model on each backend, measured side by side in one process.

import { createBackend } from '../backend/index.js';
import type { BackendName } from '../backend/backend.js';
import type { LossName } from '../losses.js';
import { autoencoder } from '../models.js';
import { createOptimizer, type OptimizerName } from '../optimizers.js';
import { Rng } from '../random.js';
import { trainStep } from '../training/step.js';

export interface StepBenchCase {
  name: string;
  hidden: number[];
  batchSize: number;
  loss: LossName;
  optimizer: OptimizerName;
}

export const REFERENCE_STEP: StepBenchCase = { name: '784-128-784 bce adam b64', hidden: [128], batchSize: 64, loss: 'bce', optimizer: 'adam' };
export const DEEP_STEP: StepBenchCase = { name: '784-256-64-256-784 mse sgd b128', hidden: [256, 64, 256], batchSize: 128, loss: 'mse', optimizer: 'sgd' };

/** Median samples/s over `rounds` rounds of `steps` training steps (trainStep: forward, loss, backward, update). */
export async function measureSteps(backendName: BackendName, c: StepBenchCase, steps = 20, rounds = 5, threads?: number): Promise<number> {
  const backend = await createBackend(backendName, backendName === 'wasm' ? { threads } : {});
  const model = autoencoder(backend, { hidden: c.hidden, seed: 1 });
  const optimizer = createOptimizer(c.optimizer);
  const rng = new Rng(2);
  const B = c.batchSize;
  const x = Float32Array.from({ length: B * 784 }, () => rng.next());
  backend.write(model.input(B), x);
  backend.write(model.target(B), x);
  const step = () => trainStep(model, B, c.loss, optimizer);
  for (let i = 0; i < 3; i++) step(); // warm up the JIT and allocate state
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) step();
    rates.push((steps * B) / ((performance.now() - t0) / 1000));
  }
  optimizer.dispose();
  model.dispose();
  backend.dispose();
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)];
}
