/**
 * An array that only grows, with every version kept: what accumulated logprobs
 * need. They come a few per chunk and each snapshot must show all of them so
 * far, unchanged by later chunks; a new array per chunk would make a stream's
 * cost grow with the square of its length. Versions share one store instead:
 * a version is a prefix of it, the newest version appends in place, and a
 * snapshot's array is copied out only when it is read.
 */
export class GrowingArray<T> {
  private constructor(
    private readonly store: T[],
    readonly length: number,
  ) {}

  /** A first version, holding a copy of `items`. */
  static from<T>(items: readonly T[] = []): GrowingArray<T> {
    return new GrowingArray(items.slice(), items.length);
  }

  /** A version with `items` after this one's; this version stays as it is. */
  concat(items: readonly T[]): GrowingArray<T> {
    if (items.length === 0) return this;
    // Only the newest version may append in place: an older one would overwrite what a newer one holds.
    const store = this.length === this.store.length ? this.store : this.store.slice(0, this.length);
    for (const item of items) store.push(item);
    return new GrowingArray(store, store.length);
  }

  /**
   * Defines `key` on `target` as this version's items: an enumerable property
   * that reads as a plain array (JSON.stringify, deep equality, spreading) and
   * becomes one when first read; until then it is an accessor (which is what
   * `console.log` shows). Assigning to it replaces it, as on a plain object.
   */
  defineOn(target: object, key: string): void {
    const { store, length } = this;
    Object.defineProperty(target, key, {
      enumerable: true,
      configurable: true,
      get(this: object) {
        // Kept as the property's value; on a frozen snapshot that fails quietly and each read copies again.
        return settle(this, key, store.slice(0, length));
      },
      set(this: object, value: unknown) {
        settle(this, key, value);
      },
    });
  }
}

function settle<V>(target: object, key: string, value: V): V {
  Reflect.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return value;
}

/** The array a version reads as: `GrowingArray<E>` → `E[]`, `null` → `null`. */
type ItemsOf<G> = G extends GrowingArray<infer E> ? E[] : null;

/** An object whose fields are these versions' items (see {@link GrowingArray.defineOn}), or `null`. */
export function arraysOf<F extends Record<string, GrowingArray<unknown> | null>>(fields: F): { [K in keyof F]: ItemsOf<F[K]> } {
  const target: Record<string, unknown> = {};
  for (const [key, items] of Object.entries(fields)) {
    if (items) items.defineOn(target, key);
    else target[key] = null;
  }
  return target as { [K in keyof F]: ItemsOf<F[K]> };
}

/** A shallow copy of `source` whose `key` holds `items`, made without reading `source[key]` (a spread would copy it out). */
export function withArray<T extends object>(source: T, key: keyof T & string, items: GrowingArray<unknown>): T {
  const copy: Record<string, unknown> = {};
  for (const name of Object.keys(source)) if (name !== key) copy[name] = source[name as keyof T];
  items.defineOn(copy, key);
  return copy as T;
}
