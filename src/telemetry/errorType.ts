import { APIError, OpenAIRxError, StreamAbortError } from '../errors.js';

/** A provider's error code short and plain enough to be a metric label (`rate_limit_exceeded`, `server_error`). */
const ERROR_CODE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Semantic conventions' fallback for an error the instrumentation has no name for. */
export const OTHER_ERROR = '_OTHER';

/**
 * The `error.type` of what an operation failed with, always low in cardinality:
 * an HTTP error's status (`'429'`); an in-stream error's status or provider
 * code (`'server_error'`), else `'APIError'`; the class name of every other
 * openai-rx error (`'StreamTimeoutError'`); `'_OTHER'` for anything else.
 *
 * @example
 * errorTypeOf(new APIError({ message: 'Rate limited', status: 429 })) // '429'
 */
export function errorTypeOf(error: unknown): string {
  if (error instanceof APIError) {
    if (error.status !== undefined) return String(error.status);
    return typeof error.code === 'string' && ERROR_CODE.test(error.code) ? error.code : error.name;
  }
  return error instanceof OpenAIRxError ? error.name : OTHER_ERROR;
}

/** Whether an error means the caller stopped the request (its `AbortSignal`): a cancellation, not a failure. */
export function isCancellation(error: unknown): boolean {
  return error instanceof StreamAbortError;
}
