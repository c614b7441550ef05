import * as z from 'zod/mini';
import { chatCompletionChunkSchema } from '../../src/openai/chatTypes';
import { completionChunkSchema } from '../../src/openai/completionTypes';
import { fastCheckOf } from '../../src/openai/fastCheck';
import { responseEventSchemaOf } from '../../src/openai/responseTypes';

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
  { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 1, delta: '{"a"' },
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

const schemas: Array<[string, z.ZodMiniType, unknown[]]> = [
  ['chat chunk', chatCompletionChunkSchema, [chatChunk, { choices: [] }, { choices: [{ index: 0 }] }]],
  ['completion chunk', completionChunkSchema, [completionChunk, { choices: [] }]],
  ...responseEvents.map((event): [string, z.ZodMiniType, unknown[]] => [
    `${event.type} event`,
    responseEventSchemaOf(event.type) as z.ZodMiniType,
    [event],
  ]),
];

/** Small deterministic PRNG so every run checks the same mutations. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

const replacements: unknown[] = [null, undefined, 7, 'text', true, [], {}, [1], { a: 1 }, -1.5];

/** Every path to a value inside `value`, so each can be swapped for a value of another type. */
function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const found: Array<Array<string | number>> = [prefix];
  if (Array.isArray(value)) value.forEach((item, index) => found.push(...paths(item, [...prefix, index])));
  else if (typeof value === 'object' && value !== null)
    for (const [key, item] of Object.entries(value)) found.push(...paths(item, [...prefix, key]));
  return found;
}

function replaced(value: unknown, path: Array<string | number>, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let target = copy;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string | number, unknown>;
  target[path[path.length - 1]] = replacement;
  return copy;
}

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

  test('agrees with zod on every single-field mutation of the samples', () => {
    const next = random(42);
    let compared = 0;
    let rejected = 0;
    for (const sample of samples) {
      for (const path of paths(sample)) {
        for (let i = 0; i < 3; i++) {
          const candidate = replaced(sample, path, replacements[Math.floor(next() * replacements.length)]);
          const zodAccepts = z.safeParse(schema, candidate).success;
          expect({ path, accepted: check?.(candidate) }).toEqual({ path, accepted: zodAccepts });
          compared++;
          if (!zodAccepts) rejected++;
        }
      }
    }
    // The mutations must exercise both answers, or the comparison proves nothing.
    expect(rejected).toBeGreaterThan(compared / 10);
    expect(compared - rejected).toBeGreaterThan(compared / 10);
  });
});

test('schemas with refinements or stripping objects get no fast check', () => {
  expect(fastCheckOf(z.string().check(z.minLength(2)))).toBeNull();
  expect(fastCheckOf(z.object({ a: z.string() }))).toBeNull();
  expect(fastCheckOf(z.looseObject({ a: z.pipe(z.string(), z.transform((s) => s.length)) }))).toBeNull();
});
