import { createParser, type EventSourceMessage, type ParseError } from 'eventsource-parser';
import type { SseFrame } from './types.js';

export interface FrameParserCallbacks {
  frame(frame: SseFrame): void;
  /** An event (or the text buffered for one) grew past `maxEventSize` characters; nothing more is parsed. */
  oversize(): void;
}

export interface FrameParser {
  /** Text of the stream, in order; frames are handed to `callbacks.frame` as their lines complete. */
  feed(text: string): void;
}

/**
 * SSE text → frames, on eventsource-parser (LF, CRLF and CR line endings,
 * `data:` with or without a space, multi-line data, comments kept).
 *
 * The old llama.cpp server sent errors as a bare `error: {...}` line, which the
 * SSE spec ignores; it is surfaced as an `event: error` frame so that it cannot
 * end a stream silently. eventsource-parser drops the characters `ï»¿` at the
 * start of its first input, taking them for a BOM decoded as Latin-1; a first
 * blank line, which dispatches nothing, keeps them in the data they belong to
 * (a real BOM is removed by the UTF-8 decoder before the text gets here).
 */
export function createFrameParser(callbacks: FrameParserCallbacks, maxEventSize: number): FrameParser {
  let terminated = false;
  const oversize = () => {
    terminated = true;
    callbacks.oversize();
  };
  const parser = createParser({
    maxBufferSize: maxEventSize,
    onEvent(message: EventSourceMessage) {
      if (terminated) return;
      if (message.data.length > maxEventSize) oversize();
      else callbacks.frame(toFrame(message));
    },
    onComment(text: string) {
      if (!terminated) callbacks.frame({ type: 'comment', text });
    },
    onError(error: ParseError) {
      if (terminated) return;
      if (error.type === 'max-buffer-size-exceeded') oversize();
      else if (error.type === 'unknown-field' && error.field === 'error') {
        callbacks.frame({ type: 'event', event: 'error', data: error.value ?? '' });
      }
    },
  });
  parser.feed('\n');
  return {
    feed(text) {
      if (!terminated && text !== '') parser.feed(text);
    },
  };
}

function toFrame(message: EventSourceMessage): SseFrame {
  if (message.event === undefined && message.id === undefined) return { type: 'event', data: message.data };
  const frame: SseFrame = { type: 'event', data: message.data };
  if (message.event !== undefined) frame.event = message.event;
  if (message.id !== undefined) frame.id = message.id;
  return frame;
}
