import type { RelayOptions, RelaySummary } from '../../src/index.node';
import { startServer, type Handler, type TestServer } from '../helpers/server';
import type { RelayKind } from './bothRelays';
import { watchedList, type WatchedList } from '../helpers/changes';
import type { Listening } from './relayHelpers';

/** An upstream and a relay in front of it, started by a test and closed after it. */
export interface RelayFixture {
  /** Starts `handler` as upstream and the relay on it (`apiKey`, `baseURL`, `onSettled` set; `options` win). */
  start(handler: Handler, options?: RelayOptions<unknown>): Promise<{ upstream: TestServer; relay: Listening }>;
  /** What `onSettled` received during the current test, in order. */
  summaries(): RelaySummary<unknown>[];
  /** Resolves with the summaries once `count` arrived. */
  settled(count?: number): Promise<RelaySummary<unknown>[]>;
}

/**
 * Registers an `afterEach` that closes what the test started; call it inside a `describe`.
 *
 * @example
 * describe.each(bothRelays)('$name', (kind) => {
 *   const fixture = relayFixture(kind, KEY);
 *   test('…', async () => { const { relay } = await fixture.start(handler); … });
 * });
 */
export function relayFixture(kind: RelayKind, apiKey: string): RelayFixture {
  let upstream: TestServer | undefined;
  let relay: Listening | undefined;
  let summaries: WatchedList<RelaySummary<unknown>> = watchedList();

  afterEach(async () => {
    await relay?.close();
    await upstream?.close();
    relay = upstream = undefined;
    summaries = watchedList();
  });

  return {
    async start(handler, options = {}) {
      const started = await startServer(handler);
      upstream = started;
      const served = await kind.serve({ apiKey, baseURL: started.url, onSettled: (summary) => summaries.push(summary), ...options });
      relay = served;
      return { upstream: started, relay: served };
    },
    summaries: () => summaries,
    async settled(count = 1) {
      await summaries.reaches(count, `${count} summaries`);
      return summaries;
    },
  };
}
