import { createFrameParser, type FrameParser } from './frameParser.js';
import type { SseFrame } from './types.js';
import { concatBytes } from './concatBytes.js';

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

/**
 * The blocks one chunk completed, their bytes together, and their text decoded at once (for cheap substring
 * tests). `oversize`: an event grew past the limit; the blocks are the whole ones before it, and nothing follows.
 */
export interface SseBlocksRead {
  blocks: SseBlock[];
  bytes: Uint8Array;
  text: string;
  oversize: boolean;
}

/**
 * The body's end: its last block when that lacks its blank line (`undefined` when it is `oversize`), and whether it
 * stopped in the middle of a line.
 */
export interface SseBlocksEnd {
  block: SseBlock | undefined;
  cutMidLine: boolean;
  oversize: boolean;
}

export interface SseBlockSplitter {
  /** The blocks that `chunk` completes, in order; the rest waits for the next chunk. */
  feed(chunk: Uint8Array): SseBlocksRead;
  end(): SseBlocksEnd;
}

const LF = 10;
const CR = 13;
const COLON = 58;
const EMPTY: SseBlocksRead = { blocks: [], bytes: new Uint8Array(0), text: '', oversize: false };

/**
 * Bytes → blocks, for a relay that passes each complete event on byte for
 * byte (line endings, field order, `retry:` and `id:` lines, comments as they
 * were) and reads frames only where it needs them. Block boundaries are found
 * in the bytes (LF, CRLF and CR line endings, a CRLF split between two
 * reads). An event of more than `maxEventSize` characters is `oversize`, and
 * so is a block still open past `maxEventSize` characters' worth of bytes (4 each).
 *
 * @example
 * const splitter = sseBlockSplitter(8 * 1024 * 1024, () => fail());
 * for (const block of splitter.feed(chunk).blocks) write(block.bytes);
 */
export function sseBlockSplitter(maxEventSize: number): SseBlockSplitter {
  const maxBlockBytes = maxEventSize * 4;
  let oversized = false;
  const frames = lazyFrames(createFrameParser, maxEventSize, () => (oversized = true));
  /**
   * A block of more bytes than the limit has characters may hold an oversize event: a parser of its own tells
   * (the shared one stops for good at an oversize event, and the blocks before this one may not be parsed yet).
   */
  const tooLarge = (block: Block) => {
    if (!oversized && block.bytes.byteLength > maxEventSize) {
      lazyFrames(createFrameParser, maxEventSize, () => (oversized = true))(block.bytes, false, block.first);
    }
    return oversized;
  };
  // The BOM is removed once, at the start of the body; elsewhere a U+FEFF is text.
  const firstDecoder = new TextDecoder();
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let first = true;
  let blocksMade = 0;
  const next = (bytes: Uint8Array, known: { hasData: boolean; comments: number } | undefined, atEnd = false): Block => {
    const first = blocksMade++ === 0;
    // The scan read the BOM as the first line's start.
    const withoutBom = first && startsWithBom(bytes) ? bytes.subarray(BOM.length) : undefined;
    return new Block(bytes, withoutBom ? classify(withoutBom) : (known ?? classify(bytes)), frames, first, atEnd);
  };
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  let atLineStart = true;
  let lastWasCR = false;

  const decode = (bytes: Uint8Array) => {
    const text = (first ? firstDecoder : decoder).decode(bytes);
    first = false;
    return text;
  };
  /** Keeps what follows the last whole block for the next chunk; past the limit, that block is oversize. */
  const hold = (chunk: Uint8Array, from: number): SseBlocksRead => {
    if (from < chunk.length) {
      held.push(chunk.subarray(from));
      heldBytes += chunk.length - from;
      if (heldBytes > maxBlockBytes) oversized = true;
    }
    return oversized ? { ...EMPTY, oversize: true } : EMPTY;
  };
  const take = (chunk: Uint8Array, start: number, end: number): Uint8Array => {
    const piece = chunk.subarray(start, end);
    if (heldBytes === 0) return piece;
    const bytes = concatBytes([...held, piece], heldBytes + piece.byteLength);
    held = [];
    heldBytes = 0;
    return bytes;
  };

  /** Finds the block ends in `chunk` from `at`; LF-only chunks (most providers) are searched natively. */
  const blockEnds = (chunk: Uint8Array, at: number): number[] =>
    !lastWasCR && chunk.indexOf(CR, at) === -1 ? lfBlockEnds(chunk, at) : anyBlockEnds(chunk, at);

  // What the scan learned of the block being read: its data and comment lines, or that it must be classified later.
  let hasData = false;
  let comments = 0;
  let unsure = false;
  const classes: Array<{ hasData: boolean; comments: number } | undefined> = [];
  const endBlock = (end: number, ends: number[]) => {
    ends.push(end);
    classes.push(unsure ? undefined : { hasData, comments });
    hasData = unsure = false;
    comments = 0;
  };
  /** A line starts at `start` in an LF-only chunk: is it a comment or a data line? Too near the end to tell: later. */
  const noteLine = (chunk: Uint8Array, start: number) => {
    const first = chunk[start];
    if (first === COLON) comments++;
    else if (first === DATA[0]) {
      if (start + 4 >= chunk.length) unsure = true;
      else if (isDataLine(chunk, start)) hasData = true;
    }
  };

  const lfBlockEnds = (chunk: Uint8Array, at: number): number[] => {
    const ends: number[] = [];
    for (let lf = chunk.indexOf(LF, at); lf !== -1; lf = chunk.indexOf(LF, lf + 1)) {
      if (atLineStart && lf === at) endBlock(lf + 1, ends);
      else if (atLineStart) noteLine(chunk, at);
      atLineStart = true;
      at = lf + 1;
    }
    if (at < chunk.length) {
      if (atLineStart) noteLine(chunk, at);
      atLineStart = false;
    }
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
      // A blank line: the block ends after its line ending, with the LF of a CRLF when it is in the same read. A CR
      // that ends a read ends the block there: a complete event is not held back for the LF that may follow, which
      // then starts the next block (the same bytes in the same order, and an empty line changes no frame).
      if (byte === CR && chunk[at + 1] === LF) {
        at++;
        lastWasCR = false;
      }
      unsure = true;
      endBlock(at + 1, ends);
    }
    unsure = true;
    return ends;
  };

  return {
    feed(chunk) {
      if (oversized) return { ...EMPTY, oversize: true };
      if (chunk.length === 0) return EMPTY;
      classes.length = 0;
      const ends = blockEnds(chunk, 0);
      if (ends.length === 0) return hold(chunk, 0);
      const firstBytes = take(chunk, 0, ends[0]);
      const blocks = [next(firstBytes, classes[0])];
      for (let index = 1; index < ends.length && !tooLarge(blocks[index - 1]); index++) {
        blocks.push(next(chunk.subarray(ends[index - 1], ends[index]), classes[index]));
      }
      // The whole blocks before an oversize one go on; it and what follows do not.
      if (tooLarge(blocks[blocks.length - 1])) blocks.pop();
      if (blocks.length === 0) return { ...EMPTY, oversize: true };
      const kept = ends.slice(0, blocks.length);
      const rest = chunk.subarray(kept[0], kept[kept.length - 1]);
      // Decoded in two pieces at most: the first block (it may join held bytes) and the rest of the chunk.
      const text = decode(firstBytes) + (rest.length > 0 ? decoder.decode(rest) : '');
      const read = { blocks, bytes: region(firstBytes, chunk, kept), text, oversize: oversized };
      if (text.length === read.bytes.length) lendText(blocks, text);
      return oversized ? read : { ...read, oversize: hold(chunk, kept[kept.length - 1]).oversize };
    },
    end() {
      if (heldBytes === 0 || oversized) return { block: undefined, cutMidLine: false, oversize: oversized };
      const bytes = concatBytes(held, heldBytes);
      held = [];
      heldBytes = 0;
      first = false;
      // Two line feeds end a cut line, and then the event.
      const block = next(bytes, undefined, true);
      if (tooLarge(block)) return { block: undefined, cutMidLine: false, oversize: true };
      return { block, cutMidLine: !atLineStart, oversize: false };
    },
  };
}

/** `text`: the block's bytes already decoded, when the read's text says which characters are its own. */
type FramesOf = (bytes: Uint8Array, atEnd: boolean, first: boolean, text?: string) => SseFrame[];

/** Parses a block's frames on demand: one parser for every block (each ends with a blank line, so none leaves state). */
function lazyFrames(create: typeof createFrameParser, maxEventSize: number, oversize: () => void): FramesOf {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  const parsed: SseFrame[] = [];
  let parser: FrameParser | undefined;
  return (bytes, atEnd, first, known) => {
    parser ??= create({ frame: (frame) => parsed.push(frame), oversize }, maxEventSize);
    const decoded = known ?? decoder.decode(bytes);
    const text = first && decoded.charCodeAt(0) === 0xfeff ? decoded.slice(1) : decoded;
    // The parser holds a final CR back to see whether an LF follows; none will (this block took it), so say so.
    parser.feed(text + (atEnd ? '\n\n' : bytes[bytes.length - 1] === CR ? '\n' : ''));
    return parsed.splice(0);
  };
}

/**
 * A read whose text has one character per byte (ASCII, as most event streams are, or bytes that each decode to one
 * U+FFFD) gives each block its slice of that text, taken if its frames are read: decoding each block again costs
 * more than parsing it. No byte decodes to more than one character, so equal lengths mean the slices line up.
 */
function lendText(blocks: Block[], text: string): void {
  let start = 0;
  for (const block of blocks) {
    block.readText = text;
    block.textStart = start;
    start += block.bytes.byteLength;
  }
}

class Block implements SseBlock {
  readonly hasData: boolean;
  readonly comments: number;
  private parsed: SseFrame[] | undefined;
  /** The read's text, when the block's characters are its bytes, one for one, from {@link textStart}. */
  readText: string | undefined;
  textStart = 0;

  constructor(
    readonly bytes: Uint8Array,
    known: { hasData: boolean; comments: number },
    private readonly framesOf: FramesOf,
    readonly first: boolean,
    private readonly atEnd: boolean,
  ) {
    this.hasData = known.hasData;
    this.comments = known.comments;
  }

  get frames(): SseFrame[] {
    this.parsed ??= this.framesOf(this.bytes, this.atEnd, this.first, this.readText?.slice(this.textStart, this.textStart + this.bytes.byteLength));
    return this.parsed;
  }
}

/** The bytes the blocks cover, as one view of `chunk` unless the first block joined bytes held from before it. */
function region(firstBytes: Uint8Array, chunk: Uint8Array, ends: number[]): Uint8Array {
  const end = ends[ends.length - 1];
  const firstInChunk = firstBytes.buffer === chunk.buffer && firstBytes.byteOffset === chunk.byteOffset;
  return firstInChunk ? chunk.subarray(0, end) : concatBytes([firstBytes, chunk.subarray(ends[0], end)], firstBytes.byteLength + end - ends[0]);
}

/** Whether a block's lines include a `data` field, and how many are comments: what a relay counts without parsing. */
function classify(bytes: Uint8Array): { hasData: boolean; comments: number } {
  let hasData = false;
  let comments = 0;
  for (let start = 0; start < bytes.length; ) {
    const end = lineEnd(bytes, start);
    if (bytes[start] === COLON) comments++;
    else if (isDataWord(bytes, start) && (start + 4 === end || bytes[start + 4] === COLON)) hasData = true;
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

const DATA = [100, 97, 116, 97];
const BOM = [0xef, 0xbb, 0xbf];

function startsWithBom(bytes: Uint8Array): boolean {
  return bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2];
}

/** The line at `start` begins with the field name `data`. */
function isDataWord(bytes: Uint8Array, start: number): boolean {
  return bytes[start] === DATA[0] && bytes[start + 1] === DATA[1] && bytes[start + 2] === DATA[2] && bytes[start + 3] === DATA[3];
}

/** `data` followed by `:` or the end of its line (a `data` line without a colon is an empty data field). */
function isDataLine(bytes: Uint8Array, start: number): boolean {
  const after = bytes[start + 4];
  return isDataWord(bytes, start) && (after === COLON || after === LF || after === CR);
}
