/**
 * A version of an array that a snapshot can show without copying it:
 * {@link GrowingArray} for arrays that only grow, {@link IndexedArray} for
 * entries that are also replaced.
 */
export interface ArrayVersion {
  /**
   * Defines `key` on `target` as this version's items: an enumerable property
   * that reads as a plain array (JSON.stringify, deep equality, spreading) and
   * becomes one when first read; until then it is an accessor (which is what
   * `console.log` shows). Assigning to it replaces it, as on a plain object.
   * ({@link IndexedArray} shows a version of one node's worth of entries as a
   * plain array at once.)
   */
  defineOn(target: object, key: string): void;
}

/**
 * The most entries an {@link IndexedArray} version copies when shown (its
 * root, then the only node): less work than the accessor that would defer the
 * copy, and bounded, so a snapshot's cost stays constant.
 */
export const EAGER_ENTRIES = 32;

function defineLazy(target: object, key: string, read: () => unknown[]): void {
  let items: unknown[] | undefined;
  Object.defineProperty(target, key, {
    enumerable: true,
    configurable: true,
    get(this: object) {
      // Kept as the property's value; on a frozen snapshot that fails quietly, and the copy kept here is what every read gets.
      return settle(this, key, (items ??= read()));
    },
    set(this: object, value: unknown) {
      settle(this, key, value);
    },
  });
}

function settle<V>(target: object, key: string, value: V): V {
  Reflect.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return value;
}

/**
 * An array that only grows, with every version kept: what accumulated logprobs
 * need. They come a few per chunk and each snapshot must show all of them so
 * far, unchanged by later chunks; a new array per chunk would make a stream's
 * cost grow with the square of its length. Versions share one store instead:
 * a version is a prefix of it, the newest version appends in place, and a
 * snapshot's array is copied out only when it is read.
 */
export class GrowingArray<T> implements ArrayVersion {
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

  defineOn(target: object, key: string): void {
    const { store, length } = this;
    defineLazy(target, key, () => store.slice(0, length));
  }
}

type Node = unknown[];

/**
 * Entries placed by a provider's index (tool calls, choices, output items,
 * content parts), shown dense and in index order: a sparse or huge index
 * makes no holes, and entries that arrive out of order are shown sorted.
 * Each chunk replaces a few entries (a call's arguments grow) and each
 * snapshot must keep the entries it showed, so versions share a 32-way tree
 * of entries in arrival order (a persistent vector): a change copies the
 * nodes on its path once per version (⌈log₃₂ n⌉ of them: 4 for a million
 * entries, 7 at most), showing a version ({@link defineOn}) costs nothing and
 * reading one is a copy. An entry a later chunk replaced stays reachable only
 * from the snapshots that show it, so memory is what the snapshots kept hold.
 *
 * @example
 * const calls = new IndexedArray<ToolCall>();
 * calls.update(3, (call) => grow(call, fragment));
 * calls.defineOn(message, 'tool_calls');
 */
export class IndexedArray<T> implements ArrayVersion {
  /** The index of each entry, by arrival; append-only, so every version can read its prefix. */
  private readonly indexes: number[] = [];
  private readonly positions = new Map<number, number>();
  private root: Node = [];
  private shift = 0;
  /** Nodes made since a version was last shown lazily, which no version holds yet: changed in place. */
  private fresh = new Set<Node>();
  /** No index arrived after a larger one: arrival order is index order, and versions need no sorting. */
  private ordered = true;

  get length(): number {
    return this.indexes.length;
  }

  /** Sets the entry at `index` to `change` of the entry there (`undefined` when there is none yet). */
  update(index: number, change: (entry: T | undefined) => T): void {
    let position = this.positions.get(index);
    if (position === undefined) {
      if (index < this.indexes[this.indexes.length - 1]) this.ordered = false;
      position = this.indexes.push(index) - 1;
      this.positions.set(index, position);
      if (position >>> this.shift >= 32) {
        this.root = [this.root];
        this.shift += 5;
      }
    }
    let node = (this.root = this.own(this.root));
    for (let shift = this.shift; shift > 0; shift -= 5) {
      const child = (position >>> shift) & 31;
      node = node[child] = this.own(node[child] as Node | undefined);
    }
    node[position & 31] = change(node[position & 31] as T | undefined);
  }

  private own(node: Node = []): Node {
    if (this.fresh.has(node)) return node;
    const copy = node.slice();
    this.fresh.add(copy);
    return copy;
  }

  defineOn(target: object, key: string): void {
    const { root, shift, indexes, ordered } = this;
    // A few entries are copied now (the root, the only node, stays ours); more are shared, copied when read.
    if (this.length <= EAGER_ENTRIES) {
      (target as Record<string, unknown>)[key] = IndexedArray.entriesOf(root, shift, indexes, ordered);
      return;
    }
    this.fresh = new Set();
    defineLazy(target, key, () => IndexedArray.entriesOf(root, shift, indexes, ordered));
  }

  /** A version's entries in index order: the tree's leaves, flattened, sorted by index unless they arrived in order. */
  private static entriesOf<T>(root: Node, shift: number, indexes: number[], ordered: boolean): T[] {
    // (`flat(0)` copies as well, several times slower.)
    const entries = (shift ? root.flat(shift / 5) : root.slice()) as T[];
    if (ordered) return entries;
    // Sorting what arrived mostly in order takes about one pass (runs, for the engine's merge sort).
    return entries
      .map((_, position) => position)
      .sort((a, b) => indexes[a] - indexes[b])
      .map((position) => entries[position]);
  }
}

/** An {@link IndexedArray} of `items`, at indexes 0, 1, … */
export function indexedArrayOf<T>(items: readonly T[] = []): IndexedArray<T> {
  const array = new IndexedArray<T>();
  items.forEach((item, index) => array.update(index, () => item));
  return array;
}

/** The array a version reads as: `GrowingArray<E>` → `E[]`, `null` → `null`. */
type ItemsOf<G> = G extends GrowingArray<infer E> ? E[] : null;

/** An object whose fields are these versions' items (see {@link ArrayVersion.defineOn}), or `null`. */
export function arraysOf<F extends Record<string, GrowingArray<unknown> | null>>(fields: F): { [K in keyof F]: ItemsOf<F[K]> } {
  const target: Record<string, unknown> = {};
  for (const [key, items] of Object.entries(fields)) {
    if (items) items.defineOn(target, key);
    else target[key] = null;
  }
  return target as { [K in keyof F]: ItemsOf<F[K]> };
}

/**
 * A shallow copy of `source` whose fields named in `arrays` show those
 * versions (in their place, or last when new), made without reading the old
 * ones: a spread would copy them out.
 */
export function withArrays<T extends object>(source: T, arrays: Partial<Record<keyof T & string, ArrayVersion>>): T {
  const copy = {};
  for (const name of new Set([...Object.keys(source), ...Object.keys(arrays)])) {
    if (Object.hasOwn(arrays, name)) (arrays as Record<string, ArrayVersion>)[name].defineOn(copy, name);
    else settle(copy, name, source[name as keyof T]);
  }
  return copy as T;
}
