import { APIError, excerpt } from '../errors.js';
import type { SseEventFrame } from '../sse/types.js';
import { nestsDeeperThan } from '../json.js';
import { carriesError, isRecord, readErrorBody, readErrorObject } from '../sse/httpErrors.js';

/**
 * Finds an error inside a stream, in the shapes providers send: `event: error`
 * with any data (llama.cpp's bare `error: {"code":500,"message":…}` line arrives
 * as one), `data: {"error":{...}}` (OpenAI, OpenRouter; also beside
 * `choices`, with a numeric `code`), a flat `{"object":"error",…}` (vLLM) and
 * Responses' `{"type":"error",…}`. `json` is the parsed data, or `undefined`
 * when it was not JSON.
 */
export function streamErrorOf(event: string | undefined, json: unknown, data: string): APIError | undefined {
  if (event !== 'error' && !carriesError(json)) return undefined;
  const read = (event === 'error' ? readErrorBody(json) : readErrorObject(json)) ?? {
    message: excerpt(data, MESSAGE_CHARS) || 'The server sent an error event',
  };
  return new APIError({ ...read, status: statusOf(read.code), body: keptBody(json, data), inStream: true });
}

/** How much of an error event's text becomes the message when it has no readable message of its own. */
const MESSAGE_CHARS = 500;

/** Some providers put the HTTP status in `code` (a number); that is the closest status there is. */
function statusOf(code: string | number | null | undefined): number | undefined {
  return typeof code === 'number' && code >= 400 && code < 600 ? code : undefined;
}

/**
 * The error of a Responses `response.failed` event (its reason is in
 * `response.error`; the whole event stays in `body`), or `undefined` for any
 * other event.
 */
export function responseFailedError(json: unknown, data: string): APIError | undefined {
  if (!isRecord(json) || json.type !== 'response.failed') return undefined;
  const response = isRecord(json.response) ? json.response : {};
  const read = readErrorObject(response);
  const id = typeof response.id === 'string' ? ` ${response.id}` : '';
  return new APIError({
    ...read,
    message: read?.message || `The response${id} failed without an error message`,
    body: keptBody(json, data),
    inStream: true,
  });
}

/** An error keeps the event's value as its `body` only when it nests within the limit; else its text. */
function keptBody(json: unknown, data: string): unknown {
  return json === undefined || nestsDeeperThan(data) ? data : json;
}

/**
 * Text one of which every frame `errorInFrame` parses contains (an `event: error` frame's text too); a reader of many
 * frames' text tests them once for them all.
 */
export const ERROR_WORDS = ['rror', 'failed'] as const;

/** A cheap text test first: only frames that may carry an error are parsed. */
const ERROR_HINT = /"error"\s*:\s*[{"]|"(?:type|object)"\s*:\s*"error"|"type"\s*:\s*"response\.failed"/;

/**
 * The error an event reports in any provider's shape, including a Responses
 * `response.failed`; else `undefined`. For readers of raw frames (the relay's
 * audit, telemetry, the CLI): substring searches first, so nearly every frame
 * is answered without parsing.
 */
export function errorInFrame(frame: SseEventFrame): APIError | undefined {
  const data = frame.data;
  // `rror` rather than `error`: it matches a little more (`false` is still certain) and, as `e` is everywhere in
  // JSON, is found or ruled out twice as fast.
  const mayCarryError = frame.event === 'error' || ((data.includes(ERROR_WORDS[0]) || data.includes(ERROR_WORDS[1])) && ERROR_HINT.test(data));
  if (!mayCarryError) return undefined;
  // Parsed whatever its depth: the error readers keep a value only if it nests within the limit.
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    json = undefined;
  }
  return streamErrorOf(frame.event, json, data) ?? responseFailedError(json, data);
}
