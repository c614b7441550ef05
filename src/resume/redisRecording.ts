import type { RedisClientType } from 'redis';
import { BehaviorSubject, type Observable } from 'rxjs';
import { OpenAIRxError } from '../errors.js';
import { AttachedReaders } from './attachedReaders.js';
import { batchFields, endingFields, entryBlocks, EntryNumbering, entrySize, type StreamKeys } from './redisStreamLayout.js';
import type { StoredEnding, StoredEntry, StreamMeta, StreamRecording } from './types.js';
import { withDeadline, type ConnectionAnswers } from './withDeadline.js';

export interface RedisRecordingConfig {
  /** Commands with the store's timeout, replies as strings: the blocks, the ending, the keys' TTLs. */
  commands: RedisClientType;
  /**
   * When `commands` last answered a write (shared by the store's recordings): a write's deadline counts from then,
   * so that one queued behind the others on a busy instance waits its turn while Redis keeps answering.
   */
  commandsAnswers: ConnectionAnswers;
  /**
   * The lease's own connection (replies as strings): a refresh sent on `commands` would wait behind every block
   * queued there, seconds on a busy instance, and the lease would lapse under an owner that is alive.
   */
  lease: RedisClientType;
  keys: StreamKeys;
  /** What the stream was created with: the owner answers with it instead of asking Redis, behind its queued writes. */
  meta: StreamMeta;
  /** This instance, as the lease's value (who owns the stream, for whoever looks). */
  instanceId: string;
  /** When the lease was asked for (`Date.now()` before the create was sent): it counts from then. */
  leaseSentAt: number;
  leaseMs: number;
  retainMs: number;
  maxEntriesPerStream: number;
  commandTimeoutMs: number;
  /** The store forgets the recording (it no longer routes cancels and announcements to it). */
  onRelease(): void;
}

/** Writes out at once, at most: the second is sent behind the first once {@link PIPELINED_BYTES} wait. */
const MAX_WRITES_OUT = 2;
const PIPELINED_BYTES = 64 * 1024;
/**
 * Past this many bytes waiting while both writes are out, the generation stops reading upstream until one lands
 * ({@link RedisRecording.backlog$}): Redis sets the pace. A burst upstream then alternates with the writes, and
 * readers on this instance get each write's blocks as it lands, instead of after the whole burst was read.
 */
const BACKLOG_BYTES = 256 * 1024;
/**
 * Memory of the blocks waiting to be written, at most: past it the generation fails. A generation that honours
 * `backlog$` stays near {@link BACKLOG_BYTES}. (Not fewer blocks: trimming keeps the stream's oldest entries going
 * first, so its entries stay contiguous.)
 */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;
/** What a waiting block costs beside its bytes (its object and queue slot), roughly. */
const ENTRY_OVERHEAD = 128;
/** Entries per `MULTI`, at most (each up to `ENTRY_BYTES`). */
const ENTRIES_PER_WRITE = 16;
/**
 * A trim point is remembered for the first entry at least this many blocks after the last one (fewer when entries
 * are smaller): the stream is trimmed to one of them, so it keeps fewer than `maxEntriesPerStream` + this + the
 * blocks of an entry, at most 600 and a fifth more.
 */
const TRIM_STEP = 100;

/**
 * One entry of the stream: its id, its first block's position in the generation, whether the block before that one
 * carries an event, its blocks and their bytes.
 */
export interface WrittenEntry {
  id: string;
  index: number;
  afterEvent: boolean;
  blocks: StoredEntry[];
  bytes: number;
}

/**
 * The blocks of the last writes Redis acknowledged that a reader on the owner's instance has yet to read, kept while
 * one is attached there: such readers take them from here instead of reading them back from Redis. Older writes up to
 * this many blocks (and {@link WRITTEN_BYTES}), and the last write whole (up to {@link ENTRIES_PER_WRITE} entries, within
 * the cap on what waits). A reader further behind reads Redis.
 */
const WRITTEN_BLOCKS = 2000;
const WRITTEN_BYTES = 4 * 1024 * 1024;

/** Blocks Redis holds, up to the end of the entry `lastId`; the block after them is `nextIndex`. */
export interface WrittenBlocks {
  entries: StoredEntry[];
  lastId: string;
  nextIndex: number;
}

/** What a reader on the owner's instance finds after its position: blocks, or that it must wait or ask Redis. */
export type WrittenRead = WrittenBlocks | 'nothing-new' | 'ask-redis';

/**
 * The owner's side of a stream in Redis. Appends queue in memory and go out in order, one `MULTI` at a time (two once
 * {@link PIPELINED_BYTES} wait, on the one connection, which Redis runs in order): what waits, batched into entries
 * (one `XADD` per batch of blocks, not per block: see redisStreamLayout.ts), the trim that keeps the last
 * `maxEntriesPerStream` blocks, and the key's TTL; every `leaseMs / 3` the lease is refreshed on its own connection
 * and the TTL of the stream's keys (`retainMs + leaseMs` while generating) on the blocks' one; the ending is the
 * stream's last entry, written with the `retainMs` TTL, and deletes the lease. Anything Redis refuses, or does not
 * answer in time, fails the recording: `onFailure` runs once and nothing more is written.
 *
 * @example
 * const recording = await store.create(id, { createdAt: Date.now() }); // a RedisRecording
 * recording.append([{ event: 1, bytes }]);
 * await recording.finish({ outcome: 'completed' });
 */
export class RedisRecording implements StreamRecording {
  /** Readers attached to this stream, here and elsewhere. */
  readonly readers: AttachedReaders;
  private readonly numbering = new EntryNumbering();
  /** Blocks per entry, at most. */
  private readonly entryBlocks: number;
  /** Blocks between trim points, at least. */
  private readonly trimStep: number;
  private pending: StoredEntry[] = [];
  private pendingBytes = 0;
  /** Writes sent and not yet answered: at most {@link MAX_WRITES_OUT}. */
  private writesOut = 0;
  private ending: { ending: StoredEnding; stored: Promise<void>; settle(): void } | undefined;
  /** The ending's write is on its way: the lease is kept until it lands, the keys' TTLs are left to it. */
  private endingSent = false;
  private ended = false;
  private released = false;
  private failure: Error | undefined;
  /** Counts completed writes; local readers wait for it to change. */
  private version = 0;
  private readonly changeWaiters = new Set<() => void>();
  /** Each reader's next block at its last read, for the readers on this instance: what they all read is dropped. */
  private readonly localReaders = new Map<object, number>();
  /** The entries of the last writes Redis acknowledged (see {@link WRITTEN_BLOCKS}). */
  private written: WrittenEntry[] = [];
  private writtenBlocks = 0;
  private writtenBytes = 0;
  /** The index the next block written gets: what a reader that read everything waits for. */
  private writtenUpTo = 0;
  /** Entries the stream may be trimmed to, oldest first (see {@link TRIM_STEP}); the first is where it was trimmed. */
  private trimPoints: Array<{ id: string; index: number }> = [];
  /** Blocks handed to writes so far. */
  private sentBlocks = 0;
  private cancelled = false;
  private cancelCallback: (() => void) | undefined;
  private failureCallback: ((error: Error) => void) | undefined;
  private leaseTimer: ReturnType<typeof setInterval> | undefined;
  private readonly behind = new BehaviorSubject(false);
  /** `true` while {@link BACKLOG_BYTES} or more wait behind the two writes out; completes on release or failure. */
  readonly backlog$: Observable<boolean> = this.behind.asObservable();

  constructor(private readonly config: RedisRecordingConfig) {
    this.readers = new AttachedReaders(config.leaseMs);
    this.entryBlocks = entryBlocks(config.maxEntriesPerStream);
    this.trimStep = Math.min(TRIM_STEP, this.entryBlocks);
    const every = Math.max(1, Math.floor(config.leaseMs / 3));
    this.leaseTimer = setInterval(() => this.refreshLease(), every);
    this.leaseTimer.unref();
    // The create's answer was slow (a busy process reads its replies late): the lease has run for that long already.
    if (Date.now() - config.leaseSentAt >= every) this.refreshLease();
  }

  /** The TTL of the stream's keys while it is generated: readable `retainMs` after a crash too. */
  static liveTtlMs(config: Pick<RedisRecordingConfig, 'leaseMs' | 'retainMs'>): number {
    return config.retainMs + config.leaseMs;
  }

  append(entries: StoredEntry[]): void {
    if (this.ending || this.released || this.failure) return;
    // Throws, as StreamRecording says, before anything of the append is queued or counted.
    this.numbering.accept(entries);
    for (const entry of entries) {
      this.pending.push(entry);
      this.pendingBytes += entry.bytes.byteLength + ENTRY_OVERHEAD;
    }
    if (this.pendingBytes > MAX_PENDING_BYTES) {
      this.fail(new OpenAIRxError({ message: 'Redis does not keep up with the generation: 16 MiB of blocks wait to be written' }));
      return;
    }
    this.pump();
  }

  /** Resolves once the ending is stored, or once the recording failed (`onFailure` reports that, once). */
  finish(ending: StoredEnding): Promise<void> {
    if (this.failure) return Promise.resolve();
    if (this.ending) return this.ending.stored;
    let stored!: () => void;
    this.ending = { ending, stored: new Promise<void>((resolve) => (stored = resolve)), settle: () => stored() };
    this.pump();
    return this.ending.stored;
  }

  onCancel(callback: () => void): void {
    this.cancelCallback = callback;
    if (this.cancelled) callback();
  }

  onAbandoned(abandonAfterMs: number, callback: () => void): void {
    if (this.generating) this.readers.onAbandoned(abandonAfterMs, callback);
  }

  onFailure(callback: (error: Error) => void): void {
    this.failureCallback = callback;
    if (this.failure) callback(this.failure);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.behind.complete();
    this.readers.stop();
    this.forgetWritten();
    this.cancelCallback = this.failureCallback = undefined;
    this.config.onRelease();
    this.wake();
    // Without an ending the lease goes once the queue is written: readers elsewhere see `lost` at once.
    if (!this.ending) this.pump();
  }

  /** A cancel arrived for this stream (from any instance); `false` when it had already ended. */
  cancel(): boolean {
    if (this.ending || this.failure || this.released) return false;
    if (!this.cancelled) {
      this.cancelled = true;
      this.cancelCallback?.();
    }
    return true;
  }

  /** The generation still runs here: it has been neither finished, released nor failed. */
  get generating(): boolean {
    return !this.ending && !this.released && !this.failure;
  }

  get meta(): StreamMeta {
    return this.config.meta;
  }

  /** Why the recording failed, if it did. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Settles once a write completed after `seenVersion` (or at once if one did), or on failure or release. */
  changedSince(seenVersion: number): { done: Promise<void>; cancel(): void } {
    if (this.version > seenVersion || this.failure || this.released || this.ended) {
      return { done: Promise.resolve(), cancel: () => undefined };
    }
    let wake!: () => void;
    const done = new Promise<void>((resolve) => (wake = resolve));
    this.changeWaiters.add(wake);
    return {
      done,
      cancel: () => {
        if (this.changeWaiters.delete(wake)) wake();
      },
    };
  }

  get writes(): number {
    return this.version;
  }

  /**
   * The acknowledged blocks from index `nextIndex` on, to the end of an entry (at most `maxEntries` entries), for a
   * reader on this instance: `nothing-new` when it has them all (it waits for the next write), `ask-redis` when they
   * are no longer here, or the ending is written or the generation dropped (the ending, a trimmed position and a lost
   * lease are Redis's to tell). The blocks written after `finish()` still come from here.
   */
  writtenAfter(nextIndex: number, maxEntries: number): WrittenRead {
    if (this.failure || this.released || this.ended || nextIndex > this.writtenUpTo) return 'ask-redis';
    if (nextIndex === this.writtenUpTo) return 'nothing-new';
    // Readers keep up, mostly: the entry holding their next block is one of the last.
    let first = this.written.length - 1;
    while (first >= 0 && this.written[first].index > nextIndex) first--;
    if (first < 0) return 'ask-redis';
    const taken = this.written.slice(first, first + maxEntries);
    const entries = taken[0].blocks.slice(nextIndex - taken[0].index);
    for (const entry of taken.slice(1)) for (const block of entry.blocks) entries.push(block);
    const last = taken[taken.length - 1];
    return { entries, lastId: last.id, nextIndex: last.index + last.blocks.length };
  }

  /** A reader on this instance reads on from block `nextIndex`: the owner keeps nothing for it before that. */
  readerAt(reader: object, nextIndex: number): void {
    if (!this.released && !this.failure) this.localReaders.set(reader, nextIndex);
  }

  /** The reader on this instance closed. */
  readerGone(reader: object): void {
    this.localReaders.delete(reader);
  }

  /** The store failed under the recording (Redis went away, the store closed). */
  fail(error: Error): void {
    if (this.failure || this.ended) return;
    this.failure = error;
    this.pending = [];
    this.pendingBytes = 0;
    // Nothing waits to be written any more: the generation is not held back by this recording again.
    this.behind.complete();
    this.forgetWritten();
    this.stopLease();
    this.readers.stop();
    this.ending?.settle();
    this.failureCallback?.(error);
    this.wake();
    // Tells readers elsewhere at once when Redis itself is fine (the generation outran it).
    this.config.lease.del(this.config.keys.lease).catch(() => undefined);
  }

  /**
   * Writes what waits, one `MULTI` at a time, a second one behind it once {@link PIPELINED_BYTES} wait (Redis works on
   * it while this instance takes the answer to the first); after the blocks, the ending (or, released without one,
   * the lease goes).
   */
  private pump(): void {
    if (this.failure || this.ended) return;
    if (this.pending.length > 0) {
      if (this.writesOut === 0 || (this.writesOut < MAX_WRITES_OUT && this.pendingBytes >= PIPELINED_BYTES)) {
        const entries = this.nextEntries();
        this.write(this.appendCommands(entries), 'append', () => this.pump(), entries);
      }
      this.updateBacklog();
    } else if (this.writesOut > 0) {
      return;
    } else if (this.ending) {
      const ending = this.ending;
      this.endingSent = true;
      this.write(this.endingCommands(ending.ending), 'finish', () => {
        this.ended = true;
        this.stopLease();
        ending.settle();
      });
    } else if (this.released) {
      this.ended = true;
      this.stopLease();
      this.config.lease.del(this.config.keys.lease).catch(() => undefined);
    }
  }

  private write(commands: Promise<unknown>, what: string, then: () => void, entries: WrittenEntry[] = []): void {
    this.writesOut++;
    withDeadline(commands, this.config.commandTimeoutMs, what, this.config.commandsAnswers).then(
      () => {
        this.writesOut--;
        this.remember(entries);
        this.version++;
        this.wake();
        then();
      },
      (error: unknown) => {
        this.writesOut--;
        this.fail(new OpenAIRxError({ message: 'The resume store could not write to Redis', cause: error }));
      },
    );
  }

  /** The pending blocks, up to {@link ENTRIES_PER_WRITE} entries of them, numbered. */
  private nextEntries(): WrittenEntry[] {
    const entries: WrittenEntry[] = [];
    let taken = 0;
    while (taken < this.pending.length && entries.length < ENTRIES_PER_WRITE) {
      const { count, bytes } = entrySize(this.pending, taken, this.entryBlocks);
      const blocks = this.pending.slice(taken, taken + count);
      taken += count;
      this.pendingBytes -= bytes + count * ENTRY_OVERHEAD;
      entries.push({ ...this.numbering.next(blocks), blocks, bytes });
    }
    this.pending = this.pending.slice(taken);
    return entries;
  }

  /**
   * Keeps the entries Redis just acknowledged for this instance's readers (only while one is attached here), dropping
   * those they all read, the oldest past the window, and never more than Redis keeps: a reader here is evicted as anywhere.
   */
  private remember(entries: WrittenEntry[]): void {
    if (entries.length === 0 || this.released || this.failure) return;
    const last = entries[entries.length - 1];
    this.writtenUpTo = last.index + last.blocks.length;
    if (!this.readers.attachedHere) return this.forgetWritten();
    for (const entry of entries) {
      this.written.push(entry);
      this.writtenBlocks += entry.blocks.length;
      this.writtenBytes += entry.bytes;
    }
    const neededFrom = Math.max(this.writtenUpTo - this.config.maxEntriesPerStream, this.slowestLocalReader());
    // The entries just written stay whatever their size (a reader here reads them before the next write lands),
    // unless Redis trimmed them already.
    const older = this.written.length - entries.length;
    let drop = 0;
    while (drop < this.written.length - 1 && (this.endsBefore(this.written[drop], neededFrom) || (drop < older && this.overWindow))) {
      this.writtenBlocks -= this.written[drop].blocks.length;
      this.writtenBytes -= this.written[drop].bytes;
      drop++;
    }
    if (drop > 0) this.written = this.written.slice(drop);
  }

  /** The next block of the reader here furthest behind (none known: from the start). */
  private slowestLocalReader(): number {
    let slowest = this.localReaders.size > 0 ? Number.POSITIVE_INFINITY : 0;
    for (const nextIndex of this.localReaders.values()) slowest = Math.min(slowest, nextIndex);
    return slowest;
  }

  private get overWindow(): boolean {
    return this.writtenBlocks > WRITTEN_BLOCKS || this.writtenBytes > WRITTEN_BYTES;
  }

  private endsBefore(entry: WrittenEntry, index: number): boolean {
    return entry.index + entry.blocks.length <= index;
  }

  private forgetWritten(): void {
    this.localReaders.clear();
    this.written = [];
    this.writtenBlocks = this.writtenBytes = 0;
  }

  /** The entries, the trim that keeps the last `maxEntriesPerStream` blocks (if it moved), and the TTL. */
  private appendCommands(entries: WrittenEntry[]): Promise<unknown> {
    const { commands, keys } = this.config;
    const multi = commands.multi();
    for (const { id, index, blocks, bytes, afterEvent } of entries) multi.xAdd(keys.frames, id, batchFields(index, blocks, bytes, afterEvent));
    const trimTo = this.trimPoint(entries);
    if (trimTo) multi.xTrim(keys.frames, 'MINID', trimTo);
    return multi.pExpire(keys.frames, RedisRecording.liveTtlMs(this.config)).exec();
  }

  /**
   * Where the stream is trimmed after `entries`, if that moved: the newest trim point at or before the block
   * `maxEntriesPerStream` from the end (so at least that many are kept). An exact `MINID`: `~` would keep up to a
   * Redis stream node more, up to 100 entries of a batch of blocks each.
   */
  private trimPoint(entries: WrittenEntry[]): string | undefined {
    const points = this.trimPoints;
    for (const { id, index, blocks } of entries) {
      const last = points[points.length - 1];
      if (!last || index >= last.index + this.trimStep) points.push({ id, index });
      this.sentBlocks += blocks.length;
    }
    const keepFrom = this.sentBlocks - this.config.maxEntriesPerStream;
    let drop = 0;
    while (drop < points.length - 1 && points[drop + 1].index <= keepFrom) drop++;
    if (drop === 0) return undefined;
    this.trimPoints = points.slice(drop);
    return this.trimPoints[0].id;
  }

  private endingCommands(ending: StoredEnding): Promise<unknown> {
    const { commands, keys, retainMs } = this.config;
    const { id, index } = this.numbering.next([]);
    return commands
      .multi()
      .xAdd(keys.frames, id, endingFields(index, ending))
      .pExpire(keys.frames, retainMs)
      .pExpire(keys.meta, retainMs)
      .del(keys.lease)
      .exec();
  }

  /**
   * Keeps the lease (only while it still exists: a lease that lapsed may already read as `lost` elsewhere), and
   * looks for a cancel whose message this instance missed (pub/sub delivers only to a connected subscriber). The
   * lease goes on until the ending landed (the ending deletes it: a refresh after it finds none, and is not news);
   * the keys' TTLs stop with the ending's write, which gives them their last one, and go on `commands` so that none
   * lands after it.
   */
  private refreshLease(): void {
    if (this.failure) return;
    const { commands, commandsAnswers, lease, keys, instanceId, leaseMs, commandTimeoutMs } = this.config;
    if (!this.endingSent) {
      const liveTtl = RedisRecording.liveTtlMs(this.config);
      const ttls = commands.multi().pExpire(keys.frames, liveTtl).pExpire(keys.meta, liveTtl).exec();
      withDeadline(ttls, commandTimeoutMs, 'refresh the TTLs', commandsAnswers).catch((error: unknown) =>
        this.fail(new OpenAIRxError({ message: 'The resume store could not refresh its TTLs in Redis', cause: error })),
      );
    }
    const refresh = lease
      .multi()
      .set(keys.lease, instanceId, { expiration: { type: 'PX', value: leaseMs }, condition: 'XX' })
      .exists(keys.cancel)
      .exec();
    withDeadline(refresh, commandTimeoutMs, 'refresh the lease').then(
      ([kept, cancelled]) => {
        if (this.ended || this.endingSent) return;
        if (kept === null) {
          this.fail(new OpenAIRxError({ message: 'The owner lost its lease: the generation was not refreshed in time' }));
        } else if (Number(cancelled) === 1) {
          this.cancel();
        }
      },
      (error: unknown) => {
        this.fail(new OpenAIRxError({ message: 'The resume store could not refresh its lease in Redis', cause: error }));
      },
    );
  }

  private stopLease(): void {
    clearInterval(this.leaseTimer);
    this.leaseTimer = undefined;
  }

  private updateBacklog(): void {
    const behind = this.writesOut === MAX_WRITES_OUT && this.pendingBytes >= BACKLOG_BYTES;
    if (behind !== this.behind.value) this.behind.next(behind);
  }

  private wake(): void {
    for (const wake of [...this.changeWaiters]) wake();
    this.changeWaiters.clear();
  }
}
