import { encodeSse } from '../sse/encodeSse.js';
import type { SseCommentFrame, SseEventFrame, SseFrame } from '../sse/types.js';

export interface SseEventFields {
  event?: string;
  id?: string;
}

/**
 * An event frame carrying `data` as JSON; a string is sent as it is.
 *
 * @example
 * sseEvent(chatChunk('Hi'));                       // data: {"id":…,"choices":[…]}
 * sseEvent({ type: 'error', message: 'boom' }, { event: 'error' });
 */
export function sseEvent(data: unknown, fields: SseEventFields = {}): SseEventFrame {
  const frame: SseEventFrame = { type: 'event', data: typeof data === 'string' ? data : JSON.stringify(data) };
  if (fields.event !== undefined) frame.event = fields.event;
  if (fields.id !== undefined) frame.id = fields.id;
  return frame;
}

/** OpenAI's end-of-stream marker, `data: [DONE]`. */
export function doneFrame(): SseEventFrame {
  return { type: 'event', data: '[DONE]' };
}

/** A comment frame, such as a keep-alive (`: ping`). */
export function sseComment(text: string): SseCommentFrame {
  return { type: 'comment', text };
}

/**
 * Frames → the text a server sends on the wire.
 *
 * @example
 * sseText([sseEvent(chatChunk('Hi')), doneFrame()]); // 'data: {…}\n\ndata: [DONE]\n\n'
 */
export function sseText(frames: Iterable<SseFrame>): string {
  let text = '';
  for (const frame of frames) text += encodeSse(frame);
  return text;
}

/**
 * Cuts text into UTF-8 chunks of `size` bytes, splitting lines, events and
 * multi-byte characters wherever the count falls, as a network read may.
 *
 * @example
 * scriptedTransport({ body: byteChunks(sseText(frames), 7) });
 */
export function byteChunks(text: string, size: number): Uint8Array[] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`byteChunks: size must be a positive integer, got ${size}`);
  const bytes = new TextEncoder().encode(text);
  const chunks: Uint8Array[] = [];
  for (let start = 0; start < bytes.length; start += size) chunks.push(bytes.subarray(start, start + size));
  return chunks;
}
