// Trains on the main thread (one thread: Atomics.wait is not allowed here), then in a module worker (every core
// when the page is cross-origin isolated), and leaves both results in window.result for the test.
import { trainFewSteps } from './train.js';

async function inWorker() {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.onmessage = (e) => (e.data.error ? reject(new Error(e.data.error)) : resolve(e.data.result));
    worker.onerror = (e) => reject(new Error(e.message || 'the worker failed to load'));
  });
}

try {
  const main = await trainFewSteps();
  const worker = await inWorker();
  window.result = { main, worker };
  document.getElementById('out').textContent = JSON.stringify(window.result);
} catch (e) {
  window.result = { error: String(e?.message ?? e) };
  console.error(e);
}
