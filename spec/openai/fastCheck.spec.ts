import { isDeepStrictEqual } from 'node:util';
import * as z from 'zod/mini';
import { chatCompletionChunkSchema, indexSchema } from '../../src/openai/chatTypes';
import { completionChunkSchema } from '../../src/openai/completionTypes';
import { fastCheckOf } from '../../src/openai/fastCheck';
import { responseEventSchemaOf } from '../../src/openai/responseTypes';
import * as schema from '../../src/openai/schema';
import { fieldPaths, withField } from '../helpers/fieldMutations';

const chatChunk = {
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  system_fingerprint: null,
  choices: [
    {
      index: 0,
      delta: {
        role: 'assistant',
        content: 'hi',
        tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      logprobs: { content: [{ token: 'hi', logprob: -0.1, bytes: [104, 105], top_logprobs: [] }], refusal: null },
      finish_reason: null,
      content_filter_results: { hate: { filtered: false } },
    },
  ],
  usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3, cost: 0.1 },
  x_groq: { id: 'req', usage: { prompt_tokens: 1 } },
};

const completionChunk = {
  id: 'cmpl-1',
  object: 'text_completion',
  created: 1,
  model: 'm',
  choices: [
    { index: 0, text: 'hi', finish_reason: null, logprobs: { tokens: ['hi'], token_logprobs: [-0.1], top_logprobs: [{ hi: -0.1 }], text_offset: [0] } },
  ],
};

const responseEvents = [
  { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'hi', sequence_number: 4 },
  { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 1, delta: '{"a"', sequence_number: 5, obfuscation: 'x' },
  {
    type: 'response.completed',
    sequence_number: 9,
    response: {
      id: 'resp_1',
      object: 'response',
      created_at: 1,
      status: 'completed',
      model: 'm',
      output: [{ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'hi', annotations: [] }] }],
      usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 },
    },
  },
];

const schemas: Array<[string, z.core.$ZodType, unknown[]]> = [
  ['chat chunk', chatCompletionChunkSchema, [chatChunk, { choices: [] }, { choices: [{ index: 0 }] }]],
  ['completion chunk', completionChunkSchema, [completionChunk, { choices: [] }]],
  ...responseEvents.map((event): [string, z.core.$ZodType, unknown[]] => [
    `${event.type} event`,
    responseEventSchemaOf(event.type) as z.core.$ZodType,
    [event],
  ]),
];

/**
 * What each field is swapped for: other JSON types, and the values a loose
 * check would wave through: non-finite numbers (`JSON.parse('1e999')` is
 * Infinity), fractional, negative and out-of-range indexes, and an object with
 * an own `__proto__` key (JSON.parse makes one; zod leaves it out of its output).
 */
const replacements: unknown[] = [
  null,
  undefined,
  7,
  'text',
  true,
  [],
  {},
  [1],
  { a: 1 },
  -1.5,
  JSON.parse('1e999'),
  JSON.parse('-1e999'),
  0.5,
  -1,
  2 ** 32,
  JSON.parse('{"__proto__": {"polluted": 1}, "b": 2}'),
];

describe.each(schemas)('fastCheckOf(%s schema)', (_name, schema, samples) => {
  const check = fastCheckOf(schema);

  test('compiles, so the hot path does not go through zod', () => {
    expect(check).not.toBeNull();
  });

  test('accepts the valid samples, as zod does', () => {
    for (const sample of samples) {
      expect(z.safeParse(schema, sample).success).toBe(true);
      expect(check?.(sample)).toBe(true);
    }
  });

  // The fast check may accept a value only if zod's output would be that very value: `validate` passes it on as it is.
  test('agrees with zod on every single-field mutation of the samples', () => {
    let compared = 0;
    let rejected = 0;
    for (const sample of samples) {
      for (const path of fieldPaths(sample)) {
        for (const replacement of replacements) {
          const candidate = withField(sample, path, replacement);
          const result = z.safeParse(schema, candidate);
          const zodKeepsIt = result.success && isDeepStrictEqual(result.data, candidate);
          expect({ path, replacement, accepted: check?.(candidate) }).toEqual({ path, replacement, accepted: zodKeepsIt });
          compared++;
          if (!zodKeepsIt) rejected++;
        }
      }
    }
    // The mutations must exercise both answers, or the comparison proves nothing.
    expect(rejected).toBeGreaterThan(compared / 20);
    expect(compared - rejected).toBeGreaterThan(compared / 20);
  });
});

test("the builders' custom checks and checked catch-alls compile; zod's own primitives, formats and checks do not", () => {
  const index = fastCheckOf(indexSchema);
  expect([0, 7, 2 ** 32 - 1, 2 ** 32, -1, 0.5].map((value) => index?.(value))).toEqual([true, true, true, false, false, false]);
  const scores = fastCheckOf(schema.catchall({ n: schema.number() }, schema.number()));
  expect([{ n: 1, a: 2 }, { n: 1, a: 'x' }, { n: 'x' }, { n: Infinity }].map((value) => scores?.(value))).toEqual([true, false, false, false]);
  expect(fastCheckOf(z.number())).toBeNull();
  expect(fastCheckOf(z.uint32())).toBeNull();
  expect(fastCheckOf(z.looseObject({ a: z.string() }))).toBeNull();
});

test('schemas with refinements or stripping objects get no fast check', () => {
  expect(fastCheckOf(z.custom(() => true).check(z.refine(() => true)))).toBeNull();
  expect(fastCheckOf(z.object({ a: schema.string() }))).toBeNull();
  expect(fastCheckOf(schema.looseObject({ a: z.pipe(schema.string(), z.transform((s) => s.length)) }))).toBeNull();
});

test('where code generation is forbidden (a strict CSP), it is tried once, not per schema, and zod checks every value', () => {
  const realFunction = globalThis.Function;
  let attempts = 0;
  const forbidden = function () {
    attempts++;
    throw new EvalError('Refused to evaluate a string as JavaScript');
  } as unknown as FunctionConstructor;
  jest.isolateModules(() => {
    globalThis.Function = forbidden;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const isolated = require('../../src/openai/fastCheck') as typeof import('../../src/openai/fastCheck');
      const checks = [chatCompletionChunkSchema, completionChunkSchema, responseEventSchemaOf('response.output_text.delta')].map((each) =>
        isolated.fastCheckOf(each as never),
      );
      expect([checks, attempts]).toEqual([[null, null, null], 1]);
    } finally {
      globalThis.Function = realFunction;
    }
  });
});
