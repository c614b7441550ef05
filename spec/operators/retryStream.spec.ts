import { createServer } from 'node:net';
import { asyncScheduler, defer, scan, throwError, VirtualTimeScheduler, type Observable, type Subscription } from 'rxjs';
import {
  accumulateChatCompletion,
  APIConnectionError,
  APIError,
  contentDeltas,
  createClient,
  isRetryableError,
  retryStream,
  StreamAbortError,
  StreamProtocolError,
  StreamTimeoutError,
  StreamTruncatedError,
  type RetryInfo,
  type RetryStreamConfig,
} from '../../src/index.node';
import { chatFrames, scriptedTransport, splitTokens, sseText } from '../../src/testing/index.node';
import { watchChanges, watchedList } from '../helpers/changes';
import { marbleScheduler } from '../helpers/marbles';
import { useMockUpstream } from '../helpers/mockUpstream';
import { record, type Recording } from '../helpers/streams';

const mock = useMockUpstream({ tokenDelayMs: 0 }, 'all');
afterEach(() => jest.restoreAllMocks());

let prompts = 0;
/** A prompt no other test sends, so that `[[mock:times=N]]` counts this test's attempts only. */
function uniquePrompt(directives: string): string {
  prompts++;
  return `question ${prompts} ${directives}`;
}
const params = (prompt: string) => ({ model: 'mock-model', messages: [{ role: 'user' as const, content: prompt }] });
const requestsFor = (prompt: string) => mock.upstream.requests.filter((request) => request.prompt === prompt);

/**
 * Runs `stream` through retryStream on a virtual clock: each wait is scheduled
 * on it and let pass as soon as the real request behind it has failed.
 */
async function runWithVirtualTime<T>(
  stream: (retry: RetryStreamConfig) => Observable<T>,
  config: RetryStreamConfig = {},
): Promise<Recording<T> & { retries: RetryInfo[]; waitedMs: number }> {
  const scheduler = new VirtualTimeScheduler();
  const retries: RetryInfo[] = [];
  const changes = watchChanges();
  const onRetry = (info: RetryInfo) => {
    retries.push(info);
    changes.changed();
  };
  const recording = record(stream({ ...config, scheduler, onRetry }));
  void recording.done.then(changes.changed);
  const finished = () => recording.errored || recording.completed;
  for (let flushed = 0; flushed < 10; flushed++) {
    await changes.until(() => finished() || retries.length > flushed, 'the stream to end or to schedule a retry');
    if (finished()) break;
    scheduler.flush();
  }
  await recording.done;
  return Object.assign(recording, { retries, waitedMs: scheduler.frame });
}

const deltasWithRetry = (prompt: string, options = {}) => (retry: RetryStreamConfig) =>
  mock.client.chat.completions.stream(params(prompt), options).pipe(retryStream(retry), contentDeltas());

describe('retryStream on a real server', () => {
  test.each([408, 409, 429, 500, 502, 503, 504])('retries HTTP %s and then streams the answer', async (status) => {
    const prompt = uniquePrompt(`[[mock:error=${status}]] [[mock:times=1]]`);
    const run = await runWithVirtualTime(deltasWithRetry(prompt));
    expect(run.completed).toBe(true);
    expect(run.values.join('')).toMatch(/^Mock answer to "question \d+"\./);
    expect(run.retries.map((retry) => (retry.error as APIError).status)).toEqual([status]);
    expect(requestsFor(prompt).map((request) => request.status)).toEqual([status, 200]);
  });

  test.each([400, 401, 403, 404, 422])('never retries HTTP %s', async (status) => {
    const prompt = uniquePrompt(`[[mock:error=${status}]] [[mock:times=1]]`);
    const run = await runWithVirtualTime(deltasWithRetry(prompt));
    expect(run.error).toBeInstanceOf(APIError);
    expect((run.error as APIError).status).toBe(status);
    expect(run.retries).toEqual([]);
    expect(requestsFor(prompt)).toHaveLength(1);
  });

  test('x-should-retry: true makes a 400 retryable, x-should-retry: false keeps a 503 from being retried', async () => {
    const retried = uniquePrompt('[[mock:error=400]] [[mock:should-retry=true]] [[mock:times=1]]');
    const forbidden = uniquePrompt('[[mock:error=503]] [[mock:should-retry=false]] [[mock:times=1]]');
    const first = await runWithVirtualTime(deltasWithRetry(retried));
    const second = await runWithVirtualTime(deltasWithRetry(forbidden));
    expect(first.completed).toBe(true);
    expect(requestsFor(retried).map((request) => request.status)).toEqual([400, 200]);
    expect((second.error as APIError).status).toBe(503);
    expect(requestsFor(forbidden)).toHaveLength(1);
  });

  test('gives up after `count` retries with the last error', async () => {
    const prompt = uniquePrompt('[[mock:error=503]]');
    const run = await runWithVirtualTime(deltasWithRetry(prompt), { count: 3 });
    expect((run.error as APIError).status).toBe(503);
    expect(run.retries.map((retry) => retry.retryCount)).toEqual([1, 2, 3]);
    expect(requestsFor(prompt)).toHaveLength(4);
  });

  test('count defaults to 2', async () => {
    const prompt = uniquePrompt('[[mock:error=500]]');
    const run = await runWithVirtualTime(deltasWithRetry(prompt));
    expect(run.errored).toBe(true);
    expect(requestsFor(prompt)).toHaveLength(3);
  });

  describe('waits what the server asks', () => {
    test('retry-after-ms in milliseconds', async () => {
      const run = await runWithVirtualTime(deltasWithRetry(uniquePrompt('[[mock:error=429]] [[mock:retry-after-ms=1500]] [[mock:times=1]]')));
      expect(run.retries.map((retry) => retry.delayMs)).toEqual([1500]);
      expect(run.waitedMs).toBe(1500);
      expect(run.completed).toBe(true);
    });

    test('retry-after in seconds', async () => {
      const run = await runWithVirtualTime(deltasWithRetry(uniquePrompt('[[mock:error=503]] [[mock:retry-after=2]] [[mock:times=1]]')));
      expect(run.retries.map((retry) => retry.delayMs)).toEqual([2000]);
      expect(run.waitedMs).toBe(2000);
    });

    test('retry-after as an HTTP date', async () => {
      const date = new Date(Date.now() + 3000).toUTCString();
      const run = await runWithVirtualTime(deltasWithRetry(uniquePrompt(`[[mock:error=429]] [[mock:retry-after=${date}]] [[mock:times=1]]`)));
      // An HTTP date has whole seconds: three seconds ahead, rounded down, less the time the request took.
      expect(run.retries[0].delayMs).toBeGreaterThan(1000);
      expect(run.retries[0].delayMs).toBeLessThanOrEqual(3000);
      expect(run.completed).toBe(true);
    });

    test('a retry-after longer than maxRetryAfterMs (default 60 s) is cut to it', async () => {
      const byDefault = await runWithVirtualTime(deltasWithRetry(uniquePrompt('[[mock:error=429]] [[mock:retry-after=3600]] [[mock:times=1]]')));
      const configured = await runWithVirtualTime(deltasWithRetry(uniquePrompt('[[mock:error=429]] [[mock:retry-after=3600]] [[mock:times=1]]')), {
        maxRetryAfterMs: 5000,
      });
      expect(byDefault.retries[0].delayMs).toBe(60_000);
      expect(configured.retries[0].delayMs).toBe(5000);
      expect(configured.completed).toBe(true);
    });

    test('without retry-after: exponential backoff with full jitter, capped by maxDelayMs', async () => {
      const random = jest.spyOn(Math, 'random').mockReturnValue(0.5);
      const half = await runWithVirtualTime(deltasWithRetry(uniquePrompt('[[mock:error=500]] [[mock:times=3]]')), {
        count: 3,
        initialDelayMs: 1000,
        maxDelayMs: 3000,
      });
      expect(half.retries.map((retry) => retry.delayMs)).toEqual([500, 1000, 1500]);
      random.mockReturnValue(0);
      const none = await runWithVirtualTime(deltasWithRetry(uniquePrompt('[[mock:error=500]] [[mock:times=1]]')));
      expect(none.retries.map((retry) => retry.delayMs)).toEqual([0]);
      random.mockReturnValue(0.999);
      const defaults = await runWithVirtualTime(deltasWithRetry(uniquePrompt('[[mock:error=500]] [[mock:times=2]]')));
      expect(defaults.retries.map((retry) => retry.delayMs)).toEqual([500, 999]);
      expect(defaults.completed).toBe(true);
    });
  });

  test('retries a refused connection, and ends with APIConnectionError when it stays refused', async () => {
    const port = await closedPort();
    const unreachable = createClient({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'sk-retry-test' });
    const retries: RetryInfo[] = [];
    const run = record(
      unreachable.chat.completions
        .stream(params('hello'))
        .pipe(retryStream({ initialDelayMs: 1, onRetry: (info) => retries.push(info) })),
    );
    await run.done;
    expect(run.error).toBeInstanceOf(APIConnectionError);
    expect(retries.map((retry) => retry.error instanceof APIConnectionError)).toEqual([true, true]);
    expect(JSON.stringify(run.error)).not.toContain('sk-retry-test');
  });

  test('retries a timeout waiting for the headers and one waiting for the first event', async () => {
    const headers = uniquePrompt('[[mock:stall=headers]] [[mock:times=1]]');
    const firstEvent = uniquePrompt('[[mock:stall]] [[mock:times=1]]');
    const timeout = { headersMs: 150, firstEventMs: 150 };
    const first = await runWithVirtualTime(deltasWithRetry(headers, { timeout }));
    const second = await runWithVirtualTime(deltasWithRetry(firstEvent, { timeout }));
    expect(first.retries.map((retry) => (retry.error as StreamTimeoutError).phase)).toEqual(['headers']);
    expect(second.retries.map((retry) => (retry.error as StreamTimeoutError).phase)).toEqual(['first-event']);
    expect(first.completed && second.completed).toBe(true);
    await mock.upstream.waitFor(() => requestsFor(headers)[0].state === 'aborted' && requestsFor(firstEvent)[0].state === 'aborted');
  });

  describe('once data has reached the subscriber', () => {
    test('does not retry: a stream cut after three tokens fails with those three tokens, delivered once', async () => {
      const prompt = uniquePrompt('[[mock:cut=3]] [[mock:times=1]]');
      const run = await runWithVirtualTime(deltasWithRetry(prompt));
      expect(run.error).toBeInstanceOf(APIConnectionError);
      expect(run.values).toHaveLength(3);
      expect(run.retries).toEqual([]);
      expect(requestsFor(prompt)).toHaveLength(1);
    });

    test('does not retry an idle stall either', async () => {
      const prompt = uniquePrompt('[[mock:stall=2]] [[mock:times=1]]');
      const run = await runWithVirtualTime(deltasWithRetry(prompt, { timeout: { idleMs: 400 } }));
      expect(run.error).toMatchObject({ name: 'StreamTimeoutError', phase: 'idle' });
      expect(run.values).toHaveLength(2);
      expect(requestsFor(prompt)).toHaveLength(1);
    });

    test("afterData: 'restart' after accumulateChatCompletion(): the snapshot starts over, no text is duplicated", async () => {
      const prompt = uniquePrompt('[[mock:cut=3]] [[mock:times=1]]');
      const run = await runWithVirtualTime(
        (retry) => mock.client.chat.completions.stream(params(prompt)).pipe(accumulateChatCompletion(), retryStream(retry)),
        { afterData: 'restart' },
      );
      const answer = 'Mock answer to "' + prompt.replace(/ \[\[.*$/, '') + '".';
      const contents = run.values.map((snapshot) => snapshot.choices[0]?.message.content ?? '');
      const final = run.values.at(-1);
      expect(run.completed).toBe(true);
      expect(final?.choices[0].message.content?.startsWith(answer)).toBe(true);
      expect(final?.choices[0].finish_reason).toBe('stop');
      for (const content of contents) expect(final?.choices[0].message.content?.startsWith(content)).toBe(true);
      // The restart is visible: after three tokens the snapshot begins again from the first one.
      const firstThree = splitTokens(answer).slice(0, 3).join('');
      expect(contents.indexOf(firstThree)).toBeLessThan(contents.lastIndexOf(firstThree));
      expect(run.retries).toEqual([expect.objectContaining({ retryCount: 1, afterData: true })]);
      expect(requestsFor(prompt).map((request) => request.state)).toEqual(['cut', 'completed']);
    });

    test("afterData: 'restart' after scan(): the accumulated text starts over too", async () => {
      const prompt = uniquePrompt('[[mock:tokens=12]] [[mock:cut=5]] [[mock:times=1]]');
      const run = await runWithVirtualTime(
        (retry) =>
          mock.client.chat.completions.stream(params(prompt)).pipe(
            contentDeltas(),
            scan((text, delta) => text + delta, ''),
            retryStream(retry),
          ),
        { afterData: 'restart' },
      );
      const final = run.values.at(-1) ?? '';
      expect(splitTokens(final)).toHaveLength(12);
      expect(run.values).toHaveLength(5 + 12);
      for (const text of run.values) expect(final.startsWith(text)).toBe(true);
    });
  });

  describe('unsubscribing during the wait', () => {
    /** The answer to `prompt`, counting the subscriptions to it: each one is a request, and none goes out without one. */
    const countingAttempts = (prompt: string) => {
      const counter = { attempts: 0 };
      const stream$ = defer(() => {
        counter.attempts++;
        return mock.client.chat.completions.stream(params(prompt));
      });
      return { counter, stream$ };
    };

    test('cancels the timer: nothing is scheduled any more and no request follows', async () => {
      const prompt = uniquePrompt('[[mock:error=503]] [[mock:retry-after=30]]');
      const scheduler = new VirtualTimeScheduler();
      const retries = watchedList<RetryInfo>();
      const { counter, stream$ } = countingAttempts(prompt);
      const run = record(stream$.pipe(retryStream({ scheduler, onRetry: (info) => retries.push(info) })));
      await retries.reaches(1, 'the first retry to be scheduled');
      expect(scheduler.actions).toHaveLength(1);
      run.subscription.unsubscribe();
      expect(scheduler.actions).toHaveLength(0);
      scheduler.flush();
      // No second subscription, so no second request: the one that failed is all the server saw.
      expect(counter.attempts).toBe(1);
      expect(requestsFor(prompt)).toHaveLength(1);
      expect(run.errored || run.completed).toBe(false);
    });

    test('with real timers too: the wait on asyncScheduler is cancelled', async () => {
      const schedule = jest.spyOn(asyncScheduler, 'schedule');
      const prompt = uniquePrompt('[[mock:error=503]] [[mock:retry-after-ms=100]]');
      const retries = watchedList<RetryInfo>();
      const { counter, stream$ } = countingAttempts(prompt);
      const run = record(stream$.pipe(retryStream({ onRetry: (info) => retries.push(info) })));
      await retries.reaches(1, 'the first retry to be scheduled');
      const waits = schedule.mock.calls.flatMap(([, delay], call) => (delay === 100 ? [schedule.mock.results[call].value as Subscription] : []));
      expect(waits.map((wait) => wait.closed)).toEqual([false]);
      run.subscription.unsubscribe();
      // The timer is gone, so nothing can subscribe again: no request can follow.
      expect(waits.map((wait) => wait.closed)).toEqual([true]);
      expect(counter.attempts).toBe(1);
      expect(requestsFor(prompt)).toHaveLength(1);
    });
  });
});

describe('retryStream in virtual time (TestScheduler.run)', () => {
  const refused = () => new APIConnectionError({ message: 'connect ECONNREFUSED' });

  test("a server's retry-after wins over the backoff and is cut to maxRetryAfterMs", () => {
    marbleScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const rateLimited = new APIError({ status: 429, message: '429 Rate limit reached', retryAfterMs: 5000 });
      const source$ = cold('10ms #', undefined, rateLimited);
      expectObservable(source$.pipe(retryStream({ count: 2, initialDelayMs: 1, maxRetryAfterMs: 3000 }))).toBe('6030ms #', undefined, rateLimited);
      expectSubscriptions(source$.subscriptions).toBe(['^ 9ms !', '3010ms ^ 9ms !', '6020ms ^ 9ms !']);
    });
  });

  test('a 429 with retry-after-ms through a client: the retry waits it, the second answer streams', () => {
    const transport = scriptedTransport([
      { status: 429, headers: { 'retry-after-ms': '1500' }, headersDelayMs: 20, body: '{"error":{"message":"Rate limit reached","type":"requests"}}' },
      { headersDelayMs: 20, body: sseText(chatFrames(['Hi', '!'])) },
    ]);
    const client = createClient({ baseURL: 'https://api.test/v1', transport });
    marbleScheduler().run(({ expectObservable }) => {
      expectObservable(client.chat.completions.stream(params('hi')).pipe(retryStream(), contentDeltas())).toBe('1540ms (ab|)', { a: 'Hi', b: '!' });
    });
    expect(transport.requests.map((request) => request.state)).toEqual(['completed', 'completed']);
  });

  test('without retry-after: full jitter, each wait within 0 and a ceiling that doubles up to maxDelayMs, waited exactly', () => {
    const ceilings = [100, 200, 400, 800, 1000, 1000];
    const longest = ceilings.map(() => 0);
    // Math.random as it is: many runs, each wait checked against its bounds and against the time that passed.
    for (let run = 0; run < 50; run++) {
      const subscribedAt: number[] = [];
      const delays: number[] = [];
      const failed: Array<[number, unknown]> = [];
      const testScheduler = marbleScheduler();
      testScheduler.run(() => {
        const source$ = defer(() => {
          subscribedAt.push(testScheduler.now());
          return throwError(refused);
        });
        source$
          .pipe(retryStream({ count: ceilings.length, initialDelayMs: 100, maxDelayMs: 1000, onRetry: ({ delayMs }) => delays.push(delayMs) }))
          .subscribe({ error: (error: unknown) => failed.push([testScheduler.now(), error]) });
      });
      // The last attempt's error passes through at once.
      expect(failed).toEqual([[subscribedAt.at(-1), expect.any(APIConnectionError)]]);
      expect(subscribedAt).toHaveLength(ceilings.length + 1);
      delays.forEach((delayMs, retry) => {
        expect(delayMs).toBeGreaterThanOrEqual(0);
        expect(delayMs).toBeLessThanOrEqual(ceilings[retry]);
        expect(subscribedAt[retry + 1] - subscribedAt[retry]).toBe(delayMs);
        longest[retry] = Math.max(longest[retry], delayMs);
      });
    }
    // Full jitter reaches into the upper half of every ceiling (each miss has a chance of 2⁻⁵⁰).
    longest.forEach((delayMs, retry) => expect(delayMs).toBeGreaterThan(ceilings[retry] / 2));
  });
});

describe('retryStream on raw frames', () => {
  test('keep-alive comments do not count as data: a reset after a comment is retried', async () => {
    const transport = scriptedTransport([
      { body: [': keep-alive\n\n'], end: 'reset' },
      { body: 'data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n' },
    ]);
    const scripted = createClient({ baseURL: 'https://api.test/v1', transport });
    const run = record(scripted.chat.completions.events(params('hi')).pipe(retryStream({ initialDelayMs: 1 })));
    await run.done;
    expect(run.completed).toBe(true);
    expect(run.values.map((frame) => frame.type)).toEqual(['comment', 'event', 'event']);
    expect(transport.requests.map((request) => request.state)).toEqual(['failed', 'completed']);
  });
});

describe('isRetryableError', () => {
  const apiError = (status: number | undefined, headers: Record<string, string> = {}) => new APIError({ status, message: 'x', headers });
  test.each([
    ['APIConnectionError', true, new APIConnectionError({ message: 'reset' })],
    ["StreamTimeoutError 'headers'", true, new StreamTimeoutError({ phase: 'headers', timeoutMs: 1 })],
    ["StreamTimeoutError 'first-event'", true, new StreamTimeoutError({ phase: 'first-event', timeoutMs: 1 })],
    ["StreamTimeoutError 'idle'", true, new StreamTimeoutError({ phase: 'idle', timeoutMs: 1 })],
    ["StreamTimeoutError 'total'", false, new StreamTimeoutError({ phase: 'total', timeoutMs: 1 })],
    ['APIError 429', true, apiError(429)],
    ['APIError 500', true, apiError(500)],
    ['APIError 599', true, apiError(599)],
    ['APIError 400', false, apiError(400)],
    ['APIError 413', false, apiError(413)],
    ['APIError without status (in-stream)', false, apiError(undefined)],
    ['APIError 400 with x-should-retry: true', true, apiError(400, { 'x-should-retry': 'true' })],
    ['APIError 503 with x-should-retry: false', false, apiError(503, { 'x-should-retry': 'false' })],
    ['StreamAbortError', false, new StreamAbortError()],
    ['StreamProtocolError', false, new StreamProtocolError({ message: 'bad', problem: 'invalid-json', data: '{' })],
    ['StreamTruncatedError', false, new StreamTruncatedError({ message: 'cut', partial: {} })],
    ['a plain Error', false, new Error('x')],
  ])('%s → %p', (_name, expected, error) => {
    expect(isRetryableError(error)).toBe(expected);
  });

  test('a custom predicate replaces it', async () => {
    const transport = scriptedTransport([
      { body: 'data: {"choices":[{"index":0,"delta":{"content":"par"}}]}\n\n' },
      { body: 'data: {"choices":[{"index":0,"delta":{"content":"full"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n' },
    ]);
    const scripted = createClient({ baseURL: 'https://api.test/v1', transport });
    const run = record(
      scripted.chat.completions.stream(params('hi')).pipe(
        accumulateChatCompletion(),
        retryStream({ afterData: 'restart', initialDelayMs: 1, retryable: (error) => error instanceof StreamTruncatedError }),
      ),
    );
    await run.done;
    expect(run.values.map((snapshot) => snapshot.choices[0].message.content)).toEqual(['par', 'full']);
  });
});

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
