import * as z from 'zod';
import { zodResponseFormat } from '../../src/index.node';
import { constantStrings, promptWords, sampleJson } from '../../src/testing/mockSample';

describe('sampleJson', () => {
  test('fits a strict schema made by zod: nested objects, enums, arrays of 2, numbers, booleans, nullable and formats', () => {
    // Strings take the prompt's words of three letters or more in turn (a date uses up one too).
    const Trip = z.object({
      title: z.string(),
      days: z.number().int().min(3).max(10),
      budget: z.number(),
      kind: z.enum(['city', 'beach']),
      refundable: z.boolean(),
      contact: z.email(),
      start: z.iso.date(),
      stops: z.array(z.object({ city: z.string(), nights: z.number().int() })),
      notes: z.string().nullable(),
      guide: z.object({ name: z.string() }).optional(),
    });
    const schema = zodResponseFormat(Trip, 'trip').json_schema.schema;
    const value = sampleJson(schema, promptWords('Plan a trip to Lisbon in spring'));

    expect(Trip.parse(value)).toEqual({
      title: 'Plan',
      days: 3,
      budget: 2,
      kind: 'city',
      refundable: true,
      contact: 'trip@example.com',
      start: '2025-01-01',
      stops: [
        { city: 'spring', nights: 3 },
        { city: 'Plan', nights: 4 },
      ],
      notes: 'trip',
      guide: { name: 'Lisbon' },
    });
  });

  test('is deterministic, and a tool’s strings are all the prompt', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' }, country: { type: ['string', 'null'] } } };
    expect(sampleJson(schema, constantStrings('Paris'))).toEqual({ city: 'Paris', country: 'Paris' });
    expect(sampleJson(schema, promptWords('Weather in Paris'))).toEqual(sampleJson(schema, promptWords('Weather in Paris')));
  });

  test('follows $refs into $defs and stops at the depth bound on a recursive schema', () => {
    const tree = { $ref: '#/$defs/node', $defs: { node: { type: 'object', properties: { label: { type: 'string' }, child: { anyOf: [{ $ref: '#/$defs/node' }, { type: 'null' }] } } } } };
    let depth = 0;
    for (let node = sampleJson(tree, constantStrings('x')) as { child: unknown } | null; node; node = node.child as { child: unknown } | null) depth++;
    expect(depth).toBeGreaterThan(3);
    expect(depth).toBeLessThan(30);
  });

  test('a hostile schema costs a bounded amount: huge minItems, self-reference at the root', () => {
    const wide = sampleJson({ type: 'array', minItems: 1e9, items: { type: 'array', minItems: 1e9, items: { type: 'string' } } }, constantStrings('x')) as unknown[][];
    expect(wide.length).toBeLessThanOrEqual(10_000);
    expect(wide.flat().filter((item) => item !== null).length).toBeLessThanOrEqual(10_000);
    expect(sampleJson({ type: 'array', items: { $ref: '#' } }, constantStrings('x'))).toBeInstanceOf(Array);
    expect(sampleJson('not a schema', constantStrings('x'))).toBeNull();
  });
});
