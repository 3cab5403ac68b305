// Sequential's fused forward: each Linear followed by ReLU / Sigmoid / Tanh runs as one linear_act_forward.
// The kernel gives the unfused result bit for bit (test/kernels.test.ts), so a fused model and the same model
// built with `fuse: false` agree exactly: outputs, losses, every gradient, and the weights after Adam steps.

import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { Linear, ReLU, Sigmoid, Softmax, Tanh, type Layer } from '../src/layers/index.js';
import { Sequential } from '../src/model.js';
import { createOptimizer } from '../src/optimizers.js';
import { Rng } from '../src/random.js';
import { backendCases } from './support/backends.js';

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

// layer stacks that exercise the plan: pairs, an unfusable Softmax, a Linear with no activation, two activations
// in a row (the second runs alone), a final Linear
const STACKS: Array<[string, () => Layer[], 'bce' | 'mse' | 'crossentropy']> = [
  ['relu → sigmoid (the autoencoder)', () => [new Linear(19, 13), new ReLU(), new Linear(13, 19), new Sigmoid()], 'bce'],
  ['tanh, linear, relu·relu, linear', () => [new Linear(19, 9), new Tanh(), new Linear(9, 6), new Linear(6, 11), new ReLU(), new ReLU(), new Linear(11, 19)], 'mse'],
  ['sigmoid → softmax', () => [new Linear(19, 33), new Sigmoid(), new Linear(33, 19), new Softmax()], 'crossentropy'],
];

function run(be: Backend, layers: Layer[], loss: 'bce' | 'mse' | 'crossentropy', fuse: boolean) {
  const model = new Sequential(layers, { backend: be, seed: 3, fuse });
  const opt = createOptimizer('adam');
  const rng = new Rng(4);
  const B = 7;
  const out: Float32Array[] = [];
  const losses: number[] = [];
  for (let s = 0; s < 3; s++) {
    be.write(model.input(B), Float32Array.from({ length: B * 19 }, () => rng.uniform(-2, 2)));
    const t = new Float32Array(B * 19);
    for (let r = 0; r < B; r++) t[r * 19 + rng.int(19)] = 1;
    be.write(model.target(B), t);
    model.zeroGrad();
    out.push(be.read(model.forward(B)));
    losses.push(model.loss(B, loss, true));
    out.push(be.read(model.grads));
    opt.step(model);
  }
  out.push(model.getWeights());
  opt.dispose();
  model.dispose();
  return { out, losses };
}

describe('Sequential fuses Linear + activation', () => {
  for (const { label, make } of backendCases()) {
    for (const [name, layers, loss] of STACKS) {
      it(`${label}, ${name}: outputs, losses, gradients and weights bit-identical to fuse: false`, async () => {
        const be = await make();
        const fused = run(be, layers(), loss, true);
        const plain = run(be, layers(), loss, false);
        expect(fused.losses).toEqual(plain.losses);
        expect(fused.out.length).toBe(plain.out.length);
        fused.out.forEach((a, i) => expect(bits(a), `array ${i}`).toEqual(bits(plain.out[i])));
      });
    }
  }
});
