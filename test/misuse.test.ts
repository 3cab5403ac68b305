// API misuse gets a SimdnetError that names the thing, the expected and the actual value — never a raw WASM
// trap (RuntimeError), a RangeError, a TypeError from deep inside, or a silent write into freed or foreign
// memory. Each case runs on the js backend and on the wasm backend; `errorOf` fails on any other error type.
//
//   * shapes that do not chain between layers; batches of the wrong width (write, predict, fit, evaluate,
//     backward, setWeights, gatherRows, read);
//   * a model (and its tensors, and its optimizer) used after dispose();
//   * a tensor of one backend given to another (named: "wasm backend #3 (simd)" vs "#4");
//   * more memory than wasm32 can address (4 GiB): refused before anything is allocated;
//   * negative, zero, fractional, NaN and infinite sizes and options.

import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend, Tensor } from '../src/backend/backend.js';
import { createJsBackend } from '../src/backend/js.js';
import { createWasmBackend } from '../src/backend/wasm.js';
import { Linear, ReLU, Sigmoid, Softmax } from '../src/layers/index.js';
import { Sequential } from '../src/model.js';
import { autoencoder } from '../src/models.js';
import { createOptimizer, type OptimizerName } from '../src/optimizers.js';
import { fit } from '../src/training/fit.js';
import { evaluate } from '../src/training/evaluate.js';
import { errorOf, simdnetErrorOf } from './support/backends.js';

const cases: { label: string; make: () => Promise<Backend> }[] = [
  { label: 'wasm', make: () => createWasmBackend() },
  { label: 'js', make: createJsBackend },
];

/** A 4→3 relu →2 sigmoid model. */
const small = (backend: Backend) => new Sequential([new Linear(4, 3), new ReLU(), new Linear(3, 2), new Sigmoid()], { backend, seed: 1 });

describe.each(cases)('misuse on the $label backend', ({ make }) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await make();
  });

  /** Runs fn and checks that it allocated nothing for good (no half model left behind). */
  async function refusedCleanly(fn: () => unknown): Promise<string> {
    const live = backend.liveAllocations;
    const bytes = backend.memory.buffer.byteLength;
    const message = await errorOf(fn);
    expect(backend.liveAllocations).toBe(live);
    expect(backend.memory.buffer.byteLength).toBe(bytes);
    return message;
  }

  describe('shapes', () => {
    it('layers that do not chain: Linear(4,3) then Linear(5,2) names layer 1, 5 expected, 3 given', async () => {
      const m = await refusedCleanly(() => new Sequential([new Linear(4, 3), new Linear(5, 2)], { backend }));
      expect(m).toBe('layer 1 (linear): Linear(5, 2) expects inputs of width 5, got 3');
      const m2 = await refusedCleanly(() => new Sequential([new Linear(4, 3), new ReLU(), new Sigmoid(), new Linear(5, 2)], { backend }));
      expect(m2).toMatch(/^layer 3 \(linear\): .*width 5, got 3$/);
      expect(await refusedCleanly(() => new Sequential([new Linear(4, 3)], { backend, inputWidth: 6 }))).toMatch(/layer 0 .*width 4, got 6/);
    });

    it('no layers, no backend, no input width', async () => {
      expect(await refusedCleanly(() => new Sequential([], { backend }))).toMatch(/non-empty list of layers/);
      expect(await refusedCleanly(() => new Sequential([new Linear(4, 3)], undefined as never))).toMatch(/options\.backend is required/);
      expect(await refusedCleanly(() => new Sequential([new ReLU(), new Linear(4, 3)], { backend }))).toMatch(/inputWidth is required/);
    });

    it('a NaN or ±Inf input to predict (issue 19) names its row and column, not the weights; the model still works', async () => {
      const model = small(backend);
      const squash = new Sequential([new Sigmoid()], { backend, inputWidth: 4 }); // sigmoid(Inf) = 1: finite outputs
      let seed = 19;
      const next = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
      for (let trial = 0; trial < 12; trial++) {
        const rows = 1 + next(9);
        const x = new Float32Array(rows * 4).map(() => next(100) / 50 - 1);
        const row = next(rows), col = next(4), bad = [NaN, Infinity, -Infinity][next(3)];
        x[row * 4 + col] = bad;
        const batch = 1 + next(4);
        for (const m of [model, squash]) {
          const e = await simdnetErrorOf(() => m.predict(x, batch));
          expect(e.message).toBe(`predict: input value ${bad} at row ${row}, column ${col}; the inputs must be finite numbers`);
          expect(e.code).toBe('E_INVALID');
        }
      }
      // the same rows, finite: predicted as before, and as one batch
      const x = new Float32Array(12).map((_, i) => i / 12);
      expect(model.predict(x, 1)).toEqual(model.predict(x));
      model.dispose();
      squash.dispose();
    });

    it('a batch of the wrong width: write, predict, setWeights, backward, read, gatherRows', async () => {
      const model = small(backend);
      expect(await errorOf(() => backend.write(model.input(2), new Float32Array(7)))).toBe('write: expected 8 values for a (2, 4) tensor, got 7');
      expect(await errorOf(() => backend.write(model.input(2), new Float32Array(8), 2))).toMatch(/expected 8 values .* got 6/);
      expect(await errorOf(() => backend.write(model.input(2), null as never))).toMatch(/expected 8 values .* got object/);
      expect(await errorOf(() => model.predict(new Float32Array(10)))).toMatch(/predict: expected a multiple of 4 values .* got 10/);
      expect(await errorOf(() => model.predict(undefined as never))).toMatch(/predict: expected the inputs as a Float32Array/);
      expect(await errorOf(() => model.setWeights(new Float32Array(model.paramCount - 1)))).toMatch(`setWeights: expected ${model.paramCount} values, got ${model.paramCount - 1}`);
      const w = model.getWeights();
      w[3] = NaN;
      expect(await errorOf(() => model.setWeights(w))).toBe('setWeights: value 3 is NaN, expected finite numbers');
      expect(model.weightsFinite()).toBe(true); // refused before anything was written
      model.forward(2);
      const wrong = backend.alloc(2, 3);
      expect(await errorOf(() => model.backward(2, wrong))).toBe('backward: expected a (2, 2) gradient, got (2, 3)');
      backend.free(wrong);
      expect(await errorOf(() => backend.read(model.input(2), new Float32Array(5)))).toBe('read: destination has 5 values, need 8');
      expect(await errorOf(() => backend.gatherRows(model.input(2), new Float32Array(12), [0, 3], 0, 2))).toMatch(/row 3 is outside the source \(3 rows\)/);
      expect(await errorOf(() => backend.gatherRows(model.input(2), new Float32Array(12), [0, 1, 2], 0, 3))).toMatch(/3 rows do not fit a tensor of 2 rows/);
      model.dispose();
    });

    it('fit and evaluate with data of the wrong widths, empty or non-finite data', async () => {
      const model = small(backend);
      const x = new Float32Array(4 * 10).fill(0.5);
      const y = new Float32Array(2 * 10).fill(0.5);
      const run = (data: Parameters<typeof fit>[1]) => errorOf(() => fit(model, data, { epochs: 1 }));
      expect(await run({ train: { x: new Float32Array(30), y } })).toMatch(/train\.x: expected a positive multiple of the model's input width 4, got 30 values/);
      expect(await run({ train: { x, y: new Float32Array(30) } })).toMatch(/train\.y: expected 10 rows × 2 .* = 20 values, got 30/);
      expect(await run({ train: { x: new Float32Array(0), y: new Float32Array(0) } })).toMatch(/train\.x: expected a positive multiple/);
      expect(await run({ train: { x, y }, test: { x, y: new Float32Array(4) } })).toMatch(/test\.y: expected 10 rows/);
      expect(await run({ train: { x: Array.from(x) as never, y } })).toMatch(/^train\.x: expected a Float32Array \(rows × width values\) or an array of rows \(number\[\]\[\]\), got a flat array of 40 numbers$/);
      expect(await run(undefined as never)).toMatch(/fit: expected data/);
      expect(await errorOf(() => fit(model, { train: { x, y } }, undefined as never))).toMatch(/fit: expected options/);
      const bad = x.slice();
      bad[4 * 7 + 2] = NaN;
      expect(await run({ train: { x: bad, y } })).toBe('train.x: value NaN at row 7, column 2; the data must be finite numbers');
      const inf = y.slice();
      inf[3] = Infinity;
      expect(await run({ train: { x, y: inf } })).toBe('train.y: value Infinity at row 1, column 1; the data must be finite numbers');
      expect(await errorOf(() => evaluate(model, { x, y: new Float32Array(3) }, { loss: 'mse' }))).toMatch(/evaluate\.y: expected 10 rows/);
      expect(model.weightsFinite()).toBe(true);
      model.dispose();
    });

    it('losses: an unknown name, cross-entropy without a Softmax output', async () => {
      const model = small(backend);
      model.forward(2);
      expect(await errorOf(() => model.loss(2, 'hinge' as never, true))).toMatch(/loss: expected one of mse, bce, crossentropy, got 'hinge'/);
      expect(await errorOf(() => model.loss(2, 'crossentropy', true))).toMatch(/must end with a Softmax layer, its last layer is sigmoid/);
      expect(await errorOf(() => fit(model, { train: { x: new Float32Array(8), y: new Float32Array(4) } }, { epochs: 1, loss: 'crossentropy' }))).toMatch(/Softmax/);
      model.dispose();
      const softmax = new Sequential([new Linear(4, 3), new Softmax()], { backend });
      backend.write(softmax.target(1), [0, 1, 0]);
      softmax.forward(1);
      expect(softmax.loss(1, 'crossentropy', true)).toBeGreaterThan(0);
      softmax.dispose();
    });
  });

  describe('after dispose()', () => {
    it('every model method refuses with "disposed", and dispose() gave every block back', async () => {
      const live = backend.liveAllocations;
      const model = small(backend);
      const opt = createOptimizer('adam');
      model.predict(new Float32Array(8), 2); // workspace for B = 2 exists
      model.zeroGrad();
      opt.step(model);
      const stale = model.input(2);
      model.dispose();
      opt.dispose();
      expect(backend.liveAllocations).toBe(live);
      model.dispose(); // twice is fine
      const calls: [string, () => unknown][] = [
        ['forward (a batch size used before)', () => model.forward(2)],
        ['forward (a new batch size)', () => model.forward(3)],
        ['input', () => model.input(2)],
        ['target', () => model.target(5)],
        ['loss', () => model.loss(2, 'mse', true)],
        ['backward', () => model.backward(2, stale)],
        ['predict', () => model.predict(new Float32Array(8))],
        ['getWeights', () => model.getWeights()],
        ['setWeights', () => model.setWeights(new Float32Array(model.paramCount))],
        ['zeroGrad', () => model.zeroGrad()],
        ['weightsFinite', () => model.weightsFinite()],
        ['fit', () => fit(model, { train: { x: new Float32Array(8), y: new Float32Array(4) } }, { epochs: 1 })],
        ['optimizer.step', () => createOptimizer('sgd').step(model)],
        ['optimizer.step (adam)', () => createOptimizer('adam').step(model)],
      ];
      for (const [what, call] of calls) expect(await errorOf(call), what).toMatch(/disposed/);
      expect(model.disposed).toBe(true);
      // a tensor kept from before: refused as freed, not written into memory someone else may own now
      expect(await errorOf(() => backend.write(stale, new Float32Array(8)))).toBe('write: the (2, 4) tensor was freed (was its model disposed?)');
      expect(await errorOf(() => backend.read(stale))).toMatch(/read: the \(2, 4\) tensor was freed/);
      expect(await errorOf(() => backend.free(stale))).toMatch(/free: the \(2, 4\) tensor was freed/);
      expect(backend.liveAllocations).toBe(live);
    });
  });

  describe('a tensor of another backend', () => {
    it('write, read, free, gatherRows, backward, optimizer: refused, naming both backends', async () => {
      const other = await make(); // the same kind: only the instance differs
      const third = backend.name === 'wasm' ? await createJsBackend() : await createWasmBackend();
      const theirs = other.alloc(2, 4);
      const mine = backend.alloc(2, 4);
      const ownName = String(backend);
      const otherName = String(other);
      expect(ownName).not.toBe(otherName);
      expect(ownName).toMatch(new RegExp(`^${backend.name} backend #\\d+ \\(${backend.variant}\\)$`));
      for (const [op, call] of [
        ['write', () => backend.write(theirs, new Float32Array(8))],
        ['read', () => backend.read(theirs)],
        ['free', () => backend.free(theirs)],
        ['gatherRows', () => backend.gatherRows(theirs, new Float32Array(8), [0, 1], 0, 2)],
      ] as const) {
        const m = await errorOf(call);
        expect(m).toBe(`${op}: the tensor belongs to the ${otherName}, not to this ${ownName}; tensors cannot move between backends (read it out and write it in)`);
      }
      expect(await errorOf(() => third.write(mine, new Float32Array(8)))).toMatch(new RegExp(`belongs to the ${backend.name} backend #\\d+.*not to this ${third.name} backend #\\d+`));
      expect(await errorOf(() => backend.write({ ptr: 0, rows: 1, cols: 1 } as unknown as Tensor, [1]))).toMatch(/^write: expected a tensor of this .* backend #\d+ \(.*\), got something of no backend \(not a tensor\?\)$/);
      // nothing was written or freed on either side
      expect(other.read(theirs)).toEqual(new Float32Array(8));
      other.free(theirs);
      backend.free(mine);

      const a = small(backend);
      const b = small(other);
      a.forward(2);
      const foreign = other.alloc(2, 2);
      expect(await errorOf(() => a.backward(2, foreign))).toMatch(new RegExp(`backward: the gradient tensor belongs to .*${other.name} backend.*${backend.name} backend`));
      other.free(foreign);
      for (const name of ['momentum', 'adam'] as OptimizerName[]) {
        const opt = createOptimizer(name);
        opt.step(a);
        expect(await errorOf(() => opt.step(b))).toMatch(/optimizer: its state was made for \d+ parameters on the .*#\d+.*, this model has \d+ on the .*#\d+/);
        opt.dispose();
      }
      a.dispose();
      b.dispose();
    });
  });

  describe('more memory than WASM can give', () => {
    it('new Sequential([new Linear(50000, 50000)]): a SimdnetError mentioning 4 GiB, before anything is allocated', async () => {
      const m = await refusedCleanly(() => new Sequential([new Linear(50000, 50000)], { backend }));
      expect(m).toMatch(/^Sequential: 2500050000 parameters need 18\.6 GiB for weights and gradients, but WASM linear memory is limited to 4 GiB/);
      expect(await refusedCleanly(() => new Sequential([new Linear(30000, 20000)], { backend }))).toMatch(/4 GiB/); // 2.2 GiB each, 4.5 GiB both
      expect(await refusedCleanly(() => autoencoder(backend, { hidden: [1_500_000] }))).toMatch(/4 GiB/);
    });

    it('backend.alloc past 4 GiB (also past 2^32 and 2^53 bytes): refused, nothing allocated', async () => {
      for (const [r, c] of [[65536, 16384], [1e6, 1e6], [2 ** 30, 2 ** 30], [1e200, 1e200]]) expect(await refusedCleanly(() => backend.alloc(r, c))).toMatch(/needs .* but WASM linear memory is limited to 4 GiB/);
    });

    it('a batch too big for memory: refused before any activation is allocated', async () => {
      const model = small(backend);
      expect(await refusedCleanly(() => model.input(200_000_000))).toMatch(/^batch size 200000000: the activations need .* GiB, but WASM linear memory is limited to 4 GiB/);
      model.dispose();
    });
  });

  describe('negative, zero, fractional, NaN and infinite sizes', () => {
    it.each([0, -1, 2.5, NaN, Infinity, '3' as unknown as number, undefined as unknown as number])('Linear(%s, 3) and Linear(3, %s)', async (n) => {
      expect(await refusedCleanly(() => new Linear(n, 3))).toMatch(/Linear: expected a positive integer input size, got/);
      expect(await refusedCleanly(() => new Linear(3, n))).toMatch(/Linear: expected a positive integer output size, got/);
    });

    it.each([-1, 2.5, NaN, Infinity])('backend.alloc(%s, 2) and alloc(2, %s)', async (n) => {
      expect(await refusedCleanly(() => backend.alloc(n, 2))).toMatch(/alloc: expected non-negative integer shape/);
      expect(await refusedCleanly(() => backend.alloc(2, n))).toMatch(/alloc: expected non-negative integer shape/);
    });

    it.each([0, -1, 1.5, NaN, Infinity])('batch size %s: input, forward, predict, fit', async (B) => {
      const model = small(backend);
      expect(await errorOf(() => model.input(B))).toMatch(/batch size: expected a positive integer/);
      expect(await errorOf(() => model.forward(B))).toMatch(/batch size: expected a positive integer/);
      expect(await errorOf(() => model.predict(new Float32Array(8), B))).toMatch(/predict: batchSize must be a positive integer/);
      expect(await errorOf(() => fit(model, { train: { x: new Float32Array(8), y: new Float32Array(4) } }, { epochs: 1, batchSize: B }))).toMatch(/fit: batchSize must be a positive integer/);
      model.dispose();
    });

    it('epochs, learning rates and optimizer settings', async () => {
      const model = small(backend);
      const data = { train: { x: new Float32Array(8), y: new Float32Array(4) } };
      for (const epochs of [-1, 1.5, NaN]) expect(await errorOf(() => fit(model, data, { epochs }))).toMatch(/fit: epochs must be a non-negative integer/);
      for (const lr of [0, -1, NaN, Infinity]) {
        expect(await errorOf(() => createOptimizer('sgd', { lr }))).toMatch(/learning rate must be a positive number/);
        expect(await errorOf(() => fit(model, data, { epochs: 1, optimizer: 'adam', lr }))).toMatch(/learning rate must be a positive number/);
      }
      for (const momentum of [1, -0.1, NaN]) expect(await errorOf(() => createOptimizer('momentum', { momentum }))).toMatch(/momentum must be a number in \[0, 1\)/);
      for (const beta2 of [1, 2, NaN]) expect(await errorOf(() => createOptimizer('adam', { beta2 }))).toMatch(/beta2 must be a number in \[0, 1\)/);
      for (const eps of [0, -1e-8, NaN]) expect(await errorOf(() => createOptimizer('adam', { eps }))).toMatch(/eps must be a positive number/);
      expect(await errorOf(() => createOptimizer('adagrad' as never))).toMatch(/expected sgd, momentum, adam, adamw or rmsprop, got 'adagrad'/);
      expect(model.weightsFinite()).toBe(true);
      model.dispose();
    });

    it('autoencoder sizes', async () => {
      for (const hidden of [[0], [-4], [NaN], [2.5], []]) expect(await refusedCleanly(() => autoencoder(backend, { hidden }))).toMatch(/autoencoder: hidden sizes must be positive integers/);
      expect(await refusedCleanly(() => autoencoder(backend, { width: 0 }))).toMatch(/Linear: expected a positive integer input size, got 0/);
      expect(await refusedCleanly(() => autoencoder(backend, { activation: 'gelu' }))).toMatch(/activation: expected relu, tanh or sigmoid, got 'gelu'/);
    });
  });
});

describe('names that only Object.prototype knows, and things that are not layers or optimizers (issue 12)', () => {
  it("loss 'toString', '__proto__', 'constructor': a SimdnetError naming the losses, in getLoss, fit and evaluate", async () => {
    const { getLoss } = await import('../src/losses.js');
    const { fit } = await import('../src/training/fit.js');
    const { evaluate } = await import('../src/training/evaluate.js');
    const { createWasmBackend } = await import('../src/backend/wasm.js');
    const { autoencoder } = await import('../src/models.js');
    const be = await createWasmBackend({ threads: 1 });
    const model = autoencoder(be, { width: 4, hidden: [2] });
    const x = new Float32Array(8).fill(0.5);
    evaluate(model, { x, y: x }, { loss: 'mse' }); // its batch workspace, so the count below compares like with like
    const live = be.liveAllocations;
    for (const name of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      expect(await errorOf(() => getLoss(name as never))).toBe(`loss: expected one of mse, bce, crossentropy, got '${name}'`);
      expect(await errorOf(() => fit(model, { train: { x, y: x } }, { epochs: 1, loss: name as never }))).toMatch(/^loss: expected one of mse, bce, crossentropy/);
      expect(await errorOf(() => evaluate(model, { x, y: x }, { loss: name as never }))).toMatch(/^loss: expected one of mse, bce, crossentropy/);
    }
    expect(await errorOf(() => fit(model, { train: { x, y: x } }, { epochs: 1, optimizer: {} as never }))).toMatch(/^fit: optimizer must be a name .* got an object without step\(\)/);
    expect(await errorOf(() => fit(model, { train: { x, y: x } }, { epochs: 1, optimizer: null as never }))).toMatch(/^fit: optimizer must be a name .* got null/);
    expect(be.liveAllocations, 'the refused calls keep nothing').toBe(live);
    model.dispose();
  });

  it('new Sequential([null]) and a non-layer: a SimdnetError naming the layer', async () => {
    const { createJsBackend } = await import('../src/backend/js.js');
    const be = await createJsBackend();
    expect(await errorOf(() => new Sequential([null as never], { backend: be }))).toBe('Sequential: layer 0 is null, expected a layer (new Linear(…), new ReLU(), …)');
    expect(await errorOf(() => new Sequential([new Linear(2, 2), 7 as never], { backend: be }))).toMatch(/^Sequential: layer 1 is number, expected a layer/);
  });
});

describe('stale handles (issue 12: a write through a disposed model landed in the next model that got its block)', () => {
  it.each([['wasm'], ['js']])('%s: after dispose(), a kept tensor is refused even though a new model now has its block', async (name) => {
    const be = name === 'js' ? await createJsBackend() : await createWasmBackend({ threads: 1 });
    const old = autoencoder(be, { width: 8, hidden: [4], seed: 1 });
    const oldParams = old.params;
    old.dispose();
    const fresh = autoencoder(be, { width: 8, hidden: [4], seed: 2 });
    expect(fresh.params.ptr, 'first fit hands the block out again (the case under test)').toBe(oldParams.ptr);
    const before = fresh.getWeights();
    expect(await errorOf(() => be.write(oldParams, new Float32Array(oldParams.cols).fill(7)))).toMatch(/^write: the \(1, \d+\) tensor was freed/);
    expect(await errorOf(() => be.read(oldParams))).toMatch(/^read: the .* tensor was freed/);
    expect(await errorOf(() => be.free(oldParams))).toMatch(/^free: the .* tensor was freed/);
    expect(Array.from(fresh.getWeights())).toEqual(Array.from(before));
    fresh.dispose();
  });
});
