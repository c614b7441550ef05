import type * as z from './schema.js';
import { isRecord } from '../sse/httpErrors.js';

/** `true` when a value conforms to the schema it was compiled from. */
export type FastCheck = (value: unknown) => boolean;

interface SchemaDef {
  type: string;
  checks?: unknown[];
  fn?: FastCheck;
  shape?: Record<string, Schema>;
  catchall?: Schema;
  innerType?: Schema;
  element?: Schema;
}
type Schema = { _zod: { def: SchemaDef } };

const compiled = new WeakMap<object, FastCheck | null>();

/**
 * A plain-function check derived from a zod schema, for the per-event hot path.
 *
 * zod (core, chosen for the browser bundle) validates objects with its generic,
 * allocating parser, which costs more per event than `JSON.parse` itself. Our
 * stream schemas (./schema.ts) only say "these keys hold values these checks
 * accept; keep the rest", so a conforming value can be accepted as it is. The
 * check is built from the schema's own definition, so the schema stays the one
 * source of truth; a value the check does not accept goes through zod, which
 * decides and words the error. Schemas using anything but what ./schema.ts
 * builds (zod's own primitives, refinements, transforms, defaults, stripping
 * objects) get no fast check (`null`).
 */
export function fastCheckOf(schema: z.Schema): FastCheck | null {
  let check = compiled.get(schema);
  if (check === undefined) {
    check = compile(schema as unknown as Schema);
    compiled.set(schema, check);
  }
  return check;
}

function compile(schema: Schema): FastCheck | null {
  const def = schema._zod.def;
  if (def.checks && def.checks.length > 0) return null;
  switch (def.type) {
    case 'unknown':
      return () => true;
    case 'custom':
      return def.fn ?? null;
    case 'optional': {
      const inner = compile(def.innerType as Schema);
      return inner && ((value) => value === undefined || inner(value));
    }
    case 'nullable': {
      const inner = compile(def.innerType as Schema);
      return inner && ((value) => value === null || inner(value));
    }
    case 'array': {
      const element = compile(def.element as Schema);
      return element && ((value) => Array.isArray(value) && value.every(element));
    }
    case 'object':
      return compileObject(def);
    default:
      return null;
  }
}

function compileObject(def: SchemaDef): FastCheck | null {
  // Only objects that keep unknown keys (checked or not): a stripping object's output differs from its input.
  const catchall = def.catchall && compile(def.catchall);
  if (!catchall) return null;
  const shape = def.shape ?? {};
  const keys = Object.keys(shape);
  const checks: FastCheck[] = [];
  for (const key of keys) {
    const check = compile(shape[key]);
    if (!check) return null;
    checks.push(check);
  }
  const checksOthers = def.catchall?._zod.def.type !== 'unknown';
  return (value) => {
    // zod leaves an own `__proto__` key (JSON.parse makes one) out of its output; zod decides such values.
    if (!isRecord(value) || Object.hasOwn(value, '__proto__')) return false;
    for (let i = 0; i < keys.length; i++) if (!checks[i](value[keys[i]])) return false;
    if (checksOthers) for (const key in value) if (!Object.hasOwn(shape, key) && !catchall(value[key])) return false;
    return true;
  };
}
