import { createFrameParser, type FrameParser, type FrameParserCallbacks } from './frameParser.js';
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
  return new StreamingSseDecoder(callbacks, maxEventSize);
}

/**
 * One object per stream, with its methods on the prototype: a decoder lives as long as its stream, and closures
 * for each callback would cost every open stream about half a kilobyte more.
 */
class StreamingSseDecoder implements SseDecoder, FrameParserCallbacks {
  private readonly textDecoder = new TextDecoder();
  private readonly parser: FrameParser;
  private terminated = false;
  /** The text after the last line ending, kept only to report a body cut mid-line; most reads end with a line. */
  private partialLine = '';

  constructor(
    private readonly callbacks: SseDecoderCallbacks,
    maxEventSize: number,
  ) {
    this.parser = createFrameParser(this, maxEventSize);
  }

  frame(frame: SseFrame): void {
    this.callbacks.frame(frame);
  }

  oversize(): void {
    this.terminated = true;
    this.callbacks.oversize();
  }

  feed(chunk: Uint8Array): void {
    if (!this.terminated) this.feedText(this.textDecoder.decode(chunk, STREAMING));
  }

  end(): void {
    if (this.terminated) return;
    this.feedText(this.textDecoder.decode());
    if (this.partialLine) this.callbacks.cut(this.partialLine);
    // Complete lines only: two line feeds end a held-back CR and then the pending event, if any.
    else this.parser.feed('\n\n');
  }

  private feedText(text: string): void {
    if (text === '') return;
    // Searched backwards by hand: lastIndexOf('\r') would scan the whole read of a stream that has no CR.
    let lastEnd = text.length - 1;
    while (lastEnd >= 0 && !isLineEnd(text.charCodeAt(lastEnd))) lastEnd--;
    this.partialLine = lastEnd === -1 ? this.partialLine + text : text.slice(lastEnd + 1);
    this.parser.feed(text);
  }
}

function isLineEnd(code: number): boolean {
  return code === 10 || code === 13;
}
