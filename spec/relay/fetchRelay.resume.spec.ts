// createFetchRelay in resume mode, served on node:http as fetch frameworks serve it, held to the HTTP contract of
// resume mode that spec/relay/resume.spec.ts holds createRelay to; the client re-attaches through a TCP proxy a test cuts.
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { lastValueFrom, toArray } from 'rxjs';
import { buildClient } from '../../src/client';
import { createFetchRelay, type RelaySummary } from '../../src/index.node';
import type { SseFrame } from '../../src/sse/types';
import { undiciTransport } from '../../src/transport/undiciTransport';
import { firstMatch, watchedList, type WatchedList } from '../helpers/changes';
import { resumeRelayOptions } from '../helpers/resumeRelay';
import { serveFetch } from '../helpers/serveFetch';
import { chatData, sseHead, startServer, type Handler, type TestServer } from '../helpers/server';
import { record } from '../helpers/streams';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy';
import { CHAT_BODY, gatedProvider, listen, openStream, rawRequest, type Listening } from './relayHelpers';

let upstream: TestServer | undefined;
let relay: Listening | undefined;
let proxy: TcpProxy | undefined;
let summaries: WatchedList<RelaySummary<Request>>;

afterEach(async () => {
  await proxy?.close();
  await relay?.close();
  await upstream?.close();
  proxy = relay = upstream = undefined;
});

async function start(handler: Handler): Promise<string> {
  upstream = await startServer(handler);
  summaries = watchedList();
  relay = await listen(
    serveFetch(
      createFetchRelay(resumeRelayOptions<Request>(upstream.url, (summary) => summaries.push(summary))),
    ),
  );
  return relay.url;
}

const settledWith = (predicate: (summary: RelaySummary<Request>) => boolean, what: string) => firstMatch(summaries, predicate, what);

function events(text: string): EventSourceMessage[] {
  const found: EventSourceMessage[] = [];
  createParser({ onEvent: (event) => found.push(event) }).feed(text);
  return found;
}

const eventIds = (frames: SseFrame[]) => frames.flatMap((frame) => (frame.type === 'event' ? [frame.id] : []));

describe('createFetchRelay in resume mode', () => {
  test('a streamed answer carries x-stream-id and numbers every event with id: n; comments carry none', async () => {
    const url = await start((_req, res) => {
      sseHead(res);
      res.write(': hello\n\n');
      res.write(chatData('a'));
      res.end('data: [DONE]\n\n');
    });
    const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    expect(String(response.headers['x-stream-id'])).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(response.text).toBe(`: hello\n\n${chatData('a').replace(/\n\n$/, '\nid: 1\n\n')}data: [DONE]\nid: 2\n\n`);
    expect((await settledWith((summary) => summary.route === 'chat/completions', 'the stream')).outcome).toBe('completed');
  });

  test('a connection cut mid-stream: the client re-attaches with Last-Event-ID and gets every frame once; upstream asked once', async () => {
    const provider = gatedProvider(3);
    const url = await start(provider.handler);
    proxy = await startTcpProxy(url);
    const client = buildClient({ baseURL: `${proxy.url}/v1`, apiKey: 'sk-page', transport: undiciTransport() });
    const cut = record(client.chat.completions.events({ model: 'm', messages: [] }, { resume: { initialDelayMs: 0 } }));
    await cut.until(() => cut.values.length === 3, 'a comment, event 1, a comment');
    proxy.cut();
    await proxy.waitForAccepted(2);
    provider.release();
    await cut.done;
    expect(cut.completed).toBe(true);
    expect(upstream?.requests).toHaveLength(1);

    const reattach = await settledWith((summary) => summary.request.method === 'GET', 'the re-attach');
    expect(reattach).toMatchObject({ outcome: 'completed', status: 200 });
    expect(reattach.request.headers.get('last-event-id')).toBe('1');
    const uncut = await lastValueFrom(client.chat.completions.events({ model: 'm', messages: [] }).pipe(toArray()));
    expect(cut.values).toEqual(uncut);
    expect(eventIds(cut.values)).toEqual(['1', '2', '3', '4', '5']);
  });

  test('the cancel route stops the upstream request (its socket closes) and ends the stream with stream_cancelled', async () => {
    const provider = gatedProvider(3);
    const url = await start(provider.handler);
    const original = await openStream(`${url}/v1/chat/completions`, CHAT_BODY);
    await original.waitFor('id: 1');
    const id = String(original.headers['x-stream-id']);
    const cancel = await rawRequest(`${url}/v1/streams/${id}/cancel`, { method: 'POST' });
    expect([cancel.status, cancel.json()]).toEqual([202, { id, object: 'stream', status: 'cancelling' }]);
    await upstream?.waitForClosedSockets(1);
    await original.ended();
    const last = events(original.text()).at(-1);
    expect(JSON.parse(last?.data ?? '{}')).toMatchObject({ error: { code: 'stream_cancelled' } });
    expect((await settledWith((summary) => summary.route === 'chat/completions', 'the generation')).outcome).toBe('cancelled');
  });

  test.each([
    ['GET', '/v1/streams/AAAAAAAAAAAAAAAAAAAAAAAA'],
    ['POST', '/v1/streams/AAAAAAAAAAAAAAAAAAAAAAAA/cancel'],
  ])('%s %s of an unknown id: 404 in OpenAI format', async (method, path) => {
    const url = await start(gatedProvider(0).handler);
    const response = await rawRequest(`${url}${path}`, { method });
    expect(response.status).toBe(404);
    expect(response.json()).toMatchObject({ error: { code: 'stream_not_found', type: expect.any(String) } });
    expect(upstream?.requests).toHaveLength(0);
  });
});
