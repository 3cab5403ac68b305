// The engines under test, each behind one small interface so every suite runs them the same way:
//   gemm({M,N,K,ta,tb})   → { run(), dispose() }   C = op(A)·op(B)
//   elementwise(kernel)   → { run(), dispose() }   one activation / adam call (kernels in kernels.js)
//   step(modelCase, data) → { run() → loss, dispose() }   one training step: forward, loss, backward, update
//                          (modelCase: { hidden } for the dense autoencoder, or { spec } (simdnet only): a ModelSpec)
// simdnet engines call the Backend kernels on pointers; tfjs engines call tfjs-core ops on the wasm or cpu
// backend. Inputs are seeded, so every engine gets the same numbers. The engine tables run simdnet on ONE thread
// (createWasmBackend defaults to every core; tfjs-backend-wasm and the ceiling loop are single-threaded too);
// the thread-scaling suite (scaling.js) makes its own backends with wasmEngine(variant, threads).
// engine.dispose() releases what the engine holds (a simdnet wasm backend: its worker threads).

import { createRequire } from 'node:module';
import path from 'node:path';
import { createJsBackend, createWasmBackend } from '../dist/backend/index.js';
import { availableWasmVariants } from '../dist/backend/wasm.js';
import { autoencoder } from '../dist/models.js';
import { Sequential } from '../dist/model.js';
import { createOptimizer, DEFAULT_LR } from '../dist/optimizers.js';
import { Rng } from '../dist/random.js';
import { trainStep } from '../dist/training/step.js';

/** Engine ids, in table order; `variant` is the simdnet wasm build. */
export const ENGINES = {
  'wasm-relaxed': { kind: 'simdnet', variant: 'relaxed-simd', label: 'wasm relaxed-SIMD' },
  'wasm-simd': { kind: 'simdnet', variant: 'simd', label: 'wasm SIMD' },
  'wasm-scalar': { kind: 'simdnet', variant: 'scalar', label: 'wasm scalar', slow: true },
  js: { kind: 'simdnet', variant: 'js', label: 'js', slow: true },
  'tfjs-wasm': { kind: 'tfjs', tfBackend: 'wasm', label: 'tfjs-wasm' },
  // tfjs-wasm's matMul is fast only untransposed: the same engine with every transpose done first by
  // tf.transpose, what a tfjs user who knew would write (GEMM and steps only; elementwise is the same)
  'tfjs-wasm-xt': { kind: 'tfjs', tfBackend: 'wasm', label: 'tfjs-wasm+T', explicitTranspose: true, noElementwise: true },
  'tfjs-cpu': { kind: 'tfjs', tfBackend: 'cpu', label: 'tfjs-cpu', slow: true },
};

/** Seeded uniform floats in [lo, hi). */
export function randomArray(n, seed, lo = -1, hi = 1) {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng.next();
  return out;
}

/** Which engines this process can run (relaxed-SIMD only with --experimental-wasm-relaxed-simd on Node 20). */
export function runnableEngines() {
  const v = availableWasmVariants();
  return Object.keys(ENGINES).filter((id) => ENGINES[id].kind !== 'simdnet' || ENGINES[id].variant === 'js' || v.includes(ENGINES[id].variant));
}

export async function createEngine(id) {
  const e = ENGINES[id];
  if (!e) throw new Error(`bench: unknown engine '${id}' (known: ${Object.keys(ENGINES).join(', ')})`);
  if (e.kind === 'simdnet') {
    const backend = e.variant === 'js' ? await createJsBackend() : await createWasmBackend({ variant: e.variant, threads: 1 });
    return simdnetEngine(id, backend);
  }
  return tfjsEngine(id, await loadTfjs(e.tfBackend));
}

/** A simdnet wasm engine of `variant` on `threads` kernel threads (backend.threads says how many run; dispose()
 *  stops its workers). `id` defaults to `${variant}×${threads}`. */
export async function wasmEngine(variant, threads, id = `${variant}×${threads}`) {
  const backend = await createWasmBackend({ variant, threads });
  return simdnetEngine(id, backend, { kind: 'simdnet', variant, label: `wasm ${variant} ${threads} thread${threads === 1 ? '' : 's'}` });
}

// =====================================================================================================
// simdnet
// =====================================================================================================

export function simdnetEngine(id, be, meta = ENGINES[id]) {
  const k = be.kernels;
  const tensor = (rows, cols, seed, lo, hi) => {
    const t = be.alloc(rows, cols);
    be.write(t, randomArray(rows * cols, seed, lo, hi));
    return t;
  };
  const owned = (ts, run) => ({ run, dispose: () => ts.forEach((t) => be.free(t)) });
  return {
    id,
    meta,
    backend: be,
    dispose: () => be.dispose(),
    gemm({ M, N, K, ta, tb }) {
      const a = ta ? tensor(K, M, 1) : tensor(M, K, 1);
      const b = tb ? tensor(N, K, 2) : tensor(K, N, 2);
      const c = be.alloc(M, N);
      return owned([a, b, c], () => k.gemm(c.ptr, a.ptr, b.ptr, M, N, K, ta, tb, 0));
    },
    elementwise({ name, rows, cols }) {
      const n = rows * cols;
      const x = tensor(rows, cols, 3, -4, 4);
      const y = tensor(rows, cols, 4, 0.01, 0.99); // a forward output (sigmoid-like range)
      const dy = tensor(rows, cols, 5);
      const out = be.alloc(rows, cols);
      const all = [x, y, dy, out];
      switch (name) {
        case 'relu_forward': return owned(all, () => k.relu_forward(out.ptr, x.ptr, n));
        case 'relu_backward': return owned(all, () => k.relu_backward(out.ptr, dy.ptr, x.ptr, n));
        case 'sigmoid_forward': return owned(all, () => k.sigmoid_forward(out.ptr, x.ptr, n));
        case 'sigmoid_backward': return owned(all, () => k.sigmoid_backward(out.ptr, dy.ptr, y.ptr, n));
        case 'tanh_forward': return owned(all, () => k.tanh_forward(out.ptr, x.ptr, n));
        case 'tanh_backward': return owned(all, () => k.tanh_backward(out.ptr, dy.ptr, y.ptr, n));
        case 'softmax_forward': return owned(all, () => k.softmax_forward(out.ptr, x.ptr, rows, cols));
        case 'softmax_backward': return owned(all, () => k.softmax_backward(out.ptr, dy.ptr, y.ptr, rows, cols));
        case 'adam_update': {
          const m = tensor(rows, cols, 6, -0.01, 0.01);
          const v = tensor(rows, cols, 7, 0, 0.01);
          const g = tensor(rows, cols, 8, -0.01, 0.01);
          return owned([...all, m, v, g], () => k.adam_update(x.ptr, m.ptr, v.ptr, g.ptr, 0.001, 0.9, 0.999, 1e-7, 10, n));
        }
        default: throw new Error(`bench: no elementwise kernel '${name}'`);
      }
    },
    step(c, data) {
      // a case with a spec (a conv model) builds it; the dense cases are the autoencoder of `hidden`
      const model = c.spec ? Sequential.fromSpec(c.spec, { backend: be, seed: 1 }) : autoencoder(be, { hidden: c.hidden, seed: 1 });
      const opt = createOptimizer(c.optimizer);
      const B = c.batchSize;
      be.write(model.input(B), data);
      be.write(model.target(B), data);
      return {
        weights: () => model.getWeights(),
        run: () => trainStep(model, B, c.loss, opt),
        dispose() {
          opt.dispose();
          model.dispose();
        },
      };
    },
  };
}

// =====================================================================================================
// tfjs (tfjs-core ops on tfjs-backend-wasm or tfjs-backend-cpu)
// =====================================================================================================

let tfPromise;
/** Loads tfjs-core with both backends once; single-threaded wasm (simdnet is single-threaded too). Also tfjs-fit.js's. */
export async function loadTfjsCore() {
  tfPromise ??= (async () => {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    // In Node, tfjs-backend-wasm must be told where its .wasm files are.
    setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    return tf;
  })();
  return tfPromise;
}

async function loadTfjs(name) {
  const tf = await loadTfjsCore();
  const warn = console.warn;
  console.warn = () => {}; // tfjs's platform notes on init
  try {
    if (!(await tf.setBackend(name))) throw new Error(`bench: tfjs backend '${name}' failed to initialise`);
    await tf.ready();
    if (name === 'cpu') tf.backend().firstUse = false; // its "install tfjs-node" banner, printed on first write
  } finally {
    console.warn = warn;
  }
  return tf;
}

let varSerial = 0;

function tfjsEngine(id, tf) {
  const backendName = ENGINES[id].tfBackend;
  // op(A)·op(B): matMul's own transpose flags, or (tfjs-wasm-xt) tf.transpose then an untransposed matMul
  const matMul = ENGINES[id].explicitTranspose
    ? (a, b, ta, tb) => tf.matMul(ta ? tf.transpose(a) : a, tb ? tf.transpose(b) : b)
    : (a, b, ta, tb) => tf.matMul(a, b, !!ta, !!tb);
  // tfjs has one global backend: every run() first makes sure it is ours (cheap when it already is)
  const use = () => {
    if (tf.getBackend() !== backendName) tf.setBackend(backendName);
  };
  const owned = (ts, run) => ({ run: () => (use(), run()), dispose: () => tf.dispose(ts) });
  const t2 = (rows, cols, seed, lo, hi) => tf.tensor2d(randomArray(rows * cols, seed, lo, hi), [rows, cols]);
  return {
    id,
    meta: ENGINES[id],
    tf,
    dispose() {}, // tfjs and its backends stay loaded (one per process, shared by the tfjs engines)
    gemm({ M, N, K, ta, tb }) {
      use();
      const a = ta ? t2(K, M, 1) : t2(M, K, 1);
      const b = tb ? t2(N, K, 2) : t2(K, N, 2);
      return owned([a, b], () => {
        tf.tidy(() => {
          matMul(a, b, ta, tb).dataSync(); // forces execution (the wasm and cpu backends are synchronous anyway)
        });
      });
    },
    elementwise({ name, rows, cols }) {
      use();
      const x = t2(rows, cols, 3, -4, 4);
      const y = t2(rows, cols, 4, 0.01, 0.99);
      const dy = t2(rows, cols, 5);
      const one = tf.scalar(1);
      const all = [x, y, dy, one];
      // Backward passes are the compositions tfjs's own gradient functions use (tfjs-core/src/gradients).
      const op = (f) => owned(all, () => tf.dispose(tf.tidy(f)));
      switch (name) {
        case 'relu_forward': return op(() => tf.relu(x));
        case 'relu_backward': return op(() => tf.mul(dy, tf.step(x))); // Relu_grad
        case 'sigmoid_forward': return op(() => tf.sigmoid(x));
        case 'sigmoid_backward': return op(() => tf.mul(dy, tf.mul(y, tf.sub(one, y)))); // Sigmoid_grad
        case 'tanh_forward': return op(() => tf.tanh(x));
        case 'tanh_backward': return op(() => tf.mul(tf.sub(one, tf.square(y)), dy)); // Tanh_grad
        case 'softmax_forward': return op(() => tf.softmax(x));
        case 'softmax_backward': return op(() => { // Softmax_grad
          const dyTimesY = tf.mul(dy, y);
          return tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, -1, true), y));
        });
        case 'adam_update': {
          const w = tf.variable(t2(1, rows * cols, 3, -4, 4), true, `bench_adam_${varSerial++}`);
          const g = t2(1, rows * cols, 8, -0.01, 0.01);
          const opt = tf.train.adam(0.001, 0.9, 0.999, 1e-7);
          return {
            run: () => (use(), opt.applyGradients({ [w.name]: g })),
            dispose: () => (tf.dispose([...all, w, g]), opt.dispose()),
          };
        }
        default: throw new Error(`bench: no elementwise kernel '${name}'`);
      }
    },
    /** The autoencoder with tfjs-core ops and hand-written backward (tfjs-core alone registers no
     *  gradients): the same layers, loss, fused sigmoid+BCE gradient and optimizer as simdnet. */
    step(c, data, weights) {
      use();
      const L = weights.length;
      const B = c.batchSize;
      const n = B * 784;
      const vars = weights.map(({ W, b }, l) => ({
        W: tf.variable(tf.tensor2d(W.values, W.shape), true, `bench_W${l}_${varSerial++}`),
        b: tf.variable(tf.tensor1d(b.values), true, `bench_b${l}_${varSerial++}`),
      }));
      const X = tf.tensor2d(data, [B, 784]);
      const T = X;
      const lr = DEFAULT_LR[c.optimizer];
      const opt = c.optimizer === 'adam' ? tf.train.adam(lr, 0.9, 0.999, 1e-7) : c.optimizer === 'sgd' ? tf.train.sgd(lr) : null;
      if (!opt) throw new Error(`bench: tfjs step has no optimizer '${c.optimizer}'`);
      const run = () => {
        use();
        let loss;
        const grads = tf.tidy(() => {
          const acts = [X];
          for (let l = 0; l < L; l++) {
            const z = tf.add(matMul(acts[l], vars[l].W, 0, 0), vars[l].b);
            acts.push(l < L - 1 ? tf.relu(z) : tf.sigmoid(z));
          }
          const p = acts[L];
          let dz;
          if (c.loss === 'bce') {
            const q = tf.clipByValue(p, 1e-7, 1 - 1e-7);
            loss = tf.neg(tf.mean(tf.add(tf.mul(T, tf.log(q)), tf.mul(tf.sub(1, T), tf.log(tf.sub(1, q))))));
            dz = tf.div(tf.sub(p, T), n); // sigmoid + BCE fused: (p − t)/(B·N)
          } else if (c.loss === 'mse') {
            loss = tf.mean(tf.squaredDifference(p, T));
            dz = tf.mul(tf.mul(tf.sub(p, T), 2 / n), tf.mul(p, tf.sub(1, p))); // mse backward, then sigmoid backward
          } else throw new Error(`bench: tfjs step has no loss '${c.loss}'`);
          tf.keep(loss);
          const g = {};
          for (let l = L - 1; l >= 0; l--) {
            g[vars[l].W.name] = matMul(acts[l], dz, 1, 0); // dW = xᵀ·dz
            g[vars[l].b.name] = tf.sum(dz, 0); // db = column sums
            if (l > 0) dz = tf.mul(matMul(dz, vars[l].W, 0, 1), tf.step(acts[l])); // dx = dz·Wᵀ, relu backward
          }
          return g;
        });
        opt.applyGradients(grads);
        tf.dispose(grads);
        const value = loss.dataSync()[0];
        loss.dispose();
        return value;
      };
      return {
        run,
        dispose: () => (tf.dispose([X, ...vars.flatMap((v) => [v.W, v.b])]), opt.dispose()),
      };
    },
  };
}
