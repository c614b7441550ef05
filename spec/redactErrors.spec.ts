import { concat, of, Subject, throwError } from 'rxjs';
import { createRedactor, type Redactor } from '../src/redaction';
import { redactErrors } from '../src/redactErrors';
import { record } from './helpers/streams';

const KEY = 'sk-redact-errors-key';

test('values pass through, and an error ends the stream with the secret replaced', () => {
  const leaked = new Error(`upstream said: invalid key ${KEY}`);
  const recording = record(concat(of(1, 2), throwError(() => leaked)).pipe(redactErrors<number>(createRedactor([KEY]))));

  expect(recording.values).toEqual([1, 2]);
  expect(recording.error).toBe(leaked);
  expect((recording.error as Error).message).toBe('upstream said: invalid key [redacted]');
  expect(String((recording.error as Error).stack)).not.toContain(KEY);
});

test('a redaction that throws ends the stream with what it threw, never with the error unredacted', () => {
  const failure = new Error('the redaction failed');
  const throwing: Redactor = {
    active: true,
    text: (text) => text,
    error: () => {
      throw failure;
    },
  };
  const recording = record(throwError(() => new Error(`key ${KEY}`)).pipe(redactErrors(throwing)));

  expect(recording.error).toBe(failure);
});

test('completion passes through, and unsubscribing lets the source go', () => {
  const source = new Subject<string>();
  const recording = record(source.pipe(redactErrors<string>(createRedactor([KEY]))));
  source.next('a');
  recording.subscription.unsubscribe();

  expect(source.observed).toBe(false);
  source.next('b');
  expect(recording.values).toEqual(['a']);

  const completed = record(of('x').pipe(redactErrors<string>(createRedactor([KEY]))));
  expect(completed.completed).toBe(true);
});
