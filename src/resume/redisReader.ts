import type { RedisClientType } from 'redis';
import { OpenAIRxError } from '../errors.js';
import type { BlockingReads } from './redisBlockingReads.js';
import type { RedisRecording, WrittenBlocks } from './redisRecording.js';
import { decodeEntry, type RawEntry, type StreamKeys } from './redisStreamLayout.js';
import type { StoredEnding, StoredEntry, StoreRead, StoreReader } from './types.js';

export interface RedisReaderConfig {
  /** Commands with the store's timeout, blob strings as Buffers. */
  buffers: RedisClientType;
  /** `read`, within the store's `commandTimeoutMs` of the last answer of the connection under `buffers`. */
  answered<T>(read: Promise<T>, what: string): Promise<T>;
  keys: StreamKeys;
  blockingReads: BlockingReads;
  /** The stream's owner when it runs on this instance. */
  owner(): RedisRecording | undefined;
  leaseMs: number;
  /** Entries per read, at most (each a batch of blocks). */
  batch: number;
  /** The reader is done: it no longer counts as attached. */
  onClose(): void;
}

/** Where a reader starts: after the entry `position`, whose index is `nextIndex - 1`. */
export interface ReaderStart {
  position: string;
  nextIndex: number;
}

/** A wait past the lease's expiry, so that the read after it finds the lease gone. */
const PAST_LEASE_MS = 10;

/**
 * A reader of one stream in Redis. Each `next()` reads what is new (`XREAD` from its position, beside the lease's
 * `PTTL`); when nothing is, it waits: for the owner's next write when the owner runs on this instance, else in
 * the instance's shared `XREAD BLOCK` until the lease would expire. While the owner generates on this instance, the
 * blocks of its last writes come from the owner itself once Redis acknowledged them (the same bytes, no round trip);
 * what it no longer keeps, and the ending, come from Redis. Nothing new and no lease means the owner
 * stopped without an ending: `lost`. Entries are batches of blocks: an entry that starts past the reader's next
 * block means trimming dropped what it had not read: `evicted`.
 *
 * @example
 * const reader = await store.read(id, 41); // a RedisReader, or why not
 * const { entries, ending } = await reader.next();
 */
export class RedisReader implements StoreReader {
  private position: string;
  private nextIndex: number;
  private ending: StoredEnding | 'lost' | undefined;
  private closed = false;
  private waiting: { cancel(): void } | undefined;
  /** Reads run one after the other, whatever the caller does. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly config: RedisReaderConfig,
    start: ReaderStart,
  ) {
    this.position = start.position;
    this.nextIndex = start.nextIndex;
    config.owner()?.readerAt(this, this.nextIndex);
  }

  next(): Promise<StoreRead> {
    const read = this.queue.then(() => this.read());
    this.queue = read.catch(() => undefined);
    return read;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.config.owner()?.readerGone(this);
    this.waiting?.cancel();
    this.config.onClose();
  }

  private async read(): Promise<StoreRead> {
    while (!this.closed) {
      if (this.ending) return { entries: [], ending: this.ending };
      const owner = this.config.owner();
      if (owner?.failed) throw new OpenAIRxError({ message: 'The resume store failed under this stream', cause: owner.failed });
      owner?.readerAt(this, this.nextIndex);
      const seen = owner?.writes ?? 0;
      const written = owner?.writtenAfter(this.nextIndex, this.config.batch) ?? 'ask-redis';
      if (written === 'nothing-new') {
        await this.waitForMore(owner, seen, 0);
        continue;
      }
      if (written !== 'ask-redis') {
        const read = this.takeWritten(written);
        owner?.readerAt(this, this.nextIndex);
        return read;
      }
      const { leaseTtl, entries } = await this.fetch();
      if (entries.length > 0) return this.take(entries);
      if (leaseTtl === -2) {
        this.ending = 'lost';
        continue;
      }
      await this.waitForMore(owner, seen, leaseTtl);
    }
    return { entries: [] };
  }

  private async fetch(): Promise<{ leaseTtl: number; entries: RawEntry[] }> {
    const { buffers, keys, batch, answered } = this.config;
    try {
      // One connection runs them in order: a lease gone before the read means its ending (if any) is in the read.
      const read = Promise.all([buffers.pTTL(keys.lease), buffers.xRead({ key: keys.frames, id: this.position }, { COUNT: batch })]);
      const [leaseTtl, reply] = await answered(read, 'read a stream');
      const streams = reply as Array<{ messages: RawEntry[] }> | null;
      return { leaseTtl: Number(leaseTtl), entries: streams?.[0]?.messages ?? [] };
    } catch (error) {
      throw new OpenAIRxError({ message: 'The resume store could not read from Redis', cause: error });
    }
  }

  private async waitForMore(owner: RedisRecording | undefined, seen: number, leaseTtl: number): Promise<void> {
    const { keys, blockingReads, leaseMs } = this.config;
    const untilLeaseExpires = (leaseTtl > 0 ? Math.min(leaseTtl, leaseMs) : leaseMs) + PAST_LEASE_MS;
    const wait = owner ? owner.changedSince(seen) : blockingReads.wait(keys.frames, this.position, untilLeaseExpires);
    this.waiting = wait;
    try {
      await wait.done;
    } finally {
      this.waiting = undefined;
    }
  }

  /** Blocks the owner on this instance had acknowledged by Redis: what a read of Redis would have returned. */
  private takeWritten({ entries, lastId, nextIndex }: WrittenBlocks): StoreRead {
    this.nextIndex = nextIndex;
    this.position = lastId;
    return { entries };
  }

  /**
   * The blocks from `nextIndex` on. The first entry may hold blocks the reader already has (it starts before the
   * entry holding the event it resumed after), which it skips; an entry past `nextIndex` means trimming dropped some.
   */
  private take(raws: RawEntry[]): StoreRead {
    const entries: StoredEntry[] = [];
    for (const raw of raws) {
      const decoded = decodeEntry(raw);
      const evicted = 'ending' in decoded ? decoded.index !== this.nextIndex : decoded.index > this.nextIndex;
      if (evicted) {
        this.ending = { outcome: 'evicted' };
        return { entries, ending: this.ending };
      }
      this.position = decoded.id;
      if ('ending' in decoded) {
        this.ending = decoded.ending;
        return { entries, ending: decoded.ending };
      }
      const { index, blocks } = decoded;
      for (let at = Math.max(0, this.nextIndex - index); at < blocks.length; at++) entries.push(blocks[at]);
      this.nextIndex = Math.max(this.nextIndex, index + blocks.length);
    }
    return { entries };
  }
}
