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

/**
 * An undici `Agent` whose handlers are watched: each call undici made on them (`onResponseData`, `onComplete`, …,
 * new API or old), counted after the handler ran, when the stack has handed the chunk on.
 */
export function watchedDispatcher(options: Agent.Options = {}) {
  const agent = new Agent(options);
  const changes = watchChanges();
  const calls: string[] = [];
  let bytes = 0;
  const counted = (key: string, args: unknown[]) => {
    if (key === 'onResponseData') bytes += (args[1] as Uint8Array).byteLength;
    else if (key === 'onData') bytes += (args[0] as Uint8Array).byteLength;
    calls.push(key);
    changes.changed();
  };
  const watched = (handler: Dispatcher.DispatchHandler): Dispatcher.DispatchHandler =>
    new Proxy(handler, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== 'function' || typeof key !== 'string' || !key.startsWith('on')) return value;
        return (...args: unknown[]) => {
          const result: unknown = value.apply(target, args);
          counted(key, args);
          return result;
        };
      },
    });
  return {
    dispatcher: agent.compose((dispatch: Dispatcher['dispatch']) => (dispatchOptions, handler) => dispatch(dispatchOptions, watched(handler))),
    calls,
    bytesHandedOn: () => bytes,
    /** Resolves once `condition` holds of what undici did. */
    until: (condition: () => boolean, what: string) => changes.until(condition, what),
    /** Resolves once undici made `call` on a handler `count` times in all. */
    made: (call: string, count = 1) => changes.until(() => calls.filter((made) => made === call).length >= count, `${count} ${call}`),
    close: () => agent.close(),
  };
}

export function watchedStack(): WatchedStack {
  const watched = watchedDispatcher();
  const { dispatcher } = watched;
  const ends = () => watched.calls.filter((call) => call === 'onResponseEnd' || call === 'onComplete').length;
  const fetchOnAgent = ((url: string, init: RequestInit) => undiciFetch(url, { ...init, dispatcher } as never)) as unknown as typeof fetch;
  const afterward = async (wait: Promise<void>) => {
    await wait;
    await microtasksRun();
  };
  return {
    transports: { undici: undiciTransport({ dispatcher }), fetch: fetchTransport({ fetch: fetchOnAgent }) },
    bytesHandedOn: watched.bytesHandedOn,
    received: (total) => afterward(watched.until(() => watched.bytesHandedOn() >= total, `${total} body bytes handed on`)),
    ended: (count) => afterward(watched.until(() => ends() >= count, `${count} bodies handed on to their end`)),
    close: watched.close,
  };
}

/**
 * One whole exchange with `url` on a connection of its own: the client's event loop has polled its sockets since,
 * so whatever a server had sent before is in the client's socket buffers, or was handed on if anything reads them.
 */
export async function clientPolledIo(url: string): Promise<void> {
  const agent = new Agent();
  try {
    const response = await undiciTransport({ dispatcher: agent })({ url, method: 'GET', headers: {}, signal: new AbortController().signal });
    await new Promise<void>((resolve, reject) => response.body.read({ data: () => undefined, end: resolve, error: reject }));
  } finally {
    await agent.close();
  }
}
