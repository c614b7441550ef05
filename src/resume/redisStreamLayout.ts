import { OpenAIRxError } from '../errors.js';
import type { StoredEnding, StoredEntry } from './types.js';

/*
 * How one generation lies in Redis. Its blocks are batched into the entries of a Redis Stream, one entry per batch
 * of blocks the owner wrote together (at most ENTRY_BLOCKS blocks and ENTRY_BYTES bytes, one block alone may be
 * larger; see entryBlocks): an XADD per block cost the owner most of its time (argument encoding and a socket write per block).
 *
 * Entry ids carry event numbers: `L-0` for an entry whose last event is L (it holds events L-c+1 … L, consecutive,
 * and maybe blocks without an event around them), `L-1`, `L-2` … for the entries after it that hold no event
 * (comments, the ending), `0-1`, `0-2` … before event 1. So the entry holding event n is the first one at or after
 * `n-0` (`XRANGE … n-0 + COUNT 1`): no entry lies between `(n-1)-<max>` and it, and a reader after event n reads
 * from there, skipping the blocks of that entry up to event n.
 *
 * Fields of a batch entry: `i` the position of its first block in the generation (0, 1, 2 …: an entry whose `i` is
 * past a reader's next block tells it that trimming dropped blocks it had not read), `b` the blocks' bytes end to
 * end, `n` their lengths, comma-separated, a block without an event written `-length`, and `a` (`1`) when the block
 * just before its first one carries an event: once trimming took that event's entry, a resume after that event still
 * starts here, since every block after it is kept. The ending is an entry of its own, the stream's last: `i`, `o` the
 * outcome, `f` the relay's last frame if any.
 */

/** The keys of one stream; the `{id}` hash tag keeps them in one Redis Cluster slot. */
export interface StreamKeys {
  /** The Redis Stream of its blocks, the ending last. */
  frames: string;
  /** A hash: `c` createdAt, `u` user. */
  meta: string;
  /** Exists while the owner is alive: set with PX and refreshed by the owner while it generates. */
  lease: string;
  /** Set by a cancel, beside its message: the owner finds it at its next refresh if the message did not reach it. */
  cancel: string;
}

/** Stream ids are chosen by relays (128 random bits, URL-safe); longer ones are not ids of ours. */
export const MAX_STREAM_ID_LENGTH = 256;

/**
 * Blocks per entry, at most (and a tenth of the blocks kept per stream): the stream is trimmed by whole entries, so
 * this is most of the slack of its bound.
 */
export const ENTRY_BLOCKS = 500;
/** Bytes per entry, at most, unless one block alone is larger: with its lengths, within jemalloc's 64 KiB class. */
export const ENTRY_BYTES = 56 * 1024;
/** What a reader accepts in one entry: more than the writers' cap, so that a later version may raise it. */
const MAX_DECODED_BLOCKS = 10_000;
/** A length is at most 9 digits (a block under 1 GB), with its sign and comma. */
const MAX_LENGTHS_CHARS = MAX_DECODED_BLOCKS * 11;
/** Outcomes are relay outcome names (`completed`, `upstream-error` …). */
const MAX_OUTCOME_CHARS = 64;
/** The largest sequence part of an entry id. */
const MAX_SEQUENCE = '18446744073709551615';

export function streamKeys(prefix: string, id: string): StreamKeys {
  const base = `${prefix}:{${id}}`;
  return { frames: `${base}:frames`, meta: `${base}:meta`, lease: `${base}:lease`, cancel: `${base}:cancel` };
}

/** The position (an `XREAD` id) just before the entry that holds event `event` (0: before everything). */
export function positionBeforeEvent(event: number): string {
  return event > 0 ? `${event - 1}-${MAX_SEQUENCE}` : '0-0';
}

/** The first id at which the entry holding event `event` may lie (`XRANGE` start). */
export function firstIdOfEvent(event: number): string {
  return `${event}-0`;
}

/** Numbers a generation's blocks: checks their event numbers as they are appended, and gives entries their ids. */
export class EntryNumbering {
  private appendedEvent = 0;
  private lastEvent = 0;
  private sub = 0;
  private nextIndex = 0;
  /** The last block numbered carries an event. */
  private lastBlockIsEvent = false;

  /**
   * Event numbers are consecutive (1, 2, 3 …; 0 for a block without one): an entry tells its events by their count.
   * An append with a gap is refused whole, before anything of it is counted.
   */
  accept(blocks: readonly StoredEntry[]): void {
    let last = this.appendedEvent;
    for (const { event } of blocks) {
      if (event === 0) continue;
      if (event !== last + 1) {
        throw new OpenAIRxError({ message: `Event ${event} appended after event ${last}: event numbers are consecutive` });
      }
      last = event;
    }
    this.appendedEvent = last;
  }

  /**
   * The id and the first block's position of the next entry, holding `blocks` (none: the ending), and whether the
   * block before its first one carries an event.
   */
  next(blocks: readonly StoredEntry[]): { id: string; index: number; afterEvent: boolean } {
    let last = 0;
    for (const block of blocks) if (block.event > 0) last = block.event;
    if (last > 0) {
      this.lastEvent = last;
      this.sub = 0;
    } else {
      this.sub++;
    }
    const index = this.nextIndex;
    const afterEvent = this.lastBlockIsEvent;
    this.nextIndex += blocks.length;
    if (blocks.length > 0) this.lastBlockIsEvent = blocks[blocks.length - 1].event > 0;
    return { id: `${this.lastEvent}-${this.sub}`, index, afterEvent };
  }
}

/** Blocks per entry in a stream that keeps `keptBlocks`: {@link ENTRY_BLOCKS}, and no more than a tenth of them. */
export function entryBlocks(keptBlocks: number): number {
  return Math.max(1, Math.min(ENTRY_BLOCKS, Math.floor(keptBlocks / 10)));
}

/**
 * How many of `blocks`, from `from` on, go into one entry (up to `maxBlocks` and {@link ENTRY_BYTES}, and at least
 * one), and their bytes.
 */
export function entrySize(blocks: readonly StoredEntry[], from: number, maxBlocks: number): { count: number; bytes: number } {
  let bytes = 0;
  let count = 0;
  while (from + count < blocks.length && count < maxBlocks) {
    const size = blocks[from + count].bytes.byteLength;
    if (count > 0 && bytes + size > ENTRY_BYTES) break;
    bytes += size;
    count++;
  }
  return { count, bytes };
}

/** The fields of a batch entry; `bytes` is the sum of the blocks' lengths, `afterEvent` as {@link EntryNumbering.next}. */
export function batchFields(index: number, blocks: readonly StoredEntry[], bytes: number, afterEvent = false): Record<string, string | Buffer> {
  const lengths = blocks.map((block) => (block.event > 0 ? String(block.bytes.byteLength) : `-${block.bytes.byteLength}`));
  const fields: Record<string, string | Buffer> = { i: String(index), b: Buffer.concat(blocks.map((block) => block.bytes), bytes), n: lengths.join(',') };
  if (afterEvent) fields.a = '1';
  return fields;
}

/** The fields of the ending's entry. */
export function endingFields(index: number, ending: StoredEnding): Record<string, string | Buffer> {
  const fields: Record<string, string | Buffer> = { i: String(index), o: ending.outcome };
  if (ending.frame) fields.f = Buffer.from(ending.frame.buffer, ending.frame.byteOffset, ending.frame.byteLength);
  return fields;
}

/** One stream entry as node-redis returns it with blob strings mapped to Buffers. */
export interface RawEntry {
  id: Buffer | string;
  message: Record<string, Buffer | string | undefined>;
}

/**
 * A decoded entry: `index` is its first block's position (the ending's own, for the ending); `eventBefore` the event
 * of the block just before its first one, when the writer recorded that this block carries one.
 */
export type DecodedEntry = { id: string; index: number } & ({ blocks: StoredEntry[]; eventBefore?: number } | { ending: StoredEnding });

/**
 * Reads one entry of a stream of ours. Anything else (a key someone else wrote under the prefix: lengths that do not
 * add up to the bytes, events the id does not account for, more blocks than any writer puts in one entry) is an error.
 */
export function decodeEntry(raw: RawEntry): DecodedEntry {
  const id = String(raw.id);
  const { i, b, n, o, f, a } = raw.message;
  const index = position(i);
  if (o !== undefined && b === undefined && n === undefined && a === undefined) {
    const ending: StoredEnding = { outcome: shortText(o, MAX_OUTCOME_CHARS) };
    if (f !== undefined) ending.frame = asBytes(f);
    return { id, index, ending };
  }
  if (o !== undefined || b === undefined || n === undefined) throw foreignEntry();
  const parts = idParts(id);
  const { blocks, events } = splitBlocks(asBytes(b), shortText(n, MAX_LENGTHS_CHARS), parts);
  if (!Number.isSafeInteger(index + blocks.length)) throw foreignEntry();
  if (a === undefined) return { id, index, blocks };
  const eventBefore = parts.last - events;
  if (shortText(a, 1) !== '1' || eventBefore < 1) throw foreignEntry();
  return { id, index, blocks, eventBefore };
}

/**
 * The position of the block just after event `event`, from `entry`: in it, or its first block when the block before
 * it carries that event; `undefined` when the entry tells neither.
 */
export function indexAfterEvent(entry: DecodedEntry, event: number): number | undefined {
  if (!('blocks' in entry)) return undefined;
  if (entry.eventBefore === event) return entry.index;
  const at = entry.blocks.findIndex((block) => block.event === event);
  return at < 0 ? undefined : entry.index + at + 1;
}

/** The last event an entry id accounts for, and whether the entry holds it (`n-0`). */
function idParts(id: string): { last: number; holdsLast: boolean } {
  const dash = id.indexOf('-');
  const last = Number(id.slice(0, dash));
  if (dash < 1 || !Number.isSafeInteger(last)) throw foreignEntry();
  return { last, holdsLast: id.slice(dash + 1) === '0' };
}

const LENGTH = /^(-?)(\d{1,9})$/;
/** A block position: digits only (`Number()` would take '', ' 7', '1e3', '0x10'), a safe integer. */
const POSITION = /^\d{1,16}$/;

function position(field: Buffer | string | undefined): number {
  const text = field === undefined ? '' : shortText(field, 16);
  const index = Number(text);
  if (!POSITION.test(text) || !Number.isSafeInteger(index)) throw foreignEntry();
  return index;
}

/**
 * The blocks of `bytes` cut at `lengths`, and how many carry an event; their events end at the id's last one, which
 * an `n-0` entry holds.
 */
function splitBlocks(bytes: Uint8Array, lengths: string, { last, holdsLast }: { last: number; holdsLast: boolean }): { blocks: StoredEntry[]; events: number } {
  if (lengths.length === 0 || lengths.length > MAX_LENGTHS_CHARS) throw foreignEntry();
  const parts = lengths.split(',', MAX_DECODED_BLOCKS + 1);
  if (parts.length > MAX_DECODED_BLOCKS) throw foreignEntry();
  const cuts: Array<{ event: boolean; length: number }> = [];
  let events = 0;
  let total = 0;
  for (const part of parts) {
    const match = LENGTH.exec(part);
    if (!match) throw foreignEntry();
    const event = match[1] === '';
    if (event) events++;
    total += Number(match[2]);
    cuts.push({ event, length: Number(match[2]) });
  }
  if (total !== bytes.byteLength || (holdsLast ? events === 0 : events > 0) || events > last) throw foreignEntry();
  const blocks: StoredEntry[] = [];
  let number = last - events;
  let offset = 0;
  for (const { event, length } of cuts) {
    blocks.push({ event: event ? ++number : 0, bytes: bytes.subarray(offset, offset + length) });
    offset += length;
  }
  return { blocks, events };
}

function foreignEntry(): OpenAIRxError {
  return new OpenAIRxError({ message: 'The resume store found an entry it did not write' });
}

/** A field as text, refused before it is decoded when it is longer than any of ours (a foreign entry may hold megabytes). */
function shortText(field: Buffer | string, maxLength: number): string {
  if (field.length > maxLength) throw foreignEntry();
  return String(field);
}

function asBytes(value: Buffer | string): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}
