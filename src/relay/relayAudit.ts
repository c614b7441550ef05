import { APIError } from '../errors.js';
import { responseFailedError, streamErrorOf } from '../openai/streamErrors.js';
import type { SseEventFrame } from '../sse/types.js';

/*
 * The audit reads frames without parsing every one: a cheap text test picks the
 * few that can carry an error (or usage: see `usageIn`), and only those are parsed.
 */
const ERROR_HINT = /"error"\s*:\s*[{"]|"(?:type|object)"\s*:\s*"error"|"type"\s*:\s*"response\.failed"/;

// Usage is read by telemetry too; it lives beside its readers in src/openai/usage.ts.
export { usageIn } from '../openai/usage.js';

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
