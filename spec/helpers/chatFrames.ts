import type { SseFrame } from '../../src/sse/types';

/** A chat chunk with the usual envelope; `fields` override or extend it. */
export function chunk(fields: Record<string, unknown>): Record<string, unknown> {
  return { id: 'chatcmpl-7', object: 'chat.completion.chunk', created: 1718000000, model: 'gpt-4o-mini', ...fields };
}

/** One choice's delta inside a chunk. */
export function deltaChunk(delta: Record<string, unknown>, finish: string | null = null, index = 0, extra: Record<string, unknown> = {}) {
  return chunk({ choices: [{ index, delta, logprobs: null, finish_reason: finish, ...extra }] });
}

/** SSE data frames of JSON values (strings are sent as they are, e.g. `[DONE]`). */
export function dataFrames(...values: unknown[]): SseFrame[] {
  return values.map((value) => ({ type: 'event', data: typeof value === 'string' ? value : JSON.stringify(value) }));
}
