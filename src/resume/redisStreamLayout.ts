import { OpenAIRxError } from '../errors.js';
import type { StoredEnding, StoredEntry } from './types.js';

/*
 * How one generation lies in Redis. Its blocks are entries of a Redis Stream whose ids carry the event numbers:
 * event n is `n-0`, the blocks after it (comments, then the ending) `n-1`, `n-2` …, the blocks before event 1
 * `0-1`, `0-2` …, so "after event n" is `XREAD … STREAMS frames n-0`. Each entry also carries its position in the
 * generation (`i`: 0, 1, 2 …), which tells a reader that trimming (`MAXLEN ~`) dropped entries it had not read yet.
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

export function streamKeys(prefix: string, id: string): StreamKeys {
  const base = `${prefix}:{${id}}`;
  return { frames: `${base}:frames`, meta: `${base}:meta`, lease: `${base}:lease`, cancel: `${base}:cancel` };
}

/** The stream position just after event `event` (0: before everything). */
export function positionAfterEvent(event: number): string {
  return `${event}-0`;
}

/** Numbers the blocks of one generation as they are appended: their entry ids and positions. */
export class EntryNumbering {
  private lastEvent = 0;
  private sub = 0;
  private nextIndex = 0;

  /** The id and position of the next block; `event` is its event number, 0 for a block without one. */
  next(event: number): { id: string; index: number } {
    if (event > 0) {
      if (event <= this.lastEvent) {
        throw new OpenAIRxError({ message: `Event ${event} appended after event ${this.lastEvent}: event numbers must increase` });
      }
      this.lastEvent = event;
      this.sub = 0;
    } else {
      this.sub++;
    }
    return { id: `${this.lastEvent}-${this.sub}`, index: this.nextIndex++ };
  }
}

/** The fields of a block's entry. */
export function entryFields(index: number, bytes: Uint8Array): Record<string, string | Buffer> {
  return { i: String(index), b: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
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

export type DecodedEntry = { id: string; index: number } & ({ entry: StoredEntry } | { ending: StoredEnding });

/** Reads one entry of a stream of ours; anything else (a key someone else wrote under the prefix) is an error. */
export function decodeEntry(raw: RawEntry): DecodedEntry {
  const id = String(raw.id);
  const { i, b, o, f } = raw.message;
  const index = Number(i === undefined ? NaN : String(i));
  if (!Number.isSafeInteger(index) || index < 0 || (b === undefined && o === undefined)) {
    throw new OpenAIRxError({ message: 'The resume store found an entry it did not write' });
  }
  if (o !== undefined) {
    const ending: StoredEnding = { outcome: String(o) };
    if (f !== undefined) ending.frame = asBytes(f);
    return { id, index, ending };
  }
  return { id, index, entry: { event: eventOf(id), bytes: asBytes(b as Buffer | string) } };
}

/** The event number an entry id carries: `n-0` is event n, every other id a block without an event. */
export function eventOf(id: string): number {
  const dash = id.indexOf('-');
  return id.slice(dash + 1) === '0' ? Number(id.slice(0, dash)) : 0;
}

function asBytes(value: Buffer | string): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}
