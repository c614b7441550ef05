import type { MonoTypeOperatorFunction } from 'rxjs';
import { defineOperator } from './defineOperator.js';
import type { Redactor } from './redaction.js';

/**
 * Passes values on and every error through `redactor`. Unlike `catchError`, it does not keep its source, and with it
 * the request's body, for as long as the stream is open. A redaction that throws ends the stream with what it threw:
 * never with the error unredacted.
 *
 * @example
 * answer$.pipe(redactErrors(createRedactor([apiKey])))
 */
export function redactErrors<T>(redactor: Redactor): MonoTypeOperatorFunction<T> {
  return defineOperator<T, T>((subscriber) => ({
    next: (value) => subscriber.next(value),
    error(error) {
      let redacted: unknown;
      try {
        redacted = redactor.error(error);
      } catch (thrown) {
        redacted = thrown;
      }
      subscriber.error(redacted);
    },
  }));
}
