import type { Observable, Subscription } from 'rxjs';
import { fetchTransport } from '../../src/transport/fetchTransport';
import type { PromiseTransport } from '../../src/transport/types';
import { undiciTransport } from '../../src/transport/undiciTransport';
import { watchChanges, watchedList, type WatchedList } from './changes';
import { overriding } from './transportSpies';

/** Both transports, for `describe.each`: behaviour that depends on the HTTP stack is proven on each. */
export const TRANSPORTS: ReadonlyArray<[name: string, transport: PromiseTransport]> = [
  ['undici', undiciTransport()],
  ['fetch', fetchTransport()],
];

export interface Recording<T> {
  values: T[];
  error: unknown;
  errored: boolean;
  completed: boolean;
  subscription: Subscription;
  /** Resolves when the stream errors or completes (never rejects). */
  done: Promise<void>;
  /** Resolves once `condition` holds, checked again after every notification (a value, the error, the completion). */
  until(condition: () => boolean, what: string, timeoutMs?: number): Promise<void>;
}

/** Subscribes and records everything the observable delivers. */
export function record<T>(source: Observable<T>): Recording<T> {
  let finish!: () => void;
  const changes = watchChanges();
  const recording = {
    values: [] as T[],
    error: undefined as unknown,
    errored: false,
    completed: false,
    done: new Promise<void>((resolve) => (finish = resolve)),
    until: changes.until,
  } as Recording<T>;
  recording.subscription = source.subscribe({
    next: (value) => {
      recording.values.push(value);
      changes.changed();
    },
    error: (error: unknown) => {
      recording.error = error;
      recording.errored = true;
      finish();
      changes.changed();
    },
    complete: () => {
      recording.completed = true;
      finish();
      changes.changed();
    },
  });
  return recording;
}

/** Subscribes and resolves with the error the observable ends with; rejects if it completes instead. */
export async function errorOf(source: Observable<unknown>): Promise<unknown> {
  const recording = record(source);
  await recording.done;
  if (!recording.errored) throw new Error(`Expected an error, but the stream completed after ${recording.values.length} values`);
  return recording.error;
}

/** `transport`, counting its calls: no request reaches the network without one, so none can arrive later. */
export function callCountingTransport(transport: PromiseTransport): { transport: PromiseTransport; calls(): number } {
  let calls = 0;
  return {
    transport: (request) => {
      calls++;
      return transport(request);
    },
    calls: () => calls,
  };
}

/**
 * A transport that records the size of every body chunk it hands on, as the reader gets it: what one network
 * read held. Both lists are events to wait on: `reads` grows when a reader starts reading a body (its limits
 * for the body are armed by then), `chunks` when a chunk reached the reader.
 */
export function chunkRecordingTransport(transport: PromiseTransport): {
  transport: PromiseTransport;
  reads: WatchedList<'read'>;
  chunks: WatchedList<number>;
} {
  const reads = watchedList<'read'>();
  const chunks = watchedList<number>();
  return {
    reads,
    chunks,
    transport: async (request) => {
      const response = await transport(request);
      const body = response.body;
      return {
        ...response,
        body: overriding(body, {
          read: (sink) => {
            reads.push('read');
            body.read({
              data(chunk) {
                chunks.push(chunk.byteLength);
                sink.data(chunk);
              },
              end: () => sink.end(),
              error: (error) => sink.error(error),
            });
          },
        }),
      };
    },
  };
}
