// The matrix's workload, the same in every runtime and browser: a small autoencoder on synthetic images (256
// rows of 64 pixels), 16 Adam steps. `simdnet` is the library's module, passed in (a bare import in Node, Deno
// and Bun; the package's dist/index.js path in a browser page and its worker, which have no import map).

/** FNV-1a of the bytes: the same 32-bit value if and only if (almost surely) the trained weights are bit-identical. */
function fingerprint(bytes) {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** One training run with these backend options: what ran, the losses, and the trained model's fingerprint. */
export async function train(simdnet, options, dispose = true) {
  const { autoencoder, createBackend, fit, Rng, serializeModel } = simdnet;
  const backend = await createBackend('wasm', options);
  const rng = new Rng(3);
  const x = new Float32Array(256 * 64).map(() => (rng.next() < 0.3 ? 1 : 0));
  const model = autoencoder(backend, { hidden: [16], width: 64, seed: 1 });
  const losses = [];
  await fit(model, { train: { x, y: x } }, { epochs: 2, batchSize: 32, loss: 'bce', optimizer: 'adam', lr: 0.01, onBatch: (b) => void losses.push(b.loss) });
  const result = { variant: backend.variant, threads: backend.threads, note: backend.threadsNote ?? null, losses, bits: fingerprint(serializeModel(model)) };
  if (dispose) {
    model.dispose();
    backend.dispose();
  }
  return result;
}

/** The runs of one runtime: the simd build on one thread (the same bits on every engine), then the build the
 *  probe picks on one thread and on every core. The last backend is left running, as a script that just ends
 *  leaves it: the process must exit by itself all the same. */
export async function trainAll(simdnet) {
  const simd = await train(simdnet, { variant: 'simd', threads: 1 });
  const one = await train(simdnet, { threads: 1 });
  const all = await train(simdnet, {}, false);
  return { simd, one, all };
}
