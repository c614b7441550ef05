import type { SchedulerLike } from 'rxjs';
import { OpenAIRxError } from '../errors.js';
import { memoryResumeStore } from '../resume/memoryResumeStore.js';
import type { ResumeStore, StoredEntry, StoreReader, StreamRecording } from '../resume/types.js';
import type { FrameLog, LogEnding, LogEntry, LogReader } from './frameLog.js';
import { errorFrame, openAIErrorBody } from './relayErrors.js';
import type { RelayOptions, RelayOutcome } from './types.js';

/** Resume mode as a relay runs it: its store and settings, resolved once. */
export interface ResumeRuntime<Req> {
  store: ResumeStore;
  abandonAfterMs: number;
  userOf(request: Req): Promise<string | undefined>;
}

const DEFAULT_ABANDON_AFTER_MS = 30_000;
const DEFAULT_RETAIN_MS = 5 * 60_000;

export function resumeRuntime<Req>(option: RelayOptions<Req>['resume'], scheduler: SchedulerLike): ResumeRuntime<Req> | undefined {
  if (!option) return undefined;
  const config = option === true ? {} : option;
  const abandonAfterMs = config.abandonAfterMs ?? DEFAULT_ABANDON_AFTER_MS;
  if (!(abandonAfterMs > 0)) throw new OpenAIRxError({ message: `resume.abandonAfterMs must be a positive number, not ${abandonAfterMs}` });
  return {
    store: config.store ?? memoryResumeStore({ retainMs: config.retainMs ?? DEFAULT_RETAIN_MS, scheduler }),
    abandonAfterMs,
    userOf: async (request) => config.userOf?.(request),
  };
}

/** 144 random bits, URL-safe: a stream id is a capability, never guessable. */
export function newStreamId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_');
}

/** What a stream id looks like; anything else is answered like an unknown id, without asking the store. */
export function isStreamId(text: string): boolean {
  return /^[A-Za-z0-9_-]{22,64}$/.test(text);
}

/**
 * The position a reader resumes after: `Last-Event-ID`, else `?after=`, else 0;
 * `undefined` when what was sent is not a non-negative safe integer.
 */
export function resumePosition(lastEventId: string | undefined, search: string): number | undefined {
  const sent = lastEventId ?? new URLSearchParams(search).get('after') ?? '0';
  if (!/^\d{1,16}$/.test(sent.trim())) return undefined;
  const position = Number(sent.trim());
  return Number.isSafeInteger(position) ? position : undefined;
}

/** The error frames a reader's stream ends with when the relay, not upstream, ended it. */
const ENDINGS: Partial<Record<RelayOutcome | 'lost' | 'evicted', { message: string; code: string }>> = {
  cancelled: { message: 'The stream was cancelled.', code: 'stream_cancelled' },
  abandoned: { message: 'Nobody read the stream for too long; the generation was stopped.', code: 'stream_abandoned' },
  lost: { message: 'The relay instance generating this stream stopped answering.', code: 'stream_lost' },
  evicted: { message: 'This reader fell behind what the relay keeps of the stream.', code: 'stream_position_evicted' },
};

/** The relay's own last frame for an ending it caused, e.g. `stream_cancelled`. */
export function endingFrame(outcome: keyof typeof ENDINGS): Uint8Array {
  const ending = ENDINGS[outcome] ?? { message: 'The stream failed in the relay.', code: 'stream_failed' };
  return errorFrame(JSON.stringify(openAIErrorBody(ending.message, 'server_error', ending.code)));
}

/**
 * A generation's log in resume mode: each block goes to the store with its
 * event number (1, 2, 3 … for blocks that carry an event); `ended` learns how
 * the generation ended once the ending is stored.
 */
export function recordingLog(recording: StreamRecording, ended: (ending: LogEnding) => void): FrameLog {
  let events = 0;
  let finished = false;
  return {
    append(entries: LogEntry[]) {
      if (finished) return;
      recording.append(entries.map((entry) => ({ event: entry.events > 0 ? ++events : 0, bytes: entry.bytes })));
    },
    finish(ending) {
      if (finished) return;
      finished = true;
      void recording.finish({ outcome: ending.outcome, frame: ending.frame }).then(
        () => ended(ending),
        (error: unknown) => ended({ ...ending, error: ending.error ?? error }),
      );
    },
  };
}

/**
 * A store reader as a log for the writer: what a read brings leaves as one entry, every event with its `id: n` line
 * written straight into it (one allocation per read, not one per event); a reader the store failed ends with an error
 * frame.
 */
export function storeLogReader(reader: StoreReader): LogReader {
  return {
    async next() {
      try {
        const { entries, ending } = await reader.next();
        return {
          entries: entries.length === 0 ? [] : [withIdLines(entries)],
          ending: ending === undefined ? undefined : ending === 'lost' ? { outcome: 'upstream-error', frame: endingFrame('lost') } : logEnding(ending),
        };
      } catch (error) {
        return { entries: [], ending: { outcome: 'relay-error', error, frame: endingFrame('relay-error') } };
      }
    },
  };
}

function logEnding(ending: { outcome: string; frame?: Uint8Array }): LogEnding {
  if (ending.outcome === 'evicted') return { outcome: 'relay-error', frame: endingFrame('evicted') };
  return { outcome: ending.outcome as RelayOutcome, frame: ending.frame };
}

const LF = 10;
const CR = 13;
const ID_PREFIX = [105, 100, 58, 32]; // `id: `

/** Where a block's `id:` line goes and which line endings it takes: see {@link withIdLines}. */
interface IdLinePlace {
  /** Bytes of the block before the line. */
  at: number;
  /** A cut last line is ended (an LF) before the `id:` line. */
  cut: boolean;
  eol: 1 | 2;
  eolByte: number;
}

function idLinePlace(bytes: Uint8Array): IdLinePlace {
  const last = bytes[bytes.length - 1];
  const eol = last === LF && bytes[bytes.length - 2] === CR ? 2 : 1;
  const blank = endsWithBlankLine(bytes);
  const cut = !blank && last !== LF && last !== CR;
  return { at: blank ? bytes.length - eol : bytes.length, cut, eol: cut ? 1 : eol, eolByte: cut ? LF : last === CR ? CR : LF };
}

/** Decimal digits of a non-negative integer. */
function digitCount(n: number): number {
  let count = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    count++;
  }
  return count;
}

/**
 * The entries' bytes, joined, each event's block with its `id: n` line, the only bytes resume mode adds to an
 * event: placed before the blank line that ends the block, with the block's own line ending. A last block without
 * its blank line (the end of a body) gets the line at its end, after ending a cut line.
 *
 * @example
 * withIdLines([{ event: 7, bytes: encode('data: {}\n\n') }]); // 'data: {}\nid: 7\n\n'
 */
export function withIdLines(entries: StoredEntry[]): LogEntry {
  let size = 0;
  let events = 0;
  for (const { event, bytes } of entries) {
    size += bytes.byteLength;
    if (event <= 0) continue;
    events++;
    const place = idLinePlace(bytes);
    size += (place.cut ? 1 : 0) + ID_PREFIX.length + digitCount(event) + (place.cut ? 1 : place.eol);
  }
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const { event, bytes } of entries) {
    if (event <= 0) {
      joined.set(bytes, offset);
      offset += bytes.byteLength;
      continue;
    }
    const place = idLinePlace(bytes);
    joined.set(place.at === bytes.length ? bytes : bytes.subarray(0, place.at), offset);
    offset += place.at;
    if (place.cut) joined[offset++] = LF;
    for (const byte of ID_PREFIX) joined[offset++] = byte;
    const digits = digitCount(event);
    for (let n = event, i = digits - 1; i >= 0; i--, n = Math.floor(n / 10)) joined[offset + i] = 48 + (n % 10);
    offset += digits;
    if (place.eol === 2) joined[offset++] = CR;
    joined[offset++] = place.eolByte;
    if (place.at < bytes.length) {
      joined.set(bytes.subarray(place.at), offset);
      offset += bytes.length - place.at;
    }
  }
  return { bytes: joined, events };
}

/** Whether the block's last line is blank: two line endings in a row at its end. */
function endsWithBlankLine(bytes: Uint8Array): boolean {
  const last = eolBefore(bytes, bytes.length);
  return last > 0 && eolBefore(bytes, bytes.length - last) > 0;
}

/** The length of the line ending that ends `bytes` before `end`: 2 (CRLF), 1 (LF or CR) or 0. */
function eolBefore(bytes: Uint8Array, end: number): number {
  if (end >= 2 && bytes[end - 1] === LF && bytes[end - 2] === CR) return 2;
  return end >= 1 && (bytes[end - 1] === LF || bytes[end - 1] === CR) ? 1 : 0;
}
