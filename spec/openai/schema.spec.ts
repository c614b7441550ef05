import { isDeepStrictEqual } from 'node:util';
import * as z from 'zod/mini';
import { chatCompletionChunkSchema } from '../../src/openai/chatTypes';
import { completionChunkSchema } from '../../src/openai/completionTypes';
import { responseEventSchemaOf } from '../../src/openai/responseTypes';
import * as schema from '../../src/openai/schema';
import { fieldPaths, withField } from '../helpers/fieldMutations';

/*
 * The builders of ./schema.ts parse each kind as zod parses its kind of the same name. Each stream schema is
 * compared with its twin built of zod/mini's own object, array, optional, nullable and unknown types (the
 * leaves shared), on valid values and on every single-field mutation of them: the same success, output and
 * issues (code, path, what was expected).
 */

type Def = { type: string; shape?: Record<string, z.core.$ZodType>; catchall?: z.core.$ZodType; element?: z.core.$ZodType; innerType?: z.core.$ZodType };

function zodTwin(of: z.core.$ZodType): z.core.$ZodType {
  const def = of._zod.def as unknown as Def;
  switch (def.type) {
    case 'object': {
      const shape = Object.fromEntries(Object.entries(def.shape ?? {}).map(([key, value]) => [key, zodTwin(value)]));
      return z.catchall(z.object(shape), zodTwin(def.catchall!));
    }
    case 'array':
      return z.array(zodTwin(def.element!));
    case 'optional':
      return z.optional(zodTwin(def.innerType!));
    case 'nullable':
      return z.nullable(zodTwin(def.innerType!));
    case 'unknown':
      return z.unknown();
    default:
      return of;
  }
}

const chatChunk = {
  id: 'chatcmpl-1',
  model: 'm',
  choices: [
    {
      index: 0,
      delta: { role: 'assistant', content: 'hi', tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '{}' } }] },
      logprobs: { content: [{ token: 'hi', logprob: -0.1 }], refusal: null },
      finish_reason: null,
      extra: { kept: true },
    },
  ],
  usage: { prompt_tokens: 1, total_tokens: 3 },
};

const completionChunk = {
  choices: [{ index: 0, text: 'hi', logprobs: { tokens: ['hi'], token_logprobs: [null, -0.1], top_logprobs: [{ hi: -0.1 }, null] } }],
};

const responseCompleted = {
  type: 'response.completed',
  sequence_number: 9,
  response: {
    id: 'resp_1',
    output: [{ type: 'message', content: [{ type: 'output_text', text: 'hi', annotations: [] }], summary: [{ type: 'summary_text', text: 's' }] }],
    error: null,
  },
};

const cases: Array<[string, z.core.$ZodType, unknown]> = [
  ['chat chunk', chatCompletionChunkSchema, chatChunk],
  ['completion chunk', completionChunkSchema, completionChunk],
  ['response.completed event', responseEventSchemaOf('response.completed') as z.core.$ZodType, responseCompleted],
];

const replacements: unknown[] = [null, undefined, 7, 'text', [], {}, [1], { a: 1 }, -1, JSON.parse('1e999'), JSON.parse('{"__proto__": {"p": 1}, "b": 2}')];

/** What is compared of a parse: its success, its output, and each issue's code, path and expectation. */
function outcome(result: { success: boolean; data?: unknown; error?: { issues: ReadonlyArray<{ code?: string; path?: PropertyKey[]; expected?: unknown }> } }) {
  return result.success
    ? { success: true, data: result.data }
    : { success: false, issues: result.error!.issues.map(({ code, path, expected }) => ({ code, path: path ?? [], expected })) };
}

describe.each(cases)('the %s schema', (_name, ours, sample) => {
  const twin = zodTwin(ours);

  test('parses every single-field mutation of a valid value as its zod twin does', () => {
    let failures = 0;
    let compared = 0;
    for (const path of fieldPaths(sample)) {
      for (const replacement of replacements) {
        const candidate = withField(sample, path, replacement);
        const mine = outcome(schema.safeParse(ours, candidate));
        const zods = outcome(z.safeParse(twin, candidate));
        expect({ path, replacement, ...mine }).toEqual({ path, replacement, ...zods });
        expect(isDeepStrictEqual(mine, zods)).toBe(true);
        compared++;
        if (!mine.success) failures++;
      }
    }
    expect(failures).toBeGreaterThan(compared / 20);
    expect(compared - failures).toBeGreaterThan(compared / 20);
  });

  test("is read by zod's own safeParse", () => {
    expect(z.safeParse(ours, sample)).toEqual({ success: true, data: sample });
    expect(ours['~standard'].validate(sample)).toEqual({ value: sample });
  });

  test("is a zod type whose Standard Schema surface reports the issues its zod twin's does", () => {
    const invalid = withField(sample, fieldPaths(sample)[0], 7);
    expect(ours).toBeInstanceOf(z.core.$ZodType);
    expect(ours['~standard'].validate(invalid)).toEqual(twin['~standard'].validate(invalid));
    expect(ours['~standard'].validate(invalid)).toMatchObject({ issues: [expect.objectContaining({ message: expect.any(String) })] });
    expect(Object.keys(ours)).not.toContain('~standard');
  });
});

test('an own __proto__ key is left out of the output (not made its prototype), as zod leaves it out', () => {
  const value = JSON.parse('{"__proto__": {"polluted": 1}, "choices": []}');
  const result = schema.safeParse(chatCompletionChunkSchema, value);
  expect(result).toEqual({ success: true, data: { choices: [] } });
  expect(result.success && Object.getPrototypeOf(result.data)).toBe(Object.prototype);
});

test('a missing required key is an issue at its path, an absent optional one is none', () => {
  const result = schema.safeParse(chatCompletionChunkSchema, { choices: [{ delta: { content: 5 } }] });
  expect(result.success ? [] : result.error.issues.map(({ path, expected }) => ({ path, expected }))).toEqual([
    { path: ['choices', 0, 'delta', 'content'], expected: 'string' },
  ]);
  const required = schema.safeParse(schema.looseObject({ a: schema.unknown() }), {});
  expect(required.success ? [] : required.error.issues.map(({ path, expected }) => ({ path, expected }))).toEqual([{ path: ['a'], expected: 'nonoptional' }]);
});

test('hostile input keeps a bounded number of issues: a million wrong items, or keys, are not a million issues', () => {
  const items = schema.safeParse(schema.array(schema.string()), Array.from({ length: 1_000_000 }, () => 1));
  const keys = schema.safeParse(
    schema.catchall({}, schema.string()),
    Object.fromEntries(Array.from({ length: 100_000 }, (_, index) => [`k${index}`, 1])),
  );
  for (const result of [items, keys]) {
    expect(result.success).toBe(false);
    const issues = result.success ? [] : result.error.issues;
    expect(issues.length).toBeLessThanOrEqual(100);
    expect(issues[0]).toMatchObject({ expected: 'string' });
  }
});
