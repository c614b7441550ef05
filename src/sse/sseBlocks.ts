import { createFrameParser } from './frameParser.js';
import type { SseFrame } from './types.js';

/**
 * One block of an event stream: its lines up to and including the blank line
 * that ends it, exactly as the server sent them, and the frames they make
 * (comments, and at most one event; a block of only `retry:` or `id:` lines
 * makes none).
 */
export interface SseBlock {
  bytes: Uint8Array;
  frames: SseFrame[];
}

/** The body's end: its last block when that lacks its blank line, and whether it stopped in the middle of a line. */
export interface SseBlocksEnd {
  block: SseBlock | undefined;
  cutMidLine: boolean;
}

export interface SseBlockSplitter {
  /** The blocks that `chunk` completes, in order; the rest waits for the next chunk. */
  feed(chunk: Uint8Array): SseBlock[];
  end(): SseBlocksEnd;
}

const LF = 10;
const CR = 13;

/**
 * Bytes → blocks, for a relay that passes each complete event on byte for
 * byte (line endings, field order, `retry:` and `id:` lines, comments as they
 * were) and still needs the frames for its audit. Block boundaries are found
 * in the bytes (LF, CRLF and CR line endings, a CRLF split between two reads);
 * each block is decoded and parsed once. More than `maxEventSize` characters
 * (4 bytes each at most) without a blank line is `oversize`.
 *
 * @example
 * const splitter = sseBlockSplitter(8 * 1024 * 1024, () => fail());
 * for (const block of splitter.feed(chunk)) write(block.bytes);
 */
export function sseBlockSplitter(maxEventSize: number, oversize: () => void): SseBlockSplitter {
  const maxBlockBytes = maxEventSize * 4;
  const parsed: SseFrame[] = [];
  const parser = createFrameParser({ frame: (frame) => parsed.push(frame), oversize }, maxEventSize);
  // The BOM is removed once, at the start of the body; elsewhere a U+FEFF is text.
  const firstDecoder = new TextDecoder();
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let first = true;
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  let atLineStart = true;
  let lastWasCR = false;
  // A CR ended a blank line at the end of the previous chunk: the block ends after it, or after the LF that follows.
  let blockEndsAtCR = false;

  const toBlock = (bytes: Uint8Array, tail = ''): SseBlock => {
    const text = (first ? firstDecoder : decoder).decode(bytes);
    first = false;
    // The parser holds a final CR back to see whether an LF follows; none will (this block took it), so say so.
    parser.feed(text + (tail || (bytes[bytes.length - 1] === CR ? '\n' : '')));
    return { bytes, frames: parsed.splice(0) };
  };
  const take = (chunk: Uint8Array, start: number, end: number): Uint8Array => {
    const piece = chunk.subarray(start, end);
    if (heldBytes === 0) return piece;
    const bytes = concat([...held, piece], heldBytes + piece.byteLength);
    held = [];
    heldBytes = 0;
    return bytes;
  };

  return {
    feed(chunk) {
      const blocks: SseBlock[] = [];
      if (chunk.length === 0) return blocks;
      let blockStart = 0;
      let at = 0;
      if (blockEndsAtCR) {
        blockEndsAtCR = false;
        blockStart = at = chunk[0] === LF ? 1 : 0;
        lastWasCR = false;
        blocks.push(toBlock(take(chunk, 0, blockStart)));
      }
      for (; at < chunk.length; at++) {
        const byte = chunk[at];
        if (byte !== LF && byte !== CR) {
          atLineStart = lastWasCR = false;
          continue;
        }
        if (byte === LF && lastWasCR) {
          // The LF of a CRLF whose CR already ended the line.
          lastWasCR = false;
          continue;
        }
        lastWasCR = byte === CR;
        if (!atLineStart) {
          atLineStart = true;
          continue;
        }
        // A blank line: the block ends after its line ending, which a CR may share with the LF that follows it.
        if (byte === CR && at + 1 === chunk.length) {
          blockEndsAtCR = true;
          break;
        }
        const end = byte === CR && chunk[at + 1] === LF ? at + 2 : at + 1;
        if (end === at + 2) {
          at++;
          lastWasCR = false;
        }
        blocks.push(toBlock(take(chunk, blockStart, end)));
        blockStart = end;
      }
      if (blockStart < chunk.length) {
        held.push(chunk.subarray(blockStart));
        heldBytes += chunk.length - blockStart;
        if (heldBytes > maxBlockBytes) oversize();
      }
      return blocks;
    },
    end() {
      if (heldBytes === 0) return { block: undefined, cutMidLine: false };
      const bytes = concat(held, heldBytes);
      held = [];
      heldBytes = 0;
      if (blockEndsAtCR) return { block: toBlock(bytes), cutMidLine: false };
      // Two line feeds end a held-back CR or a cut line, and then the event.
      return { block: toBlock(bytes, '\n\n'), cutMidLine: !atLineStart };
    },
  };
}

function concat(pieces: Uint8Array[], length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const piece of pieces) {
    bytes.set(piece, offset);
    offset += piece.byteLength;
  }
  return bytes;
}
