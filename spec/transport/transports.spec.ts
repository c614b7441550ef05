import { Agent, type Dispatcher } from 'undici';
import { fetchTransport, readerByteStream } from '../../src/transport/fetchTransport';
import type { ByteSink, TransportResponse } from '../../src/transport/types';
import { undiciTransport } from '../../src/transport/undiciTransport';
import { startServer, type TestServer } from '../helpers/server';
import { TRANSPORTS, settle, waitUntil } from '../helpers/streams';

/** Reads a body into `chunks` (as text) and records how it ended. */
function readBody(response: TransportResponse) {
  const state = { chunks: [] as string[], ended: false, error: undefined as unknown };
  const decoder = new TextDecoder();
  const sink: ByteSink = {
    data: (chunk) => state.chunks.push(decoder.decode(chunk)),
    end: () => (state.ended = true),
    error: (error) => (state.error = error),
  };
  response.body.read(sink);
  return state;
}

describe.each(TRANSPORTS)('%s transport', (_name, transport) => {
  let server: TestServer;
  let send: (text: string | null) => void = () => undefined;
  afterEach(() => server?.close());

  beforeEach(async () => {
    server = await startServer((req, res) => {
      if (req.url === '/never') return;
      res.writeHead(201, [
        ['Content-Type', 'text/event-stream'],
        ['X-Multi', 'one'],
        ['X-Multi', 'two'],
      ]);
      res.flushHeaders();
      send = (text) => (text === null ? res.end() : res.write(text));
    });
  });

  const open = (path = '/stream', signal = new AbortController().signal) =>
    transport({ url: server.url + path, method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Custom': 'v' }, body: '{"a":1}', signal });

  test('sends the request as given and reports status and lower-case headers', async () => {
    const response = await open();
    expect(response.status).toBe(201);
    expect(response.headers['content-type']).toBe('text/event-stream');
    expect(response.headers['x-multi']).toBe('one, two');
    const [request] = server.requests;
    expect(request).toMatchObject({ method: 'POST', url: '/stream', body: '{"a":1}' });
    expect(request.headers).toMatchObject({ 'content-type': 'application/json', 'x-custom': 'v' });
    response.body.cancel();
  });

  test('streams the body as it arrives, and ends', async () => {
    const body = readBody(await open());
    send('first');
    await waitUntil(() => body.chunks.length === 1, 'the first chunk before the response ended');
    send('second');
    await waitUntil(() => body.chunks.join('') === 'firstsecond', 'the second chunk');
    expect(body.ended).toBe(false);
    send(null);
    await waitUntil(() => body.ended, 'the end');
    expect(body.error).toBeUndefined();
  });

  test('pause holds every chunk back until resume', async () => {
    const response = await open();
    const body = readBody(response);
    send('a');
    await waitUntil(() => body.chunks.length === 1, 'the first chunk');
    response.body.pause();
    send('b');
    await settle();
    send('c');
    send(null);
    await settle(10);
    expect(body.chunks).toEqual(['a']);
    expect(body.ended).toBe(false);
    response.body.resume();
    await waitUntil(() => body.ended, 'the end after resuming');
    expect(body.chunks.join('')).toBe('abc');
  });

  test('cancel closes the connection and nothing more reaches the sink', async () => {
    const response = await open();
    const body = readBody(response);
    send('a');
    await waitUntil(() => body.chunks.length === 1, 'the first chunk');
    response.body.cancel();
    send('b');
    await waitUntil(() => server.openRequestSockets() === 0, 'the socket to close');
    await settle();
    expect(body.chunks).toEqual(['a']);
    expect(body.error).toBeUndefined();
  });

  test('aborting the signal before the headers rejects and closes the connection', async () => {
    const controller = new AbortController();
    const pending = open('/never', controller.signal);
    await server.waitForRequests(1);
    controller.abort();
    await expect(pending).rejects.toBeDefined();
    await waitUntil(() => server.openRequestSockets() === 0, 'the socket to close');
  });
});

test('undiciTransport uses the dispatcher it is given', async () => {
  const server = await startServer((_req, res) => {
    res.end('ok');
  });
  const agent = new Agent();
  let dispatched = 0;
  const counting = agent.compose((dispatch: Dispatcher['dispatch']) => (options, handler) => {
    dispatched++;
    return dispatch(options, handler);
  });
  try {
    const response = await undiciTransport({ dispatcher: counting })({ url: server.url, method: 'GET', headers: {}, signal: new AbortController().signal });
    const body = readBody(response);
    await waitUntil(() => body.ended, 'the end');
    expect(body.chunks.join('')).toBe('ok');
    expect(dispatched).toBe(1);
  } finally {
    await agent.close();
    await server.close();
  }
});

test('fetchTransport uses the fetch it is given, and a response without a body ends at once', async () => {
  const calls: string[] = [];
  const fakeFetch = (async (url: string) => {
    calls.push(url);
    return new Response(null, { status: 204, headers: { 'X-A': '1' } });
  }) as typeof fetch;
  const response = await fetchTransport({ fetch: fakeFetch })({ url: 'http://127.0.0.1:9/x', method: 'POST', headers: {}, signal: new AbortController().signal });
  expect(calls).toEqual(['http://127.0.0.1:9/x']);
  expect(response).toMatchObject({ status: 204, headers: { 'x-a': '1' } });
  const body = readBody(response);
  expect(body.ended).toBe(true);
  expect(readBody({ ...response, body: readerByteStream(null) }).ended).toBe(true);
});
