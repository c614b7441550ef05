// The typeahead recipe of the README (Recipes) on a real local server: debounceTime + distinctUntilChanged + switchMap.
import { debounceTime, distinctUntilChanged, scan, Subject, switchMap, tap } from 'rxjs';
import { contentDeltas, createClient } from '../../src/index.node';
import { startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { record } from '../helpers/streams';
import { VirtualClock } from '../helpers/virtualClock';

let upstream: MockUpstream;
afterEach(() => upstream?.close());

test('only the last query runs to completion; every earlier request is closed on the server; no keystroke inside a debounce window sends one', async () => {
  // Every answer but the one to "rxjs" stalls after its first token, so it is certainly still in flight when the next query comes.
  upstream = await startMockUpstream({ tokenDelayMs: 0, behavior: (request) => (request.prompt === 'rxjs' ? {} : { stall: 1 }) });
  const client = createClient({ baseURL: upstream.baseURL, apiKey: 'sk-test' });
  const input$ = new Subject<string>();
  const debounced: string[] = [];
  // The debounce runs on a virtual clock: the test lets its window pass.
  const clock = new VirtualClock();

  const answer$ = input$.pipe(
    debounceTime(30, clock),
    tap((query) => debounced.push(query)),
    distinctUntilChanged(),
    switchMap((query) =>
      client.chat.completions
        .stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: query }] })
        .pipe(
          contentDeltas(),
          scan((answer, delta) => answer + delta, ''),
        ),
    ),
  );
  const answers = record(answer$);
  const lastAnswer = () => answers.values.at(-1) ?? '';
  const firstTokens = () => answers.values.filter((answer) => answer === 'Mock').length;

  // Three keystrokes inside one debounce window: one request, for the last of them.
  input$.next('r');
  clock.advanceBy(10);
  input$.next('rx');
  clock.advanceBy(10);
  input$.next('rxj');
  clock.advanceBy(29);
  expect(debounced).toEqual([]);
  clock.advanceBy(1);
  expect(debounced).toEqual(['rxj']);
  await upstream.waitFor(() => upstream.requests[0]?.tokensSent === 1);
  expect(upstream.requests.map((request) => request.prompt)).toEqual(['rxj']);
  await answers.until(() => lastAnswer() === 'Mock', 'the first token of the answer to "rxj"');

  // The same query again passes the debounce but not distinctUntilChanged: still no second request.
  input$.next('rxj');
  clock.advanceBy(30);
  expect(debounced).toEqual(['rxj', 'rxj']);
  expect(upstream.requests).toHaveLength(1);

  // A new query: switchMap unsubscribes the answer in flight, and the server sees that request closed.
  input$.next('rx');
  clock.advanceBy(30);
  await upstream.waitFor(() => upstream.requests.length === 2 && upstream.requests[0].state === 'aborted');
  await upstream.waitFor(() => upstream.requests[1].tokensSent === 1);
  // Sent is not yet received: the next query must come once this answer's first token has arrived.
  await answers.until(() => firstTokens() === 2, 'the first token of the answer to "rx"');
  input$.next('rxjs');
  clock.advanceBy(30);
  await upstream.waitFor(() => upstream.requests.length === 3 && upstream.requests[1].state === 'aborted');
  await upstream.waitFor(() => upstream.requests[2].state === 'completed');
  await answers.until(() => lastAnswer().startsWith('Mock answer to "rxjs".') && lastAnswer().endsWith('.'), 'the whole answer to "rxjs"');

  expect(upstream.requests.map((request) => [request.prompt, request.state])).toEqual([
    ['rxj', 'aborted'],
    ['rx', 'aborted'],
    ['rxjs', 'completed'],
  ]);
  // The abandoned answers stopped at their first token; from the last new start on, every value grows the answer to "rxjs".
  const finalAnswer = lastAnswer();
  expect(firstTokens()).toBe(3);
  for (const answer of answers.values.slice(answers.values.lastIndexOf('Mock'))) expect(finalAnswer.startsWith(answer)).toBe(true);
  expect(answers.errored).toBe(false);
  // The sockets of the two abandoned requests were closed, not left to drain.
  await upstream.waitFor(() => upstream.closedConnections() >= 2);
  answers.subscription.unsubscribe();
});
