// Checkpoints: the model file container with the optimizer's state blocks and the run's progress, so a run
// stopped at any step boundary resumes to bit-identical weights.

import type { Backend } from '../backend/backend.js';
import { SimdnetError } from '../errors.js';
import { Sequential } from '../model.js';
import { decodeModelFile, encodeModelFile } from './model-file.js';
import type { Optimizer } from '../optimizers.js';
import type { Progress } from '../training/types.js';

export interface CheckpointMeta {
  /** Whatever the caller needs to rebuild the run (CLI flags, seeds). */
  config: Record<string, unknown>;
  /** options: the optimizer's settings besides lr (absent in checkpoints of older versions); a resume must match */
  optimizer: { name: string; step: number; options?: Record<string, number> };
  progress: Progress;
}

export function encodeCheckpoint(model: Sequential, optimizer: Optimizer, progress: Progress, config: Record<string, unknown>): Uint8Array {
  const { step, slots } = optimizer.saveState();
  const blocks: Record<string, Float32Array> = { weights: model.getWeights() };
  slots.forEach((slot, i) => (blocks[`optimizer.${i}`] = slot));
  // a callback's weight copy (earlyStopping's best) is a block, not JSON
  const callbacks = progress.callbacks?.map((state, i) => {
    if (!state?.weights) return state;
    blocks[`callback.${i}.weights`] = state.weights;
    return { values: state.values };
  });
  const checkpoint: CheckpointMeta = { config, optimizer: { name: optimizer.name, step, ...(optimizer.options ? { options: { ...optimizer.options } } : {}) }, progress: callbacks ? { ...progress, callbacks } : progress };
  return encodeModelFile({ spec: model.spec(), blocks, meta: { checkpoint } });
}

/** Decodes and validates a checkpoint file. */
export function decodeCheckpoint(bytes: Uint8Array, name: string): { file: ReturnType<typeof decodeModelFile>; checkpoint: CheckpointMeta } {
  const file = decodeModelFile(bytes, name);
  const checkpoint = file.meta.checkpoint as CheckpointMeta | undefined;
  if (!checkpoint || typeof checkpoint !== 'object' || !checkpoint.progress || !checkpoint.optimizer || !checkpoint.config)
    throw new SimdnetError(`${name}: a model file, not a checkpoint (no training state in it)`, 'E_FILE_CORRUPT');
  // the CRC says the bytes are as written; these say the training state makes sense (a resume trusts it)
  const fail = (why: string): never => {
    throw new SimdnetError(`${name}: bad training state in the checkpoint: ${why}`, 'E_FILE_CORRUPT');
  };
  const count = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  const { progress, optimizer, config } = checkpoint;
  if (typeof config !== 'object' || Array.isArray(config)) fail('config is not an object');
  if (typeof optimizer.name !== 'string' || !count(optimizer.step)) fail(`optimizer: expected {name, step ≥ 0}, got ${JSON.stringify(optimizer)}`);
  if (optimizer.options !== undefined && (optimizer.options === null || typeof optimizer.options !== 'object' || !Object.values(optimizer.options).every((v) => typeof v === 'number' && Number.isFinite(v))))
    fail(`optimizer.options: expected an object of numbers, got ${JSON.stringify(optimizer.options)?.slice(0, 80)}`);
  if (typeof progress !== 'object') fail('progress is not an object');
  for (const key of ['epoch', 'batch', 'seen'] as const) if (!count(progress[key])) fail(`progress.${key}: expected an integer ≥ 0, got ${JSON.stringify(progress[key])}`);
  for (const key of ['lossSum', 'seconds'] as const) if (typeof progress[key] !== 'number' || !Number.isFinite(progress[key]) || progress[key] < 0) fail(`progress.${key}: expected a number ≥ 0, got ${JSON.stringify(progress[key])}`);
  for (const key of ['firstLoss', 'smoothLoss', 'startWeight'] as const) if (progress[key] !== undefined && (typeof progress[key] !== 'number' || !Number.isFinite(progress[key]))) fail(`progress.${key}: expected a number, got ${JSON.stringify(progress[key])}`);
  if (progress.run !== undefined && (typeof progress.run !== 'object' || !(['rows', 'batchSize', 'seed'] as const).every((k) => count(progress.run?.[k]))))
    fail(`progress.run: expected {rows, batchSize, seed} as integers ≥ 0, got ${JSON.stringify(progress.run)}`);
  if (!Array.isArray(progress.epochs) || progress.epochs.length !== progress.epoch) fail(`progress.epochs: expected the metrics of ${progress.epoch} finished epochs`);
  progress.epochs.forEach((m, i) => {
    if (m === null || typeof m !== 'object' || m.epoch !== i + 1 || !(['trainLoss', 'seconds'] as const).every((k) => typeof m[k] === 'number'))
      fail(`progress.epochs[${i}]: expected the metrics of epoch ${i + 1} ({epoch: ${i + 1}, trainLoss, seconds, …}), got ${JSON.stringify(m)?.slice(0, 80)}`);
  });
  if (progress.callbacks !== undefined) {
    if (!Array.isArray(progress.callbacks)) fail(`progress.callbacks: expected a list, got ${JSON.stringify(progress.callbacks)?.slice(0, 60)}`);
    progress.callbacks.forEach((state, i) => {
      if (state === null) return;
      if (typeof state !== 'object' || typeof state.values !== 'object' || state.values === null || Array.isArray(state.values) || !Object.values(state.values).every((v) => v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))))
        fail(`progress.callbacks[${i}]: expected {values: {name: number, …}}, got ${JSON.stringify(state)?.slice(0, 80)}`);
      const weights = file.blocks[`callback.${i}.weights`];
      if (weights) state.weights = weights;
    });
  }
  if (progress.stopped !== undefined && (typeof progress.stopped !== 'object' || progress.stopped === null || !count(progress.stopped.epoch) || !count(progress.stopped.batch)))
    fail(`progress.stopped: expected {epoch, batch} as integers ≥ 0, got ${JSON.stringify(progress.stopped)?.slice(0, 60)}`);
  const n = file.blocks.weights.length;
  for (const [key, block] of Object.entries(file.blocks))
    if ((key.startsWith('optimizer.') || key.startsWith('callback.')) && block.length !== n) fail(`block '${key}' holds ${block.length} values, the weights ${n}`);
  return { file, checkpoint };
}

/** A model on `backend` with the checkpoint's weights; restores `optimizer` (which must be of the saved kind). */
export function restoreCheckpoint(decoded: ReturnType<typeof decodeCheckpoint>, backend: Backend, optimizer: Optimizer, name: string): Sequential {
  const { file, checkpoint } = decoded;
  if (checkpoint.optimizer.name !== optimizer.name) throw new SimdnetError(`${name}: the checkpoint holds ${checkpoint.optimizer.name} state, the run uses ${optimizer.name}`, 'E_OPTION');
  const saved = checkpoint.optimizer.options, ours: Record<string, number | undefined> = { ...optimizer.options };
  if (saved && optimizer.options)
    for (const key of new Set([...Object.keys(saved), ...Object.keys(ours)]))
      if (saved[key] !== ours[key]) throw new SimdnetError(`${name}: the checkpoint's ${checkpoint.optimizer.name} ran with ${key} ${saved[key] ?? 'unset'}, the run asks for ${ours[key] ?? 'unset'} (a resume continues the same run)`, 'E_OPTION');
  const slots = Object.keys(file.blocks).filter((k) => k.startsWith('optimizer.')).sort((a, b) => Number(a.slice(10)) - Number(b.slice(10))).map((k) => file.blocks[k]);
  const model = Sequential.fromSpec(file.spec, { backend });
  try {
    model.setWeights(file.blocks.weights);
    optimizer.loadState(model, { step: checkpoint.optimizer.step, slots });
  } catch (e) {
    model.dispose(); // never half a run
    throw e instanceof SimdnetError ? new SimdnetError(`${name}: ${e.message}`, e.code) : e;
  }
  return model;
}
