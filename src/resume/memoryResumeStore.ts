import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { OpenAIRxError } from '../errors.js';
import { scheduleUnref } from '../scheduleUnref.js';
import type {
  ResumeStore,
  StoredEnding,
  StoredEntry,
  StoreOpenFailure,
  StoreRead,
  StoreReader,
  StreamMeta,
  StreamRecording,
} from './types.js';

export interface MemoryResumeStoreConfig {
  /** Blocks kept per stream; past it the oldest are dropped (a reader from before them is told so). Default 20,000. */
  maxEntriesPerStream?: number;
  /** Bytes kept per stream, likewise; default 16 MiB. */
  maxBytesPerStream?: number;
  /** Streams kept; past it the oldest finished one is dropped first, else the oldest. Default 1,000. */
  maxStreams?: number;
  /** How long a finished stream stays readable; default 5 minutes. */
  retainMs?: number;
  /** Runs the retention and abandon timers; default `asyncScheduler`. */
  scheduler?: SchedulerLike;
}

const DEFAULTS = { maxEntriesPerStream: 20_000, maxBytesPerStream: 16 * 1024 * 1024, maxStreams: 1_000, retainMs: 5 * 60_000 };

/** One stream in memory: its entries from `firstIndex` on (older ones dropped by the caps). */
interface MemoryStream {
  meta: StreamMeta;
  entries: StoredEntry[];
  /** The absolute index of `entries[0]`. */
  firstIndex: number;
  bytes: number;
  /** Absolute index of the entry holding each event, from `firstEvent` on. */
  eventIndexes: number[];
  firstEvent: number;
  lastEvent: number;
  ending: StoredEnding | undefined;
  /** Readers waiting for more. */
  waiting: Set<() => void>;
  attached: number;
  onAttachChange: (() => void) | undefined;
  cancel: (() => void) | undefined;
  failure: ((error: Error) => void) | undefined;
  expiry: Subscription | undefined;
}

/**
 * The resume store of one process: a relay's streams in memory, bounded in
 * streams, blocks and bytes (oldest dropped first, as documented on each cap),
 * a finished stream kept `retainMs`. The default store of resume mode; for
 * several relay instances behind a load balancer use `redisResumeStore`.
 *
 * @example
 * createRelay({ resume: { store: memoryResumeStore({ retainMs: 60_000 }) } });
 */
export function memoryResumeStore(config: MemoryResumeStoreConfig = {}): ResumeStore {
  const limits = { ...DEFAULTS, ...config };
  const scheduler = config.scheduler ?? asyncScheduler;
  const streams = new Map<string, MemoryStream>();

  const drop = (id: string, why: string) => {
    const stream = streams.get(id);
    if (!stream) return;
    streams.delete(id);
    stream.expiry?.unsubscribe();
    if (!stream.ending) stream.failure?.(new OpenAIRxError({ message: why }));
    wake(stream);
  };
  const makeRoom = () => {
    if (streams.size < limits.maxStreams) return;
    const finished = [...streams].find(([, stream]) => stream.ending);
    const [oldest] = finished ?? streams.entries().next().value ?? [];
    if (oldest !== undefined) drop(oldest, 'The resume store dropped this stream to make room for newer ones');
  };

  return {
    async create(id, meta) {
      if (streams.has(id)) throw new OpenAIRxError({ message: 'A stream with this id exists already' });
      makeRoom();
      const stream: MemoryStream = {
        meta,
        entries: [],
        firstIndex: 0,
        bytes: 0,
        eventIndexes: [],
        firstEvent: 1,
        lastEvent: 0,
        ending: undefined,
        waiting: new Set(),
        attached: 0,
        onAttachChange: undefined,
        cancel: undefined,
        failure: undefined,
        expiry: undefined,
      };
      streams.set(id, stream);
      return recording(stream, limits, scheduler, () => {
        // A finished stream waiting to expire must not keep a process from exiting.
        stream.expiry = scheduleUnref(scheduler, () => drop(id, 'expired'), limits.retainMs);
      });
    },
    async meta(id) {
      return streams.get(id)?.meta;
    },
    async read(id, afterEvent) {
      const stream = streams.get(id);
      return stream ? reader(stream, afterEvent, () => streams.get(id) === stream) : 'unknown';
    },
    async cancel(id) {
      const stream = streams.get(id);
      if (!stream) return 'unknown';
      if (stream.ending) return 'finished';
      stream.cancel?.();
      return 'cancelling';
    },
    async close() {
      for (const id of [...streams.keys()]) drop(id, 'The resume store was closed');
    },
  };
}

function recording(stream: MemoryStream, limits: typeof DEFAULTS, scheduler: SchedulerLike, retain: () => void): StreamRecording {
  let abandonTimer: Subscription | undefined;
  return {
    append(entries) {
      if (stream.ending) return;
      for (const entry of entries) {
        if (entry.event > 0) {
          stream.eventIndexes.push(stream.firstIndex + stream.entries.length);
          stream.lastEvent = entry.event;
        }
        stream.entries.push(entry);
        stream.bytes += entry.bytes.byteLength;
      }
      trim(stream, limits);
      wake(stream);
    },
    async finish(ending) {
      if (stream.ending) return;
      stream.ending = ending;
      wake(stream);
      retain();
    },
    onCancel(callback) {
      let called = false;
      stream.cancel = () => {
        if (called) return;
        called = true;
        callback();
      };
    },
    onAbandoned(abandonAfterMs, callback) {
      const watch = () => {
        abandonTimer?.unsubscribe();
        abandonTimer = stream.attached === 0 ? scheduler.schedule(callback, abandonAfterMs) : undefined;
      };
      stream.onAttachChange = watch;
      watch();
    },
    onFailure(callback) {
      stream.failure = callback;
    },
    release() {
      abandonTimer?.unsubscribe();
      stream.onAttachChange = stream.cancel = stream.failure = undefined;
    },
  };
}

/** Drops the oldest entries past the caps; the latest entry always stays. */
function trim(stream: MemoryStream, limits: typeof DEFAULTS): void {
  let drop = 0;
  let bytes = stream.bytes;
  while (
    drop < stream.entries.length - 1 &&
    (stream.entries.length - drop > limits.maxEntriesPerStream || bytes > limits.maxBytesPerStream)
  ) {
    bytes -= stream.entries[drop].bytes.byteLength;
    drop++;
  }
  if (drop === 0) return;
  stream.entries.splice(0, drop);
  stream.firstIndex += drop;
  stream.bytes = bytes;
  let events = 0;
  while (events < stream.eventIndexes.length && stream.eventIndexes[events] < stream.firstIndex) events++;
  stream.eventIndexes.splice(0, events);
  stream.firstEvent += events;
}

function wake(stream: MemoryStream): void {
  for (const resolve of [...stream.waiting]) resolve();
}

/** Where a reader after `afterEvent` starts, as an absolute index, or why it cannot. */
function startOf(stream: MemoryStream, afterEvent: number): number | StoreOpenFailure {
  if (afterEvent > stream.lastEvent) return 'ahead';
  if (afterEvent === 0) return stream.firstIndex === 0 ? 0 : 'evicted';
  if (afterEvent < stream.firstEvent) return 'evicted';
  return stream.eventIndexes[afterEvent - stream.firstEvent] + 1;
}

function reader(stream: MemoryStream, afterEvent: number, stillKept: () => boolean): StoreReader | StoreOpenFailure {
  const start = startOf(stream, afterEvent);
  if (typeof start !== 'number') return start;
  let position = start;
  let closed = false;
  /** The pending `next()`'s wait, settled with nothing on close. */
  let pending: { wait: () => void; resolve: (read: StoreRead) => void } | undefined;
  stream.attached++;
  stream.onAttachChange?.();
  const read = (): StoreRead | undefined => {
    if (!stillKept() && !stream.ending) return { entries: [], ending: 'lost' };
    if (position < stream.firstIndex) return { entries: [], ending: { outcome: 'evicted' } };
    const available = stream.firstIndex + stream.entries.length - position;
    if (available === 0 && !stream.ending) return undefined;
    const entries = stream.entries.slice(position - stream.firstIndex);
    position += entries.length;
    return { entries, ending: stream.ending };
  };
  return {
    next() {
      const now = read();
      if (now) return Promise.resolve(now);
      return new Promise((resolve) => {
        const wait = () => {
          const later = read();
          if (!later) return;
          stream.waiting.delete(wait);
          pending = undefined;
          resolve(later);
        };
        pending = { wait, resolve };
        stream.waiting.add(wait);
      });
    },
    close() {
      if (closed) return;
      closed = true;
      if (pending) {
        stream.waiting.delete(pending.wait);
        pending.resolve({ entries: [] });
        pending = undefined;
      }
      stream.attached--;
      stream.onAttachChange?.();
    },
  };
}
