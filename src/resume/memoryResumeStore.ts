import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { OpenAIRxError } from '../errors.js';
import { concatBytes } from '../sse/concatBytes.js';
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

/**
 * Blocks packed together: their bytes end to end and two typed arrays. Held for minutes, an object and a view per
 * block cost the relay more in garbage collection than the rest of resume mode; a stream of 20,000 blocks is a few
 * hundred objects this way.
 */
interface PackedBatch {
  /** The absolute index of its first block. */
  index: number;
  bytes: Uint8Array;
  /** Where each block ends in `bytes`. */
  ends: Uint32Array;
  /** Each block's event number, 0 for none. */
  events: Float64Array;
}

/**
 * The newest blocks while they are few: at a model's pace a read brings one or two blocks, and a batch of its own
 * per read would cost more than the blocks (two typed arrays and a view for a 100-byte block).
 */
interface OpenBatch {
  index: number;
  blocks: StoredEntry[];
}

type Batch = PackedBatch | OpenBatch;

/** Blocks an open batch gathers before it is packed; an append of this many or more is packed at once. */
const PACK_AT = 64;

/** One stream in memory: its blocks from `firstIndex` on (older ones dropped by the caps). */
interface MemoryStream {
  meta: StreamMeta;
  batches: Batch[];
  /** The absolute index of the first block kept (in `batches[0]`, whose blocks before it are dropped). */
  firstIndex: number;
  /** The absolute index of the next block appended. */
  endIndex: number;
  bytes: number;
  /** Absolute index of the entry holding each event, from `firstEvent` on. */
  eventIndexes: number[];
  firstEvent: number;
  /** Absolute index of the last dropped event's block (-1: none dropped): when it was the last block dropped, a reader after it misses nothing. */
  lastDroppedEventIndex: number;
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
        batches: [],
        firstIndex: 0,
        endIndex: 0,
        bytes: 0,
        eventIndexes: [],
        firstEvent: 1,
        lastDroppedEventIndex: -1,
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
      if (stream.ending || entries.length === 0) return;
      const index = stream.endIndex;
      entries.forEach(({ event, bytes }, at) => {
        stream.bytes += bytes.byteLength;
        if (event <= 0) return;
        stream.eventIndexes.push(index + at);
        stream.lastEvent = event;
      });
      stream.endIndex += entries.length;
      addBatch(stream.batches, entries, index);
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

/** Small appends gather in the open batch at the end, packed once it holds PACK_AT blocks; a large one is packed at once. */
function addBatch(batches: Batch[], entries: StoredEntry[], index: number): void {
  const last = batches.at(-1);
  if (last && 'blocks' in last) {
    for (const entry of entries) last.blocks.push(entry);
    if (last.blocks.length >= PACK_AT) batches[batches.length - 1] = packed(last.blocks, last.index);
  } else batches.push(entries.length >= PACK_AT ? packed(entries, index) : { index, blocks: entries.slice() });
}

/** The entries as one batch whose first block is number `index`: their bytes as one array (a view when adjacent). */
function packed(entries: StoredEntry[], index: number): PackedBatch {
  const ends = new Uint32Array(entries.length);
  const events = new Float64Array(entries.length);
  let length = 0;
  let adjacent = true;
  const first = entries[0].bytes;
  entries.forEach(({ event, bytes }, at) => {
    adjacent &&= bytes.buffer === first.buffer && bytes.byteOffset === first.byteOffset + length;
    length += bytes.byteLength;
    ends[at] = length;
    events[at] = event;
  });
  const bytes = adjacent ? new Uint8Array(first.buffer, first.byteOffset, length) : concatBytes(entries.map((entry) => entry.bytes), length);
  return { index, bytes, ends, events };
}

function blockCount(batch: Batch): number {
  return 'blocks' in batch ? batch.blocks.length : batch.ends.length;
}

/** The block `index` (absolute) of the stream, which `batch` holds. */
function blockAt(batch: Batch, index: number): StoredEntry {
  const at = index - batch.index;
  if ('blocks' in batch) return batch.blocks[at];
  return { event: batch.events[at], bytes: batch.bytes.subarray(at === 0 ? 0 : batch.ends[at - 1], batch.ends[at]) };
}

function blockLength(batch: Batch, index: number): number {
  const at = index - batch.index;
  if ('blocks' in batch) return batch.blocks[at].bytes.byteLength;
  return batch.ends[at] - (at === 0 ? 0 : batch.ends[at - 1]);
}

/**
 * Drops the oldest blocks past the caps; the latest block always stays. An open batch lets go of its dropped blocks;
 * a packed one keeps their bytes until all of its blocks are dropped (at most one append, or PACK_AT blocks).
 */
function trim(stream: MemoryStream, limits: typeof DEFAULTS): void {
  const { batches } = stream;
  let first = stream.firstIndex;
  let bytes = stream.bytes;
  let batch = 0;
  const pastBatch = () => first >= batches[batch].index + blockCount(batches[batch]);
  while (first < stream.endIndex - 1 && (stream.endIndex - first > limits.maxEntriesPerStream || bytes > limits.maxBytesPerStream)) {
    if (pastBatch()) batch++;
    bytes -= blockLength(batches[batch], first);
    first++;
  }
  if (first === stream.firstIndex) return;
  if (pastBatch()) batch++;
  batches.splice(0, batch);
  const oldest = batches[0];
  if ('blocks' in oldest && first > oldest.index) batches[0] = { index: first, blocks: oldest.blocks.slice(first - oldest.index) };
  stream.firstIndex = first;
  stream.bytes = bytes;
  let events = 0;
  while (events < stream.eventIndexes.length && stream.eventIndexes[events] < stream.firstIndex) events++;
  if (events > 0) stream.lastDroppedEventIndex = stream.eventIndexes[events - 1];
  stream.eventIndexes.splice(0, events);
  stream.firstEvent += events;
}

/**
 * What one read hands out, at most (past its first block): a reader from the start of a long stream gets it in
 * parts, so that each connection holds a part at a time, not a copy of the whole stream (up to 16 MiB).
 */
const READ_BYTES = 1024 * 1024;

/** The blocks from absolute index `from` on, to the stream's last or READ_BYTES. */
function blocksFrom(stream: MemoryStream, from: number): StoredEntry[] {
  const blocks: StoredEntry[] = [];
  let bytes = 0;
  let batch = batchHolding(stream.batches, from);
  for (let index = from; index < stream.endIndex && bytes < READ_BYTES; index++) {
    if (index >= stream.batches[batch].index + blockCount(stream.batches[batch])) batch++;
    const block = blockAt(stream.batches[batch], index);
    blocks.push(block);
    bytes += block.bytes.byteLength;
  }
  return blocks;
}

/** The position in `batches` of the batch holding block `index` (a binary search: a stream may hold thousands). */
function batchHolding(batches: Batch[], index: number): number {
  let low = 0;
  let high = batches.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (batches[middle].index <= index) low = middle;
    else high = middle - 1;
  }
  return low;
}

function wake(stream: MemoryStream): void {
  for (const resolve of [...stream.waiting]) resolve();
}

/** Where a reader after `afterEvent` starts, as an absolute index, or why it cannot. */
function startOf(stream: MemoryStream, afterEvent: number): number | StoreOpenFailure {
  if (afterEvent > stream.lastEvent) return 'ahead';
  if (afterEvent === 0) return stream.firstIndex === 0 ? 0 : 'evicted';
  if (afterEvent < stream.firstEvent) {
    const missesNothing = afterEvent === stream.firstEvent - 1 && stream.lastDroppedEventIndex === stream.firstIndex - 1;
    return missesNothing ? stream.firstIndex : 'evicted';
  }
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
    if (position === stream.endIndex && !stream.ending) return undefined;
    const entries = blocksFrom(stream, position);
    position += entries.length;
    return position === stream.endIndex ? { entries, ending: stream.ending } : { entries };
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
