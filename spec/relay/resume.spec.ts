import type { IncomingMessage } from 'node:http';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { RelaySummary } from '../../src/index.node';
import { createRelay, type NodeRelayOptions } from '../../src/node';
import { resumeRelayOptions } from '../helpers/resumeRelay';
import { chatData, sseHead, startServer, type Handler, type TestServer } from '../helpers/server';
import { CHAT_BODY, listen, openResponse, openStream, rawRequest, type Listening } from './relayHelpers';

let upstream: TestServer | undefined;
let relay: Listening | undefined;
let summaries: RelaySummary<IncomingMessage>[];
let waiters: Array<() => void>;

beforeEach(() => {
  summaries = [];
  waiters = [];
});

afterEach(async () => {
  await relay?.close();
  await upstream?.close();
  relay = upstream = undefined;
});

const summaryCount = (count: number) =>
  new Promise<RelaySummary<IncomingMessage>[]>((resolve) => {
    const check = () => (summaries.length >= count ? resolve(summaries) : waiters.push(check));
    check();
  });

async function start(handler: Handler, options: NodeRelayOptions = {}): Promise<string> {
  upstream = await startServer(handler);
  relay = await listen(
    createRelay({
      ...resumeRelayOptions<IncomingMessage>(upstream.url, (summary) => {
        summaries.push(summary);
        for (const waiter of waiters.splice(0)) waiter();
      }),
      ...options,
    }),
  );
  return relay.url;
}

function events(text: string): EventSourceMessage[] {
  const found: EventSourceMessage[] = [];
  createParser({ onEvent: (event) => found.push(event) }).feed(text);
  return found;
}

/** A provider that answers with `count` content chunks, then a finish chunk and [DONE]. */
const chatOf =
  (count: number): Handler =>
  (_req, res) => {
    sseHead(res);
    for (let n = 1; n <= count; n++) res.write(chatData(`t${n} `));
    res.end(`${chatData('', 'stop')}data: [DONE]\n\n`);
  };

describe('resume mode: a streamed answer', () => {
  test('carries x-stream-id and numbers every event with id: n; comments carry none; nothing else changes', async () => {
    const url = await start((_req, res) => {
      sseHead(res);
      res.write(': hello\n\n');
      res.write(chatData('a'));
      res.write('data: b\r\n\r\n');
      res.end('data: [DONE]\n\n');
    });
    const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    const id = String(response.headers['x-stream-id']);
    expect(id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(response.text).toBe(`: hello\n\n${chatData('a').replace(/\n\n$/, '\nid: 1\n\n')}data: b\r\nid: 2\r\n\r\ndata: [DONE]\nid: 3\n\n`);
    expect((await summaryCount(1))[0]).toMatchObject({ outcome: 'completed', frames: 4 });
  });

  test.each([
    ['the start', 0, ['t1 ', 't2 ', 't3 ', '', '[DONE]']],
    ['the middle', 2, ['t3 ', '', '[DONE]']],
    ['the last event', 5, []],
  ])('resumed after %s (Last-Event-ID %i): exactly the frames after it, then the ending', async (_where, after, expected) => {
    const url = await start(chatOf(3));
    const first = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    const id = String(first.headers['x-stream-id']);
    const resumed = await rawRequest(`${url}/v1/streams/${id}`, { method: 'GET', headers: { 'last-event-id': String(after) } });
    expect(resumed.status).toBe(200);
    const data = events(resumed.text).map((event) => (event.data === '[DONE]' ? event.data : (JSON.parse(event.data) as { choices: Array<{ delta: { content: string } }> }).choices[0].delta.content));
    expect(data).toEqual(expected);
    expect(events(resumed.text).map((event) => Number(event.id))).toEqual(expected.map((_, index) => after + index + 1));
    const viaQuery = await rawRequest(`${url}/v1/streams/${id}?after=${after}`, { method: 'GET' });
    expect(viaQuery.text).toBe(resumed.text);
  });

  test('a reader attached while the generation runs gets the stored frames, then the live ones, then the end', async () => {
    let more: (text: string) => void = () => undefined;
    let end: () => void = () => undefined;
    const url = await start((_req, res) => {
      sseHead(res);
      res.write(chatData('a'));
      more = (text) => res.write(text);
      end = () => res.end('data: [DONE]\n\n');
    });
    const original = await openStream(`${url}/v1/chat/completions`, CHAT_BODY);
    await original.waitFor('id: 1');
    const id = String(original.headers['x-stream-id']);
    const follower = await openResponse(`${url}/v1/streams/${id}`, { headers: { 'last-event-id': '0' } });
    await follower.waitFor('id: 1');
    more(chatData('b'));
    await follower.waitFor('id: 2');
    end();
    await Promise.all([original.ended(), follower.ended()]);
    expect(follower.text()).toBe(original.text());
  });

  test('the client leaving does not stop the generation; a reader re-attaching gets the whole answer', async () => {
    let finish: () => void = () => undefined;
    const url = await start((_req, res) => {
      sseHead(res);
      res.write(chatData('a'));
      finish = () => res.end(`${chatData('b', 'stop')}data: [DONE]\n\n`);
    });
    const original = await openStream(`${url}/v1/chat/completions`, CHAT_BODY);
    await original.waitFor('id: 1');
    const id = String(original.headers['x-stream-id']);
    original.abort();
    finish();
    const [summary] = await summaryCount(1);
    expect(summary.outcome).toBe('completed');
    expect(upstream?.closedSockets()).toBe(0);
    const resumed = await rawRequest(`${url}/v1/streams/${id}`, { method: 'GET', headers: { 'last-event-id': '1' } });
    expect(events(resumed.text).map((event) => event.id)).toEqual(['2', '3']);
  });
});

describe('resume mode: cancel and abandon', () => {
  test('a cancel stops the upstream request and ends every reader with one stream_cancelled error frame', async () => {
    const url = await start((_req, res) => {
      sseHead(res);
      res.write(chatData('a'));
    });
    const original = await openStream(`${url}/v1/chat/completions`, CHAT_BODY);
    await original.waitFor('id: 1');
    const id = String(original.headers['x-stream-id']);
    const follower = await openResponse(`${url}/v1/streams/${id}`);
    await follower.waitFor('id: 1');
    const cancel = await rawRequest(`${url}/v1/streams/${id}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(202);
    expect(cancel.json()).toEqual({ id, object: 'stream', status: 'cancelling' });
    await upstream?.waitForClosedSockets(1);
    await Promise.all([original.ended(), follower.ended()]);
    for (const stream of [original, follower]) {
      const last = events(stream.text()).at(-1);
      expect(JSON.parse(last?.data ?? '{}')).toMatchObject({ error: { code: 'stream_cancelled' } });
      expect(events(stream.text()).filter((event) => event.data.includes('stream_cancelled'))).toHaveLength(1);
    }
    const summary = (await summaryCount(3)).find((each) => each.route === 'chat/completions');
    expect(summary?.outcome).toBe('cancelled');
    const again = await rawRequest(`${url}/v1/streams/${id}/cancel`, { method: 'POST' });
    expect([again.status, (again.json() as { error: { code: string } }).error.code]).toEqual([409, 'stream_already_finished']);
  });

  test('a dropped client with nobody re-attaching: upstream aborted after abandonAfterMs', async () => {
    const url = await start(
      (_req, res) => {
        sseHead(res);
        res.write(chatData('a'));
      },
      { resume: { abandonAfterMs: 100 } },
    );
    const original = await openStream(`${url}/v1/chat/completions`, CHAT_BODY);
    await original.waitFor('id: 1');
    original.abort();
    await upstream?.waitForClosedSockets(1);
    expect((await summaryCount(1))[0].outcome).toBe('abandoned');
  });
});

describe('resume mode: hostile input', () => {
  test.each([
    ['an unknown id', '/v1/streams/AAAAAAAAAAAAAAAAAAAAAAAA', {}, 404, 'stream_not_found'],
    ['a malformed id', '/v1/streams/..%2F..', {}, 404, 'stream_not_found'],
    ['an overlong id', `/v1/streams/${'a'.repeat(5000)}`, {}, 404, 'stream_not_found'],
    ['a negative Last-Event-ID', '/v1/streams/ID', { 'last-event-id': '-1' }, 400, 'invalid_last_event_id'],
    ['a huge Last-Event-ID', '/v1/streams/ID', { 'last-event-id': '99999999999999999999' }, 400, 'invalid_last_event_id'],
    ['a Last-Event-ID that is not a number', '/v1/streams/ID', { 'last-event-id': 'abc' }, 400, 'invalid_last_event_id'],
    ['a Last-Event-ID past the last event', '/v1/streams/ID', { 'last-event-id': '999' }, 400, 'invalid_last_event_id'],
  ])('%s is answered in OpenAI format', async (_name, path, headers, status, code) => {
    const url = await start(chatOf(1));
    const first = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    const id = String(first.headers['x-stream-id']);
    const response = await rawRequest(`${url}${path.replace('ID', id)}`, { method: 'GET', headers });
    expect(response.status).toBe(status);
    expect(response.json()).toMatchObject({ error: { code, type: expect.any(String) } });
  });

  test('userOf ties a stream to its user: another user gets 404 for resume and cancel', async () => {
    const url = await start(chatOf(1), { resume: { userOf: (request) => String(request.headers['x-user'] ?? '') || undefined } });
    const first = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY), headers: { 'x-user': 'alice' } });
    const id = String(first.headers['x-stream-id']);
    for (const [method, path] of [['GET', `/v1/streams/${id}`], ['POST', `/v1/streams/${id}/cancel`]]) {
      expect((await rawRequest(`${url}${path}`, { method, headers: { 'x-user': 'mallory' } })).status).toBe(404);
      expect((await rawRequest(`${url}${path}`, { method })).status).toBe(404);
    }
    expect((await rawRequest(`${url}/v1/streams/${id}`, { method: 'GET', headers: { 'x-user': 'alice' } })).status).toBe(200);
  });
});
