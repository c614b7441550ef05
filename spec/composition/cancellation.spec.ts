// The Stop button and timeout recipes of the README (Recipes) on a real local server:
// whichever RxJS operator ends the subscription, the request is aborted and the server sees its socket closed.
import { first, Subject, take, takeUntil, timeout, TimeoutError } from 'rxjs';
import { contentDeltas, StreamAbortError } from '../../src/index.node';
import { useMockUpstream } from '../helpers/mockUpstream';
import { record } from '../helpers/streams';
import { VirtualClock } from '../helpers/virtualClock';

const mock = useMockUpstream({ tokenDelayMs: 2 });

const ask = (content: string) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content }] });

/** Resolves once the server saw request `index` closed by the client, and checks that it had not finished. */
async function expectAbortedOnServer(index = 0): Promise<void> {
  await mock.upstream.waitFor(() => mock.upstream.requests[index]?.state === 'aborted');
  await mock.upstream.waitFor(() => mock.upstream.openConnections() === 0);
}

test('Stop button: takeUntil(stop$) completes the answer and closes the request', async () => {
  const stop$ = new Subject<void>();
  const answer = record(mock.client.chat.completions.stream(ask('Tell me a story [[mock:stall=3]]')).pipe(contentDeltas(), takeUntil(stop$)));
  await answer.until(() => answer.values.length === 3, 'three tokens');

  stop$.next();
  expect(answer.completed).toBe(true);
  await expectAbortedOnServer();
  expect(answer.values).toHaveLength(3);
});

test('an AbortSignal ends the stream with StreamAbortError and closes the request', async () => {
  const controller = new AbortController();
  const answer = record(mock.client.chat.completions.stream(ask('Hi [[mock:stall=2]]'), { signal: controller.signal }).pipe(contentDeltas()));
  await answer.until(() => answer.values.length === 2, 'two tokens');
  controller.abort();
  await answer.done;
  expect(answer.error).toBeInstanceOf(StreamAbortError);
  await expectAbortedOnServer();
});

test('take(n) stops after n deltas and the server stops generating', async () => {
  const answer = record(mock.client.chat.completions.stream(ask('Long answer [[mock:tokens=500]]')).pipe(contentDeltas(), take(5)));
  await answer.done;
  expect(answer.values).toHaveLength(5);
  await expectAbortedOnServer();
  expect(mock.upstream.requests[0].tokensSent).toBeLessThan(500);
});

test('first() takes the first delta and closes the request', async () => {
  const answer = record(mock.client.chat.completions.stream(ask('Long answer [[mock:tokens=500]]')).pipe(contentDeltas(), first()));
  await answer.done;
  expect(answer.values).toEqual(['Mock']);
  await expectAbortedOnServer();
});

test("rxjs timeout() on a stalled stream: TimeoutError, and the request is closed", async () => {
  // timeout() on a virtual clock, moved on once the two tokens before the stall arrived.
  const clock = new VirtualClock();
  const answer = record(
    mock.client.chat.completions.stream(ask('Hi [[mock:stall=2]]')).pipe(contentDeltas(), timeout({ first: 5000, each: 400, scheduler: clock })),
  );
  await answer.until(() => answer.values.length === 2, 'the two tokens before the stall');
  clock.advanceBy(399);
  expect(answer.errored).toBe(false);
  clock.advanceBy(1);
  expect(answer.error).toBeInstanceOf(TimeoutError);
  expect(answer.values).toHaveLength(2);
  await expectAbortedOnServer();
});

test('unsubscribing before the response headers closes the request too, and nothing is delivered afterwards', async () => {
  const answer = record(mock.client.chat.completions.stream(ask('Hi [[mock:stall=headers]]')).pipe(contentDeltas()));
  await mock.upstream.waitFor(() => mock.upstream.requests.length === 1);
  answer.subscription.unsubscribe();
  // The server saw the connection closed: nothing more can arrive on it.
  await expectAbortedOnServer();
  expect(answer.values).toEqual([]);
  expect(answer.completed || answer.errored).toBe(false);
});
