import { Observable, type OperatorFunction, type Subscriber } from 'rxjs';
import type * as z from 'zod/mini';
import { StreamProtocolError } from '../errors.js';
import type { SseEventFrame, SseFrame } from '../sse/types.js';
import { streamErrorOf } from './streamErrors.js';

/** What one endpoint's operator does with each parsed event, and at the end of a stream without `[DONE]`. */
export interface JsonEventStage<T> {
  accept(json: unknown, frame: SseEventFrame, out: Subscriber<T>): void;
  /** The source completed without `[DONE]`: complete `out` or fail it with a truncation error. */
  end(out: Subscriber<T>): void;
}

/**
 * The part every endpoint operator shares: skips comments, stops at `[DONE]`
 * (ignoring anything after it), parses JSON (`StreamProtocolError` carrying the
 * raw data when it is not JSON) and turns in-stream errors of any provider's
 * shape into `APIError` before the stage sees the event.
 */
export function jsonEvents<T>(createStage: () => JsonEventStage<T>): OperatorFunction<SseFrame, T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const stage = createStage();
      const subscription = source.subscribe({
        next(frame) {
          if (frame.type !== 'event' || subscriber.closed) return;
          const data = frame.data;
          if (data === '[DONE]') {
            subscriber.complete();
            return;
          }
          let json: unknown;
          try {
            json = JSON.parse(data);
          } catch (cause) {
            const inStream = streamErrorOf(frame.event, undefined, data);
            subscriber.error(
              inStream ??
                new StreamProtocolError(`An SSE event's data is not valid JSON: ${snippet(data)}`, 'invalid-json', data, {
                  cause,
                }),
            );
            return;
          }
          const error = streamErrorOf(frame.event, json, data);
          if (error) subscriber.error(error);
          else stage.accept(json, frame, subscriber);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => stage.end(subscriber),
      });
      return subscription;
    });
}

/** Validates one event against its schema; on failure the stream ends with a `StreamProtocolError` carrying the data. */
export function validate<S extends z.ZodMiniType>(
  schema: S,
  json: unknown,
  frame: SseEventFrame,
  out: Subscriber<unknown>,
): z.infer<S> | undefined {
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  // zod/mini loads no locale, so its messages are generic; the expected type says what was wrong.
  const expected = issue?.code === 'invalid_type' ? `, expected ${issue.expected}` : '';
  out.error(
    new StreamProtocolError(
      `An SSE event does not have the expected shape${where}: ${issue?.message ?? 'invalid'}${expected}`,
      'invalid-chunk',
      frame.data,
      { cause: result.error },
    ),
  );
  return undefined;
}

function snippet(data: string): string {
  return data.length > 120 ? `${data.slice(0, 120)}…` : data;
}
