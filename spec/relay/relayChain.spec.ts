import type { IncomingMessage } from 'node:http';
import { createFetchRelay, type RelaySummary } from '../../src/index.node';
import { createRelay } from '../../src/node';
import { watchedList, type WatchedList } from '../helpers/changes';
import { startServer, type TestServer } from '../helpers/server';
import {
  CHAT_BODY,
  CHAT_STREAM_PARTS,
  chatProvider,
  listen,
  openStream,
  rawRequest,
  type Listening,
} from './relayHelpers';

/* client → relay A → relay B → upstream: each hop relays the one before it unchanged, and a leaving client is felt at the far end. */

const KEY = 'sk-relay-secret-0123456789';

let upstream: TestServer;
let relayB: Listening;
let relayA: Listening;
let summariesA: WatchedList<RelaySummary<IncomingMessage>>;
let summariesB: WatchedList<RelaySummary<IncomingMessage>>;

beforeEach(async () => {
  summariesA = watchedList();
  summariesB = watchedList();
  upstream = await startServer(chatProvider({ 'x-request-id': 'req_chain' }));
  relayB = await listen(createRelay({ apiKey: KEY, baseURL: upstream.url, onSettled: (s) => summariesB.push(s) }));
  relayA = await listen(
    createRelay({ apiKey: 'sk-relay-a', baseURL: `${relayB.url}/v1`, onSettled: (s) => summariesA.push(s) }),
  );
});

afterEach(async () => {
  await relayA.close();
  await relayB.close();
  await upstream.close();
});

test('relay → relay → upstream stays byte-faithful and keeps the request id', async () => {
  const response = await rawRequest(`${relayA.url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
  expect(response.text).toBe(CHAT_STREAM_PARTS.join(''));
  expect(response.headers['x-request-id']).toBe('req_chain');
  expect(upstream.requests[0].headers.authorization).toBe(`Bearer ${KEY}`);
  await Promise.all([summariesA.reaches(1, 'the summary of relay A'), summariesB.reaches(1, 'the summary of relay B')]);
  expect([summariesA.length, summariesB.length]).toEqual([1, 1]);
  expect([summariesA[0].outcome, summariesB[0].outcome]).toEqual(['completed', 'completed']);
});

test('a client abort closes both upstream hops', async () => {
  const stream = await openStream(`${relayA.url}/v1/chat/completions`, { ...CHAT_BODY, model: 'hang' });
  await stream.waitFor('Hel');
  stream.abort();
  await upstream.waitForClosedSockets(1);
  await Promise.all([summariesA.reaches(1, 'the summary of relay A'), summariesB.reaches(1, 'the summary of relay B')]);
  expect([summariesA.length, summariesB.length]).toEqual([1, 1]);
  expect([summariesA[0].outcome, summariesB[0].outcome]).toEqual(['client-closed', 'client-closed']);
});

test('a fetch relay in front of a node relay: byte-faithful, and cancelling reaches upstream', async () => {
  const front = createFetchRelay({ apiKey: 'sk-front', baseURL: `${relayB.url}/v1` });
  const post = (body: unknown) =>
    new Request('http://front.test/v1/chat/completions', { method: 'POST', body: JSON.stringify(body) });
  expect(await (await front(post(CHAT_BODY))).text()).toBe(CHAT_STREAM_PARTS.join(''));

  const hanging = await front(post({ ...CHAT_BODY, model: 'hang' }));
  const reader = hanging.body!.getReader();
  await reader.read();
  const closedBefore = upstream.closedSockets();
  await reader.cancel();
  await upstream.waitForClosedSockets(closedBefore + 1);
  await summariesB.reaches(2, 'relay B summaries');
  expect(summariesB).toHaveLength(2);
  expect(summariesB[1].outcome).toBe('client-closed');
});
