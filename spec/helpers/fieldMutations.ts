/*
 * Single-field mutations of a JSON value, for specs that compare two validators of the same shape on every
 * field of a sample: each path to a value inside it, and the sample with the value at one path swapped.
 */

/** Every path to a value inside `value` (the root's is `[]`), so each can be swapped for a value of another type. */
export function fieldPaths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const found: Array<Array<string | number>> = [prefix];
  if (Array.isArray(value)) value.forEach((item, index) => found.push(...fieldPaths(item, [...prefix, index])));
  else if (typeof value === 'object' && value !== null) for (const [key, item] of Object.entries(value)) found.push(...fieldPaths(item, [...prefix, key]));
  return found;
}

/**
 * A deep copy of `value` with the field at `path` swapped for `replacement`; `undefined` removes it, as JSON has
 * no undefined values. The copy is made in this realm (structuredClone's objects have another realm's prototype,
 * which isDeepStrictEqual tells apart).
 *
 * @example
 * withField({ a: [1, 2] }, ['a', 0], 'x'); // { a: ['x', 2] }
 */
export function withField(value: unknown, path: Array<string | number>, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = clone(value) as Record<string | number, unknown>;
  let target = copy;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string | number, unknown>;
  const key = path[path.length - 1];
  if (replacement !== undefined) target[key] = replacement;
  else if (Array.isArray(target)) target.splice(Number(key), 1);
  else delete target[key];
  return copy;
}

function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, clone(item)]));
}
