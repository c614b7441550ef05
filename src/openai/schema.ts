import type {
  $ZodType,
  $catchall,
  $loose,
  $ZodArray,
  $ZodLooseShape,
  $ZodNullable,
  $ZodObject,
  $ZodOptional,
  $ZodRawIssue,
  $ZodShape,
  $ZodTypeDef,
  $ZodTypeInternals,
  $ZodUnknown,
  output,
  ParseContextInternal,
  ParsePayload,
  SomeType,
  util,
} from 'zod/v4/core';
import { $constructor, standardProps, version } from './zodRuntime.js';

/*
 * The builders of the stream schemas, named like zod/mini's functions and built on `zod/v4/core`
 * directly: each schema is a zod schema type made with zod's `$constructor` as zod makes its own
 * (`_zod.def`, `_zod.run`, `~standard`), so zod's `safeParse` and ./fastCheck.ts read them as
 * they read zod's. The kinds are only those the stream schemas need, each parsed as zod parses
 * its kind of the same name (the same output, the same issues at the same paths): a leaf (a
 * string, a finite number, an index, an event `type`: a check and what it expects), `unknown`,
 * arrays, optional and nullable values, and objects that keep the keys their shape does not
 * name. zod's own object, array and wrapper types also handle async parsing, defaults,
 * memoization, size checks and key introspection, which nothing here uses and which cost every
 * browser bundle ~1.5 KB min+gzip more (bench/bundle-size.ts); zod/mini's layer of methods
 * (`.parse`, `.check`, `.clone` …) is left out for the same reason.
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

/** What every kind's def may hold; ./fastCheck.ts reads the same fields. */
interface KindDef extends $ZodTypeDef {
  type: 'custom' | 'unknown' | 'array' | 'optional' | 'nullable' | 'object';
  /** A leaf's check. */
  fn?: (value: unknown) => boolean;
  /** What a leaf's value must be, for the issue: `string`, `an index (an integer from 0)`. */
  expected?: string;
  element?: SomeType;
  innerType?: SomeType;
  shape?: Record<string, SomeType>;
  catchall?: SomeType;
}

/** A schema of values of type `T` that its def's `fn` accepts. */
export interface Leaf<T> extends $ZodType<T, T> {
  _zod: $ZodTypeInternals<T, T> & { def: KindDef & { type: 'custom'; fn: (value: unknown) => boolean; expected: string } };
}

type Internals = $ZodTypeInternals & { def: KindDef };
type Parse = (payload: ParsePayload, ctx: ParseContextInternal) => ParsePayload;

const run = (schema: SomeType | undefined, value: unknown, ctx: ParseContextInternal): ParsePayload =>
  schema!._zod.run({ value, issues: [] }, ctx) as ParsePayload;

/** Issues kept per parse: far more than the first, which words the error; few enough that hostile input costs nothing. */
const MAX_ISSUES = 100;

/** `result`'s issues, found at `key` of the value being parsed, as zod words their path. */
function addIssues(payload: ParsePayload, key: PropertyKey, result: ParsePayload): void {
  for (const issue of result.issues) {
    ((issue as { path?: PropertyKey[] }).path ??= []).unshift(key);
    payload.issues.push(issue);
  }
}

/** Sets `key` of the output from `input`'s, as zod's objects do: a key that is absent stays absent where it may be. */
function addProperty(payload: ParsePayload, input: Record<string, unknown>, key: string, schema: SomeType, ctx: ParseContextInternal) {
  const present = key in input;
  const optional = schema._zod.optin === 'optional';
  if (!present && optional) return;
  const result = run(schema, input[key], ctx);
  addIssues(payload, key, result);
  if (!present) {
    if (result.issues.length === 0) payload.issues.push({ code: 'invalid_type', expected: 'nonoptional', input: undefined, path: [key] });
    return;
  }
  (payload.value as Record<string, unknown>)[key] = result.value;
}

/** The parse of each kind, by `def.type`; `inst` is for the issues zod's own types also name it in. */
const parsers: Record<KindDef['type'], (def: KindDef, inst: SomeType) => Parse> = {
  custom: (def, inst) => (payload) => (def.fn!(payload.value) ? payload : invalid(payload, def.expected!, inst)),
  unknown: () => (payload) => payload,
  optional: (def) => skipping(undefined, def.innerType!),
  nullable: (def) => skipping(null, def.innerType!),
  array: (def, inst) => (payload, ctx) => {
    const input = payload.value;
    if (!Array.isArray(input)) return invalid(payload, 'array', inst);
    const items = (payload.value = new Array(input.length));
    for (let index = 0; index < input.length; index++) {
      const result = run(def.element, input[index], ctx);
      addIssues(payload, index, result);
      // An array of millions of wrong items must not keep an issue (its input and path) for each.
      if (payload.issues.length >= MAX_ISSUES) return payload;
      items[index] = result.value;
    }
    return payload;
  },
  object: (def, inst) => (payload, ctx) => {
    const input = payload.value as Record<string, unknown>;
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return invalid(payload, 'object', inst);
    payload.value = {};
    const shape = def.shape!;
    for (const key in shape) {
      addProperty(payload, input, key, shape[key], ctx);
      if (payload.issues.length >= MAX_ISSUES) return payload;
    }
    for (const key in input) {
      // An own `__proto__` (JSON.parse makes one) is left out, as zod leaves it out.
      if (Object.hasOwn(shape, key) || key === '__proto__') continue;
      addProperty(payload, input, key, def.catchall!, ctx);
      if (payload.issues.length >= MAX_ISSUES) return payload;
    }
    return payload;
  },
};

/** zod's `invalid_type` issue: the value is not what `expected` says. */
function invalid(payload: ParsePayload, expected: string, inst: SomeType): ParsePayload {
  payload.issues.push({ code: 'invalid_type', expected: expected as never, input: payload.value, inst: inst as never });
  return payload;
}

/** An optional (`skip` undefined) or nullable (`skip` null) value: `skip` as it is, anything else as `inner` parses it. */
function skipping(skip: undefined | null, inner: SomeType): Parse {
  return (payload, ctx) => (payload.value === skip ? payload : (inner._zod.run(payload, ctx) as ParsePayload));
}

/*
 * What zod's `$ZodType` sets up for a type without checks (the trait, `def`, `bag`, `version`, `run` as `parse`, a
 * lazy `~standard`), done here: `$ZodType`'s own initializer also carries the pipeline of checks (refinements,
 * async and backward parses), which no kind here has and which costs every browser bundle ~0.5 KB min+gzip.
 */
const $Kind = /* @__PURE__ */ $constructor<$ZodType & { _zod: Internals }, KindDef>(
  '$OpenAIRxSchema',
  (inst, def) => {
    const zod = inst._zod;
    zod.traits.add('$ZodType');
    zod.def = def;
    zod.bag = {};
    zod.version = version;
    // Optional values, and nullable ones of optional values, may be absent from an object, as zod's `optin`/`optout` say.
    zod.optin = zod.optout = (def.type === 'optional' ? 'optional' : def.innerType?._zod.optin) as never;
    zod.run = zod.parse = parsers[def.type](def, inst);
  },
  {
    // As zod's: made on first read, then an own non-enumerable property; one assigned is an own enumerable one.
    get '~standard'() {
      return ownStandard(this as never, standardProps(this as never), false) as never;
    },
    set '~standard'(value) {
      ownStandard(this as never, value, true);
    },
  },
);

function ownStandard<T>(schema: object, value: T, enumerable: boolean): T {
  Object.defineProperty(schema, '~standard', { value, enumerable, writable: true, configurable: true });
  return value;
}

const kind = <T>(def: KindDef): T => new $Kind(def) as T;

// Each builder states what it makes in zod's types, as zod/mini's functions do.

export const string = (): Leaf<string> => custom((value) => typeof value === 'string', 'string');

/** A finite number, as JSON has: `1e999` parses to Infinity. */
export const number = (): Leaf<number> => custom(Number.isFinite, 'number');

export const boolean = (): Leaf<boolean> => custom((value) => typeof value === 'boolean', 'boolean');

export const unknown = (): $ZodUnknown => kind({ type: 'unknown' });

export const array = <T extends SomeType>(element: T): $ZodArray<T> => kind({ type: 'array', element });

export const optional = <T extends SomeType>(innerType: T): $ZodOptional<T> => kind({ type: 'optional', innerType });

export const nullable = <T extends SomeType>(innerType: T): $ZodNullable<T> => kind({ type: 'nullable', innerType });

export const nullish = <T extends SomeType>(innerType: T): $ZodOptional<$ZodNullable<T>> => optional(nullable(innerType));

/** An object that keeps the keys its shape does not name. */
export const looseObject = <Shape extends $ZodLooseShape>(shape: Shape): $ZodObject<util.Writeable<Shape>, $loose> =>
  kind({ type: 'object', shape, catchall: unknown() });

/** An object whose other keys must each be a `T`, e.g. `{ [token]: logprob }`. */
export const catchall = <Shape extends $ZodShape, T extends SomeType>(shape: Shape, catchall: T): $ZodObject<Shape, $catchall<T>> =>
  kind({ type: 'object', shape, catchall });

/** A value `check` accepts; `expected` says what it must be otherwise (`an index (an integer from 0)`). */
export const custom = <T>(check: (value: unknown) => boolean, expected: string): Leaf<T> => kind({ type: 'custom', fn: check, expected });

/** Exactly `value`. */
export const literal = <T extends string>(value: T): Leaf<T> => custom<T>((input) => input === value, `'${value}'`);
