/**
 * Two usage objects added up: every number in either, at the top level and
 * one level down (`prompt_tokens`, `completion_tokens_details.reasoning_tokens`,
 * Responses' `input_tokens` …); `undefined` when neither is an object.
 *
 * @example
 * sumUsage({ prompt_tokens: 9, completion_tokens: 3 }, { prompt_tokens: 20, completion_tokens: 5 })
 * // { prompt_tokens: 29, completion_tokens: 8 }
 */
export function sumUsage<U>(total: U | undefined, usage: U | null | undefined): U | undefined {
  if (!isRecord(usage)) return total;
  if (!isRecord(total)) return usage;
  return addNumbers(total, usage, 1) as U;
}

function addNumbers(a: Record<string, unknown>, b: Record<string, unknown>, depth: number): Record<string, unknown> {
  const sum: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    // Foreign JSON may carry an own `__proto__`: assigned, it would replace the sum's prototype.
    if (key === '__proto__') continue;
    const before = Object.hasOwn(a, key) ? a[key] : undefined;
    if (typeof value === 'number' && typeof before === 'number') sum[key] = before + value;
    else if (depth > 0 && isRecord(value) && isRecord(before)) sum[key] = addNumbers(before, value, depth - 1);
    else if (before === undefined) sum[key] = value;
  }
  return sum;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
