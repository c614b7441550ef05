import { filter, map, type Observable } from 'rxjs';
import * as z from 'zod';
import * as zm from 'zod/mini';
import {
  contentDeltas,
  parseToolArguments,
  partialJson,
  structuredOutput,
  zodFunction,
  type ChatCompletionChunk,
  type DeepPartial,
  type JsonValue,
  type StructuredOutputEvent,
} from '../../src/api';
import { assertType, type Equal } from './expect';

const Person = z.object({ name: z.string(), age: z.number(), nickname: z.string().optional(), tags: z.array(z.object({ label: z.string() })) });
type Person = z.infer<typeof Person>;

/* structuredOutput(Person): DeepPartial<Person> while streaming, Person when done. */

export function streamsPartialsThenPerson(chunks$: Observable<ChatCompletionChunk>): Observable<Person> {
  const events$ = chunks$.pipe(contentDeltas(), structuredOutput(Person));
  assertType<Equal<typeof events$, Observable<StructuredOutputEvent<Person>>>>();

  events$.subscribe((event) => {
    assertType<Equal<typeof event.partial, DeepPartial<Person>>>();
    if (event.done) assertType<Equal<typeof event.value, Person>>();
    // @ts-expect-error the validated value exists only on the last event
    void event.value;
  });

  // The last value, typed as Person: filter on `done`.
  const person$ = events$.pipe(
    filter((event) => event.done),
    map((event) => event.value),
  );
  assertType<Equal<typeof person$, Observable<Person>>>();
  return person$;
}

/* DeepPartial: every property optional at every level; an optional property may also be strict mode's null. */

export function deepPartialShape(partial: DeepPartial<Person>): void {
  assertType<Equal<typeof partial.name, string | undefined>>();
  assertType<Equal<typeof partial.nickname, string | null | undefined>>();
  assertType<Equal<typeof partial.tags, Array<{ label?: string }> | undefined>>();
  // @ts-expect-error a required property is never null
  partial.name = null;
}

/* A schema with transforms: partials are what the model writes (the input), the value is the output. */

export function transformsTypeInputAndOutput(text$: Observable<string>): void {
  const Event = z.object({ when: z.string().transform((text) => new Date(text)), size: z.number().default(1) });
  text$.pipe(structuredOutput(Event)).subscribe((event) => {
    assertType<Equal<NonNullable<typeof event.partial.when>, string>>();
    if (event.done) assertType<Equal<typeof event.value, { when: Date; size: number }>>();
  });
}

/* zod/mini schemas type the same way. */

export function miniSchemas(text$: Observable<string>): void {
  const Mini = zm.object({ name: zm.string(), age: zm.optional(zm.number()) });
  text$.pipe(structuredOutput(Mini)).subscribe((event) => {
    if (event.done) assertType<Equal<typeof event.value, { name: string; age?: number | undefined }>>();
  });
}

/* partialJson: JSON values; structuredOutput takes text deltas, or refusals. */

export function inputsAndOutputs(text$: Observable<string>, numbers$: Observable<number>): Observable<JsonValue> {
  const values$ = text$.pipe(partialJson());
  assertType<Equal<typeof values$, Observable<JsonValue>>>();
  // @ts-expect-error structuredOutput takes text deltas, not numbers
  numbers$.pipe(structuredOutput(Person));
  return values$;
}

/* zodFunction and parseToolArguments carry the parameters' types. */

export function toolArguments(text: string): void {
  const getWeather = zodFunction({
    name: 'get_weather',
    parameters: z.object({ city: z.string(), unit: z.enum(['C', 'F']).default('C') }),
    execute: (args) => {
      assertType<Equal<typeof args, { city: string; unit: 'C' | 'F' }>>();
      return args.city.length;
    },
  });
  const result = parseToolArguments(getWeather, text);
  if (result.success) assertType<Equal<typeof result.data, { city: string; unit: 'C' | 'F' }>>();
}
