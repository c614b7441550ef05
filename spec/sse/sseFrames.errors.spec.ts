import type { ServerResponse } from 'node:http';
import { APIConnectionError, APIError, InvalidRequestError, StreamProtocolError, StreamTimeoutError, StreamTruncatedError } from '../../src/errors';
import { accumulateChatCompletion } from '../../src/openai/accumulateChatCompletion';
import { chatChunks } from '../../src/openai/chatChunks';
import { isRetryableError } from '../../src/operators/retryStream';
import { sseFrames } from '../../src/sse/sseFrames';
import { DEFAULT_MAX_EVENT_SIZE, type SseFrame, type SseRequest } from '../../src/sse/types';
import { chatData, sseHead, startServer, type TestServer } from '../helpers/server';
import { TRANSPORTS, chunkRecordingTransport, errorOf, record } from '../helpers/streams';
import { trackedScheduler, type TrackedScheduler } from '../helpers/timers';
import { VirtualClock } from '../helpers/virtualClock';

describe.each(TRANSPORTS)('sseFrames over %s: every failure is a typed error', (_name, transport) => {
  let server: TestServer;
  // The limits run in virtual time: a test moves the clock on once the event it waits for (a request, a frame) came.
  let clock: VirtualClock;
  let timers: TrackedScheduler;
  beforeEach(() => {
    clock = new VirtualClock();
    timers = trackedScheduler(clock);
  });
  afterEach(async () => {
    await server?.close();
  });

  const frames = (options: Partial<SseRequest> = {}) =>
    sseFrames({ transport, url: `${server.url}/v1/chat/completions`, method: 'POST', body: '{}', scheduler: timers, ...options });

  /** Every timer the source started has fired or been cleared once the stream ended. */
  const expectNoLiveTimers = () => expect(timers.live()).toBe(0);

  test('401 with an OpenAI error body', async () => {
    server = await startServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json', 'x-request-id': 'req_abc123' });
      res.end(
        JSON.stringify({
          error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key', param: null },
        }),
      );
    });
    const error = (await errorOf(frames({ timeout: { headersMs: 5000, totalMs: 5000 } }))) as APIError;
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({
      status: 401,
      message: '401 Incorrect API key provided.',
      type: 'invalid_request_error',
      code: 'invalid_api_key',
      param: null,
      requestId: 'req_abc123',
      inStream: false,
      retryAfterMs: undefined,
    });
    expect(error.headers['x-request-id']).toBe('req_abc123');
    expect(error.headers['content-type']).toBe('application/json');
    expect(error.body).toEqual({
      error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key', param: null },
    });
    expectNoLiveTimers();
  });

  test.each([
    ['retry-after-ms', { 'retry-after-ms': '1500', 'retry-after': '9' }, (ms: number) => expect(ms).toBe(1500)],
    ['retry-after in seconds', { 'retry-after': '7' }, (ms: number) => expect(ms).toBe(7000)],
    [
      'retry-after as an HTTP date',
      { 'retry-after': new Date(Date.now() + 60_000).toUTCString() },
      // The date has whole seconds and the request takes a moment: a bounded range, not a duration claim.
      (ms: number) => {
        expect(ms).toBeGreaterThan(50_000);
        expect(ms).toBeLessThanOrEqual(60_000);
      },
    ],
  ])('429 with %s', async (_form, headers, check) => {
    server = await startServer((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', ...headers });
      res.end('{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}');
    });
    const error = (await errorOf(frames())) as APIError;
    expect(error).toBeInstanceOf(APIError);
    expect(error.status).toBe(429);
    expect(error.code).toBe('rate_limit_exceeded');
    check(error.retryAfterMs as number);
  });

  test('500 with an HTML page: the status and a bounded excerpt', async () => {
    const page = `<html><head><title>502 Bad Gateway</title></head><body><h1>Upstream   error</h1>${'<p>padding</p>'.repeat(5000)}</body></html>`;
    server = await startServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end(page);
    });
    const error = (await errorOf(frames())) as APIError;
    expect(error).toBeInstanceOf(APIError);
    expect(error.status).toBe(500);
    expect(error.message).toMatch(/^500 Server Error: <html><head><title>502 Bad Gateway<\/title>/);
    expect(error.message).toContain('<h1>Upstream error</h1>');
    expect(error.message.length).toBeLessThan(300);
    expect(typeof error.body).toBe('string');
    expect((error.body as string).length).toBeLessThanOrEqual(64 * 1024);
    expectNoLiveTimers();
  });

  test('an error body that stalls: after idleMs the APIError carries what arrived', async () => {
    server = await startServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/html' });
      res.write('<html><body>Service Unavailable, retry');
      // The rest never comes.
    });
    const spy = chunkRecordingTransport(transport);
    const recording = record(frames({ transport: spy.transport, timeout: { idleMs: 200, totalMs: 20_000 } }));
    await spy.chunks.reaches(1, 'the first part of the error page');
    clock.advanceBy(199);
    expect(recording.errored).toBe(false);
    clock.advanceBy(1);
    const error = recording.error as APIError;
    expect(error).toBeInstanceOf(APIError);
    expect(error.status).toBe(503);
    expect(error.body).toBe('<html><body>Service Unavailable, retry');
    await server.requestSocketsClosed();
    expectNoLiveTimers();
  });

  test('an error body past 64 KiB is cut and its connection closed', async () => {
    server = await startServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.write('x'.repeat(100 * 1024));
      // An endless error page.
    });
    const error = (await errorOf(frames())) as APIError;
    expect(error.status).toBe(500);
    expect(error.body).toBe('x'.repeat(64 * 1024));
    await server.requestSocketsClosed();
  });

  test('200 with a JSON error body where a stream was expected', async () => {
    server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"The model `x` does not exist","type":"invalid_request_error","code":"model_not_found"}}');
    });
    const error = (await errorOf(frames())) as APIError;
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ status: 200, code: 'model_not_found', message: '200 The model `x` does not exist' });
  });

  test('200 with text/html where a stream was expected', async () => {
    server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html><body>Please log in to the captive portal</body></html>');
    });
    const error = (await errorOf(frames())) as StreamProtocolError;
    expect(error).toBeInstanceOf(StreamProtocolError);
    expect(error.problem).toBe('content-type');
    expect(error.message).toContain('text/html');
    expect(error.message).toContain('captive portal');
    expect(error.data).toBe('<html><body>Please log in to the captive portal</body></html>');
  });

  test('connection refused', async () => {
    server = await startServer(() => undefined);
    const url = server.url;
    await server.close();
    const error = (await errorOf(sseFrames({ transport, url: `${url}/v1/chat/completions?key=secret` }))) as APIConnectionError;
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error.message).toContain(`Could not connect to ${url}`);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).not.toContain('secret');
    expect(error.cause).toBeDefined();
    expectNoLiveTimers();
  });

  test('a header value with a newline (a pasted key): InvalidRequestError, not retryable, nothing sent', async () => {
    server = await startServer(() => undefined);
    const key = 'sk-pasted-with-newline';
    const error = await errorOf(frames({ headers: { authorization: `Bearer ${key}\n` }, timeout: { headersMs: 5000, totalMs: 5000 } }));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as Error).message).toBe("The value of header 'authorization' has a CR, LF or NUL character and cannot be sent");
    expect(isRetryableError(error)).toBe(false);
    expect(server.requests).toHaveLength(0);
    expect(server.openSockets() + server.closedSockets()).toBe(0);
    expectNoLiveTimers();
  });

  test('a URL the transport cannot parse: InvalidRequestError naming the problem, not a connection failure', async () => {
    server = await startServer(() => undefined);
    const error = await errorOf(sseFrames({ transport, url: 'http://exa mple.invalid:99999/v1/chat/completions' }));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as Error).message).toMatch(/^The request could not be sent: /);
    expect(isRetryableError(error)).toBe(false);
  });

  test('a body that ends in the middle of an event: the frames before it, then StreamTruncatedError with the cut line', async () => {
    const cutLine = 'data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"wor';
    server = await startServer((_req, res) => {
      sseHead(res);
      res.write(chatData('Hello '));
      res.end(cutLine);
    });
    const recording = record(frames());
    await recording.done;
    expect(recording.values).toHaveLength(1);
    expect(recording.error).toBeInstanceOf(StreamTruncatedError);
    expect(recording.error).toMatchObject({ message: 'The stream ended in the middle of an event', partial: cutLine });

    // Through the parsed pipeline the truncation carries the last snapshot instead.
    const accumulated = record(frames().pipe(chatChunks(), accumulateChatCompletion()));
    await accumulated.done;
    expect(accumulated.error).toBeInstanceOf(StreamTruncatedError);
    expect((accumulated.error as StreamTruncatedError).partial).toMatchObject({ choices: [{ message: { content: 'Hello ' } }] });
    expectNoLiveTimers();
  });

  test('the socket destroyed mid-stream: an APIConnectionError after the frames that arrived', async () => {
    server = await startServer((_req, res) => {
      sseHead(res);
      res.write(chatData('one'));
      res.write(chatData('two'));
      setTimeout(() => res.socket?.destroy(), 30);
    });
    const recording = record(frames({ timeout: { idleMs: 5000, totalMs: 5000 } }));
    await recording.done;
    expect(recording.error).toBeInstanceOf(APIConnectionError);
    expect(recording.values.map((frame) => frame.type === 'event' && JSON.parse(frame.data).choices[0].delta.content)).toEqual([
      'one',
      'two',
    ]);
    expectNoLiveTimers();
  });

  /** A server that starts an event stream and writes to it when the test says; `written` resolves when the bytes left. */
  const onDemand = async () => {
    let response: ServerResponse | undefined;
    server = await startServer((_req, res) => {
      sseHead(res);
      response = res;
    });
    return {
      started: async () => {
        await server.waitForRequests(1);
        return {
          write: (text: string) => new Promise<void>((resolve) => response!.write(text, () => resolve())),
          end: (text: string) => response!.end(text),
        };
      },
    };
  };
  const events = (recording: { values: SseFrame[] }) => recording.values.filter((frame) => frame.type === 'event');
  const comments = (recording: { values: SseFrame[] }) => recording.values.filter((frame) => frame.type === 'comment');

  test('a stall while keep-alive comments arrive: the idle timeout fires idleMs after the last data event', async () => {
    const demand = await onDemand();
    const recording = record(frames({ timeout: { idleMs: 400, firstEventMs: 5000, totalMs: 20_000 } }));
    const upstream = await demand.started();
    await upstream.write(chatData('only'));
    await recording.until(() => events(recording).length === 1, 'the data event');
    for (let comment = 1; comment <= 3; comment++) {
      clock.advanceBy(130);
      await upstream.write(': keep-alive\n\n');
      await recording.until(() => comments(recording).length === comment, `keep-alive ${comment}`);
    }
    clock.advanceBy(9);
    expect(recording.errored).toBe(false);
    clock.advanceBy(1);
    const error = recording.error as StreamTimeoutError;
    expect(error).toBeInstanceOf(StreamTimeoutError);
    expect(error.phase).toBe('idle');
    expect(error.timeoutMs).toBe(400);
    // The comments were delivered (raw is raw) and did not keep the stream alive.
    expect(comments(recording)).toHaveLength(3);
    expect(events(recording)).toHaveLength(1);
    await server.requestSocketsClosed();
    expectNoLiveTimers();
  });

  test('data events keep the idle timeout from firing', async () => {
    const demand = await onDemand();
    const recording = record(frames({ timeout: { idleMs: 2000 } }));
    const upstream = await demand.started();
    // Twelve gaps of 1.5 s: 18 s in all, each shorter than idleMs.
    for (let sent = 1; sent <= 12; sent++) {
      await upstream.write(chatData(`${sent}`));
      await recording.until(() => recording.values.length === sent, `event ${sent}`);
      clock.advanceBy(1500);
    }
    upstream.end('data: [DONE]\n\n');
    await recording.done;
    expect(recording.completed).toBe(true);
    expect(recording.values).toHaveLength(13);
    expectNoLiveTimers();
  });

  test('headers timeout', async () => {
    server = await startServer(() => undefined);
    const recording = record(frames({ timeout: { headersMs: 100, firstEventMs: 5000, idleMs: 5000, totalMs: 20_000 } }));
    await server.waitForRequests(1);
    clock.advanceBy(99);
    expect(recording.errored).toBe(false);
    clock.advanceBy(1);
    const error = recording.error as StreamTimeoutError;
    expect(error).toBeInstanceOf(StreamTimeoutError);
    expect(error.phase).toBe('headers');
    await server.requestSocketsClosed();
    expectNoLiveTimers();
  });

  test('first-event timeout: comments alone do not count', async () => {
    const demand = await onDemand();
    const recording = record(frames({ timeout: { headersMs: 5000, firstEventMs: 200, idleMs: 5000, totalMs: 20_000 } }));
    const upstream = await demand.started();
    await upstream.write(': processing\n\n');
    await recording.until(() => recording.values.length === 1, 'the first comment');
    clock.advanceBy(150);
    await upstream.write(': processing\n\n');
    await recording.until(() => recording.values.length === 2, 'the second comment');
    clock.advanceBy(49);
    expect(recording.errored).toBe(false);
    clock.advanceBy(1);
    expect(recording.error).toBeInstanceOf(StreamTimeoutError);
    expect((recording.error as StreamTimeoutError).phase).toBe('first-event');
    await server.requestSocketsClosed();
    expectNoLiveTimers();
  });

  test('total timeout on a stream that keeps flowing', async () => {
    const demand = await onDemand();
    const recording = record(frames({ timeout: { idleMs: 1000, totalMs: 300 } }));
    const upstream = await demand.started();
    for (let sent = 1; sent <= 3; sent++) {
      await upstream.write(chatData('more'));
      await recording.until(() => recording.values.length === sent, `event ${sent}`);
      clock.advanceBy(sent < 3 ? 100 : 99);
    }
    expect(recording.errored).toBe(false);
    clock.advanceBy(1);
    expect(recording.error).toBeInstanceOf(StreamTimeoutError);
    expect((recording.error as StreamTimeoutError).phase).toBe('total');
    expect(recording.values).toHaveLength(3);
    await server.requestSocketsClosed();
    expectNoLiveTimers();
  });

  describe('event size limit', () => {
    const writeInPieces = (res: ServerResponse, text: string, pieces: number) => {
      const size = Math.ceil(text.length / pieces);
      let offset = 0;
      const writeNext = () => {
        if (offset >= text.length || res.destroyed) return;
        res.write(text.slice(offset, offset + size), () => setImmediate(writeNext));
        offset += size;
      };
      writeNext();
    };

    test('an event growing past a per-request maxEventSize over many reads', async () => {
      server = await startServer((_req, res) => {
        sseHead(res);
        res.write(chatData('small'));
        setTimeout(() => writeInPieces(res, `data: ${'x'.repeat(20_000)}\n\n`, 20), 20);
      });
      const recording = record(frames({ maxEventSize: 5000 }));
      await recording.done;
      const error = recording.error as StreamProtocolError;
      expect(error).toBeInstanceOf(StreamProtocolError);
      expect(error.problem).toBe('event-too-large');
      expect(error.message).toContain('5000');
      expect(recording.values).toHaveLength(1);
      await server.requestSocketsClosed();
      expectNoLiveTimers();
    });

    test('a single oversize event inside one write, after a small one', async () => {
      server = await startServer((_req, res) => {
        sseHead(res);
        res.write(`${chatData('small')}data: ${'y'.repeat(3000)}\n\n${chatData('after')}`);
      });
      const recording = record(frames({ maxEventSize: 1000 }));
      await recording.done;
      expect(recording.error).toBeInstanceOf(StreamProtocolError);
      expect((recording.error as StreamProtocolError).problem).toBe('event-too-large');
      expect(recording.values).toHaveLength(1);
    });

    test(`the default limit is 8 MiB`, async () => {
      expect(DEFAULT_MAX_EVENT_SIZE).toBe(8 * 1024 * 1024);
      server = await startServer((_req, res) => {
        sseHead(res);
        writeInPieces(res, `data: ${'z'.repeat(DEFAULT_MAX_EVENT_SIZE + 10)}\n\n`, 64);
      });
      const error = (await errorOf(frames())) as StreamProtocolError;
      expect(error).toBeInstanceOf(StreamProtocolError);
      expect(error.problem).toBe('event-too-large');
    });
  });
});
