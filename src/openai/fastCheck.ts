import { globalConfig } from './zodRuntime.js';
import type * as z from './schema.js';

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
 * check is generated from the schema's own definition, so the schema stays the
 * one source of truth: JavaScript that reads each key the shape names and calls
 * the schema's own leaf checks, which the engine compiles like hand-written
 * code (a generic walk over keys costs several times more). The source holds
 * only the schema's key names; no value ever goes into it. A value the check
 * does not accept goes through zod, which decides and words the error.
 *
 * `null` (every value goes through zod) for schemas using anything but what
 * ./schema.ts builds (zod's own primitives, refinements, transforms, defaults,
 * stripping objects), and where code generation is forbidden: a strict CSP,
 * some worker runtimes, or zod's own switch for them, `z.config({ jitless: true })`.
 */
export function fastCheckOf(schema: z.Schema): FastCheck | null {
  let check = compiled.get(schema);
  if (check === undefined) {
    check = null;
    if (codeGenerationAllowed()) check = checkOf(schema as unknown as Schema, []);
    compiled.set(schema, check);
  }
  return check;
}

let allowed: boolean | undefined;

/** Probed once, not per schema: a strict CSP reports every `new Function`, even one whose throw is caught. */
function codeGenerationAllowed(): boolean {
  if (globalConfig.jitless) return false;
  if (allowed === undefined) {
    try {
      allowed = typeof new Function('') === 'function';
    } catch {
      allowed = false;
    }
  }
  return allowed;
}

/** The generated check of `schema`, reading leaf checks and nested functions from `parts` as `p[i]`; `null` if none. */
function checkOf(schema: Schema, parts: unknown[]): FastCheck | null {
  const def = schema._zod.def;
  const test = def.type === 'object' && !def.checks?.length ? objectTest(def, parts) : expression(schema, 'v', parts);
  return test ? (new Function('p', `return(v)=>{let x;return ${test}}`)(parts) as FastCheck) : null;
}

function part(parts: unknown[], item: unknown): string {
  return `p[${parts.push(item) - 1}]`;
}

/** JavaScript that is `true` when `x` conforms to `schema`, or `null` when it is not a schema this can check. */
function expression(schema: Schema, x: string, parts: unknown[]): string | null {
  const def = schema._zod.def;
  if (def.checks?.length) return null;
  switch (def.type) {
    case 'unknown':
      return 'true';
    case 'custom':
      return def.fn ? `${part(parts, def.fn)}(${x})` : null;
    case 'optional':
    case 'nullable': {
      const inner = expression(def.innerType as Schema, x, parts);
      return inner && `(${x}===${def.type === 'optional' ? 'undefined' : 'null'}||${inner})`;
    }
    case 'array': {
      const element = checkOf(def.element as Schema, parts);
      return element && `(Array.isArray(${x})&&${x}.every(${part(parts, element)}))`;
    }
    case 'object': {
      const object = checkOf(schema, parts);
      return object && `${part(parts, object)}(${x})`;
    }
    default:
      return null;
  }
}

/** Reads each key the shape names (`x`), then checks the others against the catch-all unless it is `unknown`. */
function objectTest(def: SchemaDef, parts: unknown[]): string | null {
  // Only objects that keep unknown keys (checked or not): a stripping object's output differs from its input.
  const others = def.catchall && expression(def.catchall, 'v[k]', parts);
  if (!others) return null;
  const shape = def.shape ?? {};
  // zod leaves an own `__proto__` key (JSON.parse makes one) out of its output; zod decides such values.
  let test = 'typeof v=="object"&&v!==null&&!Array.isArray(v)&&!Object.hasOwn(v,"__proto__")';
  for (const key of Object.keys(shape)) {
    const field = expression(shape[key], 'x', parts);
    if (!field) return null;
    test += `&&(x=v[${JSON.stringify(key)}],${field})`;
  }
  return others === 'true' ? test : `${test}&&Object.keys(v).every((k)=>Object.hasOwn(${part(parts, shape)},k)||${others})`;
}
