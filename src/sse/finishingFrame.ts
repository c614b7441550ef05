import type { SseFrame } from './types.js';

/** The Responses events after which a response is complete. */
export const FINISHING_TYPES: ReadonlySet<unknown> = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/**
 * Whether the response is complete after `frame`: `[DONE]`, or a Responses
 * event that ends the response. A substring test comes first, so nearly every
 * frame is answered without parsing.
 */
export function isFinishingFrame(frame: SseFrame | undefined): boolean {
  if (frame?.type !== 'event') return false;
  const { data } = frame;
  if (data === '[DONE]') return true;
  if (!mayFinish(data)) return false;
  try {
    return FINISHING_TYPES.has((JSON.parse(data) as { type?: unknown }).type);
  } catch {
    return false;
  }
}

/** One scan: irregexp finds these several times faster than four `includes` would (the relay tests every read). */
const FINISHING_TEXT = /\[DONE\]|"response\.(?:completed|incomplete|failed)"/;

/** Whether text (a frame's data, or many frames' text) may hold a finishing event; `false` is certain. */
export function mayFinish(text: string): boolean {
  return FINISHING_TEXT.test(text);
}
