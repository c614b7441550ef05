import { Agent, fetch as undiciFetch, type Dispatcher } from 'undici';
import { fetchTransport } from '../../src/transport/fetchTransport';
import type { PromiseTransport } from '../../src/transport/types';
import { undiciTransport } from '../../src/transport/undiciTransport';
import { watchChanges } from './changes';
import { microtasksRun } from './virtualClock';

/**
 * An HTTP stack that tells when it has handed response body bytes to the
 * transports on it: both transports over one undici `Agent` (fetch is
 * undici's own, on that agent), and events for what the agent passed on.
 * Once the stack has handed a chunk on, and the work that follows without
 * I/O has run, a reader that is not paused has it: a test can then show
 * that a paused one did not deliver it, without sleeping.
 */
export interface WatchedStack {
  transports: Record<StackTransport, PromiseTransport>;
  /** Resolves once `bytes` body bytes in all were handed on, and what follows from them in-process has run. */
  received(bytes: number): Promise<void>;
  /** The body bytes handed on so far. */
  bytesHandedOn(): number;
  /** Resolves once `count` response bodies were handed on to their end, and what follows in-process has run. */
  ended(count: number): Promise<void>;
  close(): Promise<void>;
}

export type StackTransport = 'undici' | 'fetch';

/** The names of the transports a {@link WatchedStack} has, for `test.each`. */
export const STACK_TRANSPORTS: readonly StackTransport[] = ['undici', 'fetch'];

export function watchedStack(): WatchedStack {
  const agent = new Agent();
  const changes = watchChanges();
  let bytes = 0;
  let ends = 0;
  const counted = (key: PropertyKey, args: unknown[]) => {
    if (key === 'onResponseData') bytes += (args[1] as Uint8Array).byteLength;
    else if (key === 'onData') bytes += (args[0] as Uint8Array).byteLength;
    else if (key === 'onResponseEnd' || key === 'onComplete') ends++;
    else return;
    changes.changed();
  };
  // Counted after the handler ran: by then the stack has pushed the chunk into the response body.
  const watched = (handler: Dispatcher.DispatchHandler): Dispatcher.DispatchHandler =>
    new Proxy(handler, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const result: unknown = value.apply(target, args);
          counted(key, args);
          return result;
        };
      },
    });
  const dispatcher = agent.compose((dispatch: Dispatcher['dispatch']) => (options, handler) => dispatch(options, watched(handler)));
  const fetchOnAgent = ((url: string, init: RequestInit) => undiciFetch(url, { ...init, dispatcher } as never)) as unknown as typeof fetch;
  const afterward = async (wait: Promise<void>) => {
    await wait;
    await microtasksRun();
  };
  return {
    transports: { undici: undiciTransport({ dispatcher }), fetch: fetchTransport({ fetch: fetchOnAgent }) },
    bytesHandedOn: () => bytes,
    received: (total) => afterward(changes.until(() => bytes >= total, `${total} body bytes handed on`)),
    ended: (count) => afterward(changes.until(() => ends >= count, `${count} bodies handed on to their end`)),
    close: () => agent.close(),
  };
}
