/*
 * What the bench processes say to each other: the plan a client puts in its request body for the upstream, the
 * shape of every event, and the clock they share.
 */

/**
 * How the upstream answers one request. Every mode honours the socket's backpressure: when `write()` returns
 * false it waits for `drain` before writing more.
 * - `burst`: `events` chunks as fast as the socket takes them (writes of about 64 KB), then `[DONE]`;
 * - `buffered`: `events` chunks in one write, then the response stays open until the client closes it;
 * - `paced`: one chunk every `intervalMs`, `events` in all (then `[DONE]`), or until the client leaves when
 *   `events` is 0 (still bounded: the upstream ends any paced stream after {@link PACED_LIMIT_MS}).
 */
export type UpstreamPlan =
  | { mode: 'burst'; events: number; contentChars?: number; timestamps?: boolean }
  | { mode: 'buffered'; events: number }
  | { mode: 'paced'; events: number; intervalMs: number; timestamps?: boolean };

/** Sent in the request body beside `model` and `messages`; clients pass unknown body fields through unchanged. */
export interface BenchRequestFields {
  bench: UpstreamPlan;
  /** Names the request so the upstream can report when its socket closed. */
  runId: string;
}

export const PACED_LIMIT_MS = 30_000;

/** The content of one delta in the throughput scenarios: a short token, as real streams send. */
export const TOKEN = 'tok';

/**
 * One chat.completion.chunk with OpenAI's fields, values kept short so that the data line is close to the ~100
 * chars of the scenario (139 with the token). `t` is the upstream's clock in microseconds when the event was
 * built, for latency (lenient parsers keep unknown fields).
 */
export function chunkJson(content: string, finish: string | null = null, t?: number): string {
  const time = t === undefined ? '' : `,"t":${t}`;
  const delta = finish === null ? `{"content":${JSON.stringify(content)}}` : '{}';
  return (
    `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m"${time},` +
    `"choices":[{"index":0,"delta":${delta},"finish_reason":${finish === null ? 'null' : JSON.stringify(finish)}}]}`
  );
}

export const sseData = (json: string) => `data: ${json}\n\n`;
export const DONE = 'data: [DONE]\n\n';

/**
 * CLOCK_MONOTONIC in microseconds (`process.hrtime` on Linux): one clock shared by every process on the machine, so
 * an upstream timestamp and a client's receive time, or a client's unsubscribe and the upstream's socket close,
 * can be subtracted.
 */
export function nowUs(): number {
  return Number(process.hrtime.bigint()) / 1000;
}

/** The request body every client sends. */
export function requestBody(fields: BenchRequestFields): Record<string, unknown> {
  return { model: 'bench', messages: [{ role: 'user', content: 'bench' }], stream: true, ...fields };
}
