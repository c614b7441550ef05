import type { RelayOutcome } from './types.js';

/** One block of a generation's stream, as the upstream sent it (redacted only if it is an error echoing a key). */
export interface LogEntry {
  bytes: Uint8Array;
  /** How many events the bytes carry (a block: 0 or 1; comments, `retry:` and `id:` lines are no events). */
  events: number;
}

/** How a generation ended, and the relay's own last frame, if any (an error frame), to write after the entries. */
export interface LogEnding {
  outcome: RelayOutcome;
  error?: unknown;
  frame?: Uint8Array;
}

/** What a reader gets: the entries appended since its last read, and the ending once everything before it was read. */
export interface LogRead {
  entries: LogEntry[];
  ending: LogEnding | undefined;
}

/** A generation's side of its log. */
export interface FrameLog {
  append(entries: LogEntry[]): void;
  finish(ending: LogEnding): void;
}

/** A reader's side: `next()` resolves at once when something is waiting, else when something arrives. */
export interface LogReader {
  next(): Promise<LogRead>;
}

/**
 * The log of a relayed stream outside resume mode: a queue between the
 * upstream and the one client, holding only what the client has not taken.
 * This is the relay's single point of backpressure: `onFull` fires when the
 * queue grows past `highWaterMark` bytes (the generation stops reading
 * upstream), `onRoom` when the reader has taken it.
 *
 * @example
 * const log = passThroughLog(64 * 1024, { onFull: () => pause$.next(true), onRoom: () => pause$.next(false) });
 */
export function passThroughLog(highWaterMark: number, backpressure: { onFull(): void; onRoom(): void }): FrameLog & LogReader {
  let queued: LogEntry[] = [];
  let queuedBytes = 0;
  let full = false;
  let ending: LogEnding | undefined;
  let waiting: ((read: LogRead) => void) | undefined;

  const take = (): LogRead => {
    const read = { entries: queued, ending };
    queued = [];
    queuedBytes = 0;
    if (full) {
      full = false;
      backpressure.onRoom();
    }
    return read;
  };
  const wake = () => {
    const resolve = waiting;
    waiting = undefined;
    resolve?.(take());
  };

  return {
    append(entries) {
      if (ending || entries.length === 0) return;
      for (const entry of entries) {
        queued.push(entry);
        queuedBytes += entry.bytes.byteLength;
      }
      if (waiting) wake();
      else if (!full && queuedBytes > highWaterMark) {
        full = true;
        backpressure.onFull();
      }
    },
    finish(end) {
      if (ending) return;
      ending = end;
      wake();
    },
    next() {
      if (queued.length > 0 || ending) return Promise.resolve(take());
      return new Promise((resolve) => (waiting = resolve));
    },
  };
}
