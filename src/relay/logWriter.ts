import type { SchedulerLike, Subscription } from 'rxjs';
import { watchIdle } from '../sse/watchIdle.js';
import type { LogEntry, LogEnding, LogReader } from './frameLog.js';
import type { RelaySink } from './relaySink.js';
import { concatBytes } from '../sse/concatBytes.js';

export interface LogWriterConfig {
  /** A `: keep-alive` comment after this long without a write; 0: none. */
  heartbeatMs: number;
  /** A client that takes nothing of what is waiting for it this long is given up on; 0: never. */
  stalledClientMs: number;
  scheduler: SchedulerLike;
  /** Each chunk written, heartbeats included, as it is handed to the sink. */
  written(bytes: number): void;
}

/** How writing ended: the log's ending (written and the response ended), or a client that stopped reading. */
export type WriteResult = { kind: 'ended'; ending: LogEnding } | { kind: 'stalled' };

export interface LogWriter {
  /** Settles once the log's ending was written or the client stalled; never if stopped first. */
  readonly done: Promise<WriteResult>;
  stop(): void;
}

const KEEP_ALIVE = new TextEncoder().encode(': keep-alive\n\n');

/** Blocks that arrived together leave in one write, up to this size; a larger entry goes out in pieces of it. */
const WRITE_SIZE = 64 * 1024;

/**
 * Reads a log into the client's sink: what arrived together leaves in one
 * write, the next read waits until the client has room, heartbeats fill quiet
 * spells (not while the client is full: they would only queue), and the log's
 * ending, with the relay's own last frame if any, ends the response.
 *
 * @example
 * const writer = writeLog(log, sink, { heartbeatMs: 15_000, stalledClientMs: 60_000, scheduler, written });
 * writer.done.then((result) => settle(result));
 */
export function writeLog(reader: LogReader, sink: RelaySink, config: LogWriterConfig): LogWriter {
  const { scheduler } = config;
  let stopped = false;
  let roomWaiter: ((room: boolean) => void) | undefined;
  let stall: Subscription | undefined;

  const room = (available: boolean) => {
    stall?.unsubscribe();
    stall = undefined;
    const waiter = roomWaiter;
    roomWaiter = undefined;
    waiter?.(available);
  };
  sink.onDrain(() => room(true));
  const heartbeat =
    config.heartbeatMs > 0
      ? watchIdle(
          config.heartbeatMs,
          () => {
            if (!roomWaiter && !stopped) write(KEEP_ALIVE);
          },
          scheduler,
        )
      : undefined;
  const write = (chunk: Uint8Array): boolean => {
    config.written(chunk.byteLength);
    heartbeat?.touch();
    return sink.write(chunk);
  };
  const waitForRoom = () =>
    new Promise<boolean>((resolve) => {
      roomWaiter = resolve;
      if (config.stalledClientMs > 0) stall = scheduler.schedule(() => room(false), config.stalledClientMs);
    });
  /** Writes the entries in chunks of about {@link WRITE_SIZE}; `false` when the client stalled. */
  const writeAll = async (entries: LogEntry[]): Promise<boolean> => {
    for (const chunk of chunks(entries)) {
      if (write(chunk)) continue;
      if (!(await waitForRoom()) || stopped) return !stopped && false;
    }
    return true;
  };

  const run = async (): Promise<WriteResult> => {
    for (;;) {
      const { entries, ending } = await reader.next();
      if (stopped) return new Promise<never>(() => undefined);
      if (!(await writeAll(entries))) {
        if (stopped) return new Promise<never>(() => undefined);
        return { kind: 'stalled' };
      }
      if (ending) {
        if (ending.frame) write(ending.frame);
        sink.end();
        return { kind: 'ended', ending };
      }
    }
  };
  const done = run().finally(() => {
    heartbeat?.stop();
    stall?.unsubscribe();
  });
  return {
    done,
    stop() {
      stopped = true;
      heartbeat?.stop();
      room(false);
    },
  };
}

/** The entries' bytes joined into chunks of about {@link WRITE_SIZE}; one entry larger than that is cut into pieces. */
function* chunks(entries: LogEntry[]): Generator<Uint8Array> {
  let group: Uint8Array[] = [];
  let size = 0;
  for (const { bytes } of entries) {
    for (let offset = 0; offset < bytes.byteLength; offset += WRITE_SIZE) {
      const piece = offset === 0 && bytes.byteLength <= WRITE_SIZE ? bytes : bytes.subarray(offset, offset + WRITE_SIZE);
      if (size > 0 && size + piece.byteLength > WRITE_SIZE) {
        yield concatBytes(group, size);
        group = [];
        size = 0;
      }
      group.push(piece);
      size += piece.byteLength;
    }
  }
  if (size > 0) yield concatBytes(group, size);
}
