import * as simdnet from './node_modules/simdnet/dist/index.js';
import { trainAll } from './train.js';

trainAll(simdnet).then(
  (result) => self.postMessage({ result: { ...result, isolated: self.crossOriginIsolated } }),
  (e) => self.postMessage({ error: String(e?.stack ?? e) }),
);
