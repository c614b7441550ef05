import { parseForeignJson } from '../json.js';
import { isRecord } from '../sse/httpErrors.js';

/*
 * Readers of streamed frames (the relay's audit, telemetry) look for usage
 * without parsing every frame: a cheap text test picks the few that can carry
 * it, and only those are parsed. The pre-tests search without the opening
 * quote: JSON is full of quotes, and a search that stops at each one is five
 * times slower.
 */
const USAGE_HINT = /"usage"\s*:\s*\{/;

/** Text every frame that carries usage contains; a reader of many frames' text tests it once for them all. */
export const USAGE_WORD = 'usage"';

/** Whether JSON `text` may carry a `usage` object; `false` for nearly every frame, and for `"usage":null`. */
export function mayCarryUsage(text: string): boolean {
  return text.includes(USAGE_WORD) && USAGE_HINT.test(text);
}

/** The `usage` object of a parsed chunk, event or body: at the top level or in its `response` (Responses' final events). */
export function usageOf(json: unknown): Record<string, unknown> | undefined {
  if (!isRecord(json)) return undefined;
  if (isRecord(json.usage)) return json.usage;
  return isRecord(json.response) && isRecord(json.response.usage) ? json.response.usage : undefined;
}

/**
 * The `usage` object a JSON text carries at the top level or in its `response`.
 *
 * @example
 * usageIn('{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12}}') // { prompt_tokens: 9, completion_tokens: 12 }
 */
export function usageIn(text: string): Record<string, unknown> | undefined {
  return mayCarryUsage(text) ? usageOf(parseForeignJson(text)) : undefined;
}
