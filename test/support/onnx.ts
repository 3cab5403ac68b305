// What the ONNX tests (onnx.test.ts, onnx-conv.test.ts) share: PyTorch's fixtures and their index, f32 files, a
// file run in onnxruntime-node, the largest difference, a refusal's message and code, and the peer scripts of the
// onnx package (one python start-up: the checker on every file given, and the files it writes itself).

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { SimdnetError } from '../../src/errors.js';

export const FIXTURES = join(import.meta.dirname, '../fixtures/onnx');
/** how close onnxruntime, PyTorch, numpy and simdnet must come to each other */
export const TOL = 1e-5;

/** one file PyTorch wrote (fixtures/onnx/index.json): the model, a batch of inputs and PyTorch's outputs for it */
export interface FixtureEntry {
  onnx: string;
  opset: number;
  input: { file: string; shape: number[] };
  output: { file: string; shape: number[] };
  modules: string[];
  nodes?: string[];
}
export const fixtureIndex = () => JSON.parse(readFileSync(join(FIXTURES, 'index.json'), 'utf8')) as Record<string, FixtureEntry>;
/** a fixture file's bytes, by name */
export const fixture = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));
/** a raw little-endian f32 file */
export const f32 = (path: string) => new Float32Array(Uint8Array.from(readFileSync(path)).buffer);

/** max |a − b| (the lengths must agree) */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** onnxruntime-node's output of the file for x of the given shape */
export async function runOrt(bytes: Uint8Array, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, shape) });
  const y = out[session.outputNames[0]].data as Float32Array;
  await session.release();
  return y;
}

/** the message and code fn refuses with (a SimdnetError; anything else is rethrown, nothing thrown fails) */
export function refusal(fn: () => unknown): { message: string; code: string } {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof SimdnetError)) throw e;
    return { message: e.message, code: e.code };
  }
  throw new Error('nothing thrown');
}

/** what the onnx package's checker (full_check) said of a file, and what it read back */
export interface PeerCheck {
  ok: boolean;
  error?: string;
  ir: number;
  opsets: Record<string, number>;
  inputs: [string, (string | number)[]][];
  outputs: [string, (string | number)[]][];
  ops: string[];
  metadata: Record<string, string>;
}

/** Runs a peer script of test/support (onnx_peer.py, onnx_conv_peer.py) once: it checks each file and writes its own
 *  into dir; `written` names those files. */
export function runPeer<W>(script: string, dir: string, files: string[]): { checked: Record<string, PeerCheck>; written: Record<string, W> } {
  return JSON.parse(execFileSync('/usr/bin/python3', [join(import.meta.dirname, script), dir, ...files], { encoding: 'utf8', maxBuffer: 1 << 24 }));
}
