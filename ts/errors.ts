/**
 * Errors thrown by lmrt. Every error is an {@link LmrtError} with a stable
 * {@link LmrtErrorCode}; subclasses group the codes a caller may want to
 * handle differently.
 * @module
 */

/**
 * Stable error codes. Native failures map one-to-one onto these.
 *
 * @example
 * ```ts
 * try {
 *   await loadModel('model.gguf');
 * } catch (err) {
 *   if (err instanceof LmrtError && err.code === 'E_ARCH_UNSUPPORTED') console.error('not a model lmrt runs');
 * }
 * ```
 */
export type LmrtErrorCode =
  | 'E_INVALID_ARGUMENT'
  | 'E_IO'
  | 'E_GGUF_INVALID'
  | 'E_GGUF_UNSUPPORTED'
  | 'E_OUT_OF_MEMORY'
  | 'E_CANCELLED'
  | 'E_NATIVE_UNAVAILABLE'
  | 'E_KV_FULL'
  | 'E_ARCH_UNSUPPORTED'
  | 'E_BACKEND_UNAVAILABLE'
  | 'E_DEVICE'
  | 'E_INTERNAL';

/**
 * Base class of every error lmrt throws.
 *
 * @example
 * ```ts
 * try {
 *   await model.generate(prompt, { maxTokens: 4000 });
 * } catch (err) {
 *   if (err instanceof LmrtError) console.error(err.code, err.message); // e.g. E_KV_FULL
 * }
 * ```
 */
export class LmrtError extends Error {
  /** Machine-readable code; the message is for people. */
  readonly code: LmrtErrorCode;

  constructor(code: LmrtErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * A bad argument or option: the message names it and what was expected.
 *
 * @example
 * ```ts
 * try {
 *   await model.generate('Hi', { temperature: -1 });
 * } catch (err) {
 *   if (err instanceof InvalidArgumentError) console.error(err.message); // 'temperature must be a number >= 0, got -1'
 * }
 * ```
 */
export class InvalidArgumentError extends LmrtError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_INVALID_ARGUMENT', message, options);
  }
}

/**
 * A file could not be opened, read, mapped or written.
 *
 * @example
 * ```ts
 * try {
 *   await loadModel('missing.gguf');
 * } catch (err) {
 *   if (err instanceof IoError) console.error(err.message); // names the file and the system error
 * }
 * ```
 */
export class IoError extends LmrtError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_IO', message, options);
  }
}

/**
 * A GGUF file is malformed (`E_GGUF_INVALID`) or uses something lmrt does not
 * support (`E_GGUF_UNSUPPORTED`): the message names the file and the problem.
 *
 * @example
 * ```ts
 * try {
 *   await inspectGguf('broken.gguf');
 * } catch (err) {
 *   if (err instanceof GgufError) console.error(err.code, err.message); // E_GGUF_INVALID: what is wrong, where
 * }
 * ```
 */
export class GgufError extends LmrtError {
  constructor(code: 'E_GGUF_INVALID' | 'E_GGUF_UNSUPPORTED', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * An operation was cancelled by its caller.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * const download = pullModel('hf:owner/repo/model.gguf', { signal: controller.signal });
 * controller.abort();
 * await download.catch((err) => err instanceof CancelledError); // true; the partial file stays for a resume
 * ```
 */
export class CancelledError extends LmrtError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_CANCELLED', message, options);
  }
}

/**
 * The native addon could not be loaded on this machine.
 *
 * @example
 * ```ts
 * try {
 *   await loadModel('model.gguf');
 * } catch (err) {
 *   if (err instanceof NativeUnavailableError) console.error('no lmrt binary for this platform:', err.message);
 * }
 * ```
 */
export class NativeUnavailableError extends LmrtError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_NATIVE_UNAVAILABLE', message, options);
  }
}

/**
 * The backend asked for cannot run here (`E_BACKEND_UNAVAILABLE`: with
 * `backend: 'cuda'`, the CUDA backend's library or an NVIDIA GPU is
 * missing; the message says which) or a GPU failed an operation
 * (`E_DEVICE`).
 *
 * @example
 * ```ts
 * try {
 *   await loadModel('model.gguf', { backend: 'cuda' });
 * } catch (err) {
 *   if (err instanceof BackendError) console.error(err.code, err.message);
 * }
 * ```
 */
export class BackendError extends LmrtError {
  constructor(code: 'E_BACKEND_UNAVAILABLE' | 'E_DEVICE', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

const KNOWN_CODES = new Set<string>([
  'E_INVALID_ARGUMENT', 'E_IO', 'E_GGUF_INVALID', 'E_GGUF_UNSUPPORTED', 'E_OUT_OF_MEMORY',
  'E_CANCELLED', 'E_NATIVE_UNAVAILABLE', 'E_KV_FULL', 'E_ARCH_UNSUPPORTED', 'E_BACKEND_UNAVAILABLE',
  'E_DEVICE', 'E_INTERNAL',
]);

/**
 * Turns an error raised by the native addon (a plain Error with a `code`)
 * into the matching LmrtError subclass.
 * @internal
 */
export function fromNativeError(err: unknown): LmrtError {
  if (err instanceof LmrtError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const raw = (err as { code?: unknown } | null)?.code;
  const code = typeof raw === 'string' && KNOWN_CODES.has(raw) ? (raw as LmrtErrorCode) : 'E_INTERNAL';
  switch (code) {
    case 'E_INVALID_ARGUMENT': return new InvalidArgumentError(message, { cause: err });
    case 'E_IO': return new IoError(message, { cause: err });
    case 'E_GGUF_INVALID':
    case 'E_GGUF_UNSUPPORTED': return new GgufError(code, message, { cause: err });
    case 'E_CANCELLED': return new CancelledError(message, { cause: err });
    case 'E_BACKEND_UNAVAILABLE':
    case 'E_DEVICE': return new BackendError(code, message, { cause: err });
    default: return new LmrtError(code, message, { cause: err });
  }
}
