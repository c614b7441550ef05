import { randomBytes } from 'node:crypto';
import { createClient, type RedisClientType } from 'redis';
import { OpenAIRxError } from '../../src/errors';
import type { RedisRecording } from '../../src/resume/redisRecording';
import type { StoredEntry } from '../../src/resume/types';
import { redisResumeStore, type RedisResumeStoreConfig } from '../../src/resume/redisResumeStore';
import { decodeEntry, streamKeys } from '../../src/resume/redisStreamLayout';
import { watchChanges, watchedList, type Changes } from '../helpers/changes';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import { startTcpProxy } from '../helpers/tcpProxy';
import { comment, event, eventually, openReader, readCount, readToEnd, resumeStoreContract, shown, streamId } from './storeContract';

let server: RedisServer;

beforeAll(async () => {
  server = await startRedisServer();
});

afterAll(async () => {
  await server?.stop();
});

/**
 * What happens to `key`, as Redis tells it (keyspace notifications, switched on until `stop`): `set` and `expire`
 * for each write with a TTL, `expired`, `del`.
 */
async function leaseEvents(admin: RedisClientType, key: string): Promise<{ seen: string[]; events: Changes; stop(): Promise<void> }> {
  const seen: string[] = [];
  const events = watchChanges();
  const listener = await client();
  await admin.configSet('notify-keyspace-events', 'K$gx');
  await listener.subscribe(`__keyspace@0__:${key}`, (event) => {
    seen.push(event);
    events.changed();
  });
  return {
    seen,
    events,
    async stop() {
      await admin.configSet('notify-keyspace-events', '');
      await listener.close();
    },
  };
}

/** A prefix of its own per test: keys and channels of one test never meet another's. */
const freshPrefix = () => `rx-test-${randomBytes(6).toString('hex')}`;

describe('redisResumeStore', () => {
  resumeStoreContract({
    async stores(config) {
      const shared: RedisResumeStoreConfig = { url: server.url, prefix: freshPrefix(), ...config };
      return [redisResumeStore(shared), redisResumeStore(shared)];
    },
  });
});

/** A node-redis client of the test's own (an `error` listener, as node-redis requires). */
async function client(): Promise<RedisClientType> {
  const redis = createClient({ url: server.url }) as RedisClientType;
  redis.on('error', () => undefined);
  await redis.connect();
  return redis;
}

/** Every key under `prefix` (SCAN, bounded). */
async function keysUnder(redis: RedisClientType, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of redis.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 })) {
    keys.push(...page);
    if (keys.length > 1_000_000) throw new Error('too many keys');
  }
  return keys;
}

/** Keys under `prefix` without a TTL. */
async function keysWithoutTtl(redis: RedisClientType, prefix: string): Promise<string[]> {
  const keys = await keysUnder(redis, prefix);
  const ttls = await Promise.all(keys.map((key) => redis.pTTL(key)));
  return keys.filter((_key, index) => ttls[index] === -1);
}

/**
 * Counts the timers started from now on (global setTimeout / setInterval, which the store uses) that have neither
 * fired nor been cleared. `getActiveResourcesInfo()` would not see them: the store's timers are unref'd.
 */
function trackTimers(): { live(): number; restore(): void } {
  const original = { setTimeout, setInterval, clearTimeout, clearInterval };
  const live = new Set<unknown>();
  const g = globalThis as any;
  g.setTimeout = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = original.setTimeout((...values: unknown[]) => {
      live.delete(handle);
      callback(...values);
    }, ms, ...args);
    live.add(handle);
    return handle;
  };
  g.setInterval = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = original.setInterval(callback, ms, ...args);
    live.add(handle);
    return handle;
  };
  g.clearTimeout = (handle: any) => {
    live.delete(handle);
    original.clearTimeout(handle);
  };
  g.clearInterval = (handle: any) => {
    live.delete(handle);
    original.clearInterval(handle);
  };
  return { live: () => live.size, restore: () => Object.assign(globalThis, original) };
}
/** The blocks a stream's entries hold (the ending holds none). */
async function blocksKept(redis: RedisClientType, key: string): Promise<number> {
  const entries = (await redis.xRange(key, '-', '+')) ?? [];
  return entries.map((entry) => decodeEntry(entry)).reduce((sum, entry) => sum + ('blocks' in entry ? entry.blocks.length : 0), 0);
}
const listenerCounts = (redis: RedisClientType) => redis.eventNames().map((name) => `${String(name)}:${redis.listenerCount(name)}`);
const connectedClients = async (redis: RedisClientType) => (await redis.clientList()).length;

test('redisResumeStore takes a client or a URL, and positive integers for its times and caps', () => {
  expect(() => redisResumeStore({})).toThrow('either `client` or `url`');
  expect(() => redisResumeStore({ url: 'redis://127.0.0.1:1', leaseMs: 0 })).toThrow('leaseMs is a positive integer');
  expect(() => redisResumeStore({ url: 'redis://127.0.0.1:1', retainMs: 1.5 })).toThrow('retainMs is a positive integer');
});

describe('redisResumeStore against a real redis-server', () => {
  const closeAfter: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const close of closeAfter.splice(0).reverse()) await close().catch(() => undefined);
  });
  const store = (config: Omit<RedisResumeStoreConfig, 'url' | 'client'> & { client?: RedisClientType }) => {
    const created = redisResumeStore(config.client ? config : { url: server.url, ...config });
    closeAfter.push(() => created.close());
    return created;
  };
  const ownClient = async () => {
    const redis = await client();
    closeAfter.push(async () => redis.isOpen && (await redis.close()));
    return redis;
  };
  /** Two instances on one prefix, an admin client of the test's own, and a stream generated on the first. */
  const twoInstances = async (config: Omit<RedisResumeStoreConfig, 'url' | 'client' | 'prefix'> = {}) => {
    const prefix = freshPrefix();
    const owner = store({ prefix, ...config });
    const other = store({ prefix, ...config });
    const id = streamId();
    const recording = (await owner.create(id, { createdAt: 1 })) as RedisRecording;
    return { prefix, owner, other, admin: await ownClient(), id, recording };
  };

  test('lost: an owner cut off from Redis (every connection of its store gone, as when its process dies) is lost to readers elsewhere within ~leaseMs', async () => {
    const prefix = freshPrefix();
    const leaseMs = 600;
    const proxy = await startTcpProxy(server.url);
    closeAfter.push(() => proxy.close());
    const ownerClient = createClient({ url: `redis://127.0.0.1:${new URL(proxy.url).port}` }) as RedisClientType;
    ownerClient.on('error', () => undefined);
    await ownerClient.connect();
    closeAfter.push(async () => ownerClient.destroy());
    const admin = await ownClient();
    const owner = store({ client: ownerClient, prefix, leaseMs, commandTimeoutMs: 1000 });
    const other = store({ prefix, leaseMs });
    const id = streamId();
    const recording = await owner.create(id, { createdAt: 1 });
    recording.append([event(1), event(2)]);
    const reader = await openReader(other, id, 0);
    expect(shown(await readCount(reader, 2))).toEqual(shown([event(1), event(2)]));
    // The client's connection and the store's three own ones.
    expect(proxy.accepted()).toBe(4);
    // Live, before any refresh: the stream, its meta and the lease already expire by themselves.
    expect((await keysUnder(admin, prefix)).filter((key) => key.includes(id))).toHaveLength(3);
    expect(await keysWithoutTtl(admin, prefix)).toEqual([]);
    const waiting = reader.next();
    const crashedAt = Date.now();
    proxy.cut();
    await proxy.close();
    expect(await waiting).toEqual({ entries: [], ending: 'lost' });
    // A second of slack for a loaded machine: what matters is that it ends, soon, instead of hanging.
    expect(Date.now() - crashedAt).toBeLessThanOrEqual(leaseMs + 1000);
    reader.close();
    expect(await keysWithoutTtl(admin, prefix)).toEqual([]);
  });

  test('lease: an owner whose writes wait behind a busy connection for longer than the lease keeps it; readers elsewhere wait for the blocks', async () => {
    const prefix = freshPrefix();
    const leaseMs = 300;
    const ownerClient = await ownClient();
    const admin = await ownClient();
    const owner = store({ client: ownerClient, prefix, leaseMs, commandTimeoutMs: 30_000 });
    const other = store({ prefix, leaseMs });
    const id = streamId();
    const recording = await owner.create(id, { createdAt: 1 });
    const failures: Error[] = [];
    recording.onFailure((error) => failures.push(error));
    recording.append([event(1)]);
    const reader = await openReader(other, id, 0);
    expect(shown(await readCount(reader, 1))).toEqual(shown([event(1)]));
    const lease = await leaseEvents(admin, streamKeys(prefix, id).lease);
    closeAfter.push(() => lease.stop());

    // A blocking pop holds every command sent after it on the owner's connection, as seconds of blocks queued
    // before them would on a busy instance.
    const gate = `${prefix}:gate`;
    const busy = ownerClient.blPop(gate, 0);
    closeAfter.push(() => admin.lPush(gate, 'go'));
    recording.append([event(2)]);
    let answered = false;
    const waiting = reader.next().finally(() => (answered = true));
    // Six refreshes (every leaseMs / 3): a lease and a half. A refresh behind the pop would let it expire first.
    await lease.events.until(() => lease.seen.includes('expired') || lease.seen.filter((seen) => seen === 'set').length >= 6, 'six refreshes or the expiry', 10_000);
    expect(lease.seen).not.toContain('expired');
    // The block is still held back (the pop is real), and neither side took the owner for gone.
    expect([answered, failures]).toEqual([false, []]);

    await admin.lPush(gate, 'go');
    expect(await busy).toEqual({ key: gate, element: 'go' });
    expect(shown((await waiting).entries)).toEqual(shown([event(2)]));
    await recording.finish({ outcome: 'completed' });
    expect(await readToEnd(reader)).toEqual({ entries: [], ending: { outcome: 'completed' } });
    reader.close();
    recording.release();
    // The ending deleted the lease; a refresh after it made no new one.
    await lease.events.until(() => lease.seen.includes('del'), 'the ending to delete the lease');
    expect(await admin.exists(streamKeys(prefix, id).lease)).toBe(0);
    expect(failures).toEqual([]);
  });

  test('abandon: a reader elsewhere keeps counting while it stays attached, by announcing itself every leaseMs / 3', async () => {
    const prefix = freshPrefix();
    const leaseMs = 600;
    const abandonAfterMs = 200;
    const owner = store({ prefix, leaseMs });
    const other = store({ prefix, leaseMs });
    const id = streamId();
    const recording = await owner.create(id, { createdAt: 1 });
    const reader = await openReader(other, id, 0);
    let firedAt = 0;
    const fired = new Promise<void>((resolve) =>
      recording.onAbandoned(abandonAfterMs, () => {
        firedAt = Date.now();
        resolve();
      }),
    );
    // Attached four leases long: only its announcements keep it counting.
    await new Promise((resolve) => setTimeout(resolve, 4 * leaseMs));
    const leftAt = Date.now();
    reader.close();
    await fired;
    expect(firedAt - leftAt).toBeGreaterThanOrEqual(abandonAfterMs - 5);
    recording.release();
  });

  test('one blocking connection serves the readers of many streams: a wait for a stream it does not watch yet wakes it', async () => {
    const prefix = freshPrefix();
    const owner = store({ prefix });
    const other = store({ prefix });
    const streams = await Promise.all([1, 2, 3].map(async () => {
      const id = streamId();
      const recording = await owner.create(id, { createdAt: 1 });
      return { recording, reader: await openReader(other, id, 0) };
    }));
    // The first reader waits (the blocked call watches its stream), then the others join one by one.
    const waits: Array<Promise<unknown>> = [];
    for (const { reader } of streams) {
      waits.push(reader.next());
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // The first stream stays quiet: only a woken call watches the others.
    const appendedAt = Date.now();
    for (const { recording } of streams.slice(1)) recording.append([event(1)]);
    const reads = (await Promise.all(waits.slice(1))) as Array<{ entries: unknown[] }>;
    // Well within the lease (3 s), the deadline of the blocked call had it not been woken.
    expect(Date.now() - appendedAt).toBeLessThan(1500);
    expect(reads.map((read) => read.entries.length)).toEqual([1, 1]);
    for (const { recording, reader } of streams) {
      reader.close();
      recording.release();
    }
  });

  test('abandon: a reader whose instance died stops counting leaseMs after its last announcement', async () => {
    const prefix = freshPrefix();
    const leaseMs = 600;
    const abandonAfterMs = 200;
    const owner = store({ prefix, leaseMs });
    const readerClient = await ownClient();
    const other = store({ client: readerClient, prefix, leaseMs });
    const id = streamId();
    const recording = await owner.create(id, { createdAt: 1 });
    recording.append([event(1)]);
    const reader = await openReader(other, id, 0);
    await readCount(reader, 1);
    let firedAt = 0;
    const fired = new Promise<void>((resolve) =>
      recording.onAbandoned(abandonAfterMs, () => {
        firedAt = Date.now();
        resolve();
      }),
    );
    // The reader's instance dies: no detach, no more announcements.
    await other.close();
    readerClient.destroy();
    const diedAt = Date.now();
    await fired;
    // Its last announcement was at most leaseMs / 3 before it died; it counted leaseMs after that one.
    expect(firedAt - diedAt).toBeGreaterThanOrEqual((2 / 3) * leaseMs + abandonAfterMs - 20);
    expect(firedAt - diedAt).toBeLessThanOrEqual(leaseMs + abandonAfterMs + 1000);
    recording.release();
  });

  test('Redis killed mid-stream: the owner fails, readers elsewhere get an error; once Redis is back new streams work', async () => {
    const prefix = freshPrefix();
    const owner = store({ prefix, commandTimeoutMs: 1000 });
    const other = store({ prefix, commandTimeoutMs: 1000 });
    const id = streamId();
    const recording = await owner.create(id, { createdAt: 1 });
    const failed = new Promise<Error>((resolve) => recording.onFailure(resolve));
    recording.append([event(1)]);
    const reader = await openReader(other, id, 0);
    await readCount(reader, 1);
    const waiting = reader.next();
    await server.kill();
    recording.append([event(2)]);
    // Settles however the failure shows first (the connection's error, or the write's).
    const finishing = recording.finish({ outcome: 'completed' });
    await expect(waiting).rejects.toBeInstanceOf(OpenAIRxError);
    expect(await failed).toBeInstanceOf(OpenAIRxError);
    await finishing;
    recording.release();
    reader.close();

    await server.restart();
    // Everything again: writes, a blocking read elsewhere, a cancel through pub/sub.
    const again = streamId();
    const second = await owner.create(again, { createdAt: 2 });
    const secondReader = await openReader(other, again, 0);
    const waitingAgain = secondReader.next();
    second.append([event(1)]);
    expect(shown((await waitingAgain).entries)).toEqual(shown([event(1)]));
    second.onCancel(() => void second.finish({ outcome: 'cancelled' }));
    expect(await other.cancel(again)).toBe('cancelling');
    expect(await readToEnd(secondReader)).toEqual({ entries: [], ending: { outcome: 'cancelled' } });
    second.release();
    secondReader.close();
  });

  test('a subscriber connection that broke loses nothing: the generation goes on, a cancel sent meanwhile arrives by the flag', async () => {
    const prefix = freshPrefix();
    const leaseMs = 600;
    const owner = store({ prefix, leaseMs });
    const other = store({ prefix, leaseMs });
    const admin = await ownClient();
    const id = streamId();
    const recording = await owner.create(id, { createdAt: 1 });
    let failure: Error | undefined;
    recording.onFailure((error) => (failure = error));
    const cancelled = new Promise<void>((resolve) => recording.onCancel(resolve));
    expect(await other.meta(id)).toEqual({ createdAt: 1 }); // connected
    // Every subscriber of this Redis (both stores') is cut off, and no new connection is let in: the message is lost.
    const clients = await connectedClients(admin);
    const { maxclients } = await admin.configGet('maxclients');
    closeAfter.push(() => admin.configSet('maxclients', maxclients));
    await admin.multi().configSet('maxclients', String(clients - 2)).addCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']).exec();
    const cancelledAt = Date.now();
    expect(await other.cancel(id)).toBe('cancelling');
    await cancelled;
    expect(Date.now() - cancelledAt).toBeLessThanOrEqual(leaseMs / 3 + 1000);
    await admin.configSet('maxclients', maxclients);
    recording.append([event(1)]);
    await recording.finish({ outcome: 'cancelled' });
    expect(failure).toBeUndefined();
    expect(shown((await readToEnd(await openReader(other, id, 0))).entries)).toEqual(shown([event(1)]));
    recording.release();
  });

  test("readers on the owner's instance: its last writes come from the owner, older blocks from Redis; each block once, in order", async () => {
    const owner = store({ prefix: freshPrefix() });
    const id = streamId();
    const recording = await owner.create(id, { createdAt: Date.now() });
    const live = await openReader(owner, id, 0);
    const all = Array.from({ length: 3000 }, (_, index) => event(index + 1));
    for (let from = 0; from < all.length; from += 100) recording.append(all.slice(from, from + 100));
    expect(shown(await readCount(live, 3000))).toEqual(shown(all));
    // Opened after the writes: its first blocks are older than what the owner keeps (the last 2,000).
    const late = await openReader(owner, id, 0);
    expect(shown(await readCount(late, 3000))).toEqual(shown(all));
    const resumed = await openReader(owner, id, 2500);
    expect(shown(await readCount(resumed, 500))).toEqual(shown(all.slice(2500)));
    await recording.finish({ outcome: 'completed' });
    for (const reader of [live, late, resumed]) expect(await readToEnd(reader)).toEqual({ entries: [], ending: { outcome: 'completed' } });
  });

  test("a reader on the owner's instance behind what Redis keeps is evicted, as anywhere: the owner keeps no more than Redis", async () => {
    const owner = store({ prefix: freshPrefix(), maxEntriesPerStream: 100 });
    const id = streamId();
    const recording = await owner.create(id, { createdAt: Date.now() });
    const behind = await openReader(owner, id, 0);
    const watcher = await openReader(owner, id, 0);
    // The watcher keeps up, 50 blocks at a time; once it saw the last one, all 500 are written (and trimmed to about 100).
    for (let from = 0; from < 500; from += 50) {
      recording.append(Array.from({ length: 50 }, (_, index) => event(from + index + 1)));
      expect((await readCount(watcher, 50)).at(-1)?.event).toBe(from + 50);
    }
    expect(await behind.next()).toEqual({ entries: [], ending: { outcome: 'evicted' } });
  });

  test('blocks written together are one entry; resuming after an event in its middle, here or elsewhere, gives the blocks after it', async () => {
    const { prefix, owner, other, admin, id, recording } = await twoInstances();
    const live = await openReader(owner, id, 0);
    const blocks = Array.from({ length: 100 }, (_, at) => [event(at + 1), comment(`after ${at + 1}`)]).flat();
    recording.append(blocks);
    expect(shown(await readCount(live, blocks.length))).toEqual(shown(blocks));
    expect(await admin.xLen(streamKeys(prefix, id).frames)).toBe(1);
    // On the owner's instance (its last write) and on another (Redis): after event 37, its comment first.
    const here = await openReader(owner, id, 37);
    const elsewhere = await openReader(other, id, 37);
    const after37 = blocks.slice(2 * 37 - 1);
    // Here, the owner serves it: the slice of its last write's entry from block 73 (after event 37) on.
    const served = jest.spyOn(recording, 'writtenAfter');
    expect(shown(await readCount(here, after37.length))).toEqual(shown(after37));
    expect(served).toHaveBeenCalledWith(73, 64);
    expect(served).toHaveReturnedWith({ entries: after37, lastId: '100-0', nextIndex: 200 });
    served.mockRestore();
    expect(shown(await readCount(elsewhere, after37.length))).toEqual(shown(after37));
    recording.append([event(101)]);
    await recording.finish({ outcome: 'completed' });
    for (const reader of [live, here, elsewhere]) {
      expect(shown((await readToEnd(reader)).entries)).toEqual(shown([event(101)]));
      reader.close();
    }
    expect(shown((await readToEnd(await openReader(other, id, 100))).entries)).toEqual(shown([comment('after 100'), event(101)]));
    recording.release();
  });

  test('an entry someone else wrote under the prefix: opening or reading the stream fails with an error, nothing crashes or hangs', async () => {
    const { prefix, other, admin, id, recording } = await twoInstances();
    recording.append([event(1)]);
    const reader = await openReader(other, id, 0);
    expect(shown(await readCount(reader, 1))).toEqual(shown([event(1)]));
    // Lengths that do not add up to the bytes, as event 5.
    await admin.xAdd(streamKeys(prefix, id).frames, '5-0', { i: '1', b: 'data: x\n\n', n: '1000000' });
    await expect(reader.next()).rejects.toThrow('The resume store found an entry it did not write');
    await expect(other.read(id, 5)).rejects.toThrow('The resume store found an entry it did not write');
    reader.close();
    recording.release();
  });

  test('trimming by whole entries: a reader that started mid-entry and fell behind what is kept is evicted; the event before the oldest kept can be resumed after', async () => {
    const maxEntriesPerStream = 200;
    const { prefix, owner, other, admin, id, recording } = await twoInstances({ maxEntriesPerStream });
    const watcher = await openReader(owner, id, 0);
    const total = 1001;
    const all = Array.from({ length: total }, (_, at) => event(at + 1));
    // Appends of 7, each written alone (the watcher reads it first): entries of 7 blocks, so trim points (at least 20
    // blocks apart, a tenth of those kept) fall 21 apart, not on the cap. Event 5 is in the middle of the first entry.
    recording.append(all.slice(0, 7));
    await readCount(watcher, 7);
    const midEntry = await openReader(other, id, 5);
    expect(shown(await readCount(midEntry, 2))).toEqual(shown(all.slice(5, 7)));
    for (let from = 7; from < total; from += 7) {
      recording.append(all.slice(from, from + 7));
      expect((await readCount(watcher, 7)).at(-1)?.event).toBe(from + 7);
    }
    const kept = await blocksKept(admin, streamKeys(prefix, id).frames);
    // Trimmed at block 798, the last trim point at or before 1001 - 200.
    expect(kept).toBe(total - 798);
    expect(kept).toBeGreaterThan(maxEntriesPerStream);
    expect(kept).toBeLessThan(maxEntriesPerStream * 1.2);
    expect(await midEntry.next()).toEqual({ entries: [], ending: { outcome: 'evicted' } });
    const firstKept = total - kept + 1;
    expect(await other.read(id, firstKept - 2)).toBe('evicted');
    // Event firstKept - 1 was the last block of a trimmed entry: every block after it is kept.
    const oldest = await openReader(other, id, firstKept - 1);
    expect(shown(await readCount(oldest, kept))).toEqual(shown(all.slice(firstKept - 1)));
    for (const reader of [watcher, midEntry, oldest]) reader.close();
    recording.release();
  });

  test('the owner keeps its last writes only while a reader is attached on its instance', async () => {
    const { owner, other, id, recording } = await twoInstances();
    const elsewhere = await openReader(other, id, 0);
    /** Appends, and waits for Redis's answer to the owner. */
    const written = async (blocks: StoredEntry[]) => {
      const seen = recording.writes;
      recording.append(blocks);
      await recording.changedSince(seen).done;
    };
    await written([event(1), event(2)]);
    // Written, and read elsewhere only: nobody here to keep them for.
    expect(recording.writtenAfter(0, 64)).toBe('ask-redis');
    expect(shown(await readCount(elsewhere, 2))).toEqual(shown([event(1), event(2)]));
    const here = await openReader(owner, id, 2);
    recording.append([event(3)]);
    expect(shown(await readCount(here, 1))).toEqual(shown([event(3)]));
    expect(recording.writtenAfter(2, 64)).toEqual({ entries: [event(3)], lastId: '3-0', nextIndex: 3 });
    here.close();
    await written([event(4)]);
    expect(recording.writtenAfter(3, 64)).toBe('ask-redis');
    expect(shown(await readCount(elsewhere, 2))).toEqual(shown([event(3), event(4)]));
    elsewhere.close();
    recording.release();
  });

  test('an append with a gap in its event numbers throws before any of it is kept; the recording goes on from before it', async () => {
    const { owner, other, id, recording } = await twoInstances();
    let failed: Error | undefined;
    recording.onFailure((error) => (failed = error));
    recording.append([event(1)]);
    expect(() => recording.append([event(2), comment('x'), event(4)])).toThrow('Event 4 appended after event 2');
    recording.append([event(2), comment('y')]);
    await recording.finish({ outcome: 'completed' });
    // Neither event 2 nor the comment of the refused append was written; the recording did not fail.
    const expected = shown([event(1), event(2), comment('y')]);
    for (const instance of [owner, other]) expect(shown((await readToEnd(await openReader(instance, id, 0))).entries)).toEqual(expected);
    expect(failed).toBeUndefined();
    recording.release();
  });

  /**
   * A recording whose writes a blocking pop on the owner's connection holds, as a Redis that does not keep up would;
   * what its `backlog$` says (and its completion); blocks of ~8 KiB; and `release()` of the hold.
   */
  const heldWrites = async () => {
    const prefix = freshPrefix();
    const ownerClient = await ownClient();
    const admin = await ownClient();
    const owner = store({ client: ownerClient, prefix, commandTimeoutMs: 30_000 });
    const id = streamId();
    const recording = (await owner.create(id, { createdAt: 1 })) as RedisRecording;
    const backlog = watchedList<boolean | 'complete'>();
    const subscription = recording.backlog$!.subscribe({ next: (behind) => backlog.push(behind), complete: () => backlog.push('complete') });
    closeAfter.push(async () => subscription.unsubscribe());
    const pad = 'x'.repeat(8 * 1024);
    const gate = `${prefix}:gate`;
    const busy = ownerClient.blPop(gate, 0);
    closeAfter.push(() => admin.lPush(gate, 'go').then(() => busy));
    const release = async () => {
      await admin.lPush(gate, 'go');
      await busy;
    };
    return { owner, id, recording, backlog, big: (n: number) => event(n, JSON.stringify({ n, pad })), release };
  };

  test('backlog$: true once 256 KiB wait behind the two writes out, false once one lands and they go out; nothing is lost or reordered', async () => {
    const { owner, id, recording, backlog, big, release } = await heldWrites();
    recording.append([event(1)]);
    // Blocks of ~8 KiB: the first 8 (64 KiB) go out in a second write behind the held one; 31 more wait (under 256
    // KiB with what each costs beside its bytes); the 32nd makes it 256 KiB.
    for (let n = 2; n <= 40; n++) recording.append([big(n)]);
    expect(backlog).toEqual([false]);
    recording.append([big(41)]);
    expect(backlog).toEqual([false, true]);
    recording.append([big(42)]);
    expect(backlog).toEqual([false, true]);

    await release();
    // The held writes landed; what waited went out behind them.
    await backlog.reaches(3, 'the backlog to clear');
    expect(backlog).toEqual([false, true, false]);
    await recording.finish({ outcome: 'completed' });
    const read = await readToEnd(await openReader(owner, id, 0));
    expect(shown(read.entries)).toEqual(shown([event(1), ...Array.from({ length: 41 }, (_, i) => big(i + 2))]));
    recording.release();
  });

  test('backlog$ completes once the recording failed: nothing waits to be written any more, whatever it said last', async () => {
    const { recording, backlog, big } = await heldWrites();
    // As in the test above: the held write, a second one behind it, then 256 KiB waiting.
    recording.append([event(1)]);
    for (let n = 2; n <= 41; n++) recording.append([big(n)]);
    expect(backlog).toEqual([false, true]);

    recording.fail(new Error('The store was closed'));
    expect(backlog).toEqual([false, true, 'complete']);
    recording.release();
  });

  test("the owner answers a live stream's meta and cancel itself: with Redis holding its writes, neither waits behind them", async () => {
    const { owner, id, recording } = await heldWrites();
    recording.append([event(1)]);

    await expect(owner.meta(id)).resolves.toEqual({ createdAt: 1 });
    await expect(owner.cancel(id)).resolves.toBe('cancelling');
    recording.release();
  });

  test("the owner drops what every reader on its instance has read: once they are all caught up, it keeps only its last write", async () => {
    const { owner, id, recording } = await twoInstances();
    const here = await openReader(owner, id, 0);
    const written = async (blocks: StoredEntry[]) => {
      const seen = recording.writes;
      recording.append(blocks);
      await recording.changedSince(seen).done;
    };
    for (let n = 1; n <= 3; n++) {
      await written([event(n)]);
      expect(shown(await readCount(here, 1))).toEqual(shown([event(n)]));
    }
    // The reader had read events 1 and 2 when event 3 landed: they are gone, 3 is kept.
    expect(recording.writtenAfter(1, 64)).toBe('ask-redis');
    expect(recording.writtenAfter(2, 64)).toEqual({ entries: [event(3)], lastId: '3-0', nextIndex: 3 });
    // The reader has everything and waits for more: the next write is all the owner keeps.
    const waiting = here.next();
    await written([event(4)]);
    expect(recording.writtenAfter(2, 64)).toBe('ask-redis');
    expect(recording.writtenAfter(3, 64)).toEqual({ entries: [event(4)], lastId: '4-0', nextIndex: 4 });
    expect(shown((await waiting).entries)).toEqual(shown([event(4)]));
    // A reader opened after event 1 reads what the owner dropped from Redis.
    const late = await openReader(owner, id, 1);
    expect(shown(await readCount(late, 3))).toEqual(shown([event(2), event(3), event(4)]));
    for (const reader of [here, late]) reader.close();
    recording.release();
  });

  test('close() quits the connections the store opened and leaves a client it was given open', async () => {
    const prefix = freshPrefix();
    const admin = await ownClient();
    const given = await ownClient();
    const before = await connectedClients(admin);
    const fromUrl = redisResumeStore({ url: server.url, prefix });
    const fromClient = redisResumeStore({ client: given, prefix });
    const id = streamId();
    const recording = await fromUrl.create(id, { createdAt: 1 });
    const reader = await openReader(fromClient, id, 0);
    const waiting = reader.next();
    recording.append([event(1)]);
    await waiting;
    // The URL's store: its client, subscriber, blocking reader and lease connection; the given client's: the last three.
    expect(await connectedClients(admin)).toBe(before + 7);
    reader.close();
    recording.release();
    await Promise.all([fromUrl.close(), fromClient.close()]);
    await eventually(async () => (await connectedClients(admin)) === before, 2_000);
    expect(given.isReady).toBe(true);
    expect(await given.ping()).toBe('PONG');
  });

  test('bounds: 200 streams × 500 blocks finished: every key expires within retainMs, none is left after; each keeps maxEntriesPerStream blocks and less than a fifth more', async () => {
    const prefix = freshPrefix();
    const retainMs = 2000;
    const maxEntriesPerStream = 300;
    const owner = store({ prefix, retainMs, maxEntriesPerStream });
    const admin = await ownClient();
    const block = Buffer.alloc(100, 'x');
    const stream = async () => {
      const id = streamId();
      const recording = await owner.create(id, { createdAt: 1 });
      let failure: Error | undefined;
      recording.onFailure((error) => (failure = error));
      for (let n = 1; n <= 500; n++) recording.append([{ event: n, bytes: block }]);
      await recording.finish({ outcome: 'completed' });
      recording.release();
      if (failure) throw failure;
      return blocksKept(admin, `${prefix}:{${id}}:frames`);
    };
    // 20 generations at a time: a busy relay, not 100,000 blocks queued at once behind the command timeout.
    const lengths: number[] = [];
    for (let group = 0; group < 10; group++) lengths.push(...(await Promise.all(Array.from({ length: 20 }, stream))));
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(maxEntriesPerStream);
    // Trimmed by whole entries (of up to a tenth of the blocks kept), to trim points as far apart.
    expect(Math.max(...lengths)).toBeLessThan(maxEntriesPerStream * 1.2);
    const keys = await keysUnder(admin, prefix);
    const ttls = await Promise.all(keys.map((key) => admin.pTTL(key)));
    // -1: no TTL; -2: gone since the SCAN (the first groups' keys expire while the last ones are checked).
    expect(keys.filter((_key, index) => ttls[index] === -1 || ttls[index] > retainMs)).toEqual([]);
    await eventually(async () => (await keysUnder(admin, prefix)).length === 0, retainMs + 5_000);
  }, 60_000);

  test('1,000 create/read/cancel cycles leave no key without a TTL, no timer, no listener, no connection', async () => {
    const prefix = freshPrefix();
    const ownerClient = await ownClient();
    const otherClient = await ownClient();
    const admin = await ownClient();
    const owner = store({ client: ownerClient, prefix });
    const other = store({ client: otherClient, prefix });
    const cycle = async () => {
      const id = streamId();
      const recording = await owner.create(id, { createdAt: 1 });
      const released = new Promise<void>((resolve) =>
        recording.onCancel(() => void recording.finish({ outcome: 'cancelled' }).then(() => resolve(recording.release()))),
      );
      recording.onAbandoned(60_000, () => undefined);
      recording.append([event(1)]);
      const reader = await openReader(other, id, 0);
      expect(await other.cancel(id)).toBe('cancelling');
      const { ending } = await readToEnd(reader);
      reader.close();
      expect(ending).toEqual({ outcome: 'cancelled' });
      await released;
    };
    await cycle();
    const before = { owner: listenerCounts(ownerClient), other: listenerCounts(otherClient), clients: await connectedClients(admin) };
    const timers = trackTimers();
    try {
      for (let i = 0; i < 1000; i++) await cycle();
      expect(timers.live()).toBe(0);
    } finally {
      timers.restore();
    }
    expect(await keysWithoutTtl(admin, prefix)).toEqual([]);
    expect({ owner: listenerCounts(ownerClient), other: listenerCounts(otherClient) }).toEqual({ owner: before.owner, other: before.other });
    // Connections other tests closed may still be listed for a moment; one the cycles opened would stay.
    await eventually(async () => (await connectedClients(admin)) <= before.clients, 2_000);
  }, 60_000);
});
