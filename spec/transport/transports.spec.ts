import { Agent, type Dispatcher } from 'undici';
import { fetchTransport, readerByteStream } from '../../src/transport/fetchTransport';
import type { ByteSink, PromiseTransport, TransportResponse } from '../../src/transport/types';
import { undiciTransport } from '../../src/transport/undiciTransport';
import { startServer, type TestServer } from '../helpers/server';
import { watchChanges } from '../helpers/changes';
import { TRANSPORTS } from '../helpers/streams';
import { microtasksRun } from '../helpers/virtualClock';
import { clientPolledIo, STACK_TRANSPORTS, watchedStack, type WatchedStack } from '../helpers/watchedStack';

/** Reads a body into `chunks` (as text) and records how it ended; `until` waits on what arrives. */
function readBody(response: TransportResponse) {
  const changes = watchChanges();
  const state = { chunks: [] as string[], ended: false, error: undefined as unknown, until: changes.until };
  const decoder = new TextDecoder();
  const sink: ByteSink = {
    data(chunk) {
      state.chunks.push(decoder.decode(chunk));
      changes.changed();
    },
    end() {
      state.ended = true;
      changes.changed();
    },
    error(error) {
      state.error = error;
      changes.changed();
    },
  };
  response.body.read(sink);
  return state;
}

/** A server whose one stream the test writes to: `send(null)` ends it. */
async function streamingServer(): Promise<{ server: TestServer; send: (text: string | null) => void }> {
  let send: (text: string | null) => void = () => undefined;
  const server = await startServer((req, res) => {
    if (req.url === '/never') return;
    res.writeHead(201, [
      ['Content-Type', 'text/event-stream'],
      ['X-Multi', 'one'],
      ['X-Multi', 'two'],
    ]);
    res.flushHeaders();
    send = (text) => (text === null ? res.end() : res.write(text));
  });
  return { server, send: (text) => send(text) };
}

const openOn = (transport: PromiseTransport, url: string, signal = new AbortController().signal) =>
  transport({ url, method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Custom': 'v' }, body: '{"a":1}', signal });

describe.each(TRANSPORTS)('%s transport', (_name, transport) => {
  let server: TestServer;
  let send: (text: string | null) => void;
  afterEach(() => server?.close());

  beforeEach(async () => {
    ({ server, send } = await streamingServer());
  });

  const open = (path = '/stream', signal?: AbortSignal) => openOn(transport, server.url + path, signal);

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
    await body.until(() => body.chunks.length === 1, 'the first chunk before the response ended');
    send('second');
    await body.until(() => body.chunks.join('') === 'firstsecond', 'the second chunk');
    expect(body.ended).toBe(false);
    send(null);
    await body.until(() => body.ended, 'the end');
    expect(body.error).toBeUndefined();
  });

  test('cancel closes the connection and nothing more reaches the sink', async () => {
    const response = await open();
    const body = readBody(response);
    send('a');
    await body.until(() => body.chunks.length === 1, 'the first chunk');
    response.body.cancel();
    send('b');
    // The connection is closed, so nothing more can arrive; and what the client held was dropped on cancel
    // (a read under way when it came resolves a microtask later, and is dropped too).
    await server.requestSocketsClosed();
    await microtasksRun();
    expect(body.chunks).toEqual(['a']);
    expect(body.error).toBeUndefined();
  });

  test('aborting the signal before the headers rejects and closes the connection', async () => {
    const controller = new AbortController();
    const pending = open('/never', controller.signal);
    await server.waitForRequests(1);
    controller.abort();
    await expect(pending).rejects.toBeDefined();
    await server.requestSocketsClosed();
  });
});

/** A whole exchange on a server and connection of their own (see clientPolledIo). */
async function roundTripElsewhere(): Promise<void> {
  const elsewhere = await startServer((_req, res) => {
    res.end('ok');
  });
  try {
    await clientPolledIo(elsewhere.url);
  } finally {
    await elsewhere.close();
  }
}

describe('pause, on a stack that tells when it handed the body on', () => {
  let stack: WatchedStack;
  let server: TestServer;
  let send: (text: string | null) => void;
  beforeEach(async () => {
    stack = watchedStack();
    ({ server, send } = await streamingServer());
  });
  afterEach(async () => {
    await server.close();
    await stack.close();
  });
  /** A body read until its first chunk, 'a', then paused, and 'b' sent. */
  const pausedAfterA = async (name: (typeof STACK_TRANSPORTS)[number]) => {
    const response = await openOn(stack.transports[name], `${server.url}/stream`);
    const body = readBody(response);
    send('a');
    await body.until(() => body.chunks.length === 1, 'the first chunk');
    response.body.pause();
    send('b');
    return { response, body };
  };

  test('fetch: pause holds every chunk back until resume', async () => {
    const { response, body } = await pausedAfterA('fetch');
    send('c');
    send(null);
    // The HTTP stack handed the whole body on: a reader that was not paused would have it all, and the end.
    await stack.ended(1);
    expect(body.chunks).toEqual(['a']);
    expect(body.ended).toBe(false);
    response.body.resume();
    await body.until(() => body.ended, 'the end after resuming');
    expect(body.chunks.join('')).toBe('abc');
  });

  test('undici: pause stops reading the connection until resume', async () => {
    const { response, body } = await pausedAfterA('undici');
    // 'b', the chunk in flight when pause came, is handed on (and held); 'c' leaves later, as a chunk of its own
    // (writes in one tick may leave as one HTTP chunk).
    await stack.received(2);
    send('c');
    send(null);
    // A whole exchange on another connection: the event loop polled the socket with 'c' and the end waiting on it.
    await roundTripElsewhere();
    expect(body.chunks).toEqual(['a']);
    expect(body.ended).toBe(false);
    // 'c' is still in the socket, not in a buffer of ours.
    expect(stack.bytesHandedOn()).toBe(2);
    response.body.resume();
    await body.until(() => body.ended, 'the end after resuming');
    expect(body.chunks.join('')).toBe('abc');
  });

  test.each(STACK_TRANSPORTS)('%s: cancel while paused closes the connection, and nothing more reaches the sink', async (name) => {
    const { response, body } = await pausedAfterA(name);
    response.body.cancel();
    // A pump left waiting on the ended pause would spin in microtasks: the socket's close (I/O) would never be seen.
    await server.requestSocketsClosed();
    await microtasksRun();
    expect(body.chunks).toEqual(['a']);
    expect(body).toMatchObject({ ended: false, error: undefined });
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
    await body.until(() => body.ended, 'the end');
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
