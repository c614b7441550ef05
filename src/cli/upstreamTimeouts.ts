import { Agent } from 'undici';
import type { StreamTimeouts } from '../sse/types.js';
import type { Transport } from '../transport/types.js';
import { undiciTransport } from '../transport/undiciTransport.js';
import { millisecondsOption } from './args.js';

/**
 * How long `openai-rx chat` and `openai-rx relay` wait upstream before the first event: for the headers, then for the first event. A
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
 * The upstream timeouts of `chat` and `relay`: the defaults above, or `--timeout <ms>` for the headers, the
 * first event and each next event alike; `--timeout 0` waits without a limit (a relay request upstream then
 * lasts as long as its client stays).
 *
 * @example
 * upstreamTimeouts(undefined) // { headersMs: 600000, firstEventMs: 600000, idleMs: 300000 }
 * upstreamTimeouts('2000')    // { headersMs: 2000, firstEventMs: 2000, idleMs: 2000 }
 * upstreamTimeouts('0')       // undefined
 */
export function upstreamTimeouts(flag: string | undefined): StreamTimeouts | undefined {
  if (flag === undefined) return { headersMs: DEFAULT_FIRST_EVENT_MS, firstEventMs: DEFAULT_FIRST_EVENT_MS, idleMs: DEFAULT_IDLE_MS };
  const ms = millisecondsOption(flag, '--timeout', 0);
  return ms === 0 ? undefined : { headersMs: ms, firstEventMs: ms, idleMs: ms };
}

let agentWithoutLimits: Agent | undefined;

/**
 * undici without its own limits (5 minutes for the headers and between body chunks), which would cut a
 * reasoning model's silence short of the command's: `--timeout` decides, and `--timeout 0` means no limit.
 * One agent for the process, as undici's default one, so that its connections are pooled rather than left with
 * an agent per relay server or answer.
 */
export function transportWithoutUndiciLimits(): Transport {
  agentWithoutLimits ??= new Agent({ headersTimeout: 0, bodyTimeout: 0 });
  return undiciTransport({ dispatcher: agentWithoutLimits });
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
