// Node ESM consumer: the bundled digits, a small autoencoder, a few training steps.
import { autoencoder, createBackend, fit, loadBundledMnist } from 'simdnet';

const backend = await createBackend('wasm', { threads: 2 });
const { train } = loadBundledMnist();
const x = train.images.subarray(0, 256 * 784);
const model = autoencoder(backend, { hidden: [32], seed: 1 });
const losses = [];
await fit(model, { train: { x, y: x } }, { epochs: 1, batchSize: 32, loss: 'bce', optimizer: 'adam', onBatch: (b) => void losses.push(b.loss) });
console.log(JSON.stringify({ variant: backend.variant, threads: backend.threads, losses }));
backend.dispose();
