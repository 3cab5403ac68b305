// The library's own error type: every bad input or misuse ends here, with a message that names the thing,
// the expected and the actual value.

export class SimdnetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimdnetError';
  }
}

/** Throws a SimdnetError unless `ok`. */
export function check(ok: boolean, message: string | (() => string)): asserts ok {
  if (!ok) throw new SimdnetError(typeof message === 'function' ? message() : message);
}
