import type { OperatorFunction } from 'rxjs';
import type * as z from 'zod/v4/core';
import { defineOperator } from '../defineOperator.js';
import { OutputValidationError, PartialJsonError, RefusalError } from '../errors.js';
import { partialJsonParser, type JsonValue, type PartialJsonConfig } from './partialJsonParser.js';
import { jsonFailure, validateOutput } from './validateOutput.js';
import { appendRefusal } from '../openai/refusalText.js';

/**
 * What a partial value may hold: every property optional, arrays of partial
 * elements. An optional property may also be `null`: strict structured
 * outputs write `null` for "absent", and partial values are shown as the
 * model wrote them (only the last, complete value is validated).
 */
export type DeepPartial<T> = T extends readonly (infer Element)[]
  ? DeepPartial<Element>[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> | (undefined extends T[K] ? null : never) }
    : T;

/** A piece of a refusal, where a content delta would be (`contentOrRefusal()`, `outputTextOrRefusal()` emit them). */
export interface RefusalDelta {
  refusal: string;
}

/**
 * One emission of `structuredOutput`: while streaming, the value so far
 * (`done: false`); last, the complete value validated by the schema
 * (`done: true`, `value` typed as the schema's output).
 */
export type StructuredOutputEvent<Output, Input = Output> =
  | { readonly done: false; readonly partial: DeepPartial<Input> }
  | {
      readonly done: true;
      /** The complete JSON as the model wrote it. */
      readonly partial: DeepPartial<Input>;
      /** The validated value: the schema's transforms and defaults applied. */
      readonly value: Output;
      /** The whole text of the answer. */
      readonly text: string;
    };

/** Limits of the JSON parsing, as for `partialJson`. */
export type StructuredOutputConfig = PartialJsonConfig;

/**
 * Text deltas → the structured answer as it streams: a partial value after
 * each delta that changed it (see `partialJson`), then the complete text
 * validated by `schema` (classic `zod` or `zod/mini`; transforms and defaults
 * applied) as the last emission. Fails with an `OutputValidationError`
 * (keeping the text and the schema's issues) when the text is not JSON or
 * fails the schema, and with a `RefusalError` carrying the refusal text when
 * the model refused: `contentDeltas()` / `outputTextDeltas()` end a refused
 * answer with it, `contentOrRefusal()` / `outputTextOrRefusal()` pass the
 * refusal deltas on and this operator ends with it.
 *
 * @example
 * const Recipe = z.object({ title: z.string(), steps: z.array(z.string()) });
 * client.chat.completions
 *   .stream({ model, messages, response_format: zodResponseFormat(Recipe, 'recipe') })
 *   .pipe(contentOrRefusal(), structuredOutput(Recipe))
 *   .subscribe((event) => {
 *     render(event.partial); // DeepPartial<Recipe>, growing
 *     if (event.done) save(event.value); // Recipe, validated
 *   });
 */
export function structuredOutput<S extends z.$ZodType>(
  schema: S,
  config: StructuredOutputConfig = {},
): OperatorFunction<string | RefusalDelta, StructuredOutputEvent<z.output<S>, z.input<S>>> {
  type Partial = DeepPartial<z.input<S>>;
  return defineOperator((subscriber) => {
    const parser = partialJsonParser(config);
    let refusal: string | undefined;
    const parse = (step: () => boolean) => {
      try {
        if (step()) subscriber.next({ done: false, partial: parser.value as Partial });
      } catch (error) {
        throw error instanceof PartialJsonError ? notJson(error) : error;
      }
    };
    return {
      next(delta) {
        if (typeof delta !== 'string') refusal = appendRefusal(refusal ?? '', delta.refusal);
        // After a refusal, text is no answer to parse: the stream ends with the refusal.
        else if (refusal === undefined) parse(() => parser.push(delta));
      },
      complete() {
        if (refusal !== undefined) throw new RefusalError({ refusal });
        parse(() => parser.end());
        const text = parser.text;
        const result = validateOutput(schema, parser.value as JsonValue, text);
        if (!result.success) throw result.error;
        subscriber.next({ done: true, partial: parser.value as Partial, value: result.data, text });
        subscriber.complete();
      },
    };
  });
}

/** The error for an answer that is not JSON; an empty one says so (a refusal never gets here: it is a `RefusalError`). */
function notJson(error: PartialJsonError): OutputValidationError {
  if (error.text.length > 0) return jsonFailure(error, 'The output');
  return new OutputValidationError({
    message: 'The output is empty: the answer had no text',
    text: '',
    cause: error,
  });
}
