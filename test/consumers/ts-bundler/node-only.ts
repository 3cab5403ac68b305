// Must NOT compile for a browser consumer: loadBundledMnist and saveModel read and write files (Node only).
import { loadBundledMnist, saveModel } from 'simdnet';

console.log(loadBundledMnist, saveModel);
