import type { StreamTimeouts } from '../sse/types.js';
import { millisecondsOption } from './args.js';

/**
 * How long `openai-rx chat` waits before the first event: for the headers, then for the first event. A
 * reasoning model sends nothing on chat completions until it has thought, which takes minutes at high effort;
 * a local server may load the model or read a long prompt first. 10 minutes is what OpenAI's own SDKs wait
 * for a response by default (their `timeout`, 600 s).
 */
export const DEFAULT_FIRST_EVENT_MS = 10 * 60_000;

/**
 * How long it waits for the next event once the stream has started. Tokens come every few hundred
 * milliseconds, but a Responses stream goes quiet while a reasoning model thinks (no event between a reasoning
 * item's `added` and its `done` unless summaries were asked for). 5 minutes is the stream idle timeout of
 * OpenAI's Codex CLI (`stream_idle_timeout_ms`).
 */
export const DEFAULT_IDLE_MS = 5 * 60_000;

/**
 * The chat command's timeouts: the defaults above, or `--timeout <ms>` for the headers, the first event and
 * each next event alike; `--timeout 0` waits without a limit.
 *
 * @example
 * chatTimeouts(undefined) // { headersMs: 600000, firstEventMs: 600000, idleMs: 300000 }
 * chatTimeouts('2000')    // { headersMs: 2000, firstEventMs: 2000, idleMs: 2000 }
 * chatTimeouts('0')       // undefined
 */
export function chatTimeouts(flag: string | undefined): StreamTimeouts | undefined {
  if (flag === undefined) return { headersMs: DEFAULT_FIRST_EVENT_MS, firstEventMs: DEFAULT_FIRST_EVENT_MS, idleMs: DEFAULT_IDLE_MS };
  const ms = millisecondsOption(flag, '--timeout', 0);
  return ms === 0 ? undefined : { headersMs: ms, firstEventMs: ms, idleMs: ms };
}

/** `timeouts: 10 min to the headers, …` for `--verbose`. */
export function describeTimeouts(timeouts: StreamTimeouts | undefined): string {
  if (!timeouts) return 'timeouts: none (--timeout 0)';
  const { headersMs = 0, firstEventMs = 0, idleMs = 0 } = timeouts;
  return `timeouts: ${duration(headersMs)} for the headers, ${duration(firstEventMs)} for the first event, ${duration(idleMs)} between events`;
}

function duration(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
