// A page with no bundler: trains on the main thread (one thread: Atomics.wait is not allowed there), then in a
// module worker (every core when the page is cross-origin isolated), and leaves both in window.result.
import * as simdnet from './node_modules/simdnet/dist/index.js';
import { trainAll } from './train.js';

function inWorker() {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.onmessage = (e) => (e.data.error ? reject(new Error(`worker: ${e.data.error}`)) : resolve(e.data.result));
    worker.onerror = (e) => reject(new Error(`worker: ${e.message || 'failed to load'}`));
  });
}

try {
  const main = await trainAll(simdnet);
  const worker = await inWorker();
  window.result = { isolated: self.crossOriginIsolated, cores: navigator.hardwareConcurrency, main, worker };
} catch (e) {
  window.result = { error: String(e?.stack ?? e) };
}
document.getElementById('out').textContent = JSON.stringify(window.result);
