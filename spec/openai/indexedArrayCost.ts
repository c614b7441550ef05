import { IndexedArray } from '../../src/openai/growingArray';

/** What the accumulators' placement structure did while `run` ran. */
export interface PlacementWork {
  /** Calls to `IndexedArray#update`: one per entry a value placed or changed. */
  placements: number;
  /**
   * Entries copied: tree nodes made its own (`own`, however the copy is
   * written: slice, spread, a loop) and the plain arrays a version of a few
   * entries is shown as (a `defineOn` that leaves a data property).
   */
  copied: number;
}

/** Counts the work `IndexedArray` does while `run` runs, by watching its methods. */
export function placementWork(run: () => void): PlacementWork {
  const prototype = IndexedArray.prototype as unknown as {
    own(node?: unknown[]): unknown[];
    update(index: number, change: (entry: unknown) => unknown): void;
    defineOn(target: object, key: string): void;
  };
  const { own, update, defineOn } = prototype;
  const work: PlacementWork = { placements: 0, copied: 0 };
  const spies = [
    jest.spyOn(prototype, 'own').mockImplementation(function (this: unknown, node?: unknown[]) {
      const result = own.call(this, node);
      if (result !== node) work.copied += result.length;
      return result;
    }),
    jest.spyOn(prototype, 'update').mockImplementation(function (this: unknown, index, change) {
      work.placements++;
      update.call(this, index, change);
    }),
    jest.spyOn(prototype, 'defineOn').mockImplementation(function (this: unknown, target, key) {
      defineOn.call(this, target, key);
      const shown = Object.getOwnPropertyDescriptor(target, key);
      if (shown && 'value' in shown) work.copied += (shown.value as unknown[]).length;
    }),
  ];
  try {
    run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return work;
}

/** The entries `IndexedArray` copies while `run` runs (see {@link placementWork}). */
export function entriesCopied(run: () => void): number {
  return placementWork(run).copied;
}

/** The levels of a 32-way tree holding `count` entries. */
export function levelsFor(count: number): number {
  let levels = 1;
  while (32 ** levels < count) levels++;
  return levels;
}
