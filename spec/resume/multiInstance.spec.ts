// Resume mode across relay instances sharing one Redis: the CLI's `openai-rx relay --redis` as separate processes,
// and in-process relays where a test needs a setting the CLI has no flag for (retainMs, abandonAfterMs, caps).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { lastValueFrom, toArray } from 'rxjs';
import { createClient as createRedisClient, type RedisClientType } from 'redis';
import { APIError } from '../../src/errors';
import { chatChunks, createClient, type RelaySummary } from '../../src/index.node';
import { createRelay } from '../../src/node';
import { memoryResumeStore, type MemoryResumeStoreConfig } from '../../src/resume/memoryResumeStore';
import { redisResumeStore } from '../../src/resume/redisResumeStore';
import type { ResumeStore } from '../../src/resume/types';
import type { SseFrame } from '../../src/sse/types';
import { startMockUpstream, type MockRequest, type MockUpstream } from '../../src/testing/index.node';
import { killLeftovers } from '../cli/cliProcess';
import { watchedList } from '../helpers/changes';
import { trackGlobalTimers } from '../helpers/globalTimers';
import { keysUnder, keysWithoutTtl } from '../helpers/redisKeys';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import { record } from '../helpers/streams';
import { rawRequest } from '../relay/relayHelpers';
import { chatBody, errorCodes, openLive, serveRelay, sseEvents, startRelayProcess, type LiveResponse, type RelayProcess } from './relayInstances';
import { eventually, readToEnd } from './storeContract';

/** The Redis store's default lease: how long readers elsewhere trust an owner that stopped answering. */
const LEASE_MS = 3000;
/** Slack on a loaded two-core machine for what must happen within the lease. */
const MARGIN_MS = 1500;
const API_KEY = 'sk-multi-instance-0123456789';

let redis: RedisServer;
let upstream: MockUpstream;

beforeAll(async () => {
  [redis, upstream] = await Promise.all([startRedisServer(), startMockUpstream({ tokenDelayMs: 5 })]);
});

const closeAfter: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  killLeftovers();
  for (const close of closeAfter.splice(0).reverse()) await close().catch(() => undefined);
});

afterAll(async () => {
  await upstream?.close();
  await redis?.stop();
});

/** A prompt no other request of the run has: it names the request in the mock upstream's records. */
const tagged = (directives: string) => `ask ${randomBytes(6).toString('hex')} ${directives}`;
/** The mock upstream's record of the request asked with `prompt`, once it arrived. */
async function upstreamRequest(prompt: string): Promise<MockRequest> {
  await upstream.waitFor(() => upstream.requests.some((request) => request.prompt === prompt), 10_000);
  return upstream.requests.find((request) => request.prompt === prompt) as MockRequest;
}
const aborted = (request: MockRequest, timeoutMs = 10_000) => upstream.waitFor(() => request.state === 'aborted', timeoutMs);
const chatParams = (prompt: string) => ({ model: 'mock', messages: [{ role: 'user' as const, content: prompt }] });
/** Event ids and data, comments (heartbeats) left out. */
const eventsOf = (text: string) => sseEvents(text).map((event) => [event.id, event.data]);
const freshPrefix = () => `rx-multi-${randomBytes(6).toString('hex')}`;

async function startTwo(): Promise<[RelayProcess, RelayProcess]> {
  return Promise.all([startRelayProcess(redis.url, upstream.baseURL), startRelayProcess(redis.url, upstream.baseURL)]);
}

/** Starts a long generation on `owner`; resolves once its first `events` events arrived, with its stream id. */
async function generate(owner: { url: string }, prompt: string, events = 2): Promise<{ original: LiveResponse; id: string }> {
  const original = await openLive(`${owner.url}/v1/chat/completions`, { body: chatBody(prompt) });
  expect(original.status).toBe(200);
  await original.waitFor(`id: ${events}\n`);
  return { original, id: String(original.headers['x-stream-id']) };
}

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

describe('two relay processes (openai-rx relay --redis) on one Redis', () => {
  test('a cancel on B stops the upstream request A holds; every reader on A and B gets exactly one stream_cancelled frame', async () => {
    const [a, b] = await startTwo();
    const prompt = tagged('[[mock:tokens=5000]] [[mock:delay=20]]');
    const { original, id } = await generate(a, prompt);
    const held = await upstreamRequest(prompt);
    const readers = [original, ...(await Promise.all([a, b, b].map((instance) => openLive(`${instance.url}/v1/streams/${id}`))))];
    await Promise.all(readers.map((reader) => reader.waitFor('id: 2\n')));

    const cancel = await rawRequest(`${b.url}/v1/streams/${id}/cancel`, { method: 'POST' });
    expect([cancel.status, cancel.json()]).toEqual([202, { id, object: 'stream', status: 'cancelling' }]);
    await aborted(held);
    await Promise.all(readers.map((reader) => reader.ended()));

    for (const reader of readers) {
      expect(errorCodes(reader.text())).toEqual(['stream_cancelled']);
      expect(sseEvents(reader.text()).at(-1)?.data).toContain('"code":"stream_cancelled"');
      // Every reader read the same stream from Redis, whichever instance it is on.
      expect(eventsOf(reader.text())).toEqual(eventsOf(original.text()));
    }
    await a.process.waitFor((_, stderr) => / 200 cancelled /.test(stderr), 'A to log the generation as cancelled');
    const again = await rawRequest(`${a.url}/v1/streams/${id}/cancel`, { method: 'POST' });
    expect([again.status, (again.json() as { error: { code: string } }).error.code]).toEqual([409, 'stream_already_finished']);
  }, 60_000);

  test('a resumable client on A that unsubscribes stops the generation; readers on A and B get one stream_cancelled frame', async () => {
    const [a, b] = await startTwo();
    const prompt = tagged('[[mock:tokens=5000]] [[mock:delay=20]]');
    let id: string | undefined;
    const client = createClient({ baseURL: `${a.url}/v1` });
    const stream = record(client.chat.completions.stream(chatParams(prompt), { resume: true, head: (head) => (id = head.streamId) }));
    await stream.until(() => stream.values.length >= 3, 'three chunks');
    const held = await upstreamRequest(prompt);
    const readers = await Promise.all([a, b].map((instance) => openLive(`${instance.url}/v1/streams/${id}`)));
    await Promise.all(readers.map((reader) => reader.waitFor('id: 3\n')));

    stream.subscription.unsubscribe();
    await aborted(held);
    await Promise.all(readers.map((reader) => reader.ended()));
    for (const reader of readers) expect(errorCodes(reader.text())).toEqual(['stream_cancelled']);
    // The cancel went to A, the instance the client talks to; the subscriber heard nothing after it left.
    await a.process.waitFor((_, stderr) => /POST \/v1\/streams\/\S+\/cancel · 202 completed/.test(stderr), "A to log the client's cancel");
    expect([stream.errored, stream.completed]).toEqual([false, false]);
  }, 60_000);

  test('resume on B of a stream generated on A: the frames after n, then the live ones, then the end', async () => {
    const [a, b] = await startTwo();
    const prompt = tagged('[[mock:tokens=100]] [[mock:delay=20]]');
    const { original, id } = await generate(a, prompt, 5);
    const held = await upstreamRequest(prompt);

    const resumed = await openLive(`${b.url}/v1/streams/${id}`, { headers: { 'last-event-id': '3' } });
    expect([resumed.status, resumed.headers['x-stream-id']]).toEqual([200, id]);
    await resumed.waitFor('id: 4\n');
    // Attached while A still generates: what follows is live.
    expect(held.state).toBe('open');
    await Promise.all([original.ended(), resumed.ended()]);

    const all = eventsOf(original.text());
    expect(all.at(-1)).toEqual([String(all.length), '[DONE]']);
    expect(eventsOf(resumed.text())).toEqual(all.slice(3));
    expect(errorCodes(resumed.text())).toEqual([]);
    // The same from `?after=` on A, after the end.
    expect(eventsOf((await rawRequest(`${a.url}/v1/streams/${id}?after=3`, { method: 'GET' })).text)).toEqual(all.slice(3));
  }, 60_000);

  test('kill -9 of the owner A: readers on B get one stream_lost frame within the lease, never a hang', async () => {
    const [a, b] = await startTwo();
    const prompt = tagged('[[mock:tokens=5000]] [[mock:delay=20]]');
    const { id } = await generate(a, prompt);
    const held = await upstreamRequest(prompt);
    const raw = await openLive(`${b.url}/v1/streams/${id}`);
    const client = record(createClient({ baseURL: `${b.url}/v1` }).resumeStream(id, { after: 1 }).pipe(chatChunks()));
    await raw.waitFor('id: 2\n');
    await client.until(() => client.values.length >= 1, 'a chunk on B');

    const killedAt = performance.now();
    a.process.child.kill('SIGKILL');
    const rawEndedAt = await raw.ended(LEASE_MS + 2 * MARGIN_MS);
    await client.until(() => client.errored, 'the client on B to fail', LEASE_MS + 2 * MARGIN_MS);
    const clientEndedAt = performance.now();

    expect(rawEndedAt - killedAt).toBeLessThanOrEqual(LEASE_MS + MARGIN_MS);
    expect(clientEndedAt - killedAt).toBeLessThanOrEqual(LEASE_MS + MARGIN_MS);
    expect(errorCodes(raw.text())).toEqual(['stream_lost']);
    expect(client.error).toBeInstanceOf(APIError);
    expect((client.error as APIError).code).toBe('stream_lost');
    // The owner's death closed its upstream socket too.
    await aborted(held);
  }, 60_000);

  test('Redis killed mid-stream: the stream fails with a stream_failed frame on A and B; once Redis is back, new streams work', async () => {
    const [a, b] = await startTwo();
    const prompt = tagged('[[mock:tokens=5000]] [[mock:delay=20]]');
    let id: string | undefined;
    const onA = record(createClient({ baseURL: `${a.url}/v1` }).chat.completions.stream(chatParams(prompt), { resume: true, head: (head) => (id = head.streamId) }));
    await onA.until(() => onA.values.length >= 3, 'three chunks on A');
    const held = await upstreamRequest(prompt);
    const onB = await openLive(`${b.url}/v1/streams/${id}`);
    await onB.waitFor('id: 3\n');

    await redis.kill();
    await onA.until(() => onA.errored || onA.completed, "the client's stream on A to end", 15_000);
    await onB.ended(15_000);
    expect(onA.error).toBeInstanceOf(APIError);
    expect((onA.error as APIError).code).toBe('stream_failed');
    expect(errorCodes(onB.text())).toEqual(['stream_failed']);
    // The generation cannot be kept: it is stopped, not left running unread.
    await aborted(held, 15_000);

    await redis.restart();
    const { original, id: again } = await generate(a, tagged('[[mock:tokens=20]]'));
    await original.ended(15_000);
    expect(sseEvents(original.text()).at(-1)?.data).toBe('[DONE]');
    const resumed = await rawRequest(`${b.url}/v1/streams/${again}`, { method: 'GET' });
    expect(eventsOf(resumed.text)).toEqual(eventsOf(original.text()));
  }, 90_000);
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
    const relay = await serveRelay(createRelay({ apiKey: API_KEY, baseURL: upstream.baseURL, resume: { store }, onError: (error) => failures.push(error) }));
    closeAfter.push(() => relay.close());
    const client = createClient({ baseURL: `${relay.url}/v1` });
    // The role chunk, 497 tokens, the finish chunk and [DONE]: 500 events.
    const prompt = tagged('[[mock:tokens=497]] [[mock:delay=0]]');
    const streams = await Promise.all(
      Array.from({ length: 200 }, () => lastValueFrom(client.chat.completions.events(chatParams(prompt), { resume: true }).pipe(toArray()))),
    );
    for (const frames of streams) {
      const events = frames.filter((frame): frame is Extract<SseFrame, { type: 'event' }> => frame.type === 'event');
      expect(events.map((event) => event.id)).toEqual(Array.from({ length: 500 }, (_, index) => String(index + 1)));
      expect(events.at(-1)?.data).toBe('[DONE]');
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
    const relay = await serveRelay(createRelay({ apiKey: API_KEY, baseURL: upstream.baseURL, resume: { store } }));
    closeAfter.push(() => relay.close());
    const prompt = tagged('[[mock:tokens=497]] [[mock:delay=0]]');
    const groups: string[][] = [];
    // 25 at a time, fewer than maxStreams: only finished streams make room for new ones.
    for (let group = 0; group < 8; group++) {
      const answers = await Promise.all(Array.from({ length: 25 }, () => rawRequest(`${relay.url}/v1/chat/completions`, { body: JSON.stringify(chatBody(prompt)) })));
      // The generation outruns its client, unbounded by backpressure: a client behind the caps is told so.
      for (const answer of answers) expect(lastFrame(answer.text)).toMatch(/^500 \[DONE\]$|stream_position_evicted/);
      groups.push(answers.map((answer) => String(answer.headers['x-stream-id'])));
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
    const [a, b] = await Promise.all(
      clients.map(async (client) => {
        const store = closeStore(redisResumeStore({ client, prefix, retainMs }));
        const relay = await serveRelay(createRelay({ apiKey: API_KEY, baseURL: upstream.baseURL, resume: { store }, onSettled: (summary) => summaries.push(summary) }));
        closeAfter.push(() => relay.close());
        return relay;
      }),
    );
    let cycles = 0;
    const cycle = async () => {
      cycles++;
      const { original, id } = await generate(a, tagged('[[mock:stall=1]]'));
      const cancel = await rawRequest(`${b.url}/v1/streams/${id}/cancel`, { method: 'POST' });
      expect(cancel.status).toBe(202);
      await original.ended();
      expect(errorCodes(original.text())).toEqual(['stream_cancelled']);
      // The generation's summary and the cancel's.
      await summaries.reaches(2 * cycles, `the summaries of cycle ${cycles}`);
    };
    await cycle();
    const snapshot = async () => ({
      listeners: clients.map((client) => client.eventNames().map((name) => `${String(name)}:${client.listenerCount(name)}`)),
      process: process.eventNames().map((name) => `${String(name)}:${process.listenerCount(name)}`),
      redisClients: (await admin.clientList()).length,
    });
    const before = await snapshot();
    const upstreamRequestsBefore = upstream.requests.length;
    const timers = trackGlobalTimers();
    try {
      for (let n = 0; n < 1000; n++) await cycle();
      expect(timers.live()).toBe(0);
    } finally {
      timers.restore();
    }
    expect(summaries.filter((summary) => summary.route === 'chat/completions').map((summary) => summary.outcome)).toEqual(Array(1001).fill('cancelled'));
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
        const relay = await serveRelay(
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
    const held = await upstreamRequest(prompt);
    const droppedAt = performance.now();
    original.abort();
    await aborted(held, ABANDON_AFTER_MS + 10_000);
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
    const held = await upstreamRequest(prompt);
    original.abort();
    const reattached = await openLive(`${b.url}/v1/streams/${id}`, { headers: { 'last-event-id': '2' } });
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
