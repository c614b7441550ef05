/** Heap counting for the footprint probes, which run in a process of their own with `--expose-gc`. */

export const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** The process's memory once full collections no longer free much of the heap. */
export async function settledMemory(gc: () => void): Promise<NodeJS.MemoryUsage> {
  let memory = process.memoryUsage();
  let heap = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 20; round++) {
    gc();
    // Finalizers and weak references of what was collected run between collections.
    await nextTurn();
    memory = process.memoryUsage();
    if (heap - memory.heapUsed < 64 * 1024) return memory;
    heap = memory.heapUsed;
  }
  return memory;
}

const settledHeap = async (gc: () => void) => (await settledMemory(gc)).heapUsed;

/**
 * Heap bytes each of `count` more things keeps, once `warmUp` of them opened first have loaded the code and shapes
 * they share. `openMany` opens that many more and keeps them alive.
 */
export async function heapPerOpened(openMany: (count: number) => Promise<void>, warmUp: number, count: number, gc: () => void): Promise<number> {
  await openMany(warmUp);
  const before = await settledHeap(gc);
  await openMany(count);
  return ((await settledHeap(gc)) - before) / count;
}

/** Runs a probe's `measure` with the collector and prints its result as one JSON line. */
export function runProbe<T>(measure: (gc: () => void) => Promise<T>): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  measure(gc).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
