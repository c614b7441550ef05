// The client's resume mode against the real relay (createRelay({ resume })), through a TCP proxy a test cuts.
import type { IncomingMessage } from 'node:http';
import { last, lastValueFrom, toArray } from 'rxjs';
import { buildClient, type OpenAIRxClient } from '../src/client';
import { APIConnectionError } from '../src/errors';
import type { RelaySummary } from '../src/index.node';
import { createRelay } from '../src/node';
import { accumulateChatCompletion } from '../src/openai/accumulateChatCompletion';
import type { SseFrame } from '../src/sse/types';
import { firstMatch, watchedList, type WatchedList } from './helpers/changes';
import { resumeRelayOptions } from './helpers/resumeRelay';
import { startServer, type Handler, type TestServer } from './helpers/server';
import { record, TRANSPORTS } from './helpers/streams';
import { startTcpProxy, type TcpProxy } from './helpers/tcpProxy';
import { gatedProvider, listen, type Listening } from './relay/relayHelpers';

const params = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] };
const resume = { initialDelayMs: 0 };

const eventIds = (frames: SseFrame[]) => frames.flatMap((frame) => (frame.type === 'event' ? [frame.id] : []));

describe.each(TRANSPORTS)('resume mode against the relay, over %s', (_name, transport) => {
  let upstream: TestServer;
  let relay: Listening;
  let proxy: TcpProxy;
  let summaries: WatchedList<RelaySummary<IncomingMessage>>;
  let client: OpenAIRxClient;

  const start = async (handler: Handler) => {
    upstream = await startServer(handler);
    summaries = watchedList();
    relay = await listen(
      createRelay(resumeRelayOptions<IncomingMessage>(upstream.url, (summary) => summaries.push(summary))),
    );
    proxy = await startTcpProxy(relay.url);
    client = buildClient({ baseURL: `${proxy.url}/v1`, apiKey: 'sk-page', transport });
  };
  afterEach(async () => {
    await proxy?.close();
    await relay?.close();
    await upstream?.close();
  });
  const settledWith = (predicate: (summary: RelaySummary<IncomingMessage>) => boolean, what: string) => firstMatch(summaries, predicate, what);

  test('a connection cut mid-stream: every frame once, in order, as an uncut run; upstream asked once', async () => {
    const provider = gatedProvider(3);
    await start(provider.handler);
    const cut = record(client.chat.completions.events(params, { resume }));
    await cut.until(() => cut.values.length === 3, 'a comment, event 1, a comment');
    proxy.cut();
    await proxy.waitForAccepted(2);
    provider.release();
    await cut.done;
    expect(cut.completed).toBe(true);
    expect(upstream.requests).toHaveLength(1);

    const uncut = await lastValueFrom(client.chat.completions.events(params).pipe(toArray()));
    expect(cut.values).toEqual(uncut);
    expect(eventIds(cut.values)).toEqual(['1', '2', '3', '4', '5']);
    expect(cut.values.filter((frame) => frame.type === 'comment')).toHaveLength(2);
  });

  test('accumulateChatCompletion() over a cut stream equals the uncut answer', async () => {
    const provider = gatedProvider(4);
    await start(provider.handler);
    const cut = record(client.chat.completions.stream(params, { resume }).pipe(accumulateChatCompletion()));
    await cut.until(() => cut.values.length === 2, 'two snapshots');
    proxy.cut();
    await proxy.waitForAccepted(2);
    provider.release();
    await cut.done;
    expect(upstream.requests).toHaveLength(1);

    const uncut = await lastValueFrom(client.chat.completions.stream(params).pipe(accumulateChatCompletion(), last()));
    expect(cut.values.at(-1)).toEqual(uncut);
    expect(uncut.choices[0].message.content).toBe('Hello, wörld 👋');
  });

  test('unsubscribing sends the cancel: the relay stops the generation and closes the upstream socket', async () => {
    const provider = gatedProvider(3);
    await start(provider.handler);
    const stream = record(client.chat.completions.events(params, { resume: true }));
    await stream.until(() => stream.values.length === 3, 'the first frames');
    stream.subscription.unsubscribe();
    const generation = await settledWith((summary) => summary.route === 'chat/completions', 'the generation to settle');
    expect(generation.outcome).toBe('cancelled');
    const cancel = await settledWith((summary) => summary.request.url?.endsWith('/cancel') === true, 'the cancel');
    expect(cancel.status).toBe(202);
    await upstream.requestSocketsClosed();
  });

  test('a cancel for a generation that already finished is answered 409 and passes quietly', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const provider = gatedProvider(3);
      await start(provider.handler);
      const stream = record(client.chat.completions.events(params, { resume: true }));
      await stream.until(() => stream.values.length === 3, 'the first frames');
      // The relay writes the rest, the client does not see it yet.
      proxy.hold(true);
      provider.release();
      expect((await settledWith((summary) => summary.route === 'chat/completions', 'the generation')).outcome).toBe('completed');
      stream.subscription.unsubscribe();
      const cancel = await settledWith((summary) => summary.request.url?.endsWith('/cancel') === true, 'the cancel');
      expect(cancel.status).toBe(409);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  test('resumeStream after a "reload" picks the stream up after the event the page kept', async () => {
    const provider = gatedProvider(3);
    await start(provider.handler);
    let streamId: string | undefined;
    const before = record(client.chat.completions.events(params, { head: (head) => (streamId = head.streamId) }));
    await before.until(() => before.values.length === 3, 'the first frames');
    proxy.cut();
    await before.done;
    expect(before.error).toBeInstanceOf(APIConnectionError);

    const reloaded = buildClient({ baseURL: `${proxy.url}/v1`, apiKey: 'sk-page', transport });
    const after = record(reloaded.resumeStream(streamId ?? '', { after: 1 }));
    // What came after event 1 (a comment) arrives first: the store has it.
    await after.until(() => after.values.length === 1, 'the replayed comment');
    provider.release();
    await after.done;
    expect(after.completed).toBe(true);
    expect(upstream.requests).toHaveLength(1);
    const uncut = await lastValueFrom(client.chat.completions.events(params).pipe(toArray()));
    expect([...before.values.slice(0, 2), ...after.values]).toEqual(uncut);
  });
});
