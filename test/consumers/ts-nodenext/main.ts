// TypeScript (nodenext, strict) consumer: the Node API type-checks, files and bundled digits included.
import { createBackend, autoencoder, fit, loadBundledMnist, saveModel, loadModel, type Backend, type EpochMetrics } from 'simdnet';

const backend: Backend = await createBackend('wasm');
const { train, test } = loadBundledMnist({ seed: 0 });
const model = autoencoder(backend, { hidden: [32] });
const history = await fit(model, { train: { x: train.images, y: train.images }, test: { x: test.images, y: test.images } }, { epochs: 1 });
const last: EpochMetrics | undefined = history.epochs.at(-1);
console.log(last?.testLoss, backend.variant);
saveModel('model.simdnet', model);
const loaded = loadModel('model.simdnet', backend);
console.log(loaded.model.layers.length);
