import { randomBytes } from 'node:crypto';
import { createClient, RESP_TYPES, type RedisClientType } from 'redis';
import { OpenAIRxError } from '../errors.js';
import { BlockingReads } from './redisBlockingReads.js';
import { RedisReader, type ReaderStart } from './redisReader.js';
import { RedisRecording } from './redisRecording.js';
import {
  decodeEntry,
  firstIdOfEvent,
  indexAfterEvent,
  MAX_STREAM_ID_LENGTH,
  positionBeforeEvent,
  streamKeys,
  type RawEntry,
  type StreamKeys,
} from './redisStreamLayout.js';
import type { ResumeStore, StoreOpenFailure, StoreReader, StreamMeta, StreamRecording } from './types.js';
import { withDeadline, type ConnectionAnswers } from './withDeadline.js';

/** Any node-redis client (`createClient()` from `redis`, RESP 2 or 3, with or without modules). */
export interface RedisResumeStoreClient {
  duplicate(...overrides: never[]): unknown;
  readonly isOpen: boolean;
}

export interface RedisResumeStoreConfig {
  /**
   * A connected node-redis client, used for the store's commands and duplicated for its three own connections (a
   * subscriber, a blocking reader and the leases'). It stays open on `close()`; it needs an `error` listener, as every
   * node-redis client does.
   */
  client?: RedisResumeStoreClient;
  /** Or where Redis is (`redis://…`): the store makes its own client, and closes it on `close()`. */
  url?: string;
  /** The start of every key and channel of the store; default `openai-rx`. */
  prefix?: string;
  /** How long a finished stream stays readable; default 5 minutes. */
  retainMs?: number;
  /**
   * How long an owner that stopped answering is trusted: readers elsewhere end with `lost` at most this long after
   * its last refresh (every `leaseMs / 3`), and a reader on an instance that died stops counting as attached after
   * it. Default 3 seconds.
   */
  leaseMs?: number;
  /**
   * Blocks kept per stream, at least: the stream is trimmed by whole entries of up to 500 blocks (`XTRIM … MINID`),
   * so Redis keeps fewer than 600 more; default 20,000.
   */
  maxEntriesPerStream?: number;
  /**
   * How long a command may take before the store treats Redis as gone; default 5 seconds. A write counts it from the
   * connection's last answer: one queued behind others on a busy instance waits its turn while Redis keeps answering.
   */
  commandTimeoutMs?: number;
}

const DEFAULTS = {
  prefix: 'openai-rx',
  retainMs: 5 * 60_000,
  leaseMs: 3_000,
  maxEntriesPerStream: 20_000,
  commandTimeoutMs: 5_000,
};

/** Entries a reader takes per read: each up to 500 blocks and 56 KiB (a larger block alone), so about 3.5 MiB at most. */
const READ_BATCH = 64;
/** An instance's wake key outlives its last wake by this much. */
const WAKE_TTL_MS = 60_000;
/** Announcements longer than this are not ours: instance id, count, stream id. */
const MAX_ANNOUNCEMENT_LENGTH = MAX_STREAM_ID_LENGTH + 64;

type Settings = typeof DEFAULTS;

interface Connections {
  /** Commands, replies as strings. */
  commands: RedisClientType;
  /** The leases' commands (taken, refreshed, dropped) and the liveness ping: never behind the blocks on `commands`. */
  lease: RedisClientType;
  /**
   * Commands on the same connection, blob strings as Buffers (the blocks): the reads, without node-redis's timeout
   * (their deadline counts from the connection's last answer, as the writes' do).
   */
  buffers: RedisClientType;
  subscriber: RedisClientType;
  blocking: RedisClientType;
  /** The connection under `lease` (closed with the store). */
  leaseConnection: RedisClientType;
  blockingReads: BlockingReads;
}

/**
 * The resume store of every relay instance sharing one Redis (node-redis, `openai-rx/redis`). A stream's blocks
 * are batched into the entries of a Redis Stream whose entry ids carry the event numbers (trimmed to the last
 * `maxEntriesPerStream` blocks), its meta a hash and its owner a
 * lease key; every key has a TTL, refreshed with the lease while the owner generates and `retainMs` once it ended.
 * Cancels go to the owner by `PUBLISH {prefix}:cancel`, and as a flag the owner also checks at each lease refresh
 * (a message reaches only a connected subscriber); readers on other instances announce themselves on
 * `{prefix}:attached` every `leaseMs / 3` (for the owner's abandon watch) and wait in one shared `XREAD BLOCK`;
 * readers on the owner's instance are woken by the owner's writes and take the blocks Redis acknowledged from the
 * owner's last writes, reading Redis for older ones and the ending (so a client only ever sees what Redis holds, and
 * any instance can resume it). An owner that dies leaves its lease to
 * expire: readers elsewhere end with `lost` within `leaseMs`. When Redis goes away, the owner's `onFailure` runs
 * and readers' `next()` rejects; node-redis reconnects, and new streams work once Redis is back.
 *
 * Each store holds four connections (the client's, a subscriber, a blocking reader, the leases'): one per instance,
 * whatever the number of streams and readers.
 *
 * @example
 * import { redisResumeStore } from 'openai-rx/redis';
 * createRelay({ ..., resume: { store: redisResumeStore({ url: process.env.REDIS_URL }) } });
 */
export function redisResumeStore(config: RedisResumeStoreConfig): ResumeStore {
  if (!config.client === !config.url) throw new OpenAIRxError({ message: 'redisResumeStore needs either `client` or `url`' });
  return new RedisResumeStore(config);
}

class RedisResumeStore implements ResumeStore {
  private readonly settings: Settings;
  private readonly instanceId = randomBytes(12).toString('base64url');
  private readonly channels: { cancel: string; attached: string };
  private readonly wakeKey: string;
  /** Streams this instance generates. */
  private readonly live = new Map<string, RedisRecording>();
  /** When the commands' connection last answered a recording's write. */
  private readonly commandsAnswers: ConnectionAnswers = { lastAnswerAt: Date.now() };
  /** Readers open here per stream owned elsewhere, announced every `leaseMs / 3`. */
  private readonly remoteReaders = new Map<string, number>();
  private announcer: ReturnType<typeof setInterval> | undefined;
  private started: Promise<Connections> | undefined;
  private closed = false;

  constructor(private readonly config: RedisResumeStoreConfig) {
    const settings = { ...DEFAULTS };
    for (const key of Object.keys(DEFAULTS) as Array<keyof Settings>) {
      if (config[key] !== undefined) Object.assign(settings, { [key]: config[key] });
    }
    for (const key of ['retainMs', 'leaseMs', 'maxEntriesPerStream', 'commandTimeoutMs'] as const) {
      if (!Number.isSafeInteger(settings[key]) || settings[key] < 1) throw new OpenAIRxError({ message: `redisResumeStore: ${key} is a positive integer` });
    }
    this.settings = settings;
    this.channels = { cancel: `${settings.prefix}:cancel`, attached: `${settings.prefix}:attached` };
    this.wakeKey = `${settings.prefix}:wake:${this.instanceId}`;
  }

  async create(id: string, meta: StreamMeta): Promise<StreamRecording> {
    if (!isStreamId(id)) throw new OpenAIRxError({ message: 'A stream id is 1 to 256 characters' });
    const { commands, lease } = await this.connections();
    if (this.live.has(id)) throw existsError();
    const keys = this.keys(id);
    const { leaseMs, commandTimeoutMs } = this.settings;
    const multi = lease.multi().hSetNX(keys.meta, 'c', String(meta.createdAt));
    if (meta.user !== undefined) multi.hSetNX(keys.meta, 'u', meta.user);
    multi.set(keys.lease, this.instanceId, { expiration: { type: 'PX', value: leaseMs }, condition: 'NX' });
    multi.pExpire(keys.meta, RedisRecording.liveTtlMs(this.settings));
    const leaseSentAt = Date.now();
    const replies = await withDeadline(multi.exec(), commandTimeoutMs, 'create a stream').catch((error: unknown) => {
      throw new OpenAIRxError({ message: 'The resume store could not create the stream in Redis', cause: error });
    });
    const leaseTaken = replies[meta.user === undefined ? 1 : 2] !== null;
    if (Number(replies[0]) !== 1 || !leaseTaken) throw existsError();
    const recording = new RedisRecording({
      ...this.settings,
      commands,
      commandsAnswers: this.commandsAnswers,
      lease,
      keys,
      meta,
      instanceId: this.instanceId,
      leaseSentAt,
      onRelease: () => {
        if (this.live.get(id) === recording) this.live.delete(id);
      },
    });
    this.live.set(id, recording);
    return recording;
  }

  async meta(id: string): Promise<StreamMeta | undefined> {
    if (!isStreamId(id)) return undefined;
    const local = this.live.get(id);
    if (local) return local.meta;
    const { commands } = await this.connections();
    const fields = await this.command(commands.hGetAll(this.keys(id).meta));
    const createdAt = Number(fields.c);
    if (!Number.isFinite(createdAt)) return undefined;
    return fields.u === undefined ? { createdAt } : { createdAt, user: String(fields.u) };
  }

  async read(id: string, afterEvent: number): Promise<StoreReader | StoreOpenFailure> {
    if (!isStreamId(id)) return 'unknown';
    if (!Number.isSafeInteger(afterEvent) || afterEvent < 0) return 'ahead';
    const connections = await this.connections();
    const keys = this.keys(id);
    const start = await this.startOf(connections, keys, afterEvent);
    if (typeof start === 'string') return start;
    const owner = this.live.get(id);
    if (owner) owner.readers.attachLocal();
    else this.attachRemote(id);
    return new RedisReader(
      {
        buffers: connections.buffers,
        answered: (read, what) => this.answered(read, what),
        keys,
        blockingReads: connections.blockingReads,
        owner: () => this.live.get(id),
        leaseMs: this.settings.leaseMs,
        batch: READ_BATCH,
        onClose: () => (owner ? owner.readers.detachLocal() : this.detachRemote(id)),
      },
      start,
    );
  }

  async cancel(id: string): Promise<'cancelling' | 'finished' | 'unknown'> {
    if (!isStreamId(id)) return 'unknown';
    const local = this.live.get(id);
    if (local) return local.cancel() ? 'cancelling' : 'finished';
    const { commands } = await this.connections();
    const keys = this.keys(id);
    const [exists, leaseTtl] = await this.command(Promise.all([commands.exists(keys.meta), commands.pTTL(keys.lease)]));
    if (Number(exists) === 0) return 'unknown';
    // The ending deletes the lease in the same MULTI; no lease and no ending is an owner that died: over as well.
    if (Number(leaseTtl) === -2) return 'finished';
    const flag = { expiration: { type: 'PX', value: RedisRecording.liveTtlMs(this.settings) }, condition: 'NX' } as const;
    await this.command(Promise.all([commands.set(keys.cancel, '1', flag), commands.publish(this.channels.cancel, id)]));
    return 'cancelling';
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closedError = new OpenAIRxError({ message: 'The resume store was closed' });
    for (const recording of [...this.live.values()]) recording.fail(closedError);
    this.live.clear();
    this.remoteReaders.clear();
    this.stopAnnouncer();
    const connections = await this.started?.catch(() => undefined);
    if (!connections) return;
    connections.blockingReads.close();
    connections.blocking.destroy();
    await this.quit(connections.subscriber);
    await this.quit(connections.leaseConnection);
    await connections.commands.del(this.wakeKey).catch(() => undefined);
    if (this.config.url) await this.quit(connections.commands);
  }

  private keys(id: string): StreamKeys {
    return streamKeys(this.settings.prefix, id);
  }

  /**
   * Where a reader after `afterEvent` starts, or why it cannot: one round trip. It reads from just before the entry
   * holding that event, skipping the blocks up to it.
   */
  private async startOf({ buffers }: Connections, keys: StreamKeys, afterEvent: number): Promise<ReaderStart | StoreOpenFailure> {
    const [exists, last, first] = (await this.command(
      this.answered(
        Promise.all([
          buffers.exists(keys.meta),
          buffers.xRevRange(keys.frames, '+', '-', { COUNT: 1 }),
          buffers.xRange(keys.frames, afterEvent > 0 ? firstIdOfEvent(afterEvent) : '-', '+', { COUNT: 1 }),
        ]),
        'open a reader',
      ),
    )) as [number, RawEntry[], RawEntry[]];
    if (Number(exists) === 0) return 'unknown';
    const lastEvent = last.length > 0 ? Number(String(last[0].id).split('-')[0]) : 0;
    if (afterEvent > lastEvent) return 'ahead';
    const position = positionBeforeEvent(afterEvent);
    if (first.length === 0) return afterEvent > 0 ? 'evicted' : { position, nextIndex: 0 };
    const entry = decodeEntry(first[0]);
    if (afterEvent === 0) return entry.index === 0 ? { position, nextIndex: 0 } : 'evicted';
    // The first entry from `n-0` on holds event n, unless trimming took it.
    const nextIndex = indexAfterEvent(entry, afterEvent);
    return nextIndex === undefined ? 'evicted' : { position, nextIndex };
  }

  private connections(): Promise<Connections> {
    if (this.closed) return Promise.reject(new OpenAIRxError({ message: 'The resume store was closed' }));
    this.started ??= this.connect().catch((error: unknown) => {
      this.started = undefined;
      throw new OpenAIRxError({ message: 'The resume store could not connect to Redis', cause: error });
    });
    return this.started;
  }

  private async connect(): Promise<Connections> {
    const opened: RedisClientType[] = [];
    const open = async (client: RedisClientType) => {
      opened.push(client);
      this.watchConnection(client);
      await withDeadline(client.connect(), this.settings.commandTimeoutMs, 'connect');
      return client;
    };
    try {
      const template = this.config.client ? (this.config.client as RedisClientType) : await open(createClient({ url: this.config.url }));
      if (!template.isOpen) throw new OpenAIRxError({ message: 'Connect the Redis client before giving it to redisResumeStore' });
      const subscriber = await open(template.duplicate());
      await subscriber.subscribe(this.channels.cancel, (id) => this.live.get(id)?.cancel());
      await subscriber.subscribe(this.channels.attached, (message) => this.heard(message));
      const blocking = await open(template.duplicate());
      const leaseConnection = await open(template.duplicate());
      const options = { timeout: this.settings.commandTimeoutMs };
      const commands = template.withCommandOptions({ ...options, typeMapping: {} }) as RedisClientType;
      const lease = leaseConnection.withCommandOptions({ ...options, typeMapping: {} }) as RedisClientType;
      // `timeout: 0`: none (node-redis otherwise gives every command its default 5 s, counted from when it was queued).
      const buffers = template.withCommandOptions({ timeout: 0, typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } }) as unknown as RedisClientType;
      const keyPrefix = String(template.options?.keyPrefix ?? '');
      const blockingReads = new BlockingReads({
        connection: blocking,
        commands,
        wakeKey: this.wakeKey,
        wakeTtlMs: WAKE_TTL_MS,
        keyPrefix,
        commandTimeoutMs: this.settings.commandTimeoutMs,
      });
      return { commands, lease, leaseConnection, buffers, subscriber, blocking, blockingReads };
    } catch (error) {
      for (const client of opened) client.destroy();
      throw error;
    }
  }

  /**
   * When a connection of the store breaks (its first error after it was ready; node-redis then reconnects and
   * reports each failed attempt, which are not news), asks Redis whether it is still there: a PING on the leases'
   * connection (on the commands' one it would wait behind the blocks queued there: a busy Redis would read as gone).
   * No answer: no stream generated here can be kept. An answer: only that connection broke (cancels are also flagged
   * in Redis and readers announce themselves again, so the subscriber's blips lose nothing).
   */
  private watchConnection(client: RedisClientType): void {
    let ready = false;
    client.on('ready', () => (ready = true));
    client.on('error', (error: unknown) => {
      if (!ready) return;
      ready = false;
      void this.checkRedis(error);
    });
  }

  private async checkRedis(error: unknown): Promise<void> {
    const connections = await this.started?.catch(() => undefined);
    if (!connections || this.live.size === 0) return;
    const { commandTimeoutMs, leaseMs } = this.settings;
    const answered = await withDeadline(connections.lease.ping(), Math.min(commandTimeoutMs, leaseMs / 3), 'ping').then(
      () => true,
      () => false,
    );
    if (answered) return;
    const failure = new OpenAIRxError({ message: 'The resume store lost its connection to Redis', cause: error });
    for (const recording of [...this.live.values()]) recording.fail(failure);
  }

  /** `{instance} {count} {stream id}`: an instance's readers of a stream (0: none left). */
  private heard(message: string): void {
    if (message.length > MAX_ANNOUNCEMENT_LENGTH) return;
    const [instance, count] = message.split(' ', 2);
    if (instance === this.instanceId || count === undefined) return;
    const id = message.slice(instance.length + count.length + 2);
    this.live.get(id)?.readers.heard(instance, Number(count) > 0);
  }

  private attachRemote(id: string): void {
    const count = (this.remoteReaders.get(id) ?? 0) + 1;
    this.remoteReaders.set(id, count);
    this.announce(id, count);
    this.announcer ??= setInterval(() => {
      for (const [stream, readers] of this.remoteReaders) this.announce(stream, readers);
    }, Math.max(1, Math.floor(this.settings.leaseMs / 3)));
    this.announcer.unref();
  }

  private detachRemote(id: string): void {
    const count = (this.remoteReaders.get(id) ?? 1) - 1;
    if (count > 0) this.remoteReaders.set(id, count);
    else this.remoteReaders.delete(id);
    if (this.remoteReaders.size === 0) this.stopAnnouncer();
    if (!this.closed) this.announce(id, count);
  }

  private announce(id: string, readers: number): void {
    // A lost announcement is repeated by the next; a broken connection shows in the readers' own reads.
    void this.started?.then(({ commands }) => commands.publish(this.channels.attached, `${this.instanceId} ${readers} ${id}`)).catch(() => undefined);
  }

  private stopAnnouncer(): void {
    clearInterval(this.announcer);
    this.announcer = undefined;
  }

  /** `promise`, sent on the commands' connection, within `commandTimeoutMs` of that connection's last answer. */
  private async answered<T>(promise: Promise<T>, what: string): Promise<T> {
    return withDeadline(promise, this.settings.commandTimeoutMs, what, this.commandsAnswers);
  }

  private async command<T>(promise: Promise<T>): Promise<T> {
    try {
      return await promise;
    } catch (error) {
      throw new OpenAIRxError({ message: 'The resume store could not reach Redis', cause: error });
    }
  }

  private async quit(client: RedisClientType): Promise<void> {
    if (!client.isOpen) return;
    // Reconnecting: nobody would answer a QUIT, and the close would wait out the timeout.
    if (!client.isReady) return client.destroy();
    await withDeadline(client.close(), this.settings.commandTimeoutMs, 'close').catch(() => client.destroy());
  }
}

function isStreamId(id: string): boolean {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_STREAM_ID_LENGTH;
}

function existsError(): OpenAIRxError {
  return new OpenAIRxError({ message: 'A stream with this id exists already' });
}
