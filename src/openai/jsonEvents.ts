import type { OperatorFunction, Subscriber } from 'rxjs';
import * as z from './schema.js';
import { defineOperator } from '../defineOperator.js';
import { excerpt, StreamProtocolError, StreamTruncatedError } from '../errors.js';
import type { SseEventFrame, SseFrame } from '../sse/types.js';
import { fastCheckOf } from './fastCheck.js';
import { issueSummary } from './issueSummary.js';
import { streamErrorOf } from './streamErrors.js';

/** Where a stage sends its results; `complete` marks the response as finished. */
export type StageOutput<T> = Pick<Subscriber<T>, 'next' | 'error' | 'complete'>;

/** What one endpoint's operator does with each parsed event, and at the end of a stream without `[DONE]`. */
export interface JsonEventStage<T> {
  accept(json: unknown, frame: SseEventFrame, out: StageOutput<T>): void;
  /** The source completed without `[DONE]`: complete `out` or fail it with a truncation error. */
  end(out: StageOutput<T>): void;
  /** `[DONE]` arrived; without this hook it completes `out` (Responses uses it: only a terminal event finishes). */
  done?(out: StageOutput<T>): void;
}

/**
 * The part every endpoint operator shares: skips comments, stops at `[DONE]`
 * (ignoring anything after it), parses JSON (`StreamProtocolError` carrying the
 * raw data when it is not JSON) and turns in-stream errors of any provider's
 * shape into `APIError` before the stage sees the event. Once the response has
 * finished the subscriber completes at once and the source is let go; the
 * source keeps a finished response's connection for reuse.
 */
export function jsonEvents<T>(createStage: () => JsonEventStage<T>): OperatorFunction<SseFrame, T> {
  return defineOperator<SseFrame, T>((subscriber) => {
    const stage = createStage();
    return {
      next(frame) {
        if (frame.type !== 'event') return;
        const data = frame.data;
        if (data === '[DONE]') {
          if (stage.done) stage.done(subscriber);
          else subscriber.complete();
          return;
        }
        let json: unknown;
        try {
          json = JSON.parse(data);
        } catch (cause) {
          subscriber.error(streamErrorOf(frame.event, undefined, data) ?? invalidJson(data, cause));
          return;
        }
        const error = streamErrorOf(frame.event, json, data);
        if (error) subscriber.error(error);
        else stage.accept(json, frame, subscriber);
      },
      complete: () => stage.end(subscriber),
    };
  });
}

function invalidJson(data: string, cause: unknown): StreamProtocolError {
  return new StreamProtocolError({ message: `An SSE event's data is not valid JSON: ${excerpt(data, 120)}`, problem: 'invalid-json', data, cause });
}

/** Validates one event against its schema; on failure the stream ends with a `StreamProtocolError` carrying the data. */
export function validate<S extends z.Schema>(
  schema: S,
  json: unknown,
  frame: SseEventFrame,
  out: Pick<StageOutput<unknown>, 'error'>,
): z.infer<S> | undefined {
  // A conforming event is accepted as parsed: loose schemas keep every field, so zod's copy would be equal.
  if (fastCheckOf(schema)?.(json)) return json as z.infer<S>;
  const result = z.safeParse(schema, json);
  if (result.success) return result.data;
  const { path, text } = issueSummary(result.error);
  out.error(
    new StreamProtocolError({
      message: `An SSE event does not have the expected shape${path ? ` at ${path}` : ''}: ${text}`,
      problem: 'invalid-chunk',
      data: frame.data,
      cause: result.error,
    }),
  );
  return undefined;
}

/** What a stream of `choices` chunks cut short had delivered: `StreamTruncatedError#partial`. */
export interface ChoiceStreamProgress {
  chunks: number;
  /** Indexes of the choices that started but never got a `finish_reason`. */
  unfinishedChoices: number[];
}

interface ChoiceChunk {
  choices: ReadonlyArray<{ index?: number; finish_reason?: string | null }>;
}

/**
 * The operator of endpoints whose chunks carry `choices` (chat, legacy
 * completions): validates each chunk, stops at `[DONE]`, and when the stream
 * ends without it completes only if every choice that started also finished,
 * else fails with `StreamTruncatedError`. `label` names the stream in that error.
 */
export function choiceChunks<S extends z.Schema<ChoiceChunk>>(
  label: string,
  schema: S,
  hasStarted: (choice: z.infer<S>['choices'][number]) => boolean,
): OperatorFunction<SseFrame, z.infer<S>> {
  return jsonEvents<z.infer<S>>(() => {
    const started = new Set<number>();
    const finished = new Set<number>();
    let chunks = 0;
    return {
      accept(json, frame, out) {
        const chunk = validate(schema, json, frame, out);
        if (chunk === undefined) return;
        chunks++;
        for (const choice of chunk.choices) {
          const index = choice.index ?? 0;
          if (hasStarted(choice)) started.add(index);
          if (choice.finish_reason) finished.add(index);
        }
        out.next(chunk);
      },
      end(out) {
        const unfinishedChoices = [...started].filter((index) => !finished.has(index));
        if (finished.size > 0 && unfinishedChoices.length === 0) {
          out.complete();
          return;
        }
        const what = chunks === 0 ? 'before any chunk' : `after ${chunks} chunks with choices ${unfinishedChoices.join(', ')} unfinished`;
        out.error(
          new StreamTruncatedError<ChoiceStreamProgress>({
            message: `The ${label} stream ended without [DONE] ${what}`,
            partial: { chunks, unfinishedChoices },
          }),
        );
      },
    };
  });
}
