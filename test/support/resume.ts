// A fit run on the wasm backend, straight through or crashed right after a checkpoint and resumed from it on a fresh
// backend: what the checkpoint tests of each kind of model (Dropout's, the conv denoiser's) hold to the same bits.

import { expect } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { createWasmBackend } from '../../src/backend/wasm.js';
import type { FitInput } from '../../src/data/convert.js';
import { decodeCheckpoint, encodeCheckpoint, restoreCheckpoint } from '../../src/formats/checkpoint.js';
import type { Sequential } from '../../src/model.js';
import { createOptimizer, type OptimizerName } from '../../src/optimizers.js';
import { fit } from '../../src/training/fit.js';
import type { FitOptions, Progress } from '../../src/training/types.js';

export interface Run {
  /** the model on a backend, built the same way (layers, seed) for every run */
  build: (backend: Backend) => Sequential;
  input: FitInput;
  options: Omit<FitOptions, 'optimizer' | 'resume' | 'checkpointEvery' | 'onCheckpoint'>;
  optimizer: OptimizerName;
}

/** The run straight through on `threads` kernel threads; `read` takes what the test compares off the model. */
export async function straightRun<T>(run: Run, threads: number, read: (model: Sequential) => T): Promise<T> {
  const be = await createWasmBackend({ threads });
  try {
    const model = run.build(be);
    await fit(model, run.input, { ...run.options, optimizer: createOptimizer(run.optimizer) });
    return read(model);
  } finally {
    be.dispose();
  }
}

/** The run on `crash.threads` threads with a checkpoint every `crash.every` batches, crashing (a throw from
 *  onCheckpoint) right after the save at which `crash.at` holds; then that checkpoint restored on a fresh backend
 *  of `resumeThreads` threads and fitted to the end. `read` takes what the test compares off the resumed model. */
export async function crashAndResume<T>(run: Run, crash: { threads: number; every: number; at: (p: Progress) => boolean }, resumeThreads: number, read: (model: Sequential) => T): Promise<T> {
  let saved: Uint8Array | undefined;
  const error = new Error('crash after checkpoint');
  const be = await createWasmBackend({ threads: crash.threads });
  try {
    const model = run.build(be);
    const opt = createOptimizer(run.optimizer);
    await expect(fit(model, run.input, { ...run.options, optimizer: opt, checkpointEvery: crash.every, onCheckpoint: (p) => {
      saved = encodeCheckpoint(model, opt, p, {});
      if (crash.at(p)) throw error;
    } })).rejects.toBe(error);
  } finally {
    be.dispose();
  }
  const be2 = await createWasmBackend({ threads: resumeThreads });
  try {
    const opt = createOptimizer(run.optimizer);
    const decoded = decodeCheckpoint(saved!, 'checkpoint');
    const model = restoreCheckpoint(decoded, be2, opt, 'checkpoint');
    await fit(model, run.input, { ...run.options, optimizer: opt, resume: decoded.checkpoint.progress });
    return read(model);
  } finally {
    be2.dispose();
  }
}
