import type * as z from 'zod/v4/core';
import { setOwnKey } from './partialJsonParser.js';

/*
 * OpenAI's strict mode has no optional properties: `zodResponseFormat` sends
 * an optional property as required and nullable, and the model writes `null`
 * where it means "absent". Before the schema sees the value, such a `null` is
 * removed again — only where the schema's property is optional and does not
 * itself accept `null` — so `.optional()` and `.default()` work as written.
 *
 * The walk reads zod's definitions (`_zod.def`), shared by classic `zod` and
 * `zod/mini` schemas. It follows the value, which the parser bounded in depth.
 */

/** The most wrappers (optional, default, lazy, pipe…) followed around one schema: a `z.lazy` loop ends here. */
const MAX_UNWRAP = 64;

interface Def {
  type: string;
  innerType?: z.$ZodType;
  in?: z.$ZodType;
  out?: z.$ZodType;
  getter?: () => z.$ZodType;
  shape?: Record<string, z.$ZodType>;
  element?: z.$ZodType;
  options?: readonly z.$ZodType[];
  left?: z.$ZodType;
  right?: z.$ZodType;
  values?: readonly unknown[];
}

const defOf = (schema: z.$ZodType): Def => schema._zod.def as unknown as Def;

/**
 * `value` with each `null` removed where `schema` has an optional property
 * that does not accept `null`. Copy-on-write: `value` is never changed, and
 * comes back as is when nothing was removed.
 */
export function absentForNull(schema: z.$ZodType, value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const node = unwrap(schema);
  const def = defOf(node);
  switch (def.type) {
    case 'object':
      return Array.isArray(value) ? value : objectWithoutNulls(def.shape ?? {}, value as Record<string, unknown>);
    case 'array':
      return Array.isArray(value) && def.element ? elementsWithoutNulls(def.element, value) : value;
    case 'union': {
      const option = optionFor(def.options ?? [], value);
      return option ? absentForNull(option, value) : value;
    }
    case 'intersection':
      return def.left && def.right ? absentForNull(def.right, absentForNull(def.left, value)) : value;
    default:
      return value;
  }
}

function objectWithoutNulls(shape: Record<string, z.$ZodType>, value: Record<string, unknown>): Record<string, unknown> {
  let result: Record<string, unknown> | undefined;
  for (const key of Object.keys(shape)) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    const property = shape[key];
    const current = value[key];
    if (current === null && property._zod.optin !== undefined && !acceptsNull(property)) {
      result ??= { ...value };
      delete result[key];
      continue;
    }
    const next = absentForNull(property, current);
    if (next !== current) {
      result ??= { ...value };
      setOwnKey(result, key, next);
    }
  }
  return result ?? value;
}

function elementsWithoutNulls(element: z.$ZodType, array: readonly unknown[]): unknown[] {
  let result: unknown[] | undefined;
  for (let index = 0; index < array.length; index++) {
    const next = absentForNull(element, array[index]);
    if (next !== array[index]) {
      result ??= array.slice();
      result[index] = next;
    }
  }
  return result ?? (array as unknown[]);
}

/** The schema under wrappers that do not change the value's shape. */
function unwrap(schema: z.$ZodType): z.$ZodType {
  let node = schema;
  for (let step = 0; step < MAX_UNWRAP; step++) {
    const def = defOf(node);
    const inner = innerOf(def);
    if (!inner) return node;
    node = inner;
  }
  return node;
}

function innerOf(def: Def): z.$ZodType | undefined {
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return def.innerType;
    case 'lazy':
      return def.getter?.();
    case 'pipe':
      // The value meets the pipe's input; a preprocess step (a transform first) leaves only the output to go by.
      return def.in && defOf(def.in).type === 'transform' ? def.out : def.in;
    default:
      return undefined;
  }
}

/** Whether `null` is a valid input of `schema`, by its structure (refinements aside). */
function acceptsNull(schema: z.$ZodType): boolean {
  let node = schema;
  for (let step = 0; step < MAX_UNWRAP; step++) {
    const def = defOf(node);
    if (def.type === 'nullable' || def.type === 'null') return true;
    if (def.type === 'union') return (def.options ?? []).some(acceptsNull);
    const inner = innerOf(def);
    if (!inner) return false;
    node = inner;
  }
  return false;
}

/**
 * The union option a value is meant for: the first array option for an
 * array; for an object, the first object option whose literal properties (a
 * discriminator) match the value's.
 */
function optionFor(options: readonly z.$ZodType[], value: object): z.$ZodType | undefined {
  return options.find((option) => {
    const def = defOf(unwrap(option));
    if (Array.isArray(value)) return def.type === 'array';
    return def.type === 'object' && Object.keys(def.shape ?? {}).every((key) => literalAllows(def.shape![key], (value as Record<string, unknown>)[key]));
  });
}

/** Whether `schema`, if a literal, allows `value`; any other schema does. */
function literalAllows(schema: z.$ZodType, value: unknown): boolean {
  const def = defOf(unwrap(schema));
  return def.type !== 'literal' || (def.values ?? []).includes(value);
}
