// Resume mode across relay instances sharing one Redis: the CLI's `openai-rx relay --redis` as separate processes.
// In-process relays, for the settings the CLI has no flag for (retainMs, abandonAfterMs, caps), are in
// multiInstanceInProcess.spec.ts.
import { APIError } from '../../src/errors';
import { chatChunks, createClient } from '../../src/index.node';
import { startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { killLeftovers } from '../cli/cliProcess';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import { record } from '../helpers/streams';
import { openResponse, rawRequest } from '../relay/relayHelpers';
import {
  aborted,
  chatParams,
  errorCodes,
  eventsOf,
  generate,
  LEASE_MS,
  MARGIN_MS,
  sseEvents,
  startRelayProcess,
  tagged,
  upstreamRequest,
  type RelayProcess,
} from './relayInstances';

let redis: RedisServer;
let upstream: MockUpstream;

beforeAll(async () => {
  [redis, upstream] = await Promise.all([startRedisServer(), startMockUpstream({ tokenDelayMs: 5 })]);
});

afterEach(() => killLeftovers());

afterAll(async () => {
  await upstream?.close();
  await redis?.stop();
});

async function startTwo(): Promise<[RelayProcess, RelayProcess]> {
  return Promise.all([startRelayProcess(redis.url, upstream.baseURL), startRelayProcess(redis.url, upstream.baseURL)]);
}

describe('two relay processes (openai-rx relay --redis) on one Redis', () => {
  test('a cancel on B stops the upstream request A holds; every reader on A and B gets exactly one stream_cancelled frame', async () => {
    const [a, b] = await startTwo();
    const prompt = tagged('[[mock:tokens=5000]] [[mock:delay=20]]');
    const { original, id } = await generate(a, prompt);
    const held = await upstreamRequest(upstream, prompt);
    const readers = [original, ...(await Promise.all([a, b, b].map((instance) => openResponse(`${instance.url}/v1/streams/${id}`))))];
    await Promise.all(readers.map((reader) => reader.waitFor('id: 2\n')));

    const cancel = await rawRequest(`${b.url}/v1/streams/${id}/cancel`, { method: 'POST' });
    expect([cancel.status, cancel.json()]).toEqual([202, { id, object: 'stream', status: 'cancelling' }]);
    await aborted(upstream, held);
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
    const held = await upstreamRequest(upstream, prompt);
    const readers = await Promise.all([a, b].map((instance) => openResponse(`${instance.url}/v1/streams/${id}`)));
    await Promise.all(readers.map((reader) => reader.waitFor('id: 3\n')));

    stream.subscription.unsubscribe();
    await aborted(upstream, held);
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
    const held = await upstreamRequest(upstream, prompt);

    const resumed = await openResponse(`${b.url}/v1/streams/${id}`, { headers: { 'last-event-id': '3' } });
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
    const held = await upstreamRequest(upstream, prompt);
    const raw = await openResponse(`${b.url}/v1/streams/${id}`);
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
    await aborted(upstream, held);
  }, 60_000);

  test('Redis killed mid-stream: the stream fails with a stream_failed frame on A and B; once Redis is back, new streams work', async () => {
    const [a, b] = await startTwo();
    const prompt = tagged('[[mock:tokens=5000]] [[mock:delay=20]]');
    let id: string | undefined;
    const onA = record(createClient({ baseURL: `${a.url}/v1` }).chat.completions.stream(chatParams(prompt), { resume: true, head: (head) => (id = head.streamId) }));
    await onA.until(() => onA.values.length >= 3, 'three chunks on A');
    const held = await upstreamRequest(upstream, prompt);
    const onB = await openResponse(`${b.url}/v1/streams/${id}`);
    await onB.waitFor('id: 3\n');

    await redis.kill();
    await onA.until(() => onA.errored || onA.completed, "the client's stream on A to end", 15_000);
    await onB.ended(15_000);
    expect(onA.error).toBeInstanceOf(APIError);
    expect((onA.error as APIError).code).toBe('stream_failed');
    expect(errorCodes(onB.text())).toEqual(['stream_failed']);
    // The generation cannot be kept: it is stopped, not left running unread.
    await aborted(upstream, held, 15_000);

    await redis.restart();
    const { original, id: again } = await generate(a, tagged('[[mock:tokens=20]]'));
    await original.ended(15_000);
    expect(sseEvents(original.text()).at(-1)?.data).toBe('[DONE]');
    const resumed = await rawRequest(`${b.url}/v1/streams/${again}`, { method: 'GET' });
    expect(eventsOf(resumed.text)).toEqual(eventsOf(original.text()));
  }, 90_000);
});

