import { config, Observable, of, Subject, Subscriber, throwError, type OperatorFunction } from 'rxjs';
import { accumulateChatCompletion } from '../src/openai/accumulateChatCompletion';
import { accumulateCompletion } from '../src/openai/accumulateCompletion';
import { accumulateResponse } from '../src/openai/accumulateResponse';
import { chatChunks } from '../src/openai/chatChunks';
import { completionTextDeltas } from '../src/openai/completionTextDeltas';
import { contentDeltas } from '../src/openai/contentDeltas';
import { outputTextDeltas } from '../src/openai/outputTextDeltas';
import { reasoningDeltas } from '../src/openai/reasoningDeltas';
import { toolCallDeltas } from '../src/openai/toolCallDeltas';
import { defineOperator } from '../src/defineOperator';
import type { SseFrame } from '../src/sse/types';
import { deltaChunk } from './helpers/chatFrames';
import { record } from './helpers/streams';

const thrown = new Error('getter bug');

/**
 * Resolves after RxJS has reported every unhandled error that already happened: it reports each from a
 * `setTimeout` started when the error happened, and Node runs timers of one delay in the order they started.
 */
const reportedByRxjs = () => new Promise<void>((resolve) => setTimeout(resolve));

/** A value whose `field` throws when read: what a bug in an upstream stage or a hostile object does. */
function throwingAt(field: string): unknown {
  return Object.defineProperty({}, field, {
    enumerable: true,
    get() {
      throw thrown;
    },
  });
}

const chatChunk = deltaChunk({ content: 'a', reasoning_content: 'r', tool_calls: [{ index: 0, id: 'c', function: { name: 'f', arguments: '{}' } }] });
const completionChunk = { choices: [{ index: 0, text: 'a', finish_reason: null }] };
const responseEvent = { type: 'response.output_text.delta', output_index: 0, content_index: 0, delta: 'a' };

const operators: Array<[name: string, operator: OperatorFunction<never, unknown>, good: unknown, bad: unknown]> = [
  ['accumulateChatCompletion', accumulateChatCompletion(), chatChunk, throwingAt('choices')],
  ['accumulateCompletion', accumulateCompletion(), completionChunk, throwingAt('choices')],
  ['accumulateResponse', accumulateResponse(), responseEvent, throwingAt('type')],
  ['contentDeltas', contentDeltas(), chatChunk, throwingAt('choices')],
  ['reasoningDeltas', reasoningDeltas(), chatChunk, throwingAt('choices')],
  ['toolCallDeltas', toolCallDeltas(), chatChunk, throwingAt('choices')],
  ['completionTextDeltas', completionTextDeltas(), completionChunk, throwingAt('choices')],
  ['outputTextDeltas', outputTextDeltas(), responseEvent, throwingAt('type')],
];

describe.each(operators)('%s: a value it cannot read', (_name, operator, good, bad) => {
  const unhandled: unknown[] = [];
  beforeEach(() => {
    unhandled.length = 0;
    config.onUnhandledError = (error) => unhandled.push(error);
  });
  afterEach(() => {
    config.onUnhandledError = null;
  });

  test('ends the stream with what was thrown, synchronously, keeping what came before', async () => {
    const recording = record(of(good as never, bad as never, good as never).pipe(operator));
    expect(recording.errored).toBe(true);
    expect(recording.error).toBe(thrown);
    expect(recording.values.length).toBeGreaterThan(0);
    const delivered = recording.values.length;
    await reportedByRxjs();
    expect(unhandled).toEqual([]);
    expect(recording.values).toHaveLength(delivered);
  });
});

test("defineOperator: an error handler that throws lets the source's error through", () => {
  const sourceError = new Error('upstream');
  const recording = record(
    throwError(() => sourceError).pipe(
      defineOperator<never, never>(() => ({
        next: () => undefined,
        error() {
          throw thrown;
        },
      })),
    ),
  );
  expect(recording.error).toBe(sourceError);
});

test('defineOperator: a complete handler that throws errors the stream; finalize runs once at teardown', () => {
  let finalized = 0;
  const recording = record(
    of(1).pipe(
      defineOperator<number, number>(() => ({
        next: () => undefined,
        complete() {
          throw thrown;
        },
        finalize: () => finalized++,
      })),
    ),
  );
  expect(recording.error).toBe(thrown);
  expect(finalized).toBe(1);
});

/** A source that keeps calling its subscriber after it ended, and records when it is let go. */
function misbehavingSource(log: string[]): Observable<number> {
  return new Observable<number>((subscriber) => {
    subscriber.next(1);
    subscriber.complete();
    subscriber.next(2);
    subscriber.error(new Error('after the end'));
    subscriber.complete();
    return () => log.push('source let go');
  });
}

test('defineOperator: nothing a source sends after it ended reaches the handlers', () => {
  const log: string[] = [];
  const recording = record(
    misbehavingSource(log).pipe(
      defineOperator<number, number>((subscriber) => ({
        next: (value) => {
          log.push(`next ${value}`);
          subscriber.next(value);
        },
        error: () => log.push('error'),
        complete: () => {
          log.push('complete');
          subscriber.complete();
        },
      })),
    ),
  );
  expect(recording.values).toEqual([1]);
  expect(recording.completed).toBe(true);
  expect(log).toEqual(['next 1', 'complete', 'source let go']);
});

test('defineOperator: a source that ends is let go at once, while the output it feeds goes on', () => {
  const log: string[] = [];
  const output = new Subject<void>();
  const recording = record(
    misbehavingSource(log).pipe(
      defineOperator<number, number>((subscriber) => {
        const ending = output.subscribe(() => subscriber.complete());
        return { next: (value) => subscriber.next(value), complete: () => log.push('source complete'), finalize: () => ending.unsubscribe() };
      }),
    ),
  );
  expect(log).toEqual(['source complete', 'source let go']);
  expect(recording.completed).toBe(false);
  output.next();
  expect(recording.completed).toBe(true);
  expect(recording.values).toEqual([1]);
});

test('defineOperator: unsubscribing lets the source go, and then nothing it sends reaches the handlers', () => {
  let source!: Subscriber<number>;
  const log: string[] = [];
  const recording = record(
    new Observable<number>((subscriber) => {
      source = subscriber;
      return () => log.push('source let go');
    }).pipe(defineOperator<number, number>((subscriber) => ({ next: (value) => subscriber.next(value), finalize: () => log.push('finalized') }))),
  );
  source.next(1);
  recording.subscription.unsubscribe();
  source.next(2);
  source.complete();
  expect(recording.values).toEqual([1]);
  expect(recording.completed).toBe(false);
  expect(log).toEqual(['source let go', 'finalized']);
  expect(source.closed).toBe(true);
});

test('defineOperator: a value crosses stages without RxJS wrapping any of them (one Subscriber#next per value, the last)', () => {
  let source!: Subscriber<SseFrame>;
  const stages = new Observable<SseFrame>((subscriber) => {
    source = subscriber;
  }).pipe(chatChunks(), contentDeltas());
  const texts: string[] = [];
  stages.subscribe((text) => texts.push(text));
  const nextCalls = jest.spyOn(Subscriber.prototype, 'next');
  try {
    for (let i = 0; i < 100; i++) source.next({ type: 'event', data: JSON.stringify(deltaChunk({ content: `${i}` })) });
    expect(texts).toHaveLength(100);
    expect(nextCalls).toHaveBeenCalledTimes(100);
  } finally {
    nextCalls.mockRestore();
  }
});
