import { sumUsage } from '../../src/tools/sumUsage';

describe('sumUsage', () => {
  test('adds every number, top level and one level down; keeps fields only one side has', () => {
    expect(
      sumUsage<Record<string, unknown>>(
        { prompt_tokens: 9, completion_tokens: 3, completion_tokens_details: { reasoning_tokens: 1 }, model_only: 'a' },
        { prompt_tokens: 20, completion_tokens: 5, completion_tokens_details: { reasoning_tokens: 2 }, total_tokens: 25 },
      ),
    ).toEqual({ prompt_tokens: 29, completion_tokens: 8, completion_tokens_details: { reasoning_tokens: 3 }, model_only: 'a', total_tokens: 25 });
  });

  test('no usage on either side is undefined; one side is that side', () => {
    expect(sumUsage(undefined, null)).toBeUndefined();
    expect(sumUsage(undefined, { input_tokens: 4 })).toEqual({ input_tokens: 4 });
    expect(sumUsage({ input_tokens: 4 }, undefined)).toEqual({ input_tokens: 4 });
  });

  test('foreign usage cannot reach the prototype, and deeper nesting is not walked', () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": 1}, "a": {"b": {"c": 1}}}') as Record<string, unknown>;
    const sum = sumUsage<Record<string, unknown>>({ a: { b: { c: 1 } } }, hostile)!;
    expect(Object.getPrototypeOf(sum)).toBe(Object.prototype);
    expect((sum as { polluted?: number }).polluted).toBeUndefined();
    expect(sum.a).toEqual({ b: { c: 1 } });
  });
});
