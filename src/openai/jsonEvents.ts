import type { OperatorFunction, Subscriber } from 'rxjs';
import * as z from './schema.js';
import { defineOperator, type OperatorHandlers } from '../defineOperator.js';
import { excerpt, StreamProtocolError, StreamTruncatedError } from '../errors.js';
import type { SseEventFrame, SseFrame } from '../sse/types.js';
import { fastCheckOf, type FastCheck } from './fastCheck.js';
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
  return defineOperator<SseFrame, T>((subscriber) => new JsonEventReader(createStage(), subscriber));
}

/** {@link jsonEvents}' handlers: one object per stream with its methods on the prototype, read on every event. */
class JsonEventReader<T> implements OperatorHandlers<SseFrame> {
  constructor(
    private readonly stage: JsonEventStage<T>,
    private readonly out: Subscriber<T>,
  ) {}

  next(frame: SseFrame): void {
    if (frame.type !== 'event') return;
    const data = frame.data;
    if (data === '[DONE]') {
      if (this.stage.done) this.stage.done(this.out);
      else this.out.complete();
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch (cause) {
      this.out.error(streamErrorOf(frame.event, undefined, data) ?? invalidJson(data, cause));
      return;
    }
    const error = streamErrorOf(frame.event, json, data);
    if (error) this.out.error(error);
    else this.stage.accept(json, frame, this.out);
  }

  complete(): void {
    this.stage.end(this.out);
  }
}

function invalidJson(data: string, cause: unknown): StreamProtocolError {
  return new StreamProtocolError({ message: `An SSE event's data is not valid JSON: ${excerpt(data, 120)}`, problem: 'invalid-json', data, cause });
}

/**
 * Validates one event against its schema; on failure the stream ends with a `StreamProtocolError` carrying the data.
 * A stream whose events all have one schema passes its `fastCheck`, looked up once rather than per event.
 */
export function validate<S extends z.Schema>(
  schema: S,
  json: unknown,
  frame: SseEventFrame,
  out: Pick<StageOutput<unknown>, 'error'>,
  fastCheck: FastCheck | null = fastCheckOf(schema),
): z.infer<S> | undefined {
  // A conforming event is accepted as parsed: loose schemas keep every field, so zod's copy would be equal.
  if (fastCheck?.(json)) return json as z.infer<S>;
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
  return jsonEvents<z.infer<S>>(() => new ChoiceStage(label, schema, hasStarted));
}

/** {@link choiceChunks}' stage: one object per stream, read on every chunk. */
class ChoiceStage<S extends z.Schema<ChoiceChunk>> implements JsonEventStage<z.infer<S>> {
  private readonly fastCheck: FastCheck | null;
  private readonly started = new Set<number>();
  private readonly finished = new Set<number>();
  /** Most streams have one choice: once it started, its later chunks need no lookup. */
  private lastStarted: number | undefined;
  private chunks = 0;

  constructor(
    private readonly label: string,
    private readonly schema: S,
    private readonly hasStarted: (choice: z.infer<S>['choices'][number]) => boolean,
  ) {
    this.fastCheck = fastCheckOf(schema);
  }

  accept(json: unknown, frame: SseEventFrame, out: StageOutput<z.infer<S>>): void {
    const chunk = validate(this.schema, json, frame, out, this.fastCheck);
    if (chunk === undefined) return;
    this.chunks++;
    for (const choice of chunk.choices) {
      const index = choice.index ?? 0;
      if (index !== this.lastStarted && this.hasStarted(choice)) {
        this.started.add(index);
        this.lastStarted = index;
      }
      if (choice.finish_reason) this.finished.add(index);
    }
    out.next(chunk);
  }

  end(out: StageOutput<z.infer<S>>): void {
    const { chunks, finished } = this;
    const unfinishedChoices = [...this.started].filter((index) => !finished.has(index));
    if (finished.size > 0 && unfinishedChoices.length === 0) {
      out.complete();
      return;
    }
    const what = chunks === 0 ? 'before any chunk' : `after ${chunks} chunks with choices ${unfinishedChoices.join(', ')} unfinished`;
    out.error(
      new StreamTruncatedError<ChoiceStreamProgress>({
        message: `The ${this.label} stream ended without [DONE] ${what}`,
        partial: { chunks, unfinishedChoices },
      }),
    );
  }
}
