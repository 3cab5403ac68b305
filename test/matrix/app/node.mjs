// Node, Deno and Bun: `simdnet` resolved from node_modules, as the package's users install it.
import * as simdnet from 'simdnet';
import { trainAll } from './train.js';

console.log(JSON.stringify(await trainAll(simdnet)));
