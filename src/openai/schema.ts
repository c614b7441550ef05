import {
  $ZodArray,
  $ZodCustom,
  $ZodNullable,
  $ZodObject,
  $ZodOptional,
  $ZodUnknown,
  type $catchall,
  type $loose,
  type $ZodLooseShape,
  type $ZodShape,
  type SomeType,
  type util,
} from 'zod/v4/core';

/*
 * The builders of the stream schemas, named like zod/mini's functions and built on `zod/v4/core`
 * directly. zod composes the objects, arrays, optional and nullable values and parses
 * them (`safeParse` from `zod/v4/core`); what is left out is zod/mini's layer of methods (`.parse`,
 * `.check`, `.clone` …), which nothing here calls and every browser bundle would carry. The leaves
 * (a string, a finite number, an index, an event `type`) are `custom` checks worded the way
 * `issueSummary` words zod's own (`expected string`): zod's string, number, number-format and
 * literal schemas cost ~1 KB min+gzip more for the same checks (bench/bundle-size.ts).
 *
 * @example
 * const usage = looseObject({ total_tokens: optional(number()) });
 * safeParse(usage, { total_tokens: 3, cost: 0.1 }); // { success: true, data: { total_tokens: 3, cost: 0.1 } }
 */

export { safeParse, type $ZodLooseShape as LooseShape, type $ZodType as Schema, type output as infer } from 'zod/v4/core';

// The constructors are typed for any schema; each builder states what it makes, as zod/mini's functions do.

export const string = (): $ZodCustom<string, string> => custom((value) => typeof value === 'string', 'expected string');

/** A finite number, as JSON has: `1e999` parses to Infinity. */
export const number = (): $ZodCustom<number, number> => custom(Number.isFinite, 'expected number');

export const unknown = (): $ZodUnknown => new $ZodUnknown({ type: 'unknown' });

export const array = <T extends SomeType>(element: T): $ZodArray<T> => new $ZodArray({ type: 'array', element: element as never }) as never;

export const optional = <T extends SomeType>(innerType: T): $ZodOptional<T> =>
  new $ZodOptional({ type: 'optional', innerType: innerType as never }) as never;

export const nullable = <T extends SomeType>(innerType: T): $ZodNullable<T> =>
  new $ZodNullable({ type: 'nullable', innerType: innerType as never }) as never;

export const nullish = <T extends SomeType>(innerType: T): $ZodOptional<$ZodNullable<T>> => optional(nullable(innerType));

/** An object that keeps the keys its shape does not name. */
export const looseObject = <Shape extends $ZodLooseShape>(shape: Shape): $ZodObject<util.Writeable<Shape>, $loose> =>
  new $ZodObject({ type: 'object', shape, catchall: unknown() }) as never;

/** An object whose other keys must each be a `T`, e.g. `{ [token]: logprob }`. */
export const catchall = <Shape extends $ZodShape, T extends SomeType>(shape: Shape, catchall: T): $ZodObject<Shape, $catchall<T>> =>
  new $ZodObject({ type: 'object', shape, catchall: catchall as never }) as never;

/** A value `check` accepts; `expected` words the issue otherwise (`expected an index`). */
export const custom = <T>(check: (value: unknown) => boolean, expected: string): $ZodCustom<T, T> =>
  new $ZodCustom({ type: 'custom', check: 'custom', fn: check, abort: true, error: () => expected }) as never;

/** Exactly `value`. */
export const literal = <T extends string>(value: T): $ZodCustom<T, T> => custom<T>((input) => input === value, `expected '${value}'`);
