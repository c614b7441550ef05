import { createFetchRelay as createBrowserFetchRelay } from '../../src/index';
import { createFetchRelay, type FetchRelayOptions, type RelaySummary } from '../../src/index.node';
import { watchedList } from '../helpers/changes';
import { startServer, type Handler, type TestServer } from '../helpers/server';
import { CHAT_BODY, CHAT_STREAM_PARTS, chatProvider, hangAfterOneFrame, readUntil, streamParts } from './relayHelpers';

const KEY = 'sk-relay-secret-0123456789';

let upstream: TestServer | undefined;
let summaries = watchedList<RelaySummary<Request>>();

afterEach(async () => {
  await upstream?.close();
  upstream = undefined;
  summaries = watchedList();
});

const settled = async (): Promise<RelaySummary<Request>> => {
  await summaries.reaches(1, 'onSettled');
  return summaries[0];
};

async function start(handler: Handler, options: FetchRelayOptions = {}) {
  upstream = await startServer(handler);
  const relay = createFetchRelay({
    apiKey: KEY,
    baseURL: upstream.url,
    onSettled: (summary) => summaries.push(summary),
    ...options,
  });
  return { upstream, relay };
}

function post(path: string, body: unknown, init: RequestInit = {}): Request {
  return new Request(`http://relay.test${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
}

describe('createFetchRelay', () => {
  test('relays a chat stream byte for byte with the stream headers, the request id and no set-cookie', async () => {
    const { upstream, relay } = await start(
      streamParts(CHAT_STREAM_PARTS, { 'x-request-id': 'req_1', 'x-ratelimit-limit-tokens': '10', 'set-cookie': 'a=b' }),
    );
    const response = await relay(post('/v1/chat/completions', CHAT_BODY, { headers: { authorization: 'Bearer client' } }));
    expect(Buffer.from(await response.arrayBuffer()).toString('utf8')).toBe(CHAT_STREAM_PARTS.join(''));
    expect(response.status).toBe(200);
    expect(Object.fromEntries(response.headers)).toEqual({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      'x-request-id': 'req_1',
      'x-ratelimit-limit-tokens': '10',
    });
    expect(upstream.requests[0].headers.authorization).toBe(`Bearer ${KEY}`);
    expect(await settled()).toMatchObject({
      outcome: 'completed',
      frames: CHAT_STREAM_PARTS.length,
      usage: { total_tokens: 8 },
      requestId: 'req_1',
    });
  });

  test('the browser entry (fetch transport) relays byte for byte and aborts upstream when the stream is cancelled', async () => {
    upstream = await startServer(chatProvider());
    const relay = createBrowserFetchRelay({ apiKey: KEY, baseURL: upstream.url });
    const whole = await relay(post('/v1/chat/completions', CHAT_BODY));
    expect(await whole.text()).toBe(CHAT_STREAM_PARTS.join(''));

    const response = await relay(post('/v1/chat/completions', { ...CHAT_BODY, model: 'hang' }));
    const { reader } = await readUntil(response, 'Hel');
    const closedBefore = upstream.closedSockets();
    await reader.cancel();
    await upstream.waitForClosedSockets(closedBefore + 1);
  });

  test('a non-streaming request is relayed as JSON', async () => {
    const completion = { id: 'c', object: 'chat.completion', choices: [], usage: { total_tokens: 2 } };
    const { relay } = await start((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(completion));
    });
    const response = await relay(post('/v1/chat/completions', { model: 'm', messages: [] }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(completion);
    expect(await settled()).toMatchObject({ outcome: 'completed', stream: false, usage: { total_tokens: 2 } });
  });

  test.each([
    ['undici', createFetchRelay],
    ['fetch', createBrowserFetchRelay],
  ])('a non-streaming answer whose body stalls is answered with 504 (%s transport)', async (_transport, create) => {
    upstream = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":"c","object":"chat.completion","choices":[');
    });
    const relay = create({
      apiKey: KEY,
      baseURL: upstream.url,
      timeout: { idleMs: 150 },
      onSettled: (summary) => summaries.push(summary as RelaySummary<Request>),
    });
    const response = await relay(post('/v1/chat/completions', { model: 'm', messages: [] }));
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ error: { code: 'upstream_timeout', type: 'server_error' } });
    expect(await settled()).toMatchObject({ outcome: 'timeout', status: 504, error: { phase: 'idle', timeoutMs: 150 } });
    await upstream.waitForClosedSockets(1);
  });

  test('aborting request.signal in the middle of the stream aborts upstream at once', async () => {
    const { upstream, relay } = await start(hangAfterOneFrame);
    const controller = new AbortController();
    const response = await relay(post('/v1/chat/completions', CHAT_BODY, { signal: controller.signal }));
    await readUntil(response, 'Hel');
    controller.abort();
    await upstream.waitForClosedSockets(1);
    expect(await settled()).toMatchObject({ outcome: 'client-closed', status: 200, frames: 1 });
  });

  test('cancelling the response body aborts upstream at once', async () => {
    const { upstream, relay } = await start(hangAfterOneFrame);
    const response = await relay(post('/v1/chat/completions', CHAT_BODY));
    const { reader } = await readUntil(response, 'Hel');
    await reader.cancel();
    await upstream.waitForClosedSockets(1);
    expect(await settled()).toMatchObject({ outcome: 'client-closed' });
  });

  test('aborting before upstream answered resolves with 499 and aborts upstream', async () => {
    const { upstream, relay } = await start(() => undefined);
    const controller = new AbortController();
    const pending = relay(post('/v1/chat/completions', CHAT_BODY, { signal: controller.signal }));
    await upstream.waitForRequests(1);
    controller.abort();
    expect((await pending).status).toBe(499);
    await upstream.waitForClosedSockets(1);
    expect(await settled()).toMatchObject({ outcome: 'client-closed', status: 499 });
  });

  test('an upstream error status passes through with its body and retry headers', async () => {
    const errorBody = { error: { message: 'Slow down', type: 'requests', param: null, code: 'rate_limit_exceeded' } };
    const { relay } = await start((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3', 'set-cookie': 'a=b' });
      res.end(JSON.stringify(errorBody));
    });
    const response = await relay(post('/v1/chat/completions', CHAT_BODY));
    expect(response.status).toBe(429);
    expect(await response.json()).toEqual(errorBody);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  test('serves a custom prefix', async () => {
    const { relay } = await start(streamParts(CHAT_STREAM_PARTS), { prefix: '/api/v1/' });
    expect((await relay(post('/api/v1/chat/completions', CHAT_BODY))).status).toBe(200);
    expect((await relay(post('/v1/chat/completions', CHAT_BODY))).status).toBe(404);
  });

  describe('rejects without contacting upstream', () => {
    const big = JSON.stringify({ ...CHAT_BODY, padding: 'x'.repeat(2000) });
    const streamedBody = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode(big.slice(i * 300, (i + 1) * 300)));
          controller.enqueue(new TextEncoder().encode(big.slice(3000)));
          controller.close();
        },
      });
    const cases: Array<[string, number, string, () => Request]> = [
      [
        'a body declared over maxBodyBytes',
        413,
        'request_too_large',
        () => post('/v1/chat/completions', big, { headers: { 'content-length': String(big.length) } }),
      ],
      ['a body over maxBodyBytes', 413, 'request_too_large', () => post('/v1/chat/completions', big)],
      [
        'a streamed body over maxBodyBytes (no content-length)',
        413,
        'request_too_large',
        () =>
          new Request('http://relay.test/v1/chat/completions', {
            method: 'POST',
            body: streamedBody(),
            duplex: 'half',
          } as RequestInit),
      ],
      ['invalid JSON', 400, 'invalid_json', () => post('/v1/chat/completions', '{')],
      ['an invalid body', 400, 'invalid_request_body', () => post('/v1/chat/completions', { model: 'm' })],
      ['a wrong method', 405, 'method_not_allowed', () => new Request('http://relay.test/v1/chat/completions')],
      ['an unknown route', 404, 'unknown_url', () => post('/v1/embeddings', {})],
    ];

    test.each(cases)('%s → %i', async (_name, status, code, request) => {
      const { upstream, relay } = await start(() => undefined, { maxBodyBytes: 1000 });
      const response = await relay(request());
      expect(response.status).toBe(status);
      const { error } = (await response.json()) as { error: Record<string, unknown> };
      expect(error).toMatchObject({ type: 'invalid_request_error', code });
      expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param', 'type']);
      if (status === 405) expect(response.headers.get('allow')).toBe('POST');
      expect(await settled()).toMatchObject({ outcome: 'rejected', status });
      expect(upstream.openSockets() + upstream.closedSockets()).toBe(0);
    });
  });
});
