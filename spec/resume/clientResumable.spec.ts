// The re-attach loop in virtual time: backoff, attempts, timeouts and the frame position, over a scripted relay.
import { take } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { buildClient } from '../../src/client';
import { APIConnectionError, APIError, InvalidRequestError, StreamAbortError, StreamProtocolError, StreamTimeoutError } from '../../src/errors';
import { chatChunks } from '../../src/openai/chatChunks';
import { StreamNotFoundError } from '../../src/resume/clientErrors';
import type { SseFrame } from '../../src/sse/types';
import { chatChunk } from '../../src/testing/chatBuilders';
import { scriptedTransport, type ScriptedResponse } from '../../src/testing/scriptedTransport';
import { doneFrame, sseComment, sseEvent, sseText } from '../../src/testing/sseBuilders';

const params = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };
const STREAM_ID = 'c3RyZWFtLWlkLTEyMzQ1Ng';
const resumable = { 'x-stream-id': STREAM_ID };
const e = (n: number, text = `t${n}`): SseFrame => sseEvent(chatChunk(text), { id: String(n) });
const DONE: SseFrame = { ...doneFrame(), id: '99' };

let testScheduler: TestScheduler;
beforeEach(() => {
  testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
});
afterEach(() => jest.restoreAllMocks());

/** A relay that plays `streams` in order (the POST, then each GET) and answers every cancel; it records when each request came. */
function scriptedRelay(streams: ScriptedResponse[]) {
  const times: number[] = [];
  let next = 0;
  const transport = scriptedTransport((request) => {
    if (request.url.endsWith('/cancel')) return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"cancelling"}' };
    times.push(testScheduler.now());
    return streams[next++];
  });
  const client = buildClient({ baseURL: 'https://relay.test/v1', apiKey: 'sk-unit', transport });
  const streamRequests = () => transport.requests.filter((request) => !request.url.endsWith('/cancel'));
  return {
    client,
    times,
    lastEventIds: () => streamRequests().map((request) => request.headers['last-event-id']),
    cancels: () => transport.requests.filter((request) => request.url.endsWith('/cancel')),
  };
}

const broken = (...frames: SseFrame[]): ScriptedResponse => ({ headers: resumable, body: [sseText(frames)], end: 'reset' });
const refused: ScriptedResponse = { connectionError: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) };

test('backs off between failed re-attaches, doubling, and gives up after `attempts` with the last error', () => {
  jest.spyOn(Math, 'random').mockReturnValue(1);
  const relay = scriptedRelay([broken(e(1)), refused, refused, refused]);
  testScheduler.run(({ expectObservable }) => {
    const frames$ = relay.client.chat.completions.events(params, { resume: { attempts: 2, initialDelayMs: 100 } });
    expectObservable(frames$).toBe('a 299ms #', { a: e(1) }, expect.any(APIConnectionError));
  });
  expect(relay.times).toEqual([0, 100, 300]);
  expect(relay.lastEventIds()).toEqual([undefined, '1', '1']);
  // Giving up on a generation that may still run elsewhere: it is cancelled, in case the relay is reachable again.
  expect(relay.cancels()).toHaveLength(1);
});

test('a new event resets the count: breaks that each move the stream on are re-attached without end', () => {
  jest.spyOn(Math, 'random').mockReturnValue(0);
  const relay = scriptedRelay([broken(e(1)), broken(e(2)), broken(e(3)), { headers: resumable, body: sseText([e(4), DONE]) }]);
  testScheduler.run(({ expectObservable }) => {
    expectObservable(relay.client.chat.completions.events(params, { resume: { attempts: 1 } })).toBe('(abcde|)', { a: e(1), b: e(2), c: e(3), d: e(4), e: DONE });
  });
  expect(relay.lastEventIds()).toEqual([undefined, '1', '2', '3']);
});

test('an idle stall is a break; the re-attach gets the same timeouts', () => {
  jest.spyOn(Math, 'random').mockReturnValue(0);
  const relay = scriptedRelay([
    { headers: resumable, body: [sseText([e(1)])], end: 'hang' },
    { headers: resumable, body: [sseText([e(1), e(2)])], end: 'hang' },
    { headers: resumable, body: sseText([e(3), DONE]) },
  ]);
  testScheduler.run(({ expectObservable }) => {
    const frames$ = relay.client.chat.completions.events(params, { resume: true, timeout: { idleMs: 1000 } });
    expectObservable(frames$).toBe('a 999ms b 999ms (cd|)', { a: e(1), b: e(2), c: e(3), d: DONE });
  });
  expect(relay.times).toEqual([0, 1000, 2000]);
});

test('comments replayed after the last event, and events at or before it, are delivered once', () => {
  jest.spyOn(Math, 'random').mockReturnValue(0);
  const [c0, cA, cB, cC] = ['start', 'a', 'b', 'c'].map(sseComment);
  const relay = scriptedRelay([broken(c0, e(1), cA, cB), { headers: resumable, body: sseText([e(1), cA, cB, cC, e(2), DONE]) }]);
  testScheduler.run(({ expectObservable }) => {
    expectObservable(relay.client.chat.completions.events(params, { resume: true })).toBe('(abcdefg|)', { a: c0, b: e(1), c: cA, d: cB, e: cC, f: e(2), g: DONE });
  });
});

test('events without a number are never skipped: the relay\'s final error frame after a replay still arrives', () => {
  jest.spyOn(Math, 'random').mockReturnValue(0);
  const odd = sseEvent(chatChunk('x'), { id: 'abc' });
  const ending = sseEvent({ error: { message: 'The stream was cancelled.', code: 'stream_cancelled' } });
  const relay = scriptedRelay([broken(e(1), odd, sseComment('heartbeat')), { headers: resumable, body: sseText([odd, ending]) }]);
  testScheduler.run(({ expectObservable }) => {
    expectObservable(relay.client.chat.completions.events(params, { resume: true })).toBe('(abcde|)', {
      a: e(1),
      b: odd,
      c: sseComment('heartbeat'),
      d: odd,
      e: ending,
    });
  });
});

test('a relay briefly down is retried after its retry-after', () => {
  const relay = scriptedRelay([
    broken(e(1)),
    { status: 503, headers: { 'retry-after-ms': '700' }, body: '{"error":{"message":"restarting"}}' },
    { headers: resumable, body: sseText([e(2), DONE]) },
  ]);
  testScheduler.run(({ expectObservable }) => {
    expectObservable(relay.client.chat.completions.events(params, { resume: { initialDelayMs: 0 } })).toBe('a 699ms (bc|)', { a: e(1), b: e(2), c: DONE });
  });
  expect(relay.times).toEqual([0, 0, 700]);
});

test('a stream the relay no longer knows is a StreamNotFoundError at once', () => {
  const relay = scriptedRelay([broken(e(1)), { status: 404, body: '{"error":{"message":"No such stream","code":"stream_not_found"}}' }]);
  testScheduler.run(({ expectObservable }) => {
    expectObservable(relay.client.chat.completions.events(params, { resume: { initialDelayMs: 0 } })).toBe(
      '(a#)',
      { a: e(1) },
      expect.objectContaining({ constructor: StreamNotFoundError, status: 404, code: 'stream_not_found' }),
    );
  });
  expect(relay.times).toHaveLength(2);
});

test('what is not a break passes through: errors of the start, a first-event timeout, a break before the head', () => {
  const cases: [ScriptedResponse, unknown][] = [
    [{ status: 404, body: '{"error":{"message":"The model does not exist","code":"model_not_found"}}' }, expect.objectContaining({ constructor: APIError, status: 404 })],
    [{ headers: resumable, body: [], end: 'hang' }, expect.objectContaining({ constructor: StreamTimeoutError, phase: 'first-event' })],
    [refused, expect.any(APIConnectionError)],
  ];
  for (const [start, error] of cases) {
    testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    const relay = scriptedRelay([start]);
    testScheduler.run(({ expectObservable }) => {
      expectObservable(relay.client.chat.completions.events(params, { resume: true, timeout: { firstEventMs: 50 } })).toBe(
        start.connectionError || start.status ? '#' : '50ms #',
        undefined,
        error,
      );
    });
    expect(relay.times).toHaveLength(1);
  }
});

test('totalMs bounds the whole stream, re-attaches included, and giving up on a running generation cancels it', () => {
  jest.spyOn(Math, 'random').mockReturnValue(0);
  const relay = scriptedRelay([broken(e(1)), broken(e(2)), { headers: resumable, body: [], end: 'hang' }]);
  testScheduler.run(({ expectObservable }) => {
    const frames$ = relay.client.chat.completions.events(params, { resume: true, timeout: { totalMs: 500 } });
    expectObservable(frames$).toBe('(ab) 496ms #', { a: e(1), b: e(2) }, expect.objectContaining({ constructor: StreamTimeoutError, phase: 'total' }));
  });
  expect(relay.cancels()).toHaveLength(1);
});

test('the signal firing while waiting to re-attach ends the stream with StreamAbortError and sends the cancel', () => {
  jest.spyOn(Math, 'random').mockReturnValue(1);
  const relay = scriptedRelay([broken(e(1))]);
  const controller = new AbortController();
  testScheduler.run(({ expectObservable, cold }) => {
    cold('500ms a').subscribe(() => controller.abort());
    const frames$ = relay.client.chat.completions.events(params, { resume: { initialDelayMs: 1000 }, signal: controller.signal });
    expectObservable(frames$).toBe('a 499ms #', { a: e(1) }, expect.any(StreamAbortError));
  });
  expect(relay.times).toEqual([0]);
  expect(relay.cancels()).toEqual([expect.objectContaining({ method: 'POST', url: `https://relay.test/v1/streams/${STREAM_ID}/cancel`, body: undefined })]);
  expect(relay.cancels()[0].headers.authorization).toBe('Bearer [redacted]');
});

test('unsubscribing while waiting to re-attach sends the cancel, and no re-attach follows', () => {
  // The wait is then the whole 1,000 ms: with a jitter under 1% the re-attach came before the unsubscribe (a CI flake).
  jest.spyOn(Math, 'random').mockReturnValue(1);
  const relay = scriptedRelay([broken(e(1))]);
  testScheduler.run(({ expectObservable }) => {
    expectObservable(relay.client.chat.completions.stream(params, { resume: { initialDelayMs: 1000 } }), '^ 10ms !').toBe('a', { a: expect.anything() });
  });
  expect(relay.times).toEqual([0]);
  expect(relay.cancels()).toHaveLength(1);
});

test('resumeStream starts from `after`, retries its own connection, and takes no `after` that is not an event id', () => {
  jest.spyOn(Math, 'random').mockReturnValue(0);
  const relay = scriptedRelay([refused, { headers: resumable, body: sseText([e(4), DONE]) }]);
  testScheduler.run(({ expectObservable }) => {
    expectObservable(relay.client.resumeStream(STREAM_ID, { after: 3 })).toBe('(ab|)', { a: e(4), b: DONE });
    expectObservable(relay.client.resumeStream(STREAM_ID, { after: -1 })).toBe('#', undefined, expect.any(InvalidRequestError));
    expectObservable(relay.client.resumeStream(STREAM_ID, { after: 1.5 })).toBe('#', undefined, expect.any(InvalidRequestError));
  });
  expect(relay.lastEventIds()).toEqual(['3', '3']);
});

test('resumeStream with resume: false makes one attempt', () => {
  const relay = scriptedRelay([refused]);
  testScheduler.run(({ expectObservable }) => {
    expectObservable(relay.client.resumeStream(STREAM_ID, { resume: false })).toBe('#', undefined, expect.any(APIConnectionError));
  });
  expect(relay.times).toEqual([0]);
});

describe('leaving after the generation is over sends no cancel; leaving one that runs does', () => {
  const chunk = expect.objectContaining({ object: 'chat.completion.chunk' });

  test('events() piped through chatChunks(), which stops at [DONE] while the connection stays open', () => {
    const relay = scriptedRelay([{ headers: resumable, body: [sseText([e(1), DONE])], end: 'hang' }]);
    testScheduler.run(({ expectObservable }) => {
      expectObservable(relay.client.chat.completions.events(params, { resume: true }).pipe(chatChunks())).toBe('(a|)', { a: chunk });
    });
    expect(relay.cancels()).toEqual([]);
  });

  test('events() piped through chatChunks(), which fails at an error event of the upstream', () => {
    const failed = sseEvent({ error: { message: 'The server had an error', type: 'server_error' } }, { id: '2' });
    const relay = scriptedRelay([{ headers: resumable, body: [sseText([e(1), failed])], end: 'hang' }]);
    testScheduler.run(({ expectObservable }) => {
      const chunks$ = relay.client.chat.completions.events(params, { resume: true }).pipe(chatChunks());
      expectObservable(chunks$).toBe('(a#)', { a: chunk }, expect.objectContaining({ constructor: APIError, inStream: true }));
    });
    expect(relay.cancels()).toEqual([]);
  });

  test('a Responses stream left after response.completed', () => {
    const completed = sseEvent(
      { type: 'response.completed', sequence_number: 1, response: { id: 'resp_1', object: 'response', status: 'completed', output: [] } },
      { event: 'response.completed', id: '1' },
    );
    const relay = scriptedRelay([{ headers: resumable, body: [sseText([completed])], end: 'hang' }]);
    testScheduler.run(({ expectObservable }) => {
      expectObservable(relay.client.responses.events({ model: 'gpt-4o-mini', input: 'hi' }, { resume: true }), '^ 10ms !').toBe('a', { a: completed });
    });
    expect(relay.cancels()).toEqual([]);
  });

  test('stream() failing at a chunk it cannot read leaves a generation that runs on: that sends the cancel', () => {
    const malformed: SseFrame = { type: 'event', data: '{"choices": [', id: '2' };
    const relay = scriptedRelay([{ headers: resumable, body: [sseText([e(1), malformed])], end: 'hang' }]);
    testScheduler.run(({ expectObservable }) => {
      expectObservable(relay.client.chat.completions.stream(params, { resume: true })).toBe('(a#)', { a: chunk }, expect.any(StreamProtocolError));
    });
    expect(relay.cancels()).toHaveLength(1);
  });

  test('a downstream take() leaving mid-stream sends the cancel', () => {
    const relay = scriptedRelay([{ headers: resumable, body: [sseText([e(1), e(2)])], end: 'hang' }]);
    testScheduler.run(({ expectObservable }) => {
      expectObservable(relay.client.chat.completions.events(params, { resume: true }).pipe(take(1))).toBe('(a|)', { a: e(1) });
    });
    expect(relay.cancels()).toHaveLength(1);
  });
});
