/**
 * Every error openai-rx raises extends {@link OpenAIRxError}. None of them ever
 * holds the API key or an `Authorization` header: request headers are never
 * attached, and text that came from the server is passed through the client's
 * redaction before it is stored.
 */
export class OpenAIRxError extends Error {
  override name = 'OpenAIRxError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface APIErrorInit {
  status?: number;
  message: string;
  type?: string;
  code?: string | number | null;
  param?: string | null;
  requestId?: string;
  headers?: Record<string, string>;
  body?: unknown;
  retryAfterMs?: number;
  /** `true` when the error arrived inside a stream that had already started. */
  inStream?: boolean;
}

/** The provider answered with an error: an HTTP status, or an error event inside the stream. */
export class APIError extends OpenAIRxError {
  override name = 'APIError';
  readonly status: number | undefined;
  readonly type: string | undefined;
  readonly code: string | number | null | undefined;
  readonly param: string | null | undefined;
  readonly requestId: string | undefined;
  readonly headers: Record<string, string>;
  readonly body: unknown;
  readonly retryAfterMs: number | undefined;
  readonly inStream: boolean;

  constructor(init: APIErrorInit) {
    super(init.message);
    this.status = init.status;
    this.type = init.type;
    this.code = init.code;
    this.param = init.param;
    this.requestId = init.requestId;
    this.headers = init.headers ?? {};
    this.body = init.body;
    this.retryAfterMs = init.retryAfterMs;
    this.inStream = init.inStream ?? false;
  }
}

/** The connection could not be made, or it broke before the stream ended. */
export class APIConnectionError extends OpenAIRxError {
  override name = 'APIConnectionError';
}

export type TimeoutPhase = 'headers' | 'first-event' | 'idle' | 'total';

/** No response headers, no first event, no data for too long, or the whole stream took too long. */
export class StreamTimeoutError extends OpenAIRxError {
  override name = 'StreamTimeoutError';

  constructor(
    readonly phase: TimeoutPhase,
    readonly timeoutMs: number,
  ) {
    super(`Stream timed out in phase '${phase}' after ${timeoutMs} ms`);
  }
}

export type ProtocolProblem = 'content-type' | 'invalid-json' | 'invalid-chunk' | 'event-too-large';

/** The server spoke, but not the protocol we expected. `data` carries the offending raw text, if any. */
export class StreamProtocolError extends OpenAIRxError {
  override name = 'StreamProtocolError';

  constructor(
    message: string,
    readonly problem: ProtocolProblem,
    readonly data?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The stream ended before the response was finished. `partial` holds what arrived. */
export class StreamTruncatedError<T = unknown> extends OpenAIRxError {
  override name = 'StreamTruncatedError';

  constructor(
    message: string,
    readonly partial: T,
  ) {
    super(message);
  }
}

/**
 * The request could not be sent as configured: a header value with a CR, LF or
 * NUL (an API key pasted with its newline), a URL the transport cannot parse.
 * Trying again cannot help, so `retryStream` never does.
 */
export class InvalidRequestError extends OpenAIRxError {
  override name = 'InvalidRequestError';
}

/** The caller's `AbortSignal` fired. Unsubscribing is silent and never produces this. */
export class StreamAbortError extends OpenAIRxError {
  override name = 'StreamAbortError';

  constructor(readonly reason?: unknown) {
    super('The request was aborted by its signal');
  }
}

const REDACTED = '[redacted]';

/** Ends text that an error message quotes only in part; {@link redactSecret} knows it. */
const CUT_MARK = '…';

/** A secret cut this short or shorter by an excerpt is left alone: so few characters reveal nothing. */
const MIN_CUT_SECRET = 4;

/**
 * The first `maxChars` characters of `text`, marked with `…` when cut. Error
 * messages quote server text only through this, so that a secret the cut
 * falls inside is still found and redacted.
 */
export function excerpt(text: string, maxChars: number): string {
  return text.length > maxChars ? `${text.slice(0, maxChars)}${CUT_MARK}` : text;
}

/**
 * Removes `secret` from every string an error holds (message, stack, body,
 * headers, data, partial results, causes), in place, including the beginning
 * of a secret that an {@link excerpt} cut short. Servers sometimes echo a
 * credential in an error body; this keeps it out of logs all the same.
 */
export function redactSecret<E>(error: E, secret: string | undefined): E {
  if (!secret || !isError(error)) return error;
  scrub(error, secret, new Set());
  return error;
}

/** Errors from Node's core or another realm are not `instanceof` this realm's `Error`. */
function isError(value: unknown): value is Error {
  return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]';
}

function scrub(value: unknown, secret: string, seen: Set<object>): unknown {
  if (typeof value === 'string') return redactText(value, secret);
  if (typeof value !== 'object' || value === null || seen.has(value)) return value;
  seen.add(value);
  const target = value as Record<string, unknown>;
  const keys = isError(value) ? ['message', 'stack', 'cause', ...Object.keys(value)] : Object.keys(value);
  for (const key of keys) {
    const before = target[key];
    const after = scrub(before, secret, seen);
    if (after !== before) {
      try {
        target[key] = after;
      } catch {
        // A frozen object cannot hold the key in a new place; leave it.
      }
    }
  }
  return value;
}

function redactText(text: string, secret: string): string {
  let result = text.includes(secret) ? text.split(secret).join(REDACTED) : text;
  for (let cut = result.indexOf(CUT_MARK); cut !== -1; cut = result.indexOf(CUT_MARK, cut + 1)) {
    for (let length = Math.min(secret.length - 1, cut); length > MIN_CUT_SECRET; length--) {
      if (result.startsWith(secret.slice(0, length), cut - length)) {
        result = result.slice(0, cut - length) + REDACTED + result.slice(cut);
        cut += REDACTED.length - length;
        break;
      }
    }
  }
  return result;
}
