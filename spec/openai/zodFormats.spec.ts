import * as z from 'zod';
import * as zm from 'zod/mini';
import {
  InvalidRequestError,
  OutputValidationError,
  parseToolArguments,
  StrictSchemaError,
  zodFunction,
  zodResponseFormat,
  zodTextFormat,
} from '../../src/index.node';

const schemaOf = (schema: z.core.$ZodType) => zodResponseFormat(schema, 'answer').json_schema.schema;

describe('zodResponseFormat / zodTextFormat', () => {
  test('a chat response_format and a Responses text.format, strict, with the same schema', () => {
    const Person = z.object({ name: z.string() });
    const expected = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'], additionalProperties: false };
    expect(zodResponseFormat(Person, 'person', { description: 'Who' })).toEqual({
      type: 'json_schema',
      json_schema: { name: 'person', description: 'Who', schema: expected, strict: true },
    });
    expect(zodTextFormat(Person, 'person')).toEqual({ type: 'json_schema', name: 'person', schema: expected, strict: true });
  });

  test('nested objects and arrays are closed, with every property required', () => {
    const schema = z.object({ author: z.object({ name: z.string(), books: z.array(z.object({ title: z.string() })) }) });
    expect(schemaOf(schema)).toEqual({
      type: 'object',
      properties: {
        author: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            books: {
              type: 'array',
              items: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'], additionalProperties: false },
            },
          },
          required: ['name', 'books'],
          additionalProperties: false,
        },
      },
      required: ['author'],
      additionalProperties: false,
    });
  });

  test('optional and defaulted properties become required and nullable; nullable ones stay as they are', () => {
    const schema = z.object({
      nickname: z.string().optional().describe('what friends say'),
      note: z.string().nullable(),
      both: z.string().nullish(),
      size: z.number().default(1),
    });
    expect(schemaOf(schema)).toEqual({
      type: 'object',
      properties: {
        nickname: { anyOf: [{ type: 'string' }, { type: 'null' }], description: 'what friends say' },
        note: { type: ['string', 'null'] },
        both: { type: ['string', 'null'] },
        size: { anyOf: [{ type: 'number' }, { type: 'null' }] },
      },
      required: ['nickname', 'note', 'both', 'size'],
      additionalProperties: false,
    });
  });

  test('enums, literals, unions and discriminated unions (as anyOf)', () => {
    const schema = z.object({
      size: z.enum(['S', 'M']),
      kind: z.literal('box'),
      id: z.union([z.string(), z.number()]),
      shape: z.discriminatedUnion('type', [z.object({ type: z.literal('circle'), r: z.number() }), z.object({ type: z.literal('square'), side: z.number() })]),
    });
    const properties = schemaOf(schema)?.properties as Record<string, unknown>;
    expect(properties.size).toEqual({ type: 'string', enum: ['S', 'M'] });
    expect(properties.kind).toEqual({ type: 'string', const: 'box' });
    expect(properties.id).toEqual({ type: ['string', 'number'] });
    expect(properties.shape).toEqual({
      anyOf: [
        { type: 'object', properties: { type: { type: 'string', const: 'circle' }, r: { type: 'number' } }, required: ['type', 'r'], additionalProperties: false },
        { type: 'object', properties: { type: { type: 'string', const: 'square' }, side: { type: 'number' } }, required: ['type', 'side'], additionalProperties: false },
      ],
    });
  });

  test('constraints strict mode lacks are left to zod; supported ones and formats stay', () => {
    const schema = z.object({
      name: z.string().min(1).max(20),
      email: z.email(),
      site: z.url(),
      count: z.number().min(0).max(10),
      tags: z.array(z.string()).max(3),
      code: z.string().regex(/^[A-Z]{3}$/),
    });
    const properties = schemaOf(schema)?.properties as Record<string, unknown>;
    expect(properties.name).toEqual({ type: 'string' });
    expect(properties.email).toEqual({ type: 'string', format: 'email' });
    expect(properties.site).toEqual({ type: 'string' });
    expect(properties.count).toEqual({ type: 'number', minimum: 0, maximum: 10 });
    expect(properties.tags).toEqual({ type: 'array', items: { type: 'string' }, maxItems: 3 });
    expect(properties.code).toEqual({ type: 'string', pattern: '^[A-Z]{3}$' });
  });

  test('the schema describes what the model writes: a transform’s input side', () => {
    const schema = z.object({ when: z.string().transform((text) => new Date(text)) });
    expect((schemaOf(schema)?.properties as Record<string, unknown>).when).toEqual({ type: 'string' });
  });

  test('a recursive schema refers to itself', () => {
    const Node: z.ZodType<{ label: string; children: unknown[] }> = z.object({
      label: z.string(),
      get children() {
        return z.array(Node);
      },
    });
    expect(schemaOf(Node)).toEqual({
      type: 'object',
      properties: { label: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } },
      required: ['label', 'children'],
      additionalProperties: false,
    });
  });

  test('zod/mini schemas convert the same', () => {
    const classic = z.object({ name: z.string(), age: z.number().optional() });
    const mini = zm.object({ name: zm.string(), age: zm.optional(zm.number()) });
    expect(schemaOf(mini)).toEqual(schemaOf(classic));
  });

  test.each([
    ['a record', z.object({ scores: z.record(z.string(), z.number()) }), 'Strict mode cannot express a record (use an array of { key, value } objects), at scores'],
    ['a tuple', z.object({ point: z.tuple([z.number(), z.number()]) }), 'Strict mode cannot express a tuple (use an object with named properties), at point'],
    ['a catchall', z.object({ extra: z.object({}).catchall(z.string()) }), /record or catchall .* at extra/],
    ['z.any()', z.object({ payload: z.any() }), 'Strict mode needs a type, at payload (z.any() and z.unknown() have none)'],
    ['z.unknown() in an array', z.object({ items: z.array(z.unknown()) }), 'Strict mode needs a type, at items[] (z.any() and z.unknown() have none)'],
    ['an array at the root', z.array(z.string()), /must be an object at the root/],
    ['a union at the root', z.union([z.object({ a: z.string() }), z.object({ b: z.string() })]), /must be an object at the root/],
    ['a date', z.object({ when: z.date() }), /has no JSON Schema: Date cannot be represented/],
  ])('%s is a StrictSchemaError where the format is defined', (_what, schema, message) => {
    expect(() => zodResponseFormat(schema as z.core.$ZodType, 'answer')).toThrow(StrictSchemaError);
    expect(() => zodTextFormat(schema as z.core.$ZodType, 'answer')).toThrow(message);
  });

  test('a name OpenAI would reject is an InvalidRequestError at once', () => {
    expect(() => zodResponseFormat(z.object({}), 'my answer')).toThrow(InvalidRequestError);
    expect(() => zodFunction({ name: 'x'.repeat(65), parameters: z.object({}) })).toThrow(InvalidRequestError);
  });
});

describe('zodFunction', () => {
  const getWeather = zodFunction({
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: z.object({ city: z.string(), unit: z.enum(['C', 'F']).default('C') }),
    execute: ({ city, unit }) => `${city}: 21°${unit}`,
  });

  test('serializes as the plain chat tool definition, strict', () => {
    const definition = {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'The weather in a city',
        parameters: {
          type: 'object',
          properties: { city: { type: 'string' }, unit: { anyOf: [{ type: 'string', enum: ['C', 'F'] }, { type: 'null' }] } },
          required: ['city', 'unit'],
          additionalProperties: false,
        },
        strict: true,
      },
    };
    expect(JSON.parse(JSON.stringify(getWeather))).toEqual(definition);
    expect(structuredClone(getWeather)).toEqual(definition);
    expect({ ...getWeather }).toEqual(definition);
  });

  test('keeps the schema and execute for the tool loop', () => {
    expect(getWeather.execute?.({ city: 'Paris', unit: 'C' }, { signal: new AbortController().signal })).toBe('Paris: 21°C');
    expect(getWeather.schema.shape.city).toBeDefined();
  });

  test('parseToolArguments: the validated arguments, strict mode’s null turned into the default', () => {
    expect(parseToolArguments(getWeather, '{"city": "Paris", "unit": null}')).toEqual({ success: true, data: { city: 'Paris', unit: 'C' } });
    expect(parseToolArguments(getWeather, ' {"city":"Oslo","unit":"F"} ')).toEqual({ success: true, data: { city: 'Oslo', unit: 'F' } });
  });

  test('parseToolArguments: bad JSON or a schema failure is an error result, not a throw', () => {
    const notJson = parseToolArguments(getWeather, '{"city": Paris}');
    expect(notJson.success).toBe(false);
    expect(!notJson.success && notJson.error).toBeInstanceOf(OutputValidationError);
    expect(!notJson.success && notJson.error.message).toBe(
      'The arguments could not be parsed as JSON: Invalid JSON: unexpected "P", expected a value (at position 9)',
    );
    const wrong = parseToolArguments(getWeather, '{"city": 7, "unit": "K"}');
    expect(!wrong.success && wrong.error.issues.map((issue) => issue.path)).toEqual([['city'], ['unit']]);
    expect(!wrong.success && wrong.error.message).toMatch(/^The arguments failed the schema at city: /);
    expect(!wrong.success && wrong.error.text).toBe('{"city": 7, "unit": "K"}');
  });

  test('parseToolArguments: empty arguments count as {} for a tool without required parameters', () => {
    const ping = zodFunction({ name: 'ping', parameters: zm.object({ loud: zm.optional(zm.boolean()) }) });
    expect(parseToolArguments(ping, '')).toEqual({ success: true, data: {} });
    expect(parseToolArguments(getWeather, '').success).toBe(false);
  });

  test('parseToolArguments: a depth bomb is an error result', () => {
    const result = parseToolArguments(getWeather, '['.repeat(10_000));
    expect(!result.success && result.error.cause).toMatchObject({ problem: 'too-deep' });
  });
});
