import { BehaviorSubject, lastValueFrom, toArray } from 'rxjs';
import { APIConnectionError, APIError, contentDeltas, createClient, StreamTimeoutError, type Transport } from '../../src/index.node';
import { chatFrames, scriptedTransport, sseText, wait, type Script } from '../../src/testing';
import { pausedBy } from '../../src/sse/pausedBy';
import { eventStream } from '../../src/sse/sseFrames';
import { chatChunks } from '../../src/index.node';
import { marbleScheduler } from '../helpers/marbles';
import { errorOf, record } from '../helpers/streams';

const params = { model: 'm', messages: [{ role: 'user' as const, content: 'Hi' }] };
const clientOn = (transport: Transport) => createClient({ baseURL: 'https://api.test/v1', apiKey: 'sk-scripted', transport });
const answerOf = (script: Script) => {
  const transport = scriptedTransport(script);
  return { transport, deltas$: clientOn(transport).chat.completions.stream(params).pipe(contentDeltas()) };
};

describe('scriptedTransport with real timers', () => {
  test('serves a body with pauses between chunks', async () => {
    const [head, ...rest] = chatFrames(['Hel', 'lo']).map((frame) => sseText([frame]));
    const { deltas$ } = answerOf({ body: [head, wait(10), ...rest] });
    expect(await lastValueFrom(deltas$.pipe(toArray()))).toEqual(['Hel', 'lo']);
  });

  test('an error status with its headers and JSON body becomes a typed APIError', async () => {
    const { deltas$ } = answerOf({
      status: 429,
      headers: { 'Retry-After': '3', 'x-request-id': 'req_1' },
      body: JSON.stringify({ error: { message: 'Slow down', type: 'requests', code: 'rate_limit_exceeded' } }),
    });
    const error = (await errorOf(deltas$)) as APIError;
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded', retryAfterMs: 3000, requestId: 'req_1' });
  });

  test('one scripted response per request, in order; a request beyond the list fails clearly', async () => {
    const { transport, deltas$ } = answerOf([{ body: sseText(chatFrames(['one'])) }, { body: sseText(chatFrames(['two'])) }]);
    expect(await lastValueFrom(deltas$.pipe(toArray()))).toEqual(['one']);
    expect(await lastValueFrom(deltas$.pipe(toArray()))).toEqual(['two']);
    const error = await errorOf(deltas$);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect((error as Error).message).toContain('scriptedTransport: no response is scripted for request #3');
    // A finished response is read to its end (its connection stays reusable), not cancelled.
    expect(transport.requests.map((request) => request.state)).toEqual(['completed', 'completed', 'failed']);
  });

  test('a function answers each request from what it asked', async () => {
    const { deltas$ } = answerOf((request) => ({ body: sseText(chatFrames([`you said ${(request.json as typeof params).messages[0].content}`])) }));
    expect(await lastValueFrom(deltas$.pipe(toArray()))).toEqual(['you said Hi']);
  });

  test('a refused connection and a reset connection end as APIConnectionError', async () => {
    const refused = answerOf({ connectionError: new Error('connect ECONNREFUSED') });
    expect(await errorOf(refused.deltas$)).toBeInstanceOf(APIConnectionError);
    const reset = answerOf({ body: [sseText(chatFrames(['Hel']).slice(0, 2))], end: 'reset' });
    const recording = record(reset.deltas$);
    await recording.done;
    expect(recording.values).toEqual(['Hel']);
    expect(recording.error).toBeInstanceOf(APIConnectionError);
    expect(reset.transport.requests[0].state).toBe('failed');
  });

  test('records the request with masked credentials', async () => {
    const { transport, deltas$ } = answerOf({ body: sseText(chatFrames(['x'])) });
    await lastValueFrom(deltas$);
    expect(transport.requests[0]).toMatchObject({
      url: 'https://api.test/v1/chat/completions',
      method: 'POST',
      headers: { authorization: 'Bearer [redacted]', 'content-type': 'application/json' },
      json: { ...params, stream: true },
    });
    expect(JSON.stringify(transport.requests)).not.toContain('sk-scripted');
  });
});

describe('scriptedTransport in virtual time', () => {
  test('headers that never come meet the headers timeout, and the request is recorded as cancelled', () => {
    const transport = scriptedTransport({ headersDelayMs: Infinity });
    marbleScheduler().run(({ expectObservable }) => {
      expectObservable(clientOn(transport).chat.completions.stream(params, { timeout: { headersMs: 50 } })).toBe(
        '50ms #',
        undefined,
        new StreamTimeoutError({ phase: 'headers', timeoutMs: 50 }),
      );
    });
    expect(transport.requests[0].state).toBe('cancelled');
  });

  test('holds the body back while the reader is paused, and delivers all of it on resume', () => {
    const transport = scriptedTransport({ body: [sseText(chatFrames(['a', 'b', 'c']))] });
    const testScheduler = marbleScheduler();
    testScheduler.run(({ expectObservable }) => {
      const pause$ = new BehaviorSubject(true);
      const answer$ = eventStream({ transport, url: 'https://api.test/v1/chat/completions' }, pausedBy(pause$)).pipe(chatChunks(), contentDeltas());
      testScheduler.schedule(() => pause$.next(false), 100);
      expectObservable(answer$).toBe('100ms (abc|)', { a: 'a', b: 'b', c: 'c' });
    });
    expect(transport.requests[0].state).toBe('completed');
  });
});
