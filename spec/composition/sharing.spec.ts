// The "one request, two pipelines" and shareReplay recipes of the README (Recipes) on a real local server.
import { connect, ignoreElements, last, map, merge, share, shareReplay, tap } from 'rxjs';
import { accumulateChatCompletion, chatChunks, contentDeltas, createClient, encodeSse } from '../../src/index.node';
import type { PromiseTransport } from '../../src/transport/types';
import { undiciTransport } from '../../src/transport/undiciTransport';
import { useMockUpstream } from '../helpers/mockUpstream';
import { record } from '../helpers/streams';

const mock = useMockUpstream({ tokenDelayMs: 1 });

const ask = (content: string) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content }] });

describe('share(): a relay and a parsed pipeline on one request', () => {
  test('the request is sent once and both pipelines see every frame', async () => {
    const frames$ = mock.client.chat.completions.events(ask('Hello [[mock:tokens=20]]')).pipe(share());
    const relayed: string[] = [];
    const relay = record(frames$.pipe(map(encodeSse), tap((text) => relayed.push(text))));
    const parsed = record(frames$.pipe(chatChunks(), accumulateChatCompletion()));
    await Promise.all([relay.done, parsed.done]);

    expect(mock.upstream.requests).toHaveLength(1);
    const wire = relayed.join('');
    expect(wire.endsWith('data: [DONE]\n\n')).toBe(true);
    const final = parsed.values.at(-1);
    expect(final?.choices[0].finish_reason).toBe('stop');
    // Every text delta the parsed pipeline accumulated went through the relay too, in the same order.
    const relayedText = [...wire.matchAll(/"content":"((?:[^"\\]|\\.)*)"/g)].map((match) => JSON.parse(`"${match[1]}"`)).join('');
    expect(relayedText).toBe(final?.choices[0].message.content);
  });

  test('the request is aborted only when the last subscriber leaves', async () => {
    // A client whose transport tells when the client lets go of a request: it aborts its signal at once on unsubscribe.
    const signals: AbortSignal[] = [];
    const transport: PromiseTransport = (request) => {
      signals.push(request.signal);
      return undiciTransport()(request);
    };
    const client = createClient({ baseURL: mock.upstream.baseURL, apiKey: 'sk-mock-test', transport });
    const frames$ = client.chat.completions.events(ask('Hi [[mock:stall=3]]')).pipe(share());
    const relay = record(frames$.pipe(map(encodeSse)));
    const parsed = record(frames$.pipe(chatChunks(), contentDeltas()));
    await parsed.until(() => parsed.values.length === 3, 'three tokens');

    relay.subscription.unsubscribe();
    // Letting go of a request is synchronous: it was not let go, so the server's connection stays open.
    expect(signals.map((signal) => signal.aborted)).toEqual([false]);
    expect(mock.upstream.requests[0].state).toBe('open');

    parsed.subscription.unsubscribe();
    expect(signals.map((signal) => signal.aborted)).toEqual([true]);
    await mock.upstream.waitFor(() => mock.upstream.requests[0].state === 'aborted');
    expect(mock.upstream.requests).toHaveLength(1);
  });
});

describe('connect(): both pipelines inside one subscription', () => {
  test('one request; the result is the final completion while the raw branch writes every frame', async () => {
    const written: string[] = [];
    const final$ = mock.client.chat.completions.events(ask('Hello [[mock:tokens=8]]')).pipe(
      connect((frames$) =>
        merge(
          frames$.pipe(map(encodeSse), tap((text) => written.push(text)), ignoreElements()),
          frames$.pipe(chatChunks(), accumulateChatCompletion(), last()),
        ),
      ),
    );
    const result = record(final$);
    await result.done;
    expect(mock.upstream.requests).toHaveLength(1);
    expect(result.values).toHaveLength(1);
    expect(result.values[0].choices[0].finish_reason).toBe('stop');
    expect(written.at(-1)).toBe('data: [DONE]\n\n');
  });

  test('unsubscribing the one subscription aborts the request', async () => {
    const final$ = mock.client.chat.completions.events(ask('Hi [[mock:stall=2]]')).pipe(
      connect((frames$) => merge(frames$.pipe(map(encodeSse), ignoreElements()), frames$.pipe(chatChunks(), contentDeltas()))),
    );
    const result = record(final$);
    await result.until(() => result.values.length === 2, 'two tokens');
    result.subscription.unsubscribe();
    await mock.upstream.waitFor(() => mock.upstream.requests[0].state === 'aborted');
  });
});

describe('shareReplay pitfalls', () => {
  test('shareReplay(1) keeps the request running after the last subscriber left; refCount: true aborts it', async () => {
    const leaky$ = mock.client.chat.completions.stream(ask('leaky [[mock:tokens=60]]')).pipe(contentDeltas(), shareReplay(1));
    const careful$ = mock.client.chat.completions.stream(ask('careful [[mock:tokens=60]]')).pipe(
      contentDeltas(),
      shareReplay({ bufferSize: 1, refCount: true }),
    );
    const leaky = record(leaky$);
    const careful = record(careful$);
    await Promise.all([
      leaky.until(() => leaky.values.length > 0, 'the first leaky token'),
      careful.until(() => careful.values.length > 0, 'the first careful token'),
    ]);
    leaky.subscription.unsubscribe();
    careful.subscription.unsubscribe();

    const byPrompt = (prompt: string) => mock.upstream.requests.find((request) => request.prompt.startsWith(prompt));
    await mock.upstream.waitFor(() => byPrompt('leaky')?.state !== 'open' && byPrompt('careful')?.state !== 'open', 5000);
    expect(byPrompt('careful')?.state).toBe('aborted');
    // Nobody listens any more, yet the whole answer was generated and downloaded.
    expect(byPrompt('leaky')).toMatchObject({ state: 'completed', tokensSent: 60 });
  });

  test('after completion a late subscriber gets the replay, not a new answer; ask again on the cold source', async () => {
    const answer$ = mock.client.chat.completions.stream(ask('once')).pipe(contentDeltas(), shareReplay({ bufferSize: 1, refCount: true }));
    const first = record(answer$);
    await first.done;
    const late = record(answer$);
    await late.done;
    expect(late.values).toEqual([first.values.at(-1)]);
    expect(mock.upstream.requests).toHaveLength(1);
  });
});
