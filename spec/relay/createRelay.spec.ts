import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import express from 'express';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { APIError, RelayRejection, StreamTimeoutError, type RelaySummary } from '../../src/index.node';
import { createRelay, type NodeRelayOptions } from '../../src/node';
import { memoryResumeStore } from '../../src/resume/memoryResumeStore';
import type { ByteStream } from '../../src/transport/types';
import { undiciTransport } from '../../src/transport/undiciTransport';
import { watchedList } from '../helpers/changes';
import { chatData, sseHead, startServer, type Handler, type TestServer } from '../helpers/server';
import { chunkRecordingTransport } from '../helpers/streams';
import { VirtualClock } from '../helpers/virtualClock';
import {
  CHAT_BODY,
  CHAT_STREAM_PARTS,
  listen,
  nextTurn,
  openStream,
  rawRequest,
  streamParts,
  type Listening,
} from './relayHelpers';

const KEY = 'sk-relay-secret-0123456789';

let upstream: TestServer | undefined;
let relay: Listening | undefined;
let summaries = watchedList<RelaySummary<IncomingMessage>>();
let hookErrors: unknown[] = [];

afterEach(async () => {
  await relay?.close();
  await upstream?.close();
  relay = upstream = undefined;
  summaries = watchedList();
  hookErrors = [];
});

async function start(handler: Handler, options: NodeRelayOptions = {}): Promise<{ upstream: TestServer; url: string }> {
  upstream = await startServer(handler);
  relay = await listen(
    createRelay({
      apiKey: KEY,
      baseURL: upstream.url,
      onSettled: (summary) => summaries.push(summary),
      onError: (error) => hookErrors.push(error),
      ...options,
    }),
  );
  return { upstream, url: relay.url };
}

const settled = async (): Promise<RelaySummary<IncomingMessage>> => {
  await summaries.reaches(1, 'onSettled');
  return summaries[0];
};

function parseFrames(text: string): EventSourceMessage[] {
  const frames: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => frames.push(event) });
  parser.feed(text);
  return frames;
}

describe('streaming', () => {
  test('relays an OpenAI chat stream byte for byte, keep-alive comments included', async () => {
    const { upstream, url } = await start(
      streamParts(CHAT_STREAM_PARTS, {
        'x-request-id': 'req_123',
        'x-ratelimit-remaining-requests': '99',
        'openai-processing-ms': '12',
        'set-cookie': 'session=upstream',
        'x-internal-host': 'gpu-7',
      }),
    );
    const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });

    expect(response.text).toBe(CHAT_STREAM_PARTS.join(''));
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-cache, no-transform');
    expect(response.headers['x-accel-buffering']).toBe('no');
    expect(response.headers['x-request-id']).toBe('req_123');
    expect(response.headers['x-ratelimit-remaining-requests']).toBe('99');
    expect(response.headers['openai-processing-ms']).toBe('12');
    expect(response.headers['set-cookie']).toBeUndefined();
    expect(response.headers['x-internal-host']).toBeUndefined();
    expect(response.headers['content-encoding']).toBeUndefined();

    const sent = upstream.requests[0];
    expect(sent.url).toBe('/chat/completions');
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(JSON.parse(sent.body)).toEqual(CHAT_BODY);

    const summary = await settled();
    expect(summary).toMatchObject({
      outcome: 'completed',
      status: 200,
      route: 'chat/completions',
      model: 'm',
      stream: true,
      requestId: 'req_123',
      frames: CHAT_STREAM_PARTS.length,
      bytes: response.body.byteLength,
      usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
      error: undefined,
    });
    expect(summary.request.url).toBe('/v1/chat/completions');
    expect(JSON.parse(JSON.stringify(summary))).not.toHaveProperty('request');
    expect(summary.timeToFirstByteMs).toBeGreaterThanOrEqual(0);
    expect(summary.durationMs).toBeGreaterThanOrEqual(summary.timeToFirstByteMs ?? 0);
  });

  test('other framings (CRLF, no space after the colon, event and id fields, multi-line data) reach a parser as the same frames', async () => {
    const wire =
      'event: message\r\nid: 1\r\ndata:{"a":1}\r\n\r\n' +
      ':comment without space\r\n\r\n' +
      'data: line one\r\ndata: line two\r\n\r\n' +
      'data:[DONE]\r\n\r\n';
    const { url } = await start(streamParts([wire]));
    const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    expect(parseFrames(response.text)).toEqual(parseFrames(wire));
    expect(parseFrames(response.text)).toHaveLength(3);
  });

  test('relays a Responses stream (event: lines) byte for byte and reports its usage', async () => {
    const completed = {
      type: 'response.completed',
      response: { id: 'resp_1', status: 'completed', usage: { input_tokens: 4, output_tokens: 2, total_tokens: 6 } },
    };
    const parts = [
      `event: response.created\ndata: ${JSON.stringify({ type: 'response.created', response: { id: 'resp_1', usage: null } })}\n\n`,
      `event: response.output_text.delta\ndata: ${JSON.stringify({ type: 'response.output_text.delta', delta: 'Hi' })}\n\n`,
      `event: response.completed\ndata: ${JSON.stringify(completed)}\n\n`,
    ];
    const { upstream, url } = await start(streamParts(parts));
    const body = { model: 'm', input: 'hi', stream: true };
    const response = await rawRequest(`${url}/v1/responses`, { body: JSON.stringify(body) });
    expect(response.text).toBe(parts.join(''));
    expect(upstream.requests[0].url).toBe('/responses');
    expect(await settled()).toMatchObject({ outcome: 'completed', route: 'responses', usage: completed.response.usage });
  });

  test('writes a keep-alive comment after each heartbeatMs upstream is quiet, and only then', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const clock = new VirtualClock();
    const { url } = await start(
      async (_req, res) => {
        sseHead(res);
        res.write(chatData('a'));
        await released;
        res.end('data: [DONE]\n\n');
      },
      { heartbeatMs: 100, scheduler: clock },
    );
    const stream = await openStream(`${url}/v1/chat/completions`, CHAT_BODY);
    await stream.waitFor(chatData('a'));
    for (let beat = 1; beat <= 2; beat++) {
      clock.advanceBy(100);
      await stream.waitFor(chatData('a') + ': keep-alive\n\n'.repeat(beat));
    }
    release();
    await stream.ended();
    // The clock moved twice by heartbeatMs: exactly two keep-alives, between the data.
    expect(stream.text()).toBe(`${chatData('a')}: keep-alive\n\n: keep-alive\n\ndata: [DONE]\n\n`);
    const summary = await settled();
    expect(summary.frames).toBe(2);
    expect(summary.bytes).toBe(Buffer.byteLength(stream.text()));
  });

  test('relays a non-streaming request as JSON with the upstream status and headers', async () => {
    const completion = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    };
    const { upstream, url } = await start((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req_json', 'set-cookie': 'a=b' });
      res.end(JSON.stringify(completion));
    });
    const body = { model: 'm', messages: [] };
    const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(body) });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual(completion);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['x-request-id']).toBe('req_json');
    expect(response.headers['set-cookie']).toBeUndefined();
    expect(upstream.requests[0].headers.accept).toBe('application/json');
    expect(JSON.parse(upstream.requests[0].body)).toEqual(body);
    expect(await settled()).toMatchObject({
      outcome: 'completed',
      stream: false,
      frames: 0,
      bytes: response.body.byteLength,
      usage: completion.usage,
      requestId: 'req_json',
    });
  });

  test('an upstream base URL with a query string (Azure ?api-version=) keeps it after the path, streamed and JSON', async () => {
    const stream = streamParts(CHAT_STREAM_PARTS);
    upstream = await startServer((req, res, recorded) => {
      if (req.headers.accept !== 'application/json') return stream(req, res, recorded);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"object":"chat.completion","choices":[]}');
    });
    relay = await listen(createRelay({ apiKey: KEY, baseURL: `${upstream.url}/openai/deployments/d1?api-version=2024-10-21` }));
    await rawRequest(`${relay.url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    await rawRequest(`${relay.url}/v1/chat/completions`, { body: JSON.stringify({ ...CHAT_BODY, stream: false }) });
    expect(upstream.requests.map((request) => request.url)).toEqual([
      '/openai/deployments/d1/chat/completions?api-version=2024-10-21',
      '/openai/deployments/d1/chat/completions?api-version=2024-10-21',
    ]);
  });

  test('Express: unknown paths go on to the next handler, the relay routes are served', async () => {
    upstream = await startServer(streamParts(CHAT_STREAM_PARTS));
    const app = express();
    app.use(createRelay({ apiKey: KEY, baseURL: upstream.url }));
    app.get('/health', (_req, res) => {
      res.json({ ok: true });
    });
    relay = await listen(app);
    expect((await rawRequest(`${relay.url}/health`, { method: 'GET' })).json()).toEqual({ ok: true });
    const response = await rawRequest(`${relay.url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    expect(response.text).toBe(CHAT_STREAM_PARTS.join(''));
  });

  test('Express: a body parser that ran first is used, its body still checked against maxBodyBytes', async () => {
    upstream = await startServer(streamParts(CHAT_STREAM_PARTS));
    const app = express();
    app.use(express.json({ limit: '5mb' }));
    app.use(createRelay({ apiKey: KEY, baseURL: upstream.url, maxBodyBytes: 1000 }));
    relay = await listen(app);
    const response = await rawRequest(`${relay.url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    expect(response.text).toBe(CHAT_STREAM_PARTS.join(''));
    expect(JSON.parse(upstream.requests[0].body)).toEqual(CHAT_BODY);
    const big = await rawRequest(`${relay.url}/v1/chat/completions`, {
      body: JSON.stringify({ ...CHAT_BODY, padding: 'x'.repeat(2000) }),
    });
    expect(big.status).toBe(413);
    expect(upstream.requests).toHaveLength(1);
  });
});

describe('hostile requests are answered without contacting upstream', () => {
  const neverCalled: Handler = (_req, res) => {
    res.writeHead(500);
    res.end();
  };

  const cases: Array<{
    name: string;
    path?: string;
    request: Parameters<typeof rawRequest>[1];
    status: number;
    code: string;
    param?: string | null;
    headers?: Record<string, string>;
  }> = [
    {
      name: 'a body over maxBodyBytes with content-length',
      request: { body: JSON.stringify({ ...CHAT_BODY, padding: 'x'.repeat(1_100_000) }) },
      status: 413,
      code: 'request_too_large',
      headers: { connection: 'close' },
    },
    {
      name: 'a chunked body over maxBodyBytes',
      request: { body: JSON.stringify({ ...CHAT_BODY, padding: 'x'.repeat(1_100_000) }), chunked: true },
      status: 413,
      code: 'request_too_large',
      headers: { connection: 'close' },
    },
    { name: 'invalid JSON', request: { body: '{"model":' }, status: 400, code: 'invalid_json' },
    {
      name: 'messages that is not an array',
      request: { body: JSON.stringify({ model: 'm', messages: 'hi' }) },
      status: 400,
      code: 'invalid_request_body',
      param: 'messages',
    },
    {
      name: 'a missing model',
      request: { body: JSON.stringify({ messages: [] }) },
      status: 400,
      code: 'invalid_request_body',
      param: 'model',
    },
    {
      name: 'a body that is not an object',
      request: { body: '[1,2]' },
      status: 400,
      code: 'invalid_request_body',
    },
    {
      name: 'a completions request without prompt',
      path: '/v1/completions',
      request: { body: JSON.stringify({ model: 'm' }) },
      status: 400,
      code: 'invalid_request_body',
      param: 'prompt',
    },
    {
      name: 'a Responses request whose input is a number',
      path: '/v1/responses',
      request: { body: JSON.stringify({ model: 'm', input: 3 }) },
      status: 400,
      code: 'invalid_request_body',
      param: 'input',
    },
    {
      name: 'a wrong method',
      request: { method: 'GET' },
      status: 405,
      code: 'method_not_allowed',
      headers: { allow: 'POST' },
    },
    { name: 'an unknown route', path: '/v1/embeddings', request: { body: '{}' }, status: 404, code: 'unknown_url' },
    { name: 'a path outside the prefix', path: '/chat/completions', request: { body: '{}' }, status: 404, code: 'unknown_url' },
  ];

  test.each(cases)('$name → $status', async ({ path, request, status, code, param, headers }) => {
    const { upstream, url } = await start(neverCalled);
    const response = await rawRequest(`${url}${path ?? '/v1/chat/completions'}`, request);
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = response.json() as { error: Record<string, unknown> };
    expect(body).toEqual({
      error: { message: expect.any(String), type: 'invalid_request_error', code, param: param ?? null },
    });
    expect(body.error.message).not.toBe('');
    expect(response.headers).toMatchObject(headers ?? {});
    expect(await settled()).toMatchObject({ outcome: 'rejected', status, frames: 0 });
    expect(upstream.requests).toHaveLength(0);
    expect(upstream.openSockets() + upstream.closedSockets()).toBe(0);
  });

  test('the client Authorization, cookies and hop-by-hop headers never reach upstream', async () => {
    const { upstream, url } = await start(streamParts(CHAT_STREAM_PARTS));
    await rawRequest(`${url}/v1/chat/completions`, {
      body: JSON.stringify(CHAT_BODY),
      headers: {
        authorization: 'Bearer client-token',
        cookie: 'session=client',
        'proxy-authorization': 'Basic client',
        'x-api-key': 'client-key',
        connection: 'keep-alive, x-secret',
        'x-secret': 'hop',
        'keep-alive': 'timeout=5',
      },
    });
    const sent = upstream.requests[0];
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    for (const name of ['cookie', 'proxy-authorization', 'x-api-key', 'x-secret', 'keep-alive']) {
      expect(sent.headers[name]).toBeUndefined();
    }
    expect(JSON.stringify(sent.headers)).not.toMatch(/client/);
  });

  test('allowModels: a model not on the list is answered with 403', async () => {
    const { upstream, url } = await start(neverCalled, { allowModels: ['gpt-4o-mini'] });
    const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    expect(response.status).toBe(403);
    expect(response.json()).toEqual({
      error: {
        message: "The model 'm' is not available through this relay.",
        type: 'invalid_request_error',
        param: 'model',
        code: 'model_not_allowed',
      },
    });
    expect(upstream.requests).toHaveLength(0);
  });

  test('allowModels: an async predicate sees the model and the request', async () => {
    const seen: Array<[string, unknown]> = [];
    const { upstream, url } = await start(streamParts(CHAT_STREAM_PARTS), {
      allowModels: async (model, req) => {
        seen.push([model, req.headers['x-team']]);
        return model === 'm';
      },
    });
    const ok = await rawRequest(`${url}/v1/chat/completions`, {
      body: JSON.stringify(CHAT_BODY),
      headers: { 'x-team': 'a' },
    });
    const refused = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify({ ...CHAT_BODY, model: 'big' }) });
    expect([ok.status, refused.status]).toEqual([200, 403]);
    expect(seen).toEqual([
      ['m', 'a'],
      ['big', undefined],
    ]);
    expect(upstream.requests).toHaveLength(1);
  });

  test('transformRequest rewrites the body sent upstream', async () => {
    const { upstream, url } = await start(streamParts(CHAT_STREAM_PARTS), {
      transformRequest: async (body, req) => ({
        ...body,
        model: 'forced',
        max_tokens: Math.min(Number(body.max_tokens ?? 256), 256),
        user: String(req.headers['x-user']),
      }),
    });
    await rawRequest(`${url}/v1/chat/completions`, {
      body: JSON.stringify({ ...CHAT_BODY, max_tokens: 9000, seed: 7 }),
      headers: { 'x-user': 'u1' },
    });
    expect(JSON.parse(upstream.requests[0].body)).toEqual({ ...CHAT_BODY, model: 'forced', max_tokens: 256, seed: 7, user: 'u1' });
    expect(await settled()).toMatchObject({ outcome: 'completed', model: 'forced' });
  });

  test('transformRequest may reject with a RelayRejection; any other exception is a 500 reported to onError', async () => {
    const { upstream, url } = await start(neverCalled, {
      transformRequest: (body) => {
        if (body.max_tokens !== undefined) {
          throw new RelayRejection({ status: 400, message: 'max_tokens is set by the relay', param: 'max_tokens', code: 'not_allowed' });
        }
        throw new TypeError('bug in the hook');
      },
    });
    const rejected = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify({ ...CHAT_BODY, max_tokens: 1 }) });
    expect(rejected.status).toBe(400);
    expect(rejected.json()).toEqual({
      error: { message: 'max_tokens is set by the relay', type: 'invalid_request_error', param: 'max_tokens', code: 'not_allowed' },
    });
    const failed = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    expect(failed.status).toBe(500);
    expect(failed.json()).toEqual({
      error: { message: 'The relay failed to handle the request.', type: 'server_error', param: null, code: 'relay_error' },
    });
    expect(failed.text).not.toContain('bug in the hook');
    expect(hookErrors).toEqual([new TypeError('bug in the hook')]);
    await summaries.reaches(2, 'two summaries');
    expect(summaries).toHaveLength(2);
    expect(summaries.map((summary) => [summary.outcome, summary.status])).toEqual([
      ['rejected', 400],
      ['rejected', 500],
    ]);
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('the relay failing once the request set out upstream is relay-error, never rejected', () => {
  const RELAY_ERROR = { error: { message: 'The relay failed to handle the request.', type: 'server_error', param: null, code: 'relay_error' } };

  test('a transport that breaks its contract after upstream answered: 500 relay_error, outcome relay-error, reported to onError', async () => {
    const base = undiciTransport();
    const { upstream, url } = await start(streamParts(CHAT_STREAM_PARTS), {
      // Upstream got the request and answered; what the transport hands the relay is not a response.
      transport: async (request) => {
        const response = await base(request);
        response.body.cancel();
        return { ...response, headers: null as unknown as Record<string, string> };
      },
    });
    const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    expect([response.status, response.json()]).toEqual([500, RELAY_ERROR]);
    expect(upstream.requests).toHaveLength(1);
    expect(await settled()).toMatchObject({ outcome: 'relay-error', status: 500 });
    expect(hookErrors).toEqual([expect.any(TypeError)]);
  });

  test('a transport that breaks its contract after the stream started: a relay_error frame, outcome relay-error, reported to onError', async () => {
    const base = undiciTransport();
    const { url } = await start(streamParts(CHAT_STREAM_PARTS), {
      // The body hands over one chunk, then something that is not bytes.
      transport: async (request) => {
        const response = await base(request);
        response.body.cancel();
        const body: ByteStream = {
          read(sink) {
            sink.data(new TextEncoder().encode(CHAT_STREAM_PARTS.slice(0, 2).join('')));
            sink.data(null as unknown as Uint8Array);
          },
          pause: () => undefined,
          resume: () => undefined,
          cancel: () => undefined,
        };
        return { ...response, body };
      },
    });
    const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    expect(response.status).toBe(200);
    expect(response.text).toContain('"code":"relay_error"');
    expect(await settled()).toMatchObject({ outcome: 'relay-error', status: 200 });
    expect(hookErrors).toEqual([expect.any(TypeError)]);
  });

  test('resume mode, a store that cannot create the stream: 500 relay_error, outcome relay-error; upstream is not asked', async () => {
    const store = memoryResumeStore();
    const { upstream, url } = await start(streamParts(CHAT_STREAM_PARTS), {
      resume: { store: { ...store, create: () => Promise.reject(new Error('the store is down')) } },
    });
    const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    expect([response.status, response.json()]).toEqual([500, RELAY_ERROR]);
    expect(upstream.requests).toHaveLength(0);
    expect(await settled()).toMatchObject({ outcome: 'relay-error', status: 500 });
    expect(hookErrors).toEqual([new Error('the store is down')]);
  });
});

describe('upstream failures', () => {
  test('an error status before the stream: same status, JSON body and retry headers; no set-cookie', async () => {
    const errorBody = {
      error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' },
    };
    const { url } = await start((_req, res) => {
      res.writeHead(429, {
        'content-type': 'application/json',
        'retry-after': '7',
        'retry-after-ms': '7000',
        'x-request-id': 'req_429',
        'x-ratelimit-reset-requests': '7s',
        'set-cookie': 'a=b',
      });
      res.end(JSON.stringify(errorBody));
    });
    const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    expect(response.status).toBe(429);
    expect(response.json()).toEqual(errorBody);
    expect(response.headers).toMatchObject({
      'retry-after': '7',
      'retry-after-ms': '7000',
      'x-request-id': 'req_429',
      'x-ratelimit-reset-requests': '7s',
    });
    expect(response.headers['set-cookie']).toBeUndefined();
    const summary = await settled();
    expect(summary).toMatchObject({ outcome: 'upstream-error', status: 429, requestId: 'req_429', frames: 0 });
    expect(summary.error).toBeInstanceOf(APIError);
  });

  test('the API key never appears in a response, even when upstream echoes it', async () => {
    const echo = `Incorrect API key provided: ${KEY}`;
    const { url } = await start((req, res, recorded) => {
      const stream = (JSON.parse(recorded.body) as { stream?: boolean }).stream;
      const route = req.url ?? '';
      if (route.endsWith('/responses')) {
        sseHead(res, { 'x-request-id': KEY });
        res.end(`data: {"type":"error","code":"invalid_api_key","message":"${echo}"}\n\n`);
      } else if (route.endsWith('/completions') && !route.includes('chat')) {
        // An HTML page whose excerpt in the error message cuts the key in half.
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end(`<p>${'x'.repeat(180)} ${KEY} ${'y'.repeat(300)}</p>`);
      } else {
        res.writeHead(401, { 'content-type': 'application/json', 'x-request-id': KEY });
        res.end(JSON.stringify({ error: { message: echo, type: 'invalid_request_error', stream } }));
      }
    });
    const answers = await Promise.all([
      rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) }),
      rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify({ ...CHAT_BODY, stream: false }) }),
      rawRequest(`${url}/v1/responses`, { body: JSON.stringify({ model: 'm', input: 'x', stream: true }) }),
      rawRequest(`${url}/v1/completions`, { body: JSON.stringify({ model: 'm', prompt: 'x' }) }),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([401, 401, 200, 502]);
    for (const answer of answers) {
      expect(answer.text).not.toContain(KEY.slice(0, 8));
      expect(JSON.stringify(answer.headers)).not.toContain(KEY.slice(0, 8));
    }
    // The HTML page is not quoted to the client at all; the other three carry the echo, redacted.
    for (const answer of answers.slice(0, 3)) expect(answer.text).toContain('[redacted]');
    await summaries.reaches(4, 'four summaries');
    expect(summaries).toHaveLength(4);
    const messages = JSON.stringify(summaries.map((summary) => summary.error?.message));
    expect(messages).not.toContain(KEY.slice(0, 8));
    expect(summaries.find((summary) => summary.route === 'completions')?.error?.message).toContain('[redacted]');
    expect(JSON.stringify(summaries)).not.toContain(KEY.slice(0, 8));
  });

  test('an error event in the middle of the stream passes through unchanged and is reported', async () => {
    const parts = [
      chatData('Hel'),
      `data: ${JSON.stringify({ error: { message: 'The server had an error', type: 'server_error', param: null, code: null } })}\n\n`,
    ];
    const { url } = await start(streamParts(parts));
    const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    expect(response.text).toBe(parts.join(''));
    const summary = await settled();
    expect(summary.outcome).toBe('upstream-error');
    expect(summary.error).toBeInstanceOf(APIError);
    expect(summary.error?.message).toBe('The server had an error');
  });

  test('a socket reset in the middle of the stream ends it with one error frame and no [DONE]', async () => {
    const { url } = await start(async (_req, res) => {
      sseHead(res);
      res.write(chatData('Hel'));
      await nextTurn();
      res.socket?.destroy();
    });
    const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    expect(response.status).toBe(200);
    expect(response.text).toBe(
      chatData('Hel') +
        `data: ${JSON.stringify({
          error: {
            message: 'The connection to the upstream API broke before the stream ended.',
            type: 'server_error',
            param: null,
            code: 'upstream_connection_lost',
          },
        })}\n\n`,
    );
    expect(await settled()).toMatchObject({ outcome: 'upstream-error', status: 200, frames: 1 });
  });

  // The limits run on a VirtualClock, moved once the request or the data it waits on reached the relay.
  test('a stall after the stream started ends it with a timeout error frame', async () => {
    const clock = new VirtualClock();
    const { upstream, url } = await start(
      (_req, res) => {
        sseHead(res);
        res.write(chatData('Hel'));
      },
      { timeout: { idleMs: 150 }, scheduler: clock },
    );
    const stream = await openStream(`${url}/v1/chat/completions`, CHAT_BODY);
    await stream.waitFor(chatData('Hel'));
    clock.advanceBy(150);
    await stream.ended();
    const frames = parseFrames(stream.text());
    expect(frames).toHaveLength(2);
    expect(JSON.parse(frames[1].data)).toEqual({
      error: {
        message: 'The upstream API did not answer in time (idle timeout of 150 ms).',
        type: 'server_error',
        param: null,
        code: 'upstream_timeout',
      },
    });
    expect(stream.text()).not.toContain('[DONE]');
    expect(await settled()).toMatchObject({ outcome: 'timeout', status: 200, durationMs: 150 });
    await upstream.waitForClosedSockets(1);
  });

  test('a stall before the response headers is answered with 504', async () => {
    const clock = new VirtualClock();
    const { upstream, url } = await start(() => undefined, { timeout: { headersMs: 150 }, scheduler: clock });
    const answer = rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    await upstream.waitForRequests(1);
    clock.advanceBy(150);
    const response = await answer;
    expect(response.status).toBe(504);
    expect((response.json() as { error: { code: string } }).error.code).toBe('upstream_timeout');
    expect(await settled()).toMatchObject({ outcome: 'timeout', status: 504, durationMs: 150 });
    await upstream.waitForClosedSockets(1);
  });

  test('a non-streaming request that outlasts timeout.totalMs is answered with 504', async () => {
    const clock = new VirtualClock();
    const { upstream, url } = await start(() => undefined, { timeout: { totalMs: 150 }, scheduler: clock });
    const answer = rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify({ model: 'm', messages: [] }) });
    await upstream.waitForRequests(1);
    clock.advanceBy(150);
    const response = await answer;
    expect(response.status).toBe(504);
    expect(await settled()).toMatchObject({ outcome: 'timeout', status: 504, stream: false, durationMs: 150 });
    await upstream.waitForClosedSockets(1);
  });

  const JSON_BODY = { model: 'm', messages: [] };
  /** Upstream's JSON answer, cut where it stalls. */
  const STALLED_JSON = '{"id":"chatcmpl-1","object":"chat.completion","choices":[';

  test.each([
    { name: 'before the response headers', timeout: { headersMs: 150 }, phase: 'headers', headersSent: false },
    { name: 'before the body', timeout: { firstEventMs: 150 }, phase: 'first-event', headersSent: true, body: '' },
    { name: 'in the middle of the body', timeout: { idleMs: 150 }, phase: 'idle', headersSent: true, body: STALLED_JSON },
    {
      name: 'in the middle of the body (idleMs wins over firstEventMs)',
      timeout: { firstEventMs: 60_000, idleMs: 150 },
      phase: 'idle',
      headersSent: true,
      body: STALLED_JSON,
    },
  ])('a non-streaming request whose upstream stalls $name is answered with 504 ($phase)', async ({ timeout, phase, headersSent, body }) => {
    const clock = new VirtualClock();
    const spy = chunkRecordingTransport(undiciTransport());
    const { upstream, url } = await start(
      (_req, res) => {
        if (!headersSent) return;
        res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req_stall' });
        res.flushHeaders();
        if (body) res.write(body);
      },
      { timeout, scheduler: clock, transport: spy.transport },
    );
    const answer = rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(JSON_BODY) });
    // What the relay waits on when the limit fires has reached it: the request, the headers, the first part of the body.
    await upstream.waitForRequests(1);
    if (headersSent) await spy.reads.reaches(1, 'the relay to read the body');
    if (body) await spy.chunks.reaches(1, 'the first part of the body');
    clock.advanceBy(150);
    const response = await answer;
    const timeoutMs = Object.values(timeout).find((ms) => ms === 150);
    expect(response.status).toBe(504);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.json()).toEqual({
      error: {
        message: `The upstream API did not answer in time (${phase} timeout of ${timeoutMs} ms).`,
        type: 'server_error',
        param: null,
        code: 'upstream_timeout',
      },
    });
    expect(response.text).not.toContain('chatcmpl');
    const summary = await settled();
    expect(summary).toMatchObject({ outcome: 'timeout', status: 504, stream: false, frames: 0, durationMs: 150 });
    expect(summary.error).toBeInstanceOf(StreamTimeoutError);
    expect(summary.error).toMatchObject({ phase, timeoutMs });
    await upstream.waitForClosedSockets(1);
  });

  test('idleMs bounds each gap in a non-streaming body, not the whole body', async () => {
    const completion = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', padding: 'x'.repeat(70), choices: [] });
    const pieces = completion.match(/.{1,10}/g) ?? [];
    const clock = new VirtualClock();
    const spy = chunkRecordingTransport(undiciTransport());
    let response: ServerResponse | undefined;
    const { upstream, url } = await start(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        response = res;
      },
      { timeout: { headersMs: 800, idleMs: 800 }, scheduler: clock, transport: spy.transport },
    );
    expect(pieces.length).toBeGreaterThanOrEqual(8);
    const answer = rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(JSON_BODY) });
    await upstream.waitForRequests(1);
    // A gap of 150 ms after each piece reached the relay: longer than idleMs in all, each far shorter.
    for (const [sent, piece] of pieces.entries()) {
      response?.write(piece);
      await spy.chunks.reaches(sent + 1, `piece ${sent + 1}`);
      clock.advanceBy(150);
    }
    response?.end();
    const answered = await answer;
    expect(answered.status).toBe(200);
    expect(answered.text).toBe(completion);
    const summary = await settled();
    expect(summary).toMatchObject({ outcome: 'completed', status: 200, error: undefined, durationMs: pieces.length * 150 });
    expect(summary.durationMs).toBeGreaterThan(800);
  });

  test('a refused connection is answered with 502 naming no host', async () => {
    const closed = await startServer(() => undefined);
    const deadURL = closed.url;
    await closed.close();
    upstream = await startServer(() => undefined);
    relay = await listen(createRelay({ apiKey: KEY, baseURL: deadURL, onSettled: (summary) => summaries.push(summary) }));
    for (const stream of [true, false]) {
      const response = await rawRequest(`${relay.url}/v1/chat/completions`, { body: JSON.stringify({ ...CHAT_BODY, stream }) });
      expect(response.status).toBe(502);
      expect(response.json()).toEqual({
        error: {
          message: 'The relay could not connect to the upstream API.',
          type: 'server_error',
          param: null,
          code: 'upstream_unreachable',
        },
      });
      expect(response.text).not.toContain('127.0.0.1');
    }
    expect(summaries.map((summary) => summary.outcome)).toEqual(['upstream-error', 'upstream-error']);
  });

  test('a non-JSON error page keeps its status and becomes a generic OpenAI error body; only onSettled sees the page', async () => {
    const page = '<html><body>Service Unavailable: lb-internal-7.corp</body></html>';
    const { url } = await start((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end(page);
    });
    for (const stream of [true, false]) {
      const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify({ ...CHAT_BODY, stream }) });
      expect(response.status).toBe(503);
      expect(response.json()).toEqual({
        error: {
          message: 'The upstream server answered 503 with a non-JSON body.',
          type: 'upstream_error',
          param: null,
          code: null,
        },
      });
      expect(response.text).not.toContain('lb-internal');
    }
    await summaries.reaches(2, 'two summaries');
    expect(summaries).toHaveLength(2);
    for (const summary of summaries) {
      expect(summary).toMatchObject({ outcome: 'upstream-error', status: 503 });
      expect(summary.error).toBeInstanceOf(APIError);
      expect(summary.error?.message).toContain('Service Unavailable: lb-internal-7.corp');
    }
  });

  test('a JSON error body that is not an OpenAI error object: its message reaches the client, other JSON does not', async () => {
    const { url } = await start((req, res) => {
      res.writeHead(req.url === '/responses' ? 500 : 422, { 'content-type': 'application/json' });
      res.end(req.url === '/responses' ? '{"upstream":"gpu-7.internal"}' : '{"detail":"max_tokens is too large"}');
    });
    const detail = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    expect(detail.status).toBe(422);
    expect(detail.json()).toEqual({
      error: { message: 'max_tokens is too large', type: 'upstream_error', param: null, code: null },
    });
    const other = await rawRequest(`${url}/v1/responses`, { body: JSON.stringify({ model: 'm', input: 'x', stream: true }) });
    expect(other.status).toBe(500);
    expect(other.json()).toEqual({
      error: { message: 'The upstream server answered 500 without an error message.', type: 'upstream_error', param: null, code: null },
    });
    await summaries.reaches(2, 'two summaries');
    expect(summaries).toHaveLength(2);
    expect(summaries[1].error?.message).toContain('gpu-7.internal');
  });

  test.each([
    { status: 200, body: { error: { message: 'Model overloaded', type: 'server_error', param: null, code: 'overloaded' } } },
    { status: 200, body: { object: 'error', message: 'Model overloaded', type: 'server_error', code: 'overloaded' } },
    { status: 302, body: { error: { message: 'Model overloaded', type: 'server_error', code: 'overloaded' } } },
  ])('a $status answer to a stream request whose body is a JSON error is answered with 502 carrying it', async ({ status, body }) => {
    const { url } = await start((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'req_200' });
      res.end(JSON.stringify(body));
    });
    const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    expect(response.status).toBe(502);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['x-request-id']).toBe('req_200');
    expect(response.json()).toEqual({
      error: { message: 'Model overloaded', type: 'server_error', param: null, code: 'overloaded' },
    });
    const summary = await settled();
    expect(summary).toMatchObject({ outcome: 'upstream-error', status: 502, requestId: 'req_200' });
    expect(summary.error).toBeInstanceOf(APIError);
    expect((summary.error as APIError).status).toBe(status);
  });

  test('a 200 that is not an event stream is answered with 502', async () => {
    const { url } = await start((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('hello');
    });
    const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    expect(response.status).toBe(502);
    expect((response.json() as { error: { code: string } }).error.code).toBe('upstream_protocol_error');
    expect(await settled()).toMatchObject({ outcome: 'upstream-error', status: 502 });
  });

  test('a non-streaming response over maxResponseBytes is answered with 502', async () => {
    const { url } = await start(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ text: 'x'.repeat(5000) }));
      },
      { maxResponseBytes: 1000 },
    );
    const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify({ model: 'm', messages: [] }) });
    expect(response.status).toBe(502);
    expect((response.json() as { error: { code: string } }).error.code).toBe('upstream_response_too_large');
  });

  test.each([
    ['a reset after part of the body', (res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":"chatcmpl-1","choi');
      setImmediate(() => res.destroy());
    }],
    ['a 204 that declares a body it cannot have', (res: ServerResponse) => {
      res.writeHead(204, { 'content-length': '726' });
      res.end();
    }],
  ])('a JSON answer that breaks off after its headers (%s) is a lost connection, not an unreachable upstream', async (_, answer) => {
    const { url } = await start((_req, res) => answer(res));
    const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify({ model: 'm', messages: [] }) });
    expect([response.status, (response.json() as { error: { code: string } }).error.code]).toEqual([502, 'upstream_connection_lost']);
    expect(await settled()).toMatchObject({ outcome: 'upstream-error', status: 502 });
  });
});

describe('the client goes away', () => {
  test('in the middle of the stream: the upstream request is aborted at once', async () => {
    const { upstream, url } = await start((_req, res) => {
      sseHead(res);
      res.write(chatData('Hel'));
    });
    const stream = await openStream(`${url}/v1/chat/completions`, CHAT_BODY);
    await stream.waitFor('Hel');
    stream.abort();
    await upstream.waitForClosedSockets(1);
    expect(await settled()).toMatchObject({ outcome: 'client-closed', status: 200, frames: 1 });
  });

  test('while upstream has not answered: the upstream request is aborted, the summary says 499', async () => {
    const { upstream, url } = await start(() => undefined);
    const client = request(`${url}/v1/chat/completions`, { method: 'POST', agent: false });
    client.on('error', () => undefined);
    client.end(JSON.stringify({ ...CHAT_BODY, stream: false }));
    await upstream.waitForRequests(1);
    client.destroy();
    await upstream.waitForClosedSockets(1);
    expect(await settled()).toMatchObject({ outcome: 'client-closed', status: 499, stream: false });
  });
});

describe('a relay configured the Azure way: headers { api-key }, no apiKey', () => {
  const AZURE_KEY = 'azkey0123456789abcdef0123456789ab';
  const leaked = (text: string) => text.includes(AZURE_KEY.slice(0, 10));

  test('the key upstream echoes never reaches the client or onSettled: before the stream, in it, and in JSON answers', async () => {
    const { upstream, url } = await start(
      (req, res, recorded) => {
        const key = String(req.headers['api-key']);
        const { stream, model } = JSON.parse(recorded.body) as { stream?: boolean; model: string };
        const echo = `Access denied due to invalid subscription key ${key}`;
        if (model === 'in-stream') {
          sseHead(res, { 'x-request-id': key });
          res.write(chatData('Hel'));
          res.end(`data: ${JSON.stringify({ error: { message: echo, type: 'invalid_request_error', code: '401' } })}\n\n`);
        } else if (model === 'html') {
          // The key cut by the excerpt of the error message.
          res.writeHead(502, { 'content-type': 'text/html' });
          res.end(`<p>${'x'.repeat(186)} ${key} ${'y'.repeat(300)}</p>`);
        } else if (model === 'ok' && !stream) {
          res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': key });
          res.end(JSON.stringify({ object: 'chat.completion', choices: [] }));
        } else {
          res.writeHead(401, { 'content-type': 'application/json', 'x-request-id': key });
          res.end(JSON.stringify({ error: { message: echo, type: 'invalid_request_error', code: '401' } }));
        }
      },
      { apiKey: undefined, headers: { 'api-key': AZURE_KEY } },
    );
    const requests = [
      { model: 'denied', stream: true },
      { model: 'denied', stream: false },
      { model: 'in-stream', stream: true },
      { model: 'ok', stream: false },
      { model: 'html', stream: true },
      { model: 'html', stream: false },
    ];
    const answers = await Promise.all(
      requests.map((body) => rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify({ ...body, messages: [] }) })),
    );
    expect(upstream.requests.map((sent) => sent.headers['api-key'])).toEqual(requests.map(() => AZURE_KEY));
    expect(answers.map((answer) => answer.status)).toEqual([401, 401, 200, 200, 502, 502]);
    for (const answer of answers) {
      expect(leaked(answer.text)).toBe(false);
      expect(leaked(JSON.stringify(answer.headers))).toBe(false);
    }
    for (const answer of answers.slice(0, 3)) expect(answer.text).toContain('[redacted]');
    expect(answers[3].headers['x-request-id']).toBe('[redacted]');

    await summaries.reaches(requests.length, 'a summary per request');

    expect(summaries).toHaveLength(requests.length);
    const errors = summaries.map((summary) => summary.error);
    expect(summaries.map((summary) => summary.outcome).sort()).toEqual([
      'completed',
      'upstream-error',
      'upstream-error',
      'upstream-error',
      'upstream-error',
      'upstream-error',
    ]);
    for (const error of errors) {
      if (!error) continue;
      const { body, headers, requestId } = error as APIError;
      expect(leaked(JSON.stringify({ message: error.message, stack: error.stack, body, headers, requestId }))).toBe(false);
    }
    expect(errors.filter((error) => error?.message.includes('[redacted]'))).toHaveLength(5);
    expect(leaked(JSON.stringify(summaries))).toBe(false);
  });

  test('stream and JSON requests go upstream with the same headers but accept', async () => {
    const { upstream, url } = await start(
      (req, res) => {
        res.writeHead(200, { 'content-type': req.headers.accept === 'text/event-stream' ? 'text/event-stream' : 'application/json' });
        res.end(req.headers.accept === 'text/event-stream' ? 'data: [DONE]\n\n' : '{}');
      },
      { apiKey: KEY, headers: { 'api-key': AZURE_KEY, 'OpenAI-Organization': 'org-1' } },
    );
    await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify({ ...CHAT_BODY, stream: false }) });
    const [streamed, json] = upstream.requests.map(({ headers: { accept, 'content-length': _length, ...rest } }) => ({ accept, rest }));
    expect([streamed.accept, json.accept]).toEqual(['text/event-stream', 'application/json']);
    expect(json.rest).toEqual(streamed.rest);
    expect(streamed.rest).toMatchObject({ authorization: `Bearer ${KEY}`, 'api-key': AZURE_KEY, 'openai-organization': 'org-1' });
  });
});

describe('hooks', () => {
  test('onFrame sees every raw frame in order; exceptions in hooks reach onError and nothing else', async () => {
    const seen: string[] = [];
    const { url } = await start(streamParts(CHAT_STREAM_PARTS), {
      onFrame: (frame, context) => {
        seen.push(`${context.route}:${frame.type === 'comment' ? `: ${frame.text}` : frame.data}`);
        throw new Error('onFrame failed');
      },
      onSettled: (summary) => {
        summaries.push(summary);
        throw new Error('onSettled failed');
      },
    });
    const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
    expect(response.text).toBe(CHAT_STREAM_PARTS.join(''));
    expect(seen).toEqual(parseWire(CHAT_STREAM_PARTS).map((line) => `chat/completions:${line}`));
    await settled();
    expect(summaries).toHaveLength(1);
    expect(hookErrors.map((error) => (error as Error).message)).toEqual([
      ...CHAT_STREAM_PARTS.map(() => 'onFrame failed'),
      'onSettled failed',
    ]);
  });
});

/** Each part's payload as onFrame reports it: the data of an event, `: text` of a comment. */
function parseWire(parts: string[]): string[] {
  return parts.map((part) => (part.startsWith(':') ? part.trimEnd() : part.slice('data: '.length).trimEnd()));
}
