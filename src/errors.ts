import { CUT_MARK } from './redaction.js';

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

/**
 * The stream ended before the response was finished. `partial` holds what
 * arrived; its shape depends on the stage that raised the error, and
 * `isTruncated(error, 'accumulateChatCompletion')` (or another stage's name)
 * checks it and types it.
 */
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

/**
 * The first `maxChars` characters of `text`, marked with `…` when cut. Error
 * messages quote server text only through this, so that a secret the cut
 * falls inside is still found and redacted.
 */
export function excerpt(text: string, maxChars: number): string {
  return text.length > maxChars ? `${text.slice(0, maxChars)}${CUT_MARK}` : text;
}
