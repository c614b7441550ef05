import { APIError } from '../errors.js';
import { streamErrorOf } from '../openai/streamErrors.js';
import { isRecord, readErrorObject } from '../sse/httpErrors.js';
import type { SseEventFrame } from '../sse/types.js';

/*
 * The audit reads frames without parsing every one: a cheap text test picks the
 * few that can carry usage or an error, and only those are parsed.
 */
const USAGE_HINT = /"usage"\s*:\s*\{/;
const ERROR_HINT = /"error"\s*:\s*[{"]|"(?:type|object)"\s*:\s*"error"|"type"\s*:\s*"response\.failed"/;

/** The `usage` object a JSON text carries at the top level or in its `response` (Responses' final events). */
export function usageIn(text: string): Record<string, unknown> | undefined {
  if (!text.includes('"usage"') || !USAGE_HINT.test(text)) return undefined;
  const json = parseJson(text);
  if (!isRecord(json)) return undefined;
  if (isRecord(json.usage)) return json.usage;
  return isRecord(json.response) && isRecord(json.response.usage) ? json.response.usage : undefined;
}

/** The error an event reports in any provider's shape, including a Responses `response.failed`; else `undefined`. */
export function errorInFrame(frame: SseEventFrame): APIError | undefined {
  const data = frame.data;
  // Substring searches first: far cheaper than the pattern, and nearly every frame fails them.
  const mayCarryError =
    frame.event === 'error' || ((data.includes('error') || data.includes('failed')) && ERROR_HINT.test(data));
  if (!mayCarryError) return undefined;
  const json = parseJson(data);
  const error = streamErrorOf(frame.event, json, data);
  if (error || !isRecord(json) || json.type !== 'response.failed' || !isRecord(json.response)) return error;
  const failure = readErrorObject(json.response) ?? { message: 'The response failed' };
  return new APIError({ ...failure, body: json, inStream: true });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
