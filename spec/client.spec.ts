import { inspect } from 'node:util';
import { lastValueFrom, toArray } from 'rxjs';
import { buildClient, DEFAULT_BASE_URL } from '../src/client';
import {
  APIConnectionError,
  APIError,
  InvalidRequestError,
  OpenAIRxError,
  StreamAbortError,
  StreamProtocolError,
  StreamTimeoutError,
  StreamTruncatedError,
} from '../src/errors';
import { chatData, sseHead, startServer, type TestServer } from './helpers/server';
import { TRANSPORTS, errorOf } from './helpers/streams';

const params = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };

describe.each(TRANSPORTS)('client over %s', (_name, transport) => {
  let server: TestServer;
  afterEach(() => server?.close());

  test('chat.completions.events sends the request and gives the raw frames, comments included', async () => {
    server = await startServer((_req, res) => {
      sseHead(res);
      res.end(`: hello\n\n${chatData('a', 'stop')}data: [DONE]\n\n`);
    });
    const client = buildClient({ baseURL: `${server.url}/v1/`, apiKey: 'sk-abc', headers: { 'x-team': 'a' }, transport });
    const frames = await lastValueFrom(
      client.chat.completions.events({ ...params, temperature: 0 }, { headers: { 'x-team': 'b', 'x-trace': '1' } }).pipe(toArray()),
    );
    expect(frames.map((frame) => frame.type)).toEqual(['comment', 'event', 'event']);
    const [request] = server.requests;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/v1/chat/completions');
    expect(JSON.parse(request.body)).toEqual({ ...params, temperature: 0, stream: true });
    expect(request.headers).toMatchObject({
      authorization: 'Bearer sk-abc',
      'content-type': 'application/json',
      accept: 'text/event-stream',
      'x-team': 'b',
      'x-trace': '1',
    });
  });

  test('client.sse posts any body to any path', async () => {
    server = await startServer((_req, res) => {
      sseHead(res);
      res.end('event: ping\ndata: {}\n\n');
    });
    const client = buildClient({ baseURL: server.url, transport });
    const frames = await lastValueFrom(client.sse('custom/stream', { anything: [1, 2] }).pipe(toArray()));
    expect(frames).toEqual([{ type: 'event', event: 'ping', data: '{}' }]);
    expect(server.requests[0].url).toBe('/custom/stream');
    expect(JSON.parse(server.requests[0].body)).toEqual({ anything: [1, 2] });
    expect(server.requests[0].headers.authorization).toBeUndefined();
  });

  test('per-request timeouts override the client defaults one by one, and maxEventSize too', async () => {
    server = await startServer((req, res) => {
      sseHead(res);
      if (req.url === '/big') res.write(`data: ${'x'.repeat(2000)}\n\n`);
      // Otherwise: headers, then silence.
    });
    const client = buildClient({ baseURL: server.url, transport, timeout: { firstEventMs: 60_000, totalMs: 60_000 }, maxEventSize: 1 << 20 });
    const timeout = (await errorOf(client.sse('/quiet', {}, { timeout: { firstEventMs: 100 } }))) as StreamTimeoutError;
    expect(timeout).toBeInstanceOf(StreamTimeoutError);
    expect(timeout.phase).toBe('first-event');
    const tooLarge = (await errorOf(client.sse('/big', {}, { maxEventSize: 1000 }))) as StreamProtocolError;
    expect(tooLarge.problem).toBe('event-too-large');
  });
});

test('the default base URL is OpenAI', () => {
  const client = buildClient({ transport: () => Promise.reject(new Error('unused')) });
  expect(client.baseURL).toBe(DEFAULT_BASE_URL);
});

describe('the API key never appears in an error', () => {
  const KEY = 'sk-rx-9f8e7d6c5b4a39281706f5e4d3c2b1a0';
  const AZURE_KEY = '0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f';
  let server: TestServer;
  let refusedUrl: string;

  beforeAll(async () => {
    const refused = await startServer(() => undefined);
    refusedUrl = refused.url;
    await refused.close();
    // Each case, chosen by the x-case header or by a path beginning /case/<name>/, echoes the credential the request carried.
    server = await startServer((req, res) => {
      const key = (req.headers.authorization ?? '').replace('Bearer ', '') || String(req.headers['api-key']);
      const echo = `The key ${key} is not valid`;
      const padded = (position: number) => `${'p'.repeat(position)}${key}${'q'.repeat(50)}`;
      switch (req.headers['x-case'] ?? /^\/case\/([^/]+)\//.exec(req.url ?? '')?.[1]) {
        case '401':
          res.writeHead(401, { 'content-type': 'application/json', 'x-echo': key });
          res.end(JSON.stringify({ error: { message: echo, type: 'invalid_request_error', code: 'invalid_api_key', param: key } }));
          return;
        case '500-html':
          // The key sits across the end of the excerpt that goes into the message.
          res.writeHead(500, { 'content-type': 'text/html' });
          res.end(`<html><body>${padded(175)}</body></html>`);
          return;
        case '200-html':
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end(`<p>${echo}</p>`);
          return;
        case 'in-stream':
          sseHead(res);
          res.end(`${chatData('a')}data: ${JSON.stringify({ error: { message: echo, type: 'auth', param: key } })}\n\n`);
          return;
        case 'event-error':
          sseHead(res);
          res.end(`event: error\ndata: ${echo}\n\n`);
          return;
        case 'non-json':
          sseHead(res);
          res.end(`data: ${echo}\n\n`);
          return;
        case 'non-json-cut':
          // The key sits across the end of the data excerpt in the message.
          sseHead(res);
          res.end(`data: ${padded(110)}\n\n`);
          return;
        case 'bad-chunk':
          sseHead(res);
          res.end(`data: {"choices":"${key}"}\n\n`);
          return;
        case 'truncated':
          sseHead(res);
          res.end(chatData(echo));
          return;
        case 'oversize':
          sseHead(res);
          res.end(`data: ${key.repeat(100)}\n\n`);
          return;
        case 'reset':
          sseHead(res);
          res.write(chatData(echo));
          setTimeout(() => res.socket?.destroy(), 10);
          return;
        default:
          // Stalls after one chunk.
          sseHead(res);
          res.write(chatData(echo));
      }
    });
  });
  afterAll(() => server.close());

  /** Every way an error is shown; no 8 characters of the key in a row may appear in any. */
  const expectClean = (what: string, error: unknown, key: string) => {
    const renderings = [(error as Error).message, String(error), JSON.stringify(error), inspect(error, { depth: 10 }), (error as Error).stack ?? ''];
    for (const text of renderings) {
      for (let start = 0; start + 8 <= key.length; start++) {
        const piece = key.slice(start, start + 8);
        if (text.includes(piece)) throw new Error(`${what}: "${piece}" of the key appears in: ${text}`);
      }
    }
  };

  type ErrorClass = abstract new (...args: never[]) => OpenAIRxError;

  /*
   * A call with headers of its own is redacted of the credentials of its merged headers; a call without is
   * redacted by the client's shared redactor. Routing the case by a header exercises the first; by the path, the
   * second (a client whose base URL names the case).
   */
  type Routing = 'header' | 'path';
  describe.each(TRANSPORTS)('over %s', (_name, transport) => {
    test.each([
      ['apiKey', { apiKey: KEY }, KEY, 'header'],
      ["Azure's api-key header", { headers: { 'api-key': AZURE_KEY } }, AZURE_KEY, 'header'],
      ['apiKey, calls without headers of their own', { apiKey: KEY }, KEY, 'path'],
      ["Azure's api-key header, calls without headers of their own", { headers: { 'api-key': AZURE_KEY } }, AZURE_KEY, 'path'],
    ] as const)('every error class, with the key given as %s', async (_how, credentials, key, routing: Routing) => {
      const client = buildClient({ baseURL: server.url, transport, ...credentials });
      const clientFor = (name: string) => buildClient({ baseURL: `${server.url}/case/${name}`, transport, ...credentials });
      const controller = new AbortController();
      const cases: Array<[string, Promise<unknown>, ErrorClass]> = [];
      const add = (what: string, source: Parameters<typeof errorOf>[0], type: ErrorClass) => cases.push([what, errorOf(source), type]);
      const chat = (name: string, options: Parameters<typeof client.chat.completions.stream>[1] = {}) =>
        routing === 'header'
          ? client.chat.completions.stream(params, { ...options, headers: { 'x-case': name } })
          : clientFor(name).chat.completions.stream(params, options);

      add('401 JSON', chat('401'), APIError);
      add('500 HTML', chat('500-html'), APIError);
      add('200 HTML', chat('200-html'), StreamProtocolError);
      add('in-stream error', chat('in-stream'), APIError);
      add('event: error', chat('event-error'), APIError);
      add('non-JSON data', chat('non-json'), StreamProtocolError);
      add('non-JSON data cut in the message', chat('non-json-cut'), StreamProtocolError);
      add('invalid chunk', chat('bad-chunk'), StreamProtocolError);
      add('truncated', chat('truncated'), StreamTruncatedError);
      add('oversize', chat('oversize', { maxEventSize: 100 }), StreamProtocolError);
      add('reset', chat('reset'), APIConnectionError);
      add('idle timeout', chat('stall', { timeout: { idleMs: 100 } }), StreamTimeoutError);
      add('abort', chat('stall', { signal: controller.signal }), StreamAbortError);
      add(
        'raw events',
        routing === 'header' ? client.chat.completions.events(params, { headers: { 'x-case': '401' } }) : clientFor('401').chat.completions.events(params),
        APIError,
      );
      add(
        'client.sse',
        routing === 'header' ? client.sse('/anything', {}, { headers: { 'x-case': '500-html' } }) : clientFor('500-html').sse('anything', {}),
        APIError,
      );
      add(
        'connection refused',
        buildClient({ baseURL: refusedUrl, transport, ...credentials }).chat.completions.stream(params),
        APIConnectionError,
      );
      add(
        'a header that cannot be sent',
        client.chat.completions.stream(params, { headers: { 'x-case': '401', 'x-extra': `${key}\r\n` } }),
        InvalidRequestError,
      );
      await server.waitForRequests(1);
      setTimeout(() => controller.abort(new Error(`stopped while using ${key}`)), 50);

      for (const [what, pending, type] of cases) {
        const error = await pending;
        expect([what, error]).toEqual([what, expect.any(type)]);
        expectClean(what, error, key);
      }
      // The checks can see a key: the echo really reached the errors before redaction.
      const echoed = (await cases[0][1]) as APIError;
      expect(JSON.stringify(echoed.body)).toContain('[redacted]');
      expect(echoed.headers['x-echo']).toBe('[redacted]');
    });
  });
});
