/** Order statistics of repeated measurements. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('spread of no values');
  const sorted = [...values].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), min: sorted[0], max: sorted[sorted.length - 1], runs: sorted.length };
}

/** Linear interpolation between closest ranks; `sorted` ascending. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('percentile of no values');
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

/**
 * The median of `a[i] ÷ b[i]`: two clients' repetitions compared pair by pair, each with the other's run of the same
 * round-robin repetition, so that load that drifts over a round cancels out of every pair instead of moving one
 * side's median.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`paired ratio of ${a.length} and ${b.length} values`);
  return spread(a.map((value, index) => value / b[index])).median;
}

export function sortedAscending(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** `[a, b, c]`, rotated by `by`: round-robin order that changes who goes first on every repetition. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}
