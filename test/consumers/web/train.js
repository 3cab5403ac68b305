// A few training steps of a small autoencoder on synthetic images (the page has no digits file): what every
// bundled page runs, on the main thread (main.js) and in a module worker (worker.js).
import { autoencoder, createBackend, fit, Rng } from 'simdnet';

export async function trainFewSteps() {
  const backend = await createBackend('wasm');
  const rng = new Rng(3);
  const x = new Float32Array(256 * 64).map(() => (rng.next() < 0.3 ? 1 : 0));
  const model = autoencoder(backend, { hidden: [16], width: 64, seed: 1 });
  const losses = [];
  await fit(model, { train: { x, y: x } }, { epochs: 2, batchSize: 32, loss: 'bce', optimizer: 'adam', lr: 0.01, onBatch: (b) => void losses.push(b.loss) });
  const result = { variant: backend.variant, threads: backend.threads, threadsNote: backend.threadsNote ?? null, isolated: self.crossOriginIsolated, losses };
  model.dispose();
  backend.dispose();
  return result;
}
