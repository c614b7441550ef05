import {
  $constructor,
  $ZodArray,
  $ZodNullable,
  $ZodObject,
  $ZodOptional,
  $ZodType,
  $ZodUnknown,
  type $catchall,
  type $loose,
  type $ZodLooseShape,
  type $ZodRawIssue,
  type $ZodShape,
  type $ZodTypeDef,
  type $ZodTypeInternals,
  type output,
  type SomeType,
  type util,
} from 'zod/v4/core';

/*
 * The builders of the stream schemas, named like zod/mini's functions and built on `zod/v4/core`
 * directly. zod composes the objects, arrays, optional and nullable values and parses
 * them; what is left out is zod/mini's layer of methods (`.parse`, `.check`, `.clone` …),
 * which nothing here calls and every browser bundle would carry. The leaves (a string, a
 * finite number, an index, an event `type`) are one small schema type of our own, made with
 * zod's `$constructor` as zod makes its own: zod's string, number, number-format and literal
 * schemas, or its `custom` refinements, cost ~1 KB min+gzip more for the same checks
 * (bench/bundle-size.ts).
 *
 * @example
 * const usage = looseObject({ total_tokens: optional(number()) });
 * safeParse(usage, { total_tokens: 3, cost: 0.1 }); // { success: true, data: { total_tokens: 3, cost: 0.1 } }
 */

export type { $ZodLooseShape as LooseShape, $ZodType as Schema, output as infer } from 'zod/v4/core';

/**
 * The value as zod parsed it, or the issues zod found, in the shape of zod's `safeParse` result. zod's own
 * `safeParse` wraps the issues in a `$ZodError` (an Error with a lazily formatted message) that the stream
 * operators never show: they word the first issue themselves (`issueSummary`), and the error class and its
 * formatting cost ~0.3 KB min+gzip in every browser bundle. The schemas here are synchronous.
 */
export function safeParse<S extends SomeType>(
  schema: S,
  value: unknown,
): { success: true; data: output<S> } | { success: false; error: { issues: $ZodRawIssue[] } } {
  const result = schema._zod.run({ value, issues: [] }, { async: false }) as { value: output<S>; issues: $ZodRawIssue[] };
  return result.issues.length === 0 ? { success: true, data: result.value } : { success: false, error: { issues: result.issues } };
}

/** The def of a {@link custom} leaf: zod's `custom` kind with its check in `fn` (./fastCheck.ts reads both). */
interface LeafDef extends $ZodTypeDef {
  type: 'custom';
  fn: (value: unknown) => boolean;
  /** What a value must be, for the issue: `string`, `an index (an integer from 0)`. */
  expected: string;
}

/** A schema of values of type `T` that its def's `fn` accepts. */
export interface Leaf<T> extends $ZodType<T, T> {
  _zod: $ZodTypeInternals<T, T> & { def: LeafDef };
}

/** Parses by calling `fn`; a value it refuses is zod's `invalid_type` issue, expecting `def.expected`. */
const $Leaf = /* @__PURE__ */ $constructor<Leaf<unknown>, LeafDef>('$OpenAIRxLeaf', (inst, def) => {
  $ZodType.init(inst, def);
  inst._zod.parse = (payload) => {
    if (!def.fn(payload.value)) payload.issues.push({ code: 'invalid_type', expected: def.expected as never, input: payload.value, inst });
    return payload;
  };
});

// The constructors are typed for any schema; each builder states what it makes, as zod/mini's functions do.

export const string = (): Leaf<string> => custom((value) => typeof value === 'string', 'string');

/** A finite number, as JSON has: `1e999` parses to Infinity. */
export const number = (): Leaf<number> => custom(Number.isFinite, 'number');

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

/** A value `check` accepts; `expected` says what it must be otherwise (`an index (an integer from 0)`). */
export const custom = <T>(check: (value: unknown) => boolean, expected: string): Leaf<T> =>
  new $Leaf({ type: 'custom', fn: check, expected }) as Leaf<never>;

/** Exactly `value`. */
export const literal = <T extends string>(value: T): Leaf<T> => custom<T>((input) => input === value, `'${value}'`);
