// TypeScript (bundler resolution, lib dom, no @types/node, strict) consumer: the browser API type-checks.
import { availableWasmVariants, createBackend, autoencoder, fit, serializeModel, type WasmVariant } from 'simdnet';
import { Sequential, deserializeModel } from 'simdnet/infer';

const backend = await createBackend('wasm', { threads: 1 });
const variant: string = backend.variant;
const best: WasmVariant | undefined = availableWasmVariants()[0];
const model = autoencoder(backend, { hidden: [16], width: 64 });
const x = new Float32Array(64 * 32).fill(0.5);
await fit(model, { train: { x, y: x } }, { epochs: 1 });
const file = new Blob([serializeModel(model)], { type: 'application/octet-stream' });
const again: Sequential = deserializeModel(new Uint8Array(await file.arrayBuffer()), backend).model;
document.title = `${variant} ${best} ${again.layers.length}`;
