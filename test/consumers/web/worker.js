import { trainFewSteps } from './train.js';

trainFewSteps().then(
  (result) => self.postMessage({ result }),
  (e) => self.postMessage({ error: String(e?.message ?? e) }),
);
