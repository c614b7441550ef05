import { createFrameParser, type FrameParser } from './frameParser.js';
import type { SseFrame } from './types.js';

/**
 * One block of an event stream: its lines up to and including the blank line
 * that ends it, exactly as the server sent them. `frames` (comments, and at
 * most one event; a block of only `retry:` or `id:` lines makes none) are
 * parsed when first read: a relay that only passes the bytes on reads few.
 */
export interface SseBlock {
  readonly bytes: Uint8Array;
  /** The block has a `data` line, so it dispatches an event. */
  readonly hasData: boolean;
  /** Its comment lines (`:` first). */
  readonly comments: number;
  readonly frames: SseFrame[];
}

/** The blocks one chunk completed, and their text decoded at once (for cheap substring tests across them). */
export interface SseBlocksRead {
  blocks: SseBlock[];
  text: string;
}

/** The body's end: its last block when that lacks its blank line, and whether it stopped in the middle of a line. */
export interface SseBlocksEnd {
  block: SseBlock | undefined;
  cutMidLine: boolean;
}

export interface SseBlockSplitter {
  /** The blocks that `chunk` completes, in order; the rest waits for the next chunk. */
  feed(chunk: Uint8Array): SseBlocksRead;
  end(): SseBlocksEnd;
}

const LF = 10;
const CR = 13;
const COLON = 58;
const EMPTY: SseBlocksRead = { blocks: [], text: '' };

/**
 * Bytes → blocks, for a relay that passes each complete event on byte for
 * byte (line endings, field order, `retry:` and `id:` lines, comments as they
 * were) and reads frames only where it needs them. Block boundaries are found
 * in the bytes (LF, CRLF and CR line endings, a CRLF split between two
 * reads). More than `maxEventSize` characters (4 bytes each at most) without a
 * blank line is `oversize`.
 *
 * @example
 * const splitter = sseBlockSplitter(8 * 1024 * 1024, () => fail());
 * for (const block of splitter.feed(chunk).blocks) write(block.bytes);
 */
export function sseBlockSplitter(maxEventSize: number, oversize: () => void): SseBlockSplitter {
  const maxBlockBytes = maxEventSize * 4;
  const frames = lazyFrames(createFrameParser, maxEventSize, oversize);
  // The BOM is removed once, at the start of the body; elsewhere a U+FEFF is text.
  const firstDecoder = new TextDecoder();
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let first = true;
  let blocksMade = 0;
  const next = (bytes: Uint8Array, atEnd = false) => block(bytes, frames, blocksMade++ === 0, atEnd);
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  let atLineStart = true;
  let lastWasCR = false;
  // A CR ended a blank line at the end of the previous chunk: the block ends after it, or after the LF that follows.
  let blockEndsAtCR = false;

  const decode = (bytes: Uint8Array) => {
    const text = (first ? firstDecoder : decoder).decode(bytes);
    first = false;
    return text;
  };
  const take = (chunk: Uint8Array, start: number, end: number): Uint8Array => {
    const piece = chunk.subarray(start, end);
    if (heldBytes === 0) return piece;
    const bytes = concat([...held, piece], heldBytes + piece.byteLength);
    held = [];
    heldBytes = 0;
    return bytes;
  };

  /** Finds the block ends in `chunk` from `at`; LF-only chunks (most providers) are searched natively. */
  const blockEnds = (chunk: Uint8Array, at: number): number[] =>
    !lastWasCR && chunk.indexOf(CR, at) === -1 ? lfBlockEnds(chunk, at) : anyBlockEnds(chunk, at);

  const lfBlockEnds = (chunk: Uint8Array, at: number): number[] => {
    const ends: number[] = [];
    for (let lf = chunk.indexOf(LF, at); lf !== -1; lf = chunk.indexOf(LF, lf + 1)) {
      if (atLineStart && lf === at) ends.push(lf + 1);
      atLineStart = true;
      at = lf + 1;
    }
    if (at < chunk.length) atLineStart = false;
    return ends;
  };

  const anyBlockEnds = (chunk: Uint8Array, at: number): number[] => {
    const ends: number[] = [];
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
      if (byte === CR && chunk[at + 1] === LF) {
        at++;
        lastWasCR = false;
      }
      ends.push(at + 1);
    }
    return ends;
  };

  return {
    feed(chunk) {
      if (chunk.length === 0) return EMPTY;
      const blocks: SseBlock[] = [];
      let text = '';
      let blockStart = 0;
      if (blockEndsAtCR) {
        blockEndsAtCR = false;
        blockStart = chunk[0] === LF ? 1 : 0;
        lastWasCR = false;
        const bytes = take(chunk, 0, blockStart);
        text = decode(bytes);
        blocks.push(next(bytes));
      }
      const ends = blockEnds(chunk, blockStart);
      if (ends.length > 0) {
        const firstEnd = ends[0];
        const firstBytes = take(chunk, blockStart, firstEnd);
        // Decoded in two pieces at most: the first block (it may join held bytes) and the rest of the chunk.
        text += decode(firstBytes) + (ends.length > 1 ? decoder.decode(chunk.subarray(firstEnd, ends[ends.length - 1])) : '');
        blocks.push(next(firstBytes));
        for (let index = 1; index < ends.length; index++) blocks.push(next(chunk.subarray(ends[index - 1], ends[index])));
        blockStart = ends[ends.length - 1];
      }
      if (blockStart < chunk.length) {
        held.push(chunk.subarray(blockStart));
        heldBytes += chunk.length - blockStart;
        if (heldBytes > maxBlockBytes) oversize();
      }
      return { blocks, text };
    },
    end() {
      if (heldBytes === 0) return { block: undefined, cutMidLine: false };
      const bytes = concat(held, heldBytes);
      held = [];
      heldBytes = 0;
      first = false;
      // Two line feeds end a held-back CR or a cut line, and then the event.
      return { block: next(bytes, !blockEndsAtCR), cutMidLine: !blockEndsAtCR && !atLineStart };
    },
  };
}

type FramesOf = (bytes: Uint8Array, atEnd: boolean, first: boolean) => SseFrame[];

/** Parses a block's frames on demand: one parser for every block (each ends with a blank line, so none leaves state). */
function lazyFrames(create: typeof createFrameParser, maxEventSize: number, oversize: () => void): FramesOf {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  const parsed: SseFrame[] = [];
  let parser: FrameParser | undefined;
  return (bytes, atEnd, first) => {
    parser ??= create({ frame: (frame) => parsed.push(frame), oversize }, maxEventSize);
    const decoded = decoder.decode(bytes);
    const text = first && decoded.charCodeAt(0) === 0xfeff ? decoded.slice(1) : decoded;
    // The parser holds a final CR back to see whether an LF follows; none will (this block took it), so say so.
    parser.feed(text + (atEnd ? '\n\n' : bytes[bytes.length - 1] === CR ? '\n' : ''));
    return parsed.splice(0);
  };
}

function block(bytes: Uint8Array, framesOf: FramesOf, first: boolean, atEnd = false): SseBlock {
  const { hasData, comments } = classify(bytes);
  let frames: SseFrame[] | undefined;
  return {
    bytes,
    hasData,
    comments,
    get frames() {
      frames ??= framesOf(bytes, atEnd, first);
      return frames;
    },
  };
}

/** Whether a block's lines include a `data` field, and how many are comments: what a relay counts without parsing. */
function classify(bytes: Uint8Array): { hasData: boolean; comments: number } {
  let hasData = false;
  let comments = 0;
  for (let start = 0; start < bytes.length; ) {
    const end = lineEnd(bytes, start);
    if (bytes[start] === COLON) comments++;
    else if (isDataLine(bytes, start, end)) hasData = true;
    start = end + (bytes[end] === CR && bytes[end + 1] === LF ? 2 : 1);
  }
  return { hasData, comments };
}

function lineEnd(bytes: Uint8Array, start: number): number {
  const lf = bytes.indexOf(LF, start);
  const cr = bytes.indexOf(CR, start);
  if (lf === -1) return cr === -1 ? bytes.length : cr;
  return cr === -1 || lf < cr ? lf : cr;
}

/** `data` followed by `:` or the end of the line (a `data` line without a colon is an empty data field). */
function isDataLine(bytes: Uint8Array, start: number, end: number): boolean {
  return (
    bytes[start] === 100 &&
    bytes[start + 1] === 97 &&
    bytes[start + 2] === 116 &&
    bytes[start + 3] === 97 &&
    (start + 4 === end || bytes[start + 4] === COLON)
  );
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
