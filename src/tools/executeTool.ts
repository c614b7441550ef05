import { from, isObservable, Observable, of, type ObservableInput } from 'rxjs';
import type { ToolContext } from '../openai/zodFormats.js';
import type { ToolCall } from './toolRunEvents.js';

/** What a tool gets besides its arguments in a tool loop: the signal, and the call it answers. */
export interface RunToolContext extends ToolContext {
  /** The call being answered (its id, name and arguments' text). */
  call: ToolCall;
}

/**
 * Runs `execute(args, context)` when subscribed and emits its result once:
 * the value it returned, what its Promise resolved to, or its Observable's
 * last value (`undefined` if it completed without one). A throw, a rejection
 * or an Observable's error is the error. Unsubscribing before the result
 * unsubscribes an Observable tool and aborts the signal a Promise tool was
 * given; after the result the signal is left alone.
 *
 * @example
 * executeTool(getWeather.execute, { city: 'Paris' }, call).subscribe((weather) => send(weather));
 */
export function executeTool<Args>(execute: (args: Args, context: RunToolContext) => unknown, args: NoInfer<Args>, call: ToolCall): Observable<unknown> {
  return new Observable<unknown>((subscriber) => {
    const controller = new AbortController();
    let settled = false;
    let result: unknown;
    const subscription = resultOf(execute(args, { signal: controller.signal, call })).subscribe({
      next: (value) => (result = value),
      error: (error: unknown) => {
        settled = true;
        subscriber.error(error);
      },
      complete: () => {
        settled = true;
        subscriber.next(result);
        subscriber.complete();
      },
    });
    return () => {
      subscription.unsubscribe();
      if (!settled) controller.abort();
    };
  });
}

function resultOf(returned: unknown): Observable<unknown> {
  if (isObservable(returned)) return returned;
  if (isPromiseLike(returned)) return from(returned as ObservableInput<unknown>);
  return of(returned);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}
