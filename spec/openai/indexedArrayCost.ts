import { IndexedArray } from '../../src/openai/growingArray';

/**
 * Counts the entries `IndexedArray` copies while `run` runs, by watching the
 * method that makes its tree nodes its own: the copy is counted however it is
 * written (slice, spread, a loop), and a copy made anywhere else in the
 * accumulators shows in the scale specs' time guards instead.
 */
export function entriesCopied(run: () => void): number {
  const prototype = IndexedArray.prototype as unknown as { own(node?: unknown[]): unknown[] };
  const own = prototype.own;
  let copied = 0;
  const spy = jest.spyOn(prototype, 'own').mockImplementation(function (this: unknown, node?: unknown[]) {
    const result = own.call(this, node);
    if (result !== node) copied += result.length;
    return result;
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return copied;
}

/** The levels of a 32-way tree holding `count` entries. */
export function levelsFor(count: number): number {
  let levels = 1;
  while (32 ** levels < count) levels++;
  return levels;
}
