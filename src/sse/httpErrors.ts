import { APIError, excerpt, type APIErrorInit } from '../errors.js';
import { foreignJsonText, parseForeignJson } from '../json.js';

/** How much of a non-JSON error body (an HTML page from a proxy) goes into the message. */
const EXCERPT_CHARS = 200;

/** The fields of an `APIError` that an error object in a body or an event says. */
type ErrorFields = Pick<APIErrorInit, 'message' | 'type' | 'code' | 'param'>;

/**
 * Reads an OpenAI-shaped error object from any of the shapes providers use:
 * `{"error":{"message","type","code","param"}}`, `{"error":"text"}`, or a flat
 * `{"object":"error","message",…}` (vLLM) / `{"type":"error",…}` (Responses).
 * Returns `undefined` when the value carries no error.
 */
export function readErrorObject(value: unknown): ErrorFields | undefined {
  if (!carriesError(value)) return undefined;
  const nested = value.error;
  return typeof nested === 'string' && nested ? { message: nested } : fields(isRecord(nested) ? nested : value);
}

/** Whether a value has one of the shapes {@link readErrorObject} reads; looks at its top level only. */
export function carriesError(value: unknown): value is Record<string, unknown> {
  if (!isRecord(value)) return false;
  const nested = value.error;
  return isRecord(nested) || (typeof nested === 'string' && nested !== '') || value.object === 'error' || value.type === 'error';
}

/**
 * {@link readErrorObject}, and also a bare `{"message"}` or FastAPI's `{"detail"}`: the shapes of HTTP error
 * bodies and of the data of an explicit `event: error`, where there is no doubt that it is an error.
 */
export function readErrorBody(value: unknown): ErrorFields | undefined {
  const read = readErrorObject(value);
  if (read || !isRecord(value)) return read;
  const { message, detail } = value;
  if (typeof message === 'string') return fields(value);
  if (detail !== undefined) return { message: typeof detail === 'string' ? detail : foreignJsonText(detail) };
  return undefined;
}

function fields(source: Record<string, unknown>): ErrorFields {
  const { message, type, code, param } = source;
  return {
    message: typeof message === 'string' && message ? message : foreignJsonText(source),
    type: typeof type === 'string' ? type : undefined,
    code: typeof code === 'string' || typeof code === 'number' ? code : null,
    param: typeof param === 'string' ? param : null,
  };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `retry-after-ms`, else `retry-after` as seconds or as an HTTP date; `undefined` when absent or unreadable. */
export function retryAfterMs(headers: Record<string, string>, now: number = Date.now()): number | undefined {
  const ms = headers['retry-after-ms'];
  if (ms !== undefined && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = headers['retry-after'];
  if (after === undefined || after.trim() === '') return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function requestIdOf(headers: Record<string, string>): string | undefined {
  return headers['x-request-id'] ?? headers['request-id'] ?? headers['apim-request-id'];
}

/** The error for a response that is not the event stream we asked for: a non-2xx status, or a JSON error body. */
export function apiErrorFromResponse(status: number, headers: Record<string, string>, bodyText: string): APIError {
  // Not JSON (a proxy's HTML page, plain text) or nested too deep to keep: the text, an excerpt of it in the message.
  const parsed = parseForeignJson(bodyText);
  const body = parsed === undefined ? bodyText : parsed;
  const redirect = isUnfollowedRedirect(status, body);
  const read = redirect ? undefined : readErrorBody(body);
  const message = redirect
    ? redirectMessage(status, headers.location)
    : read
      ? `${status} ${read.message}`
      : `${status} ${statusText(status)}${bodyText.trim() ? `: ${flatExcerpt(bodyText)}` : ''}`;
  return new APIError({
    ...read,
    status,
    message,
    requestId: requestIdOf(headers),
    headers,
    body,
    retryAfterMs: retryAfterMs(headers),
  });
}

/**
 * A 3xx, or the `0` of a browser's opaque redirect (fetch with `redirect: 'manual'` hides its status, headers
 * and body), that does not explain itself with an OpenAI error object. Transports never follow one: the
 * request, key included, would go wherever upstream points. A 3xx carrying an error object keeps that error.
 */
export function isUnfollowedRedirect(status: number, body: unknown): boolean {
  return (status === 0 || (status >= 300 && status < 400)) && !readErrorObject(body);
}

/**
 * Names the target's origin only: its path or query may carry a credential (a signed URL, an echoed key).
 * The body is not quoted either: "Redirecting to <url>" pages repeat the whole target.
 */
function redirectMessage(status: number, location = ''): string {
  let origin = 'null';
  try {
    origin = new URL(location).origin;
  } catch {
    // A relative or unparsable location names no other origin.
  }
  const to = origin === 'null' ? '' : ` to ${excerpt(origin, EXCERPT_CHARS)}`;
  return `${status || 'Opaque'} redirect${to}: openai-rx follows no redirect; set baseURL to the final URL`;
}

function flatExcerpt(text: string): string {
  return excerpt(text.replace(/\s+/g, ' ').trim(), EXCERPT_CHARS);
}

/** A status class rather than a table of reason phrases: the number says the rest, and the browser bundle stays small. */
function statusText(status: number): string {
  return status >= 500 ? 'Server Error' : status >= 400 ? 'Client Error' : 'Unexpected Response';
}
