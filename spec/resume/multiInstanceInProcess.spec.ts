// Resume mode across relay instances sharing one Redis, served in-process where a test needs a setting the CLI has
// no flag for (retainMs, abandonAfterMs, the memory store's caps): bounds and abandon.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { lastValueFrom, toArray } from 'rxjs';
import { createClient as createRedisClient, type RedisClientType } from 'redis';
import { Agent } from 'undici';
import { createClient, type RelaySummary } from '../../src/index.node';
import { createRelay } from '../../src/node';
import { memoryResumeStore, type MemoryResumeStoreConfig } from '../../src/resume/memoryResumeStore';
import { redisResumeStore } from '../../src/resume/redisResumeStore';
import type { ResumeStore } from '../../src/resume/types';
import type { SseFrame } from '../../src/sse/types';
import { startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { undiciTransport } from '../../src/transport/undiciTransport';
import { firstMatch, watchedList } from '../helpers/changes';
import { pauseWatchingTransport } from '../helpers/transportSpies';
import { sseHead, startServer } from '../helpers/server';
import { trackGlobalTimers } from '../helpers/globalTimers';
import { keysUnder, keysWithoutTtl } from '../helpers/redisKeys';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import { listen, openResponse, rawRequest } from '../relay/relayHelpers';
import {
  aborted,
  chatBody,
  chatParams,
  errorCodes,
  eventsOf,
  generate,
  LEASE_MS,
  MARGIN_MS,
  sseEvents,
  tagged,
  upstreamRequest,
} from './relayInstances';
import { eventually, readToEnd } from './storeContract';

const API_KEY = 'sk-multi-instance-0123456789';

let redis: RedisServer;
let upstream: MockUpstream;

beforeAll(async () => {
  [redis, upstream] = await Promise.all([startRedisServer(), startMockUpstream({ tokenDelayMs: 5 })]);
});

const closeAfter: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closeAfter.splice(0).reverse()) await close().catch(() => undefined);
});

afterAll(async () => {
  await upstream?.close();
  await redis?.stop();
});

const freshPrefix = () => `rx-multi-${randomBytes(6).toString('hex')}`;

async function redisAdmin(): Promise<RedisClientType> {
  const admin = createRedisClient({ url: redis.url }) as RedisClientType;
  admin.on('error', () => undefined);
  await admin.connect();
  closeAfter.push(async () => admin.isOpen && (await admin.close()));
  return admin;
}

function closeStore(store: ResumeStore): ResumeStore {
  closeAfter.push(() => store.close());
  return store;
}

describe('backpressure from Redis (an in-process relay)', () => {
  test('a burst upstream while Redis holds the writes: the relay pauses reading upstream instead of failing at 16 MiB; every event arrives once, in order', async () => {
    const prefix = freshPrefix();
    const admin = await redisAdmin();
    const commands = await redisAdmin();
    const pad = 'x'.repeat(8 * 1024);
    // 2,400 events of 8 KiB: more than the 16 MiB the store lets wait before it fails the generation.
    const burst = 2400;
    const eventText = (n: number) => `data: ${JSON.stringify({ n, pad })}\n\n`;
    let go!: () => void;
    const released = new Promise<void>((resolve) => (go = resolve));
    const provider = await startServer(async (_req, res) => {
      sseHead(res);
      res.write(eventText(1));
      await released;
      for (let n = 2; n <= burst + 1 && !res.destroyed; n++) {
        if (!res.write(eventText(n))) await once(res, 'drain').catch(() => undefined);
      }
      res.end('data: [DONE]\n\n');
    });
    closeAfter.push(() => provider.close());
    const paused = watchedList<boolean>();
    const failures: unknown[] = [];
    const store = closeStore(redisResumeStore({ client: commands, prefix, commandTimeoutMs: 30_000 }));
    const relay = await listen(
      createRelay({
        apiKey: API_KEY,
        baseURL: provider.url,
        heartbeatMs: 0,
        transport: pauseWatchingTransport((value) => paused.push(value)),
        resume: { store },
        onError: (error) => failures.push(error),
      }),
    );
    closeAfter.push(() => relay.close());
    const live = await openResponse(`${relay.url}/v1/chat/completions`, { body: chatBody('burst') });
    await live.waitFor('"n":1,');

    // A blocking pop holds every write after it on the store's connection, as a Redis that does not keep up would.
    const gate = `${prefix}:gate`;
    const busy = commands.blPop(gate, 0);
    closeAfter.push(() => admin.lPush(gate, 'go'));
    go();
    await firstMatch(paused, (value) => value, 'the relay to pause reading upstream');
    expect(failures).toEqual([]);

    await admin.lPush(gate, 'go');
    await busy;
    await live.ended(30_000);
    const events = eventsOf(live.text());
    expect(events).toHaveLength(burst + 2);
    expect(events.slice(0, -1).map(([id, data]) => [id, JSON.parse(data).n])).toEqual(Array.from({ length: burst + 1 }, (_, i) => [String(i + 1), i + 1]));
    expect(events[burst + 1]).toEqual([String(burst + 2), '[DONE]']);
    expect(paused[paused.length - 1]).toBe(false);
    expect(failures).toEqual([]);
    expect(provider.requests).toHaveLength(1);
  });
});

describe('bounds (in-process relays on the same Redis)', () => {
  test('200 concurrent resumable streams × 500 frames: every answer whole, no key without a TTL, none at all after retainMs', async () => {
    const prefix = freshPrefix();
    // Longer than the streams' own readers lag behind the writes on a busy two-core machine (up to ~2 s): a reader
    // that reads the ending after the stream expired gets `stream_lost`.
    const retainMs = 5000;
    const admin = await redisAdmin();
    const store = closeStore(redisResumeStore({ url: redis.url, prefix, retainMs }));
    const failures: unknown[] = [];
    const relay = await listen(createRelay({ apiKey: API_KEY, baseURL: upstream.baseURL, resume: { store }, onError: (error) => failures.push(error) }));
    closeAfter.push(() => relay.close());
    const client = createClient({ baseURL: `${relay.url}/v1` });
    // The role chunk, 497 tokens, the finish chunk and [DONE]: 500 events.
    const prompt = tagged('[[mock:tokens=497]] [[mock:delay=0]]');
    const streams = await Promise.all(
      Array.from({ length: 200 }, () => lastValueFrom(client.chat.completions.events(chatParams(prompt), { resume: true }).pipe(toArray()))),
    );
    for (const frames of streams) {
      const events = frames.filter((frame): frame is Extract<SseFrame, { type: 'event' }> => frame.type === 'event');
      // The last event beside the ids: a stream the relay failed shows why (its error frame).
      expect({ ids: events.map((event) => event.id), last: events.at(-1)?.data }).toEqual({
        ids: Array.from({ length: 500 }, (_, index) => String(index + 1)),
        last: '[DONE]',
      });
    }
    // The leases held under load (a lapse fails the generation: "The owner lost its lease").
    expect(failures).toEqual([]);
    expect(await keysWithoutTtl(admin, prefix)).toEqual([]);
    await eventually(async () => (await keysUnder(admin, prefix)).length === 0, retainMs + 10_000);
  }, 120_000);

  test.each<[string, MemoryResumeStoreConfig]>([
    ['streams and blocks', { maxStreams: 50, maxEntriesPerStream: 100 }],
    ['streams and bytes', { maxStreams: 50, maxBytesPerStream: 16 * 1024 }],
  ])('the memory store stays within its caps (%s) over 200 streams × 500 frames', async (_caps, caps) => {
    const store = closeStore(memoryResumeStore(caps));
    const relay = await listen(createRelay({ apiKey: API_KEY, baseURL: upstream.baseURL, resume: { store } }));
    closeAfter.push(() => relay.close());
    const prompt = tagged('[[mock:tokens=497]] [[mock:delay=0]]');
    const groups: string[][] = [];
    // 25 at a time, fewer than maxStreams: only finished streams make room for new ones.
    for (let group = 0; group < 8; group++) {
      const answers = await Promise.all(Array.from({ length: 25 }, () => rawRequest(`${relay.url}/v1/chat/completions`, { body: JSON.stringify(chatBody(prompt)) })));
      // The generation outruns its client, unbounded by backpressure: a client behind the caps is told so.
      for (const answer of answers) expect(lastFrame(answer.text)).toMatch(/^500 \[DONE\]$|stream_position_evicted/);
      const ids = answers.map((answer) => String(answer.headers['x-stream-id']));
      // An evicted client's answer ends before its generation does. The store makes room by dropping the oldest
      // finished stream first, so a generation of this group still running when a later group starts would keep a
      // newer finished stream from being dropped in its place: the next group starts once every generation ended.
      for (const id of ids) expect((await readToEnd(await oldestReader(store, id, 500))).ending).toEqual({ outcome: 'completed' });
      groups.push(ids);
    }
    const kept = async (ids: string[]) => (await Promise.all(ids.map((id) => store.meta(id)))).filter(Boolean).length;
    // The newest 50 (the last two groups) are kept, every older one was dropped.
    expect(await kept(groups.slice(6).flat())).toBe(50);
    expect(await kept(groups.slice(0, 6).flat())).toBe(0);
    for (const id of groups.slice(6).flat()) {
      const { entries, ending } = await readToEnd(await oldestReader(store, id, 500));
      expect(ending).toEqual({ outcome: 'completed' });
      expect(entries.at(-1)?.event).toBe(500);
      expect(entries.length).toBeLessThanOrEqual(caps.maxEntriesPerStream ?? Infinity);
      expect(entries.reduce((sum, entry) => sum + entry.bytes.byteLength, 0)).toBeLessThanOrEqual(caps.maxBytesPerStream ?? Infinity);
    }
  }, 120_000);

  test('1,000 create/cancel cycles (cancel on the other instance) leave no key, timer, listener or socket behind', async () => {
    const prefix = freshPrefix();
    const retainMs = 500;
    const admin = await redisAdmin();
    const clients = await Promise.all([redisAdmin(), redisAdmin()]);
    const summaries = watchedList<RelaySummary<IncomingMessage>>();
    // The relays' upstream connections, in a pool of the test's own: closed before the timers are counted (an idle
    // pooled connection keeps a keep-alive timer).
    const dispatcher = new Agent();
    closeAfter.push(() => dispatcher.close());
    const transport = undiciTransport({ dispatcher });
    const [a, b] = await Promise.all(
      clients.map(async (client) => {
        const store = closeStore(redisResumeStore({ client, prefix, retainMs }));
        const relay = await listen(
          createRelay({ apiKey: API_KEY, baseURL: upstream.baseURL, transport, resume: { store }, onSettled: (summary) => summaries.push(summary) }),
        );
        closeAfter.push(() => relay.close());
        return relay;
      }),
    );
    const cycle = async () => {
      const { original, id } = await generate(a, tagged('[[mock:stall=1]]'));
      const cancel = await rawRequest(`${b.url}/v1/streams/${id}/cancel`, { method: 'POST' });
      expect(cancel.status).toBe(202);
      await original.ended();
      expect(errorCodes(original.text())).toEqual(['stream_cancelled']);
    };
    // Ten at a time, as a busy relay has them: 1,000 cycles in a few seconds instead of half a minute. A first round
    // opens what ten at a time keep open (the relays' pooled upstream connections and their timers).
    const lanes = 10;
    await Promise.all(Array.from({ length: lanes }, cycle));
    // The generation's summary and the cancel's.
    await summaries.reaches(2 * lanes, 'the summaries of the first round');
    const snapshot = async () => ({
      listeners: clients.map((client) => client.eventNames().map((name) => `${String(name)}:${client.listenerCount(name)}`)),
      process: process.eventNames().map((name) => `${String(name)}:${process.listenerCount(name)}`),
      redisClients: (await admin.clientList()).length,
    });
    const before = await snapshot();
    const upstreamRequestsBefore = upstream.requests.length;
    const timers = trackGlobalTimers();
    try {
      const lane = async () => {
        for (let n = 0; n < 1000 / lanes; n++) await cycle();
      };
      await Promise.all(Array.from({ length: lanes }, lane));
      await summaries.reaches(2 * (lanes + 1000), 'the summaries of every cycle', 30_000);
      await dispatcher.close();
      expect(timers.live()).toBe(0);
    } finally {
      timers.restore();
    }
    expect(summaries.filter((summary) => summary.route === 'chat/completions').map((summary) => summary.outcome)).toEqual(Array(lanes + 1000).fill('cancelled'));
    expect(upstream.requests.slice(upstreamRequestsBefore).filter((request) => request.state !== 'aborted')).toEqual([]);
    expect(await keysWithoutTtl(admin, prefix)).toEqual([]);
    expect(await snapshot()).toEqual(before);
    await upstream.waitFor(() => upstream.openConnections() === 0, 5000);
    expect([a.openConnections(), b.openConnections()]).toEqual([0, 0]);
    // The cancel flags live longest: retainMs plus the lease.
    await eventually(async () => (await keysUnder(admin, prefix)).length === 0, retainMs + LEASE_MS + 5000);
  }, 180_000);
});

describe('abandon across instances (in-process, abandonAfterMs 500)', () => {
  const ABANDON_AFTER_MS = 500;

  async function twoRelays() {
    const prefix = freshPrefix();
    const summaries = watchedList<RelaySummary<IncomingMessage>>();
    const relays = await Promise.all(
      ['a', 'b'].map(async () => {
        const store = closeStore(redisResumeStore({ url: redis.url, prefix }));
        const relay = await listen(
          createRelay({ apiKey: API_KEY, baseURL: upstream.baseURL, resume: { store, abandonAfterMs: ABANDON_AFTER_MS }, onSettled: (summary) => summaries.push(summary) }),
        );
        closeAfter.push(() => relay.close());
        return relay;
      }),
    );
    return { a: relays[0], b: relays[1], summaries };
  }

  test('a dropped client with nobody re-attaching: upstream aborted abandonAfterMs later; the stream ends stream_abandoned', async () => {
    const { a, b, summaries } = await twoRelays();
    const prompt = tagged('[[mock:tokens=5000]] [[mock:delay=20]]');
    const { original, id } = await generate(a, prompt);
    const held = await upstreamRequest(upstream, prompt);
    const droppedAt = performance.now();
    original.abort();
    await aborted(upstream, held, ABANDON_AFTER_MS + 10_000);
    const abandonedAfter = performance.now() - droppedAt;
    expect(abandonedAfter).toBeGreaterThanOrEqual(ABANDON_AFTER_MS);
    expect(abandonedAfter).toBeLessThanOrEqual(ABANDON_AFTER_MS + MARGIN_MS);
    await summaries.reaches(1, "the generation's summary");
    expect(summaries[0].outcome).toBe('abandoned');
    const replay = await rawRequest(`${b.url}/v1/streams/${id}`, { method: 'GET' });
    expect(errorCodes(replay.text)).toEqual(['stream_abandoned']);
  }, 60_000);

  test('a reader re-attaching on the other instance in time keeps the generation alive to its end', async () => {
    const { a, b, summaries } = await twoRelays();
    // About 2 s of generation: four times abandonAfterMs.
    const prompt = tagged('[[mock:tokens=100]] [[mock:delay=20]]');
    const { original, id } = await generate(a, prompt);
    const held = await upstreamRequest(upstream, prompt);
    original.abort();
    const reattached = await openResponse(`${b.url}/v1/streams/${id}`, { headers: { 'last-event-id': '2' } });
    await reattached.ended(15_000);

    expect(held.state).toBe('completed');
    const events = eventsOf(reattached.text());
    expect(events.map(([eventId]) => eventId)).toEqual(Array.from({ length: events.length }, (_, index) => String(index + 3)));
    expect(events.at(-1)?.[1]).toBe('[DONE]');
    await summaries.reaches(2, 'both summaries');
    expect(summaries.find((summary) => summary.route === 'chat/completions')?.outcome).toBe('completed');
  }, 60_000);
});

/** The last event of an event stream: `id data`. */
function lastFrame(text: string): string {
  const last = sseEvents(text).at(-1);
  return `${last?.id} ${last?.data}`;
}

/** A reader from the oldest event `store` still keeps of stream `id` (whose last event is `lastEvent`). */
async function oldestReader(store: ResumeStore, id: string, lastEvent: number) {
  for (let after = 0; after <= lastEvent; after++) {
    const reader = await store.read(id, after);
    if (typeof reader !== 'string') return reader;
    if (reader !== 'evicted') throw new Error(`read(${after}) of a kept stream: ${reader}`);
  }
  throw new Error('no event of the stream is kept');
}
