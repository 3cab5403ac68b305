// The library's own error type: every bad input or misuse ends here, with a message that names the thing,
// the expected and the actual value, and a stable code a program can branch on (docs/robustness.md lists them).

/** What kind of problem a SimdnetError reports. The message says the details; the code never changes meaning. */
export const ERROR_CODES = {
  E_INVALID: 'a bad argument or value (wrong type, out of range, not finite)',
  E_OPTION: 'an unknown option or flag, or one that cannot be combined with another',
  E_SHAPE: 'sizes that do not fit together (widths, rows, batch shapes, layer chains)',
  E_FILE: 'a file or folder that is missing, unreadable, unwritable or in the way',
  E_FILE_CORRUPT: 'a file whose content is malformed, truncated, oversized or fails its checksum',
  E_UNSUPPORTED: 'well-formed input that simdnet does not support (an operator, a version, a layer kind)',
  E_MEMORY: 'more than WASM linear memory (4 GiB) can hold',
  E_DIVERGED: 'training or inference produced non-finite or runaway values',
  E_DISPOSED: 'a model, tensor or backend used after dispose()',
  E_LOCKED: 'an output folder in use by another running process, or a model in use by a running fit',
  E_RUNTIME: 'the JavaScript runtime lacks something needed (WebAssembly, a build, a worker)',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class SimdnetError extends Error {
  readonly code: ErrorCode;
  constructor(message: string, code: ErrorCode = 'E_INVALID') {
    super(message);
    this.name = 'SimdnetError';
    this.code = code;
  }
}

/** Throws a SimdnetError unless `ok`. */
export function check(ok: boolean, message: string | (() => string), code?: ErrorCode): asserts ok {
  if (!ok) throw new SimdnetError(typeof message === 'function' ? message() : message, code);
}
