import { isRecord } from '../sse/httpErrors.js';

/*
 * The simulated model's JSON for a JSON Schema: structured output
 * (`response_format` / `text.format` json_schema) and tool-call arguments.
 * Deterministic: the same schema and prompt always give the same value.
 */

/** Where a sample's strings come from. */
export interface SampleStrings {
  /** The next string value (its `format`, if any, is applied around it). */
  next(): string;
}

/** The deepest nesting followed, and the most values made: a hostile schema costs no more than this. */
const MAX_DEPTH = 24;
const MAX_VALUES = 10_000;
const ARRAY_ITEMS = 2;

/**
 * A value that fits `schema`: objects with every listed property, arrays of
 * 2 items (within `minItems` / `maxItems`), enums and `const` their first
 * value, numbers counting up from 1 (within `minimum` / `maximum`), booleans
 * `true`, strings from `strings` (`format` `email`, `uri`, `date`,
 * `date-time` and `uuid` made to fit), a nullable type or union its non-null
 * branch, `$ref`s into `$defs` / `definitions` followed. Past the depth or
 * size bound, `null`.
 *
 * @example
 * sampleJson({ type: 'object', properties: { city: { type: 'string' }, unit: { enum: ['C', 'F'] } } }, constantStrings('Paris'))
 * // { city: 'Paris', unit: 'C' }
 */
export function sampleJson(schema: unknown, strings: SampleStrings): unknown {
  let values = 0;
  let counter = 0;
  const sample = (node: unknown, depth: number): unknown => {
    if (!isRecord(node) || depth > MAX_DEPTH || ++values > MAX_VALUES) return null;
    const target = typeof node.$ref === 'string' ? resolveRef(schema, node.$ref) : node;
    if (target !== node) return sample(target, depth + 1);
    if ('const' in node) return node.const;
    if (Array.isArray(node.enum) && node.enum.length > 0) return node.enum.find((value) => value !== null) ?? null;
    const branches = node.anyOf ?? node.oneOf ?? node.allOf;
    if (Array.isArray(branches)) return sample(branches.find((branch) => !isNullSchema(branch)) ?? branches[0], depth + 1);
    switch (typeOf(node)) {
      case 'string':
        return formatted(node.format, strings.next());
      case 'integer':
      case 'number':
        return within(++counter, node.minimum, node.maximum);
      case 'boolean':
        return true;
      case 'null':
        return null;
      case 'array': {
        const length = within(ARRAY_ITEMS, node.minItems, node.maxItems);
        return Array.from({ length: Math.min(length, MAX_VALUES) }, () => sample(node.items, depth + 1));
      }
      default: {
        const value: Record<string, unknown> = {};
        const properties = isRecord(node.properties) ? node.properties : {};
        for (const [name, property] of Object.entries(properties)) {
          if (name !== '__proto__') value[name] = sample(property, depth + 1);
        }
        return value;
      }
    }
  };
  return sample(schema, 0);
}

/** The same string for every string value: what a tool's arguments get (the prompt). */
export function constantStrings(text: string): SampleStrings {
  return { next: () => text || 'mock' };
}

/** The prompt's words in turn, from the first again after the last: what structured output gets. */
export function promptWords(prompt: string): SampleStrings {
  const words = prompt.match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? [];
  const meaningful = words.filter((word) => word.length > 2);
  const pool = meaningful.length > 0 ? meaningful : words.length > 0 ? words : ['mock'];
  let at = 0;
  return { next: () => pool[at++ % pool.length] };
}

/** The schema's type; with several (`["string", "null"]`), the first that is not `null`. */
function typeOf(node: Record<string, unknown>): unknown {
  if (!Array.isArray(node.type)) return node.type ?? (isRecord(node.properties) ? 'object' : undefined);
  return node.type.find((type) => type !== 'null') ?? 'null';
}

function isNullSchema(node: unknown): boolean {
  return isRecord(node) && node.type === 'null';
}

/** `#`, `#/$defs/Name` or `#/definitions/Name`; anything else is not followed. */
function resolveRef(root: unknown, ref: string): unknown {
  if (ref === '#') return root;
  const match = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
  if (!match || !isRecord(root)) return undefined;
  const defs = root[match[1]];
  return isRecord(defs) && Object.hasOwn(defs, match[2]) ? defs[match[2]] : undefined;
}

function within(value: number, min: unknown, max: unknown): number {
  const low = typeof min === 'number' ? Math.max(value, Math.ceil(min)) : value;
  return typeof max === 'number' ? Math.min(low, Math.floor(max)) : low;
}

function formatted(format: unknown, word: string): string {
  const slug = word.toLowerCase().replace(/[^a-z0-9]+/g, '') || 'mock';
  switch (format) {
    case 'email':
      return `${slug}@example.com`;
    case 'uri':
    case 'url':
      return `https://example.com/${slug}`;
    case 'date':
      return '2025-01-01';
    case 'date-time':
      return '2025-01-01T12:00:00Z';
    case 'uuid':
      return '00000000-0000-4000-8000-000000000000';
    default:
      return word;
  }
}
