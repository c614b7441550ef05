import { createParser, type EventSourceMessage, type ParseError } from 'eventsource-parser';
import type { SseFrame } from './types.js';

export interface SseDecoderCallbacks {
  frame(frame: SseFrame): void;
  /** The event or line grew past `maxEventSize` characters. */
  oversize(size: number): void;
  /** The body ended in the middle of a line: `partialLine` is what arrived of it. */
  cut(partialLine: string): void;
}

export interface SseDecoder {
  feed(chunk: Uint8Array): void;
  /**
   * The body ended. A last event whose lines are complete but that lacks the
   * final blank line (some servers omit it) is delivered, where the SSE spec
   * would drop it. A body that ends in the middle of a line was cut short:
   * that goes to `cut`, never silently dropped.
   */
  end(): void;
}

/** One options object for every read: the hot path allocates none. */
const STREAMING: TextDecodeOptions = { stream: true };

/**
 * Bytes → frames: a streaming `TextDecoder` (multi-byte characters split
 * across reads, a leading BOM) feeding eventsource-parser (LF, CRLF and CR
 * line endings, `data:` with or without a space, multi-line data, comments).
 *
 * The old llama.cpp server sent errors as a bare `error: {...}` line, which the
 * SSE spec ignores; it is surfaced as an `event: error` frame so that it cannot
 * end a stream silently.
 */
export function createSseDecoder(callbacks: SseDecoderCallbacks, maxEventSize: number): SseDecoder {
  const textDecoder = new TextDecoder();
  let terminated = false;
  const parser = createParser({
    maxBufferSize: maxEventSize,
    onEvent(message: EventSourceMessage) {
      if (terminated) return;
      if (message.data.length > maxEventSize) {
        terminated = true;
        callbacks.oversize(message.data.length);
        return;
      }
      callbacks.frame(toFrame(message));
    },
    onComment(text: string) {
      if (!terminated) callbacks.frame({ type: 'comment', text });
    },
    onError(error: ParseError) {
      if (terminated) return;
      if (error.type === 'max-buffer-size-exceeded') {
        terminated = true;
        callbacks.oversize(maxEventSize + 1);
      } else if (error.type === 'unknown-field' && error.field === 'error') {
        callbacks.frame({ type: 'event', event: 'error', data: error.value ?? '' });
      }
    },
  });
  // The text after the last line ending, kept only to report a body cut mid-line; most reads end with a line.
  let partialLine = '';
  const feedText = (text: string) => {
    if (text === '') return;
    if (isLineEnd(text.charCodeAt(text.length - 1))) partialLine = '';
    else {
      const lastEnd = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
      partialLine = lastEnd === -1 ? partialLine + text : text.slice(lastEnd + 1);
    }
    parser.feed(text);
  };
  return {
    feed(chunk) {
      if (!terminated) feedText(textDecoder.decode(chunk, STREAMING));
    },
    end() {
      if (terminated) return;
      feedText(textDecoder.decode());
      if (partialLine) callbacks.cut(partialLine);
      // Complete lines only: two line feeds end a held-back CR and then the pending event, if any.
      else parser.feed('\n\n');
    },
  };
}

function isLineEnd(code: number): boolean {
  return code === 10 || code === 13;
}

function toFrame(message: EventSourceMessage): SseFrame {
  if (message.event === undefined && message.id === undefined) return { type: 'event', data: message.data };
  const frame: SseFrame = { type: 'event', data: message.data };
  if (message.event !== undefined) frame.event = message.event;
  if (message.id !== undefined) frame.id = message.id;
  return frame;
}
