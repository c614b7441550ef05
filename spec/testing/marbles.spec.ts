// The "Testing with marbles" recipes of the README (Recipes), as tests: each block there is one test here.
import { catchError, map, of, scan, timeout } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { APIError, chatChunks, contentDeltas, createClient, encodeSse, retryStream } from '../../src/index.node';
import { chatChunk, chatFrames, doneFrame, scriptedTransport, sseEvent, sseText, wait } from '../../src/testing';

const params = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hi' }] };

let testScheduler: TestScheduler;
beforeEach(() => {
  testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
});
afterEach(() => jest.restoreAllMocks());

test('your operators over built chunks', () => {
  testScheduler.run(({ cold, expectObservable }) => {
    const chunks$ = cold('a-b-(c|)', {
      a: chatChunk('Hel'),
      b: chatChunk('lo'),
      c: chatChunk({ content: '!', finish: 'stop' }),
    });
    expectObservable(chunks$.pipe(contentDeltas())).toBe('a-b-(c|)', { a: 'Hel', b: 'lo', c: '!' });
  });
});

test('the parsed pipeline over built SSE frames, [DONE] included', () => {
  testScheduler.run(({ cold, expectObservable }) => {
    const frames$ = cold('a-b-(cd|)', {
      a: sseEvent(chatChunk('Hel')),
      b: sseEvent(chatChunk('lo')),
      c: sseEvent(chatChunk({ finish: 'stop' })),
      d: doneFrame(),
    });
    expectObservable(frames$.pipe(chatChunks(), contentDeltas())).toBe('a-b-(|)', { a: 'Hel', b: 'lo' });
  });
});

test('a whole client in virtual time: a scripted transport plays the body as marbles', () => {
  testScheduler.run(({ cold, expectObservable }) => {
    const body$ = cold('a-b-(c|)', {
      a: sseText([sseEvent(chatChunk({ role: 'assistant', content: 'Hel' }))]),
      b: sseText([sseEvent(chatChunk('lo'))]),
      c: sseText([sseEvent(chatChunk({ content: '!', finish: 'stop' })), doneFrame()]),
    });
    const client = createClient({ baseURL: 'https://api.test/v1', transport: scriptedTransport({ body: body$ }) });

    const answer$ = client.chat.completions.stream(params).pipe(
      contentDeltas(),
      scan((text, delta) => text + delta, ''),
    );
    expectObservable(answer$).toBe('a-b-(c|)', { a: 'Hel', b: 'Hello', c: 'Hello!' });
  });
});

test('scripted pauses and chunk boundaries, with the request recorded', () => {
  const [role, hel, lo, ...rest] = chatFrames(['Hel', 'lo']).map(encodeSse);
  const transport = scriptedTransport({
    body: [role + hel.slice(0, 20), wait(5), hel.slice(20) + lo.slice(0, 20), wait(5), lo.slice(20) + rest.join('')],
  });
  const client = createClient({ baseURL: 'https://api.test/v1', apiKey: 'sk-test', transport });

  testScheduler.run(({ expectObservable }) => {
    expectObservable(client.chat.completions.stream(params).pipe(contentDeltas())).toBe('5ms a 4ms (b|)', { a: 'Hel', b: 'lo' });
  });
  expect(transport.requests).toEqual([
    expect.objectContaining({
      url: 'https://api.test/v1/chat/completions',
      json: { ...params, stream: true },
    }),
  ]);
  expect(transport.requests[0].headers.authorization).toBe('Bearer [redacted]');
});

test('a stall meets rxjs timeout(), and the transport sees the request cancelled', () => {
  const transport = scriptedTransport({ body: [sseText([sseEvent(chatChunk('Hel'))])], end: 'hang' });
  const client = createClient({ baseURL: 'https://api.test/v1', transport });

  testScheduler.run(({ expectObservable }) => {
    const answer$ = client.chat.completions.stream(params).pipe(
      contentDeltas(),
      timeout({ each: 100 }),
      catchError((error: Error) => of(error.name)),
    );
    expectObservable(answer$).toBe('a 99ms (b|)', { a: 'Hel', b: 'TimeoutError' });
  });
  expect(transport.requests[0].state).toBe('cancelled');
});

test('retryStream waits the retry-after in virtual time', () => {
  testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
    const rateLimited = new APIError({ status: 429, message: '429 Rate limit reached', retryAfterMs: 1000 });
    const source$ = cold('#', undefined, rateLimited);
    expectObservable(source$.pipe(retryStream({ count: 2 }))).toBe('2000ms #', undefined, rateLimited);
    expectSubscriptions(source$.subscriptions).toBe(['(^!)', '1000ms (^!)', '2000ms (^!)']);
  });
});

test('retryStream after a refused connection, through a client, in virtual time', () => {
  jest.spyOn(Math, 'random').mockReturnValue(0.5);
  const transport = scriptedTransport([
    { connectionError: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) },
    { body: sseText(chatFrames(['Hi', '!'])) },
  ]);
  const client = createClient({ baseURL: 'https://api.test/v1', transport });

  testScheduler.run(({ expectObservable }) => {
    const answer$ = client.chat.completions.stream(params).pipe(retryStream({ initialDelayMs: 500 }), contentDeltas());
    expectObservable(answer$).toBe('250ms (ab|)', { a: 'Hi', b: '!' });
  });
  expect(transport.requests).toHaveLength(2);
  expect(transport.requests[0].state).toBe('failed');
});

test('the raw pipeline in virtual time: frames as they arrived, mapped to what a relay writes', () => {
  const transport = scriptedTransport({ body: [': keep-alive\n\n', wait(3), sseText(chatFrames(['Hi']))] });
  const client = createClient({ baseURL: 'https://api.test/v1', transport });

  testScheduler.run(({ expectObservable }) => {
    const kinds$ = client.chat.completions.events(params).pipe(map((frame) => (frame.type === 'comment' ? 'c' : frame.data === '[DONE]' ? 'd' : 'e')));
    expectObservable(kinds$).toBe('c 2ms (eeed|)', { c: 'c', e: 'e', d: 'd' });
  });
});
