import { finalize, last, lastValueFrom, toArray, type Observable } from 'rxjs';
import { buildClient, type OpenAIRxClient, type RequestOptions } from '../src/client';
import { APIConnectionError, APIError, StreamAbortError, StreamProtocolError } from '../src/errors';
import { accumulateChatCompletion } from '../src/openai/accumulateChatCompletion';
import { accumulateCompletion } from '../src/openai/accumulateCompletion';
import { accumulateResponse } from '../src/openai/accumulateResponse';
import { chatChunks } from '../src/openai/chatChunks';
import { StreamNotFoundError } from '../src/resume/clientErrors';
import type { ResponseHead, SseFrame } from '../src/sse/types';
import { chatFrames } from '../src/testing/chatBuilders';
import { completionFrames } from '../src/testing/completionBuilders';
import { responseFrames } from '../src/testing/responseBuilders';
import { sseComment } from '../src/testing/sseBuilders';
import type { PromiseTransport, TransportRequest } from '../src/transport/types';
import { CANCELLED_FRAME, startFakeResumeRelay, type FakeResumeRelay, type FakeResumeRelayConfig } from './helpers/resumeRelay';
import { sseHead, startServer, type TestServer } from './helpers/server';
import { watchedList } from './helpers/changes';
import { record, TRANSPORTS } from './helpers/streams';

const chatParams = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };
/** Re-attach at once: the backoff is the unit spec's; here the network is. */
const resume = { initialDelayMs: 0 };

/** 9 frames: a comment, events 1–2, a comment, events 3–7 (the last is `[DONE]`). */
const CHAT = [sseComment('start'), ...chatFrames(['Hel', 'lo', ' wor', 'ld']).flatMap((frame, index) => (index === 1 ? [frame, sseComment('mid')] : [frame]))];

/**
 * A transport that records every request the moment it is sent, and counts the answers that settled. The
 * caller gets a promise that rejects as the transport's did: whether it handles that is still up to it.
 */
function recording(transport: PromiseTransport) {
  const sent: TransportRequest[] = [];
  const settled = watchedList<TransportRequest>();
  const spy: PromiseTransport = (request) => {
    sent.push(request);
    return transport(request).finally(() => settled.push(request));
  };
  return { transport: spy, sent, settled };
}

/** Event frames numbered 1, 2, 3 … as the relay sends them. */
function numbered(frames: SseFrame[]): SseFrame[] {
  let event = 0;
  return frames.map((frame) => (frame.type === 'event' ? { ...frame, id: String(++event) } : frame));
}

/** What a page would do to stop a stream from elsewhere. */
const cancelFrom = (target: FakeResumeRelay) => fetch(`${target.baseURL}/streams/${target.streamId}/cancel`, { method: 'POST' }).then((response) => response.json());

/** `sessionStorage` as far as the README's recipe uses it. */
function memoryStorage(): Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

const cancelsIn = (sent: TransportRequest[]) => sent.filter((request) => request.url.endsWith('/cancel'));

describe.each(TRANSPORTS)('resumable streams over %s', (_name, transport) => {
  const relays: FakeResumeRelay[] = [];
  let server: TestServer | undefined;
  const relay = async (config: FakeResumeRelayConfig) => {
    const started = await startFakeResumeRelay(config);
    relays.push(started);
    return started;
  };
  const clientOf = (target: FakeResumeRelay, over: PromiseTransport = transport): OpenAIRxClient =>
    buildClient({ baseURL: target.baseURL, apiKey: 'sk-resume', headers: { 'x-app': 'chat' }, transport: over });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((each) => each.close()));
    await server?.close();
    server = undefined;
  });

  test('a chat stream cut twice is re-attached after the last event seen: each frame once, in order, the same completion', async () => {
    const uncut = await relay({ frames: CHAT });
    const cut = await relay({ frames: CHAT, cuts: [4, 6] });
    const cutAgain = await relay({ frames: CHAT, cuts: [4, 6] });
    const heads: ResponseHead[] = [];
    const options: RequestOptions = { resume, head: (head) => heads.push(head) };

    const expected = await lastValueFrom(clientOf(uncut).chat.completions.events(chatParams).pipe(toArray()));
    const frames = await lastValueFrom(clientOf(cut).chat.completions.events(chatParams, options).pipe(toArray()));
    expect(frames).toEqual(expected);
    expect(frames.filter((frame) => frame.type === 'event').map((frame) => frame.id)).toEqual(['1', '2', '3', '4', '5', '6', '7']);

    const completion = (target: FakeResumeRelay, request?: RequestOptions) =>
      lastValueFrom(clientOf(target).chat.completions.stream(chatParams, request).pipe(accumulateChatCompletion(), last()));
    const whole = await completion(uncut);
    expect(await completion(cutAgain, { resume })).toEqual(whole);
    expect(whole.choices[0].message.content).toBe('Hello world');

    // One POST (one generation), then one GET per cut.
    for (const each of [cut, cutAgain]) expect(each.requestsOf('start')).toHaveLength(1);
    const reattaches = cut.requestsOf('reattach');
    expect([...reattaches, ...cutAgain.requestsOf('reattach')].map((request) => request.headers['last-event-id'])).toEqual(['2', '4', '2', '4']);
    expect(reattaches[0]).toMatchObject({ method: 'GET', url: `/v1/streams/${cut.streamId}`, body: '' });
    expect(reattaches[0].headers).toMatchObject({ authorization: 'Bearer sk-resume', 'x-app': 'chat', accept: 'text/event-stream' });
    expect(reattaches[0].headers['content-type']).toBeUndefined();
    expect(heads).toHaveLength(1);
    expect(heads[0].streamId).toBe(cut.streamId);
  });

  test.each([
    [
      'legacy completions',
      completionFrames(['Once', ' upon', ' a', ' time']),
      (client: OpenAIRxClient, options?: RequestOptions) =>
        client.completions.stream({ model: 'gpt-3.5-turbo-instruct', prompt: 'Tell' }, options).pipe(accumulateCompletion()),
    ],
    [
      'Responses',
      responseFrames(['Once', ' upon', ' a', ' time']),
      (client: OpenAIRxClient, options?: RequestOptions) => client.responses.stream({ model: 'gpt-4o-mini', input: 'Tell' }, options).pipe(accumulateResponse()),
    ],
  ])('%s: a cut stream gives the same result as an uncut one', async (_endpoint, frames: SseFrame[], run: (client: OpenAIRxClient, options?: RequestOptions) => Observable<unknown>) => {
    const uncut = await relay({ frames });
    const cut = await relay({ frames, cuts: [2, 5] });
    const whole = await lastValueFrom(run(clientOf(uncut)));
    expect(await lastValueFrom(run(clientOf(cut), { resume }))).toEqual(whole);
    expect(cut.requestsOf('start')).toHaveLength(1);
    expect(cut.requestsOf('reattach').map((request) => request.headers['last-event-id'])).toEqual(['2', '5']);
  });

  test('client.sse re-attaches too', async () => {
    const target = await relay({ frames: CHAT, cuts: [1], prefix: '' });
    const frames = await lastValueFrom(clientOf(target).sse('/custom', { a: 1 }, { resume }).pipe(toArray()));
    expect(frames).toHaveLength(CHAT.length);
    expect(target.requestsOf('reattach').map((request) => request.headers['last-event-id'])).toEqual(['0']);
  });

  test('unsubscribing aborts the connection at once and sends the cancel, with the client headers', async () => {
    const target = await relay({ frames: CHAT, held: 4 });
    const stream = record(clientOf(target).chat.completions.events(chatParams, { resume: true }));
    await stream.until(() => stream.values.length === 4, 'the frames before the pause');
    stream.subscription.unsubscribe();
    await target.waitForCancels(1);
    const [cancel] = target.requestsOf('cancel');
    expect(cancel).toMatchObject({ method: 'POST', url: `/v1/streams/${target.streamId}/cancel`, body: '' });
    expect(cancel.headers).toMatchObject({ authorization: 'Bearer sk-resume', 'x-app': 'chat', accept: 'application/json' });
    expect(cancel.headers['content-type']).toBeUndefined();
    // The stream's own connection was aborted at once: its socket closed, whatever the cancel does.
    await target.server.waitForClosedSockets(1);
    expect(stream.completed || stream.errored).toBe(false);
  });

  test('the abort signal cancels too, and the stream ends with StreamAbortError', async () => {
    const target = await relay({ frames: CHAT, held: 2 });
    const controller = new AbortController();
    const stream = record(clientOf(target).chat.completions.events(chatParams, { resume: true, signal: controller.signal }));
    await stream.until(() => stream.values.length === 2, 'the first frames');
    controller.abort();
    await stream.done;
    expect(stream.error).toBeInstanceOf(StreamAbortError);
    await target.waitForCancels(1);
  });

  test('a chunk the parser rejects sends the cancel once, after the consumer saw the error', async () => {
    const target = await relay({ frames: [CHAT[1], { type: 'event', data: 'not json' }, ...CHAT.slice(2)], held: 3 });
    const order: string[] = [];
    const spy: PromiseTransport = (request) => {
      if (request.url.endsWith('/cancel')) order.push('cancel');
      return transport(request);
    };
    const error = await new Promise((resolve) => {
      clientOf(target, spy)
        .chat.completions.stream(chatParams, { resume: true })
        .subscribe({
          error: (caught: unknown) => {
            order.push('error');
            resolve(caught);
          },
        });
    });
    expect(error).toBeInstanceOf(StreamProtocolError);
    await target.waitForCancels(1);
    expect(order).toEqual(['error', 'cancel']);
  });

  test('no cancel for a stream that completed, failed, or whose parser finished at [DONE]', async () => {
    const finished = await relay({ frames: CHAT });
    const { transport: spy, sent } = recording(transport);
    const client = clientOf(finished, spy);
    await lastValueFrom(client.chat.completions.events(chatParams, { resume: true }));
    await lastValueFrom(client.chat.completions.stream(chatParams, { resume: true }).pipe(accumulateChatCompletion()));

    const failing = await relay({ frames: [chatFrames(['a'])[0], { type: 'event', data: '{"error":{"message":"boom","code":"server_error"}}' }] });
    const error = await lastValueFrom(clientOf(failing, spy).chat.completions.stream(chatParams, { resume: true })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    expect(sent.map((request) => request.method)).toEqual(['POST', 'POST', 'POST']);
    expect(cancelsIn(sent)).toEqual([]);
  });

  test('a cancel the relay has nothing to cancel for, or cannot receive, passes quietly', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // Two readers leave together: the second cancel finds the generation finished.
      const target = await relay({ frames: CHAT, held: 3 });
      const readers = [
        record(clientOf(target).chat.completions.events(chatParams, { resume: true })),
        record(clientOf(target).resumeStream(target.streamId)),
      ];
      await Promise.all(readers.map((reader) => reader.until(() => reader.values.length === 3, 'the frames')));
      for (const reader of readers) reader.subscription.unsubscribe();
      await target.waitForCancels(2);
      expect(target.cancelAnswers).toEqual(['cancelling', 'finished']);

      // Gone: the relay is down when the cancel is sent.
      const gone = await relay({ frames: CHAT, held: 3 });
      const { transport: spy, sent, settled } = recording(transport);
      const second = record(clientOf(gone, spy).chat.completions.events(chatParams, { resume: true }));
      await second.until(() => second.values.length === 3, 'the frames');
      await gone.close();
      second.subscription.unsubscribe();
      expect(cancelsIn(sent)).toHaveLength(1);
      await settled.reaches(sent.length, 'every request to settle');
      // An unhandled rejection is reported once the microtasks after it ran.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  test('without x-stream-id, or before the head, a break is an error as without resume', async () => {
    server = await startServer((req, res) => {
      if (req.url === '/v1/chat/completions') {
        sseHead(res);
        res.write(': hi\n\n', () => res.socket?.destroy());
      } else res.socket?.destroy();
    });
    const client = buildClient({ baseURL: `${server.url}/v1`, transport });
    expect(await lastValueFrom(client.chat.completions.events(chatParams, { resume: true })).catch((error: unknown) => error)).toBeInstanceOf(
      APIConnectionError,
    );
    expect(await lastValueFrom(client.completions.events({ model: 'm', prompt: 'p' }, { resume: true })).catch((error: unknown) => error)).toBeInstanceOf(
      APIConnectionError,
    );
    expect(server.requests.map((request) => request.method)).toEqual(['POST', 'POST']);
  });

  test('an x-stream-id that is not URL-safe is not used to build a URL', async () => {
    server = await startServer((_req, res) => {
      sseHead(res, { 'x-stream-id': '../../admin' });
      res.write(': hi\n\n', () => res.socket?.destroy());
    });
    const client = buildClient({ baseURL: `${server.url}/v1`, transport });
    const stream = record(client.chat.completions.events(chatParams, { resume: true }));
    await stream.done;
    expect(stream.error).toBeInstanceOf(APIConnectionError);
    expect(server.requests).toHaveLength(1);
  });

  test('README: keep the stream id in sessionStorage, and after a reload rebuild the answer from it', async () => {
    const target = await relay({ frames: CHAT, held: 4 });
    const sessionStorage = memoryStorage();
    const client = clientOf(target);
    const ask = () => chatParams;

    const forget = () => sessionStorage.removeItem('streamId');
    const keep = ({ streamId }: ResponseHead) => streamId && sessionStorage.setItem('streamId', streamId);
    const before = record(client.chat.completions.stream(ask(), { resume: true, head: keep }).pipe(accumulateChatCompletion(), finalize(forget)));
    await before.until(() => before.values.length === 2, 'the first snapshots');
    expect(sessionStorage.getItem('streamId')).toBe(target.streamId);

    // The reloaded page: the old one is gone (here it just stays unread).
    const streamId = sessionStorage.getItem('streamId');
    const after = record(client.resumeStream(streamId ?? '').pipe(chatChunks(), accumulateChatCompletion(), finalize(forget)));
    await after.until(() => after.values.length === 2, 'the replayed snapshots');
    target.release();
    await Promise.all([before.done, after.done]);
    expect(after.values.at(-1)).toEqual(before.values.at(-1));
    expect(after.values.at(-1)?.choices[0].message.content).toBe('Hello world');
    expect(sessionStorage.getItem('streamId')).toBeNull();
  });

  describe('resumeStream', () => {
    test('after a "reload", picks the stream up after the last event the page kept', async () => {
      const target = await relay({ frames: CHAT, cuts: [4] });
      // The page before the reload: its connection breaks for good (no resume); it kept the id and the frames.
      let kept: string | undefined;
      const before = record(clientOf(target).chat.completions.events(chatParams, { head: ({ streamId }) => (kept = streamId) }));
      await before.done;
      expect(before.error).toBeInstanceOf(APIConnectionError);
      const lastEvent = [...before.values].reverse().find((frame) => frame.type === 'event');
      expect(lastEvent?.type === 'event' && lastEvent.id).toBe('2');

      const rest = await lastValueFrom(clientOf(target).resumeStream(kept ?? '', { after: 2 }).pipe(toArray()));
      // What came after event 2 (the comment too) comes again: the page asked from there.
      expect([...before.values.slice(0, 3), ...rest]).toEqual(numbered(CHAT));
      expect(target.requestsOf('reattach').map((request) => request.headers['last-event-id'])).toEqual(['2']);
    });

    test('re-attaches when its own connection breaks, and cancels when unsubscribed', async () => {
      const target = await relay({ frames: CHAT, held: 5, cuts: [3] });
      const stream = record(clientOf(target).resumeStream(target.streamId, { resume }));
      await stream.until(() => stream.values.length === 5, 'every frame');
      stream.subscription.unsubscribe();
      await target.waitForCancels(1);
      expect(stream.values).toEqual(numbered(CHAT.slice(0, 5)));
      expect(target.requestsOf('reattach').map((request) => request.headers['last-event-id'])).toEqual(['0', '2']);
    });

    test('with cancelOnUnsubscribe: false, leaving sends no cancel', async () => {
      const target = await relay({ frames: CHAT, held: 2 });
      const { transport: spy, sent } = recording(transport);
      const stream = record(clientOf(target, spy).resumeStream(target.streamId, { resume: { cancelOnUnsubscribe: false } }));
      await stream.until(() => stream.values.length === 2, 'the frames');
      stream.subscription.unsubscribe();
      expect(cancelsIn(sent)).toEqual([]);
    });

    test('a stream the relay does not know is a StreamNotFoundError, not retried and not cancelled', async () => {
      const target = await relay({ frames: CHAT });
      const { transport: spy, sent } = recording(transport);
      const stream = record(clientOf(target, spy).resumeStream('not-this-one'));
      await stream.done;
      expect(stream.error).toBeInstanceOf(StreamNotFoundError);
      expect(stream.error).toMatchObject({ status: 404, code: 'stream_not_found' });
      expect(target.requestsOf('reattach')).toHaveLength(1);
      expect(sent.map((request) => request.method)).toEqual(['GET']);
    });

    test('a signal already aborted ends it with StreamAbortError before any read, and cancels the known stream once', async () => {
      const target = await relay({ frames: CHAT, held: 2 });
      const { transport: spy, sent } = recording(transport);
      const stream = record(clientOf(target, spy).resumeStream(target.streamId, { signal: AbortSignal.abort() }));
      await stream.done;
      expect(stream.error).toBeInstanceOf(StreamAbortError);
      await target.waitForCancels(1);
      expect(sent.map((request) => `${request.method} ${new URL(request.url).pathname}`)).toEqual([`POST /v1/streams/${target.streamId}/cancel`]);
    });

    test('a relay that cancelled the stream ends it with the cancelled error frame', async () => {
      const target = await relay({ frames: CHAT, held: 2 });
      const stream = record(clientOf(target).resumeStream(target.streamId));
      await stream.until(() => stream.values.length === 2, 'the frames');
      await cancelFrom(target);
      await stream.done;
      expect(stream.completed).toBe(true);
      expect(stream.values.at(-1)).toEqual({ type: 'event', data: CANCELLED_FRAME.slice('data: '.length).trim() });
    });
  });
});
