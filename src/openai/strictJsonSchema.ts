import type * as z from 'zod/v4/core';
import { StrictSchemaError } from '../errors.js';
import { toJSONSchema } from './zodJsonSchema.js';

/*
 * OpenAI's strict structured outputs accept a subset of JSON Schema: every
 * object closed (`additionalProperties: false`) with all its properties
 * required, an object at the root, and only some keywords. zod writes the
 * JSON Schema (`toJSONSchema`, of the schema's input: what the model writes);
 * this module makes it strict, or says at once why it cannot be.
 *
 * An optional property becomes required and nullable; the `null` the model
 * then writes for "absent" is removed again before validation (see
 * operators/absentForNull.ts). Value constraints strict mode does not know
 * (`minLength`, a `format` it does not list, …) are left out of the schema
 * sent: the zod schema still enforces them on the answer.
 */

type JsonSchema = Record<string, unknown>;

/** Keywords that describe a value's structure in ways strict mode cannot: such a schema is rejected. */
const UNSUPPORTED = new Map(
  Object.entries({
    prefixItems: 'a tuple (use an object with named properties)',
    allOf: 'an intersection that zod cannot merge into one object',
    not: 'z.never() or a negation',
    if: 'a conditional schema',
    patternProperties: 'a record with a key pattern (use an array of { key, value } objects)',
    propertyNames: 'a record (use an array of { key, value } objects)',
    dependentSchemas: 'dependent schemas',
    dependentRequired: 'dependent properties',
    contains: 'an array `contains` rule',
    unevaluatedProperties: 'unevaluated properties',
    unevaluatedItems: 'unevaluated items',
  }),
);

/** What strict mode understands of the rest; other keywords (constraints zod enforces anyway) are left out. */
const KEPT = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'anyOf',
  'enum',
  'const',
  '$ref',
  '$defs',
  'definitions',
  'description',
  'title',
  'pattern',
  'format',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'minItems',
  'maxItems',
]);

/** The string formats strict mode supports. */
const FORMATS = new Set(['date-time', 'time', 'date', 'duration', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid']);

/**
 * The strict-mode JSON Schema of `schema`'s input. Throws a
 * `StrictSchemaError` naming the place when strict mode cannot express it.
 */
export function strictJsonSchema(schema: z.$ZodType): JsonSchema {
  let root: JsonSchema;
  try {
    root = toJSONSchema(schema, { io: 'input' }) as JsonSchema;
  } catch (error) {
    throw new StrictSchemaError({ message: `The schema has no JSON Schema: ${(error as Error).message}`, path: '(root)', cause: error });
  }
  delete root.$schema;
  if (root.type !== 'object' || root.anyOf || root.oneOf) {
    throw new StrictSchemaError({
      message: 'A strict schema must be an object at the root (wrap it: z.object({ result: … }))',
      path: '(root)',
    });
  }
  const work: Array<[node: JsonSchema, path: string]> = [[root, '']];
  for (let next = work.pop(); next; next = work.pop()) {
    const [node, path] = next;
    for (const child of makeStrict(node, path)) work.push(child);
  }
  return root;
}

/** Makes one schema node strict, in place; returns its child schemas with their paths. */
function makeStrict(node: JsonSchema, path: string): Array<[JsonSchema, string]> {
  const where = path || '(root)';
  if (node.oneOf) {
    // zod writes a discriminated union as oneOf; its options exclude one another, so anyOf says the same.
    node.anyOf = node.oneOf;
    delete node.oneOf;
  }
  for (const keyword of Object.keys(node)) {
    const unsupported = UNSUPPORTED.get(keyword);
    if (unsupported) throw new StrictSchemaError({ message: `Strict mode cannot express ${unsupported}, at ${where}`, path: where });
    if (!KEPT.has(keyword)) delete node[keyword];
  }
  if (typeof node.format === 'string' && !FORMATS.has(node.format)) delete node.format;
  // A supported format says what zod's own regex for it says, in a form every model supports.
  else if (typeof node.format === 'string') delete node.pattern;
  if (!('type' in node || 'anyOf' in node || 'enum' in node || 'const' in node || '$ref' in node)) {
    throw new StrictSchemaError({ message: `Strict mode needs a type, at ${where} (z.any() and z.unknown() have none)`, path: where });
  }

  const children: Array<[JsonSchema, string]> = [];
  if (node.type === 'object' || node.properties) closeObject(node, where, path, children);
  if (isSchema(node.items)) children.push([node.items, `${path}[]`]);
  if (Array.isArray(node.anyOf)) for (const option of node.anyOf) if (isSchema(option)) children.push([option, path]);
  for (const defs of [node.$defs, node.definitions]) {
    if (isSchema(defs)) for (const [name, def] of Object.entries(defs)) if (isSchema(def)) children.push([def, `$defs.${name}`]);
  }
  return children;
}

/** Every property required (an optional one nullable), no others allowed. */
function closeObject(node: JsonSchema, where: string, path: string, children: Array<[JsonSchema, string]>): void {
  const extra = node.additionalProperties;
  if (extra !== undefined && extra !== false && !(isSchema(extra) && Object.keys(extra).length === 0)) {
    throw new StrictSchemaError({
      message: `Strict mode cannot express a record or catchall (properties not named in advance), at ${where}; use an array of { key, value } objects`,
      path: where,
    });
  }
  const properties = (isSchema(node.properties) ? node.properties : {}) as Record<string, JsonSchema>;
  const required = new Set(Array.isArray(node.required) ? (node.required as string[]) : []);
  for (const key of Object.keys(properties)) {
    if (!required.has(key) && !isNullable(properties[key])) properties[key] = orNull(properties[key]);
    children.push([properties[key], path ? `${path}.${key}` : key]);
  }
  node.properties = properties;
  node.required = Object.keys(properties);
  node.additionalProperties = false;
}

/** `node` or `null`; its description goes on the union, where the model reads it first. */
function orNull(node: JsonSchema): JsonSchema {
  const { description, ...rest } = node;
  return { anyOf: [rest, { type: 'null' }], ...(description === undefined ? {} : { description }) };
}

function isNullable(node: JsonSchema): boolean {
  const type = node.type;
  if (type === 'null' || (Array.isArray(type) && type.includes('null'))) return true;
  if (Array.isArray(node.enum) && node.enum.includes(null)) return true;
  if ('const' in node && node.const === null) return true;
  return Array.isArray(node.anyOf) && node.anyOf.some((option) => isSchema(option) && isNullable(option));
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
