import { APIError } from '../errors.js';
import { parseForeignJson } from '../json.js';
import { responseFailedError, streamErrorOf } from '../openai/streamErrors.js';
import { isRecord } from '../sse/httpErrors.js';
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
  const json = parseForeignJson(text);
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
  // Parsed whatever its depth: the error readers keep a value only if it nests within the limit.
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    json = undefined;
  }
  return streamErrorOf(frame.event, json, data) ?? responseFailedError(json, data);
}
