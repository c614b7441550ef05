import { createFrameParser } from './frameParser.js';
import type { SseFrame } from './types.js';

export interface SseDecoderCallbacks {
  frame(frame: SseFrame): void;
  /** The event or line grew past `maxEventSize` characters. */
  oversize(): void;
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

/** Bytes → frames: a streaming `TextDecoder` (multi-byte characters split across reads, a leading BOM) feeding a frame parser. */
export function createSseDecoder(callbacks: SseDecoderCallbacks, maxEventSize: number): SseDecoder {
  const textDecoder = new TextDecoder();
  let terminated = false;
  const parser = createFrameParser(
    {
      frame: (frame) => callbacks.frame(frame),
      oversize() {
        terminated = true;
        callbacks.oversize();
      },
    },
    maxEventSize,
  );
  // The text after the last line ending, kept only to report a body cut mid-line; most reads end with a line.
  let partialLine = '';
  const feedText = (text: string) => {
    if (text === '') return;
    // Searched backwards by hand: lastIndexOf('\r') would scan the whole read of a stream that has no CR.
    let lastEnd = text.length - 1;
    while (lastEnd >= 0 && !isLineEnd(text.charCodeAt(lastEnd))) lastEnd--;
    partialLine = lastEnd === -1 ? partialLine + text : text.slice(lastEnd + 1);
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
