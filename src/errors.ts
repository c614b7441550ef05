import { CUT_MARK } from './redaction.js';

/*
 * Every error class takes one init object: the message (where the class does
 * not word it itself), its own fields, and an optional `cause`.
 */

/** What every error's init object may carry. */
export interface ErrorInit {
  message: string;
  /** What led to this error (a network error, a zod error, the error a stream failed with). */
  cause?: unknown;
}

/**
 * Every error openai-rx raises extends {@link OpenAIRxError}. None of them ever
 * holds the API key or an `Authorization` header: request headers are never
 * attached, and text that came from the server is passed through the client's
 * redaction before it is stored.
 */
export class OpenAIRxError extends Error {
  override name = 'OpenAIRxError';

  constructor(init: ErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
  }
}

export interface APIErrorInit extends ErrorInit {
  status?: number;
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
  declare readonly status: number | undefined;
  declare readonly type: string | undefined;
  declare readonly code: string | number | null | undefined;
  declare readonly param: string | null | undefined;
  declare readonly requestId: string | undefined;
  declare readonly headers: Record<string, string>;
  declare readonly body: unknown;
  declare readonly retryAfterMs: number | undefined;
  declare readonly inStream: boolean;

  constructor(init: APIErrorInit) {
    super(init);
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

export interface StreamTimeoutErrorInit {
  phase: TimeoutPhase;
  timeoutMs: number;
}

/** No response headers, no first event, no data for too long, or the whole stream took too long. */
export class StreamTimeoutError extends OpenAIRxError {
  override name = 'StreamTimeoutError';
  declare readonly phase: TimeoutPhase;
  declare readonly timeoutMs: number;

  constructor(init: StreamTimeoutErrorInit) {
    super({ message: `Stream timed out in phase '${init.phase}' after ${init.timeoutMs} ms` });
    this.phase = init.phase;
    this.timeoutMs = init.timeoutMs;
  }
}

export type ProtocolProblem = 'content-type' | 'invalid-json' | 'invalid-chunk' | 'event-too-large';

export interface StreamProtocolErrorInit extends ErrorInit {
  problem: ProtocolProblem;
  /** The offending raw text, if any. */
  data?: string;
}

/** The server spoke, but not the protocol we expected. `data` carries the offending raw text, if any. */
export class StreamProtocolError extends OpenAIRxError {
  override name = 'StreamProtocolError';
  declare readonly problem: ProtocolProblem;
  declare readonly data: string | undefined;

  constructor(init: StreamProtocolErrorInit) {
    super(init);
    this.problem = init.problem;
    this.data = init.data;
  }
}

export interface StreamTruncatedErrorInit<T> extends ErrorInit {
  partial: T;
}

/**
 * The stream ended before the response was finished. `partial` holds what
 * arrived; its shape depends on the stage that raised the error, and
 * `isTruncated(error, 'accumulateChatCompletion')` (or another stage's name)
 * checks it and types it.
 */
export class StreamTruncatedError<T = unknown> extends OpenAIRxError {
  override name = 'StreamTruncatedError';
  declare readonly partial: T;

  constructor(init: StreamTruncatedErrorInit<T>) {
    super(init);
    this.partial = init.partial;
  }
}

/**
 * The request could not be sent as configured: OpenAI's own API without a
 * key, an API key or another header value with a CR, LF or NUL (a key read
 * from a file with its newline), a URL the transport cannot parse. Trying
 * again cannot help, so `retryStream` never does.
 */
export class InvalidRequestError extends OpenAIRxError {
  override name = 'InvalidRequestError';
}

export interface StreamAbortErrorInit {
  /** The signal's `reason`. */
  reason?: unknown;
}

/** The caller's `AbortSignal` fired. Unsubscribing is silent and never produces this. */
export class StreamAbortError extends OpenAIRxError {
  override name = 'StreamAbortError';
  declare readonly reason: unknown;

  constructor(init: StreamAbortErrorInit = {}) {
    super({ message: 'The request was aborted by its signal' });
    this.reason = init.reason;
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

export type PartialJsonProblem = 'invalid' | 'unfinished' | 'too-deep' | 'too-long';

export interface PartialJsonErrorInit {
  problem: PartialJsonProblem;
  /** Index in `text` of the character where the JSON went wrong (`text.length` when it ended unfinished). */
  position: number;
  /** The text received so far. */
  text: string;
  /** What went wrong at `position`, without the text. */
  reason: string;
}

/**
 * Streamed JSON went wrong: a character that cannot continue it (`invalid`,
 * raised at that character), an end before the value was complete
 * (`unfinished`), or a limit (`too-deep`, `too-long`).
 */
export class PartialJsonError extends OpenAIRxError {
  override name = 'PartialJsonError';
  readonly problem: PartialJsonProblem;
  readonly position: number;
  readonly text: string;

  constructor(init: PartialJsonErrorInit) {
    super({ message: `${init.reason} (at position ${init.position})` });
    this.problem = init.problem;
    this.position = init.position;
    this.text = init.text;
  }
}

/** One way the output failed its schema; zod's issues have this shape (and more fields). */
export interface OutputIssue {
  readonly code?: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

export interface OutputValidationErrorInit extends ErrorInit {
  /** The whole text that failed. */
  text: string;
  /** The schema's issues; empty when the text was not JSON (then `cause` is the {@link PartialJsonError}). */
  issues?: readonly OutputIssue[];
}

/** A model's structured output is not valid JSON, or fails its schema. Keeps the text and the schema's issues. */
export class OutputValidationError extends OpenAIRxError {
  override name = 'OutputValidationError';
  readonly text: string;
  readonly issues: readonly OutputIssue[];

  constructor(init: OutputValidationErrorInit) {
    super(init);
    this.text = init.text;
    this.issues = init.issues ?? [];
  }
}

export interface RefusalErrorInit {
  /** The model's refusal text. */
  refusal: string;
}

/**
 * The model refused to answer (a chat `refusal`, a Responses refusal part):
 * how `contentDeltas()`, `outputTextDeltas()` and `structuredOutput` end a refused answer.
 */
export class RefusalError extends OpenAIRxError {
  override name = 'RefusalError';
  declare readonly refusal: string;

  constructor(init: RefusalErrorInit) {
    super({ message: `The model refused: ${excerpt(init.refusal, 200)}` });
    this.refusal = init.refusal;
  }
}

export interface StrictSchemaErrorInit extends ErrorInit {
  /** Where in the schema: a property path such as `address.tags[]`, or `(root)`. */
  path: string;
}

/**
 * A zod schema that OpenAI's strict structured outputs cannot express (a record,
 * a tuple, `z.any()`, a root that is not an object…), raised where the format
 * or tool is defined instead of a 400 from the API later.
 */
export class StrictSchemaError extends OpenAIRxError {
  override name = 'StrictSchemaError';
  readonly path: string;

  constructor(init: StrictSchemaErrorInit) {
    super(init);
    this.path = init.path;
  }
}
