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
  let lastEvent = 0;
  for (const { event, bytes } of entries) {
    size += bytes.byteLength;
    if (event <= 0) continue;
    events++;
    lastEvent = Math.max(lastEvent, event);
  }
  // Room for the longest `id:` line an event can take (a cut line's LF, the line, a CRLF); the exact length is known
  // only once the block's endings are read, which the write below does once.
  const joined = new Uint8Array(size + events * (MAX_ID_LINE_EXTRA + digitCount(lastEvent)));
  let offset = 0;
  for (const { event, bytes } of entries) {
    joined.set(bytes, offset);
    offset = event <= 0 ? offset + bytes.byteLength : writeIdLine(joined, offset, bytes, event);
  }
  return { bytes: joined.subarray(0, offset), events };
}

/** What an `id:` line adds beside its digits, at most: a cut line's LF, `id: ` and a CRLF. */
const MAX_ID_LINE_EXTRA = 1 + ID_PREFIX.length + 2;

/**
 * Given `bytes` already copied to `joined` at `offset`, puts the `id:` line in its place (the blank line's ending, at
 * most two bytes, moves after it) and returns the offset after the block. No views are made: this runs per event.
 */
function writeIdLine(joined: Uint8Array, offset: number, bytes: Uint8Array, event: number): number {
  const length = bytes.length;
  const blankEol = blankLineEol(bytes);
  const endEol = blankEol > 0 ? blankEol : eolBefore(bytes, length);
  const cut = endEol === 0;
  let at = offset + length - blankEol;
  if (cut) joined[at++] = LF;
  for (const byte of ID_PREFIX) joined[at++] = byte;
  const digits = digitCount(event);
  for (let n = event, i = digits - 1; i >= 0; i--, n = Math.floor(n / 10)) joined[at + i] = 48 + (n % 10);
  at += digits;
  if (cut) joined[at++] = LF;
  else for (let i = length - endEol; i < length; i++) joined[at++] = bytes[i];
  for (let i = length - blankEol; i < length; i++) joined[at++] = bytes[i];
  return at;
}

/** The length of the line ending of the blank line that ends `bytes` (2 for CRLF), or 0 if it does not end so. */
function blankLineEol(bytes: Uint8Array): number {
  const last = eolBefore(bytes, bytes.length);
  return last > 0 && eolBefore(bytes, bytes.length - last) > 0 ? last : 0;
}

/** The length of the line ending that ends `bytes` before `end`: 2 (CRLF), 1 (LF or CR) or 0. */
function eolBefore(bytes: Uint8Array, end: number): number {
  if (end >= 2 && bytes[end - 1] === LF && bytes[end - 2] === CR) return 2;
  return end >= 1 && (bytes[end - 1] === LF || bytes[end - 1] === CR) ? 1 : 0;
}
