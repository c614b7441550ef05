import { from, lastValueFrom, Subject, tap, toArray } from 'rxjs';
import * as z from 'zod';
import * as zm from 'zod/mini';
import {
  contentDeltas,
  contentOrRefusal,
  createClient,
  OutputValidationError,
  outputTextDeltas,
  outputTextOrRefusal,
  PartialJsonError,
  RefusalError,
  structuredOutput,
  zodResponseFormat,
  zodTextFormat,
  type RefusalDelta,
  type StructuredOutputEvent,
} from '../../src/index.node';
import { startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { refusalEvents, responsesWire, responseStream, serveStream, wire } from '../providers/fixtures';
import { deltaChunk } from '../helpers/chatFrames';
import type { TestServer } from '../helpers/server';

const Person = z.object({
  name: z.string(),
  age: z.number().int(),
  tags: z.array(z.string()),
});

/** Every emission of `structuredOutput(schema)` over `deltas` (those before an error too), and how it ended. */
async function outcome<S extends z.core.$ZodType>(schema: S, deltas: ReadonlyArray<string | RefusalDelta>) {
  const events: Array<StructuredOutputEvent<z.output<S>, z.input<S>>> = [];
  let error: unknown;
  await lastValueFrom(from(deltas).pipe(structuredOutput(schema), tap((event) => events.push(event))), { defaultValue: undefined }).catch(
    (failure: unknown) => (error = failure),
  );
  return { events, error };
}

describe('structuredOutput', () => {
  test('emits the partial value as it streams, then the validated value last', async () => {
    const { events, error } = await outcome(Person, ['{"name": "Ad', 'a", "age": 36', ', "tags": ["x"', ']}']);
    expect(error).toBeUndefined();
    expect(events).toEqual([
      { done: false, partial: { name: 'Ad' } },
      { done: false, partial: { name: 'Ada' } },
      { done: false, partial: { name: 'Ada', age: 36, tags: ['x'] } },
      { done: true, partial: { name: 'Ada', age: 36, tags: ['x'] }, value: { name: 'Ada', age: 36, tags: ['x'] }, text: '{"name": "Ada", "age": 36, "tags": ["x"]}' },
    ]);
  });

  test('the validated value has the schema’s transforms and defaults applied (classic zod and zod/mini)', async () => {
    const classic = z.object({ when: z.string().transform((text) => new Date(text)), size: z.enum(['S', 'M']).default('M') });
    const mini = zm.object({ count: zm.pipe(zm.string(), zm.transform((text) => Number(text))), level: zm._default(zm.number(), 3) });
    const first = await outcome(classic, ['{"when": "2024-05-01T00:00:00Z"}']);
    expect(first.events.at(-1)).toMatchObject({ done: true, value: { when: new Date('2024-05-01T00:00:00Z'), size: 'M' } });
    const second = await outcome(mini, ['{"count": "', '42"}']);
    expect(second.events.at(-1)).toMatchObject({ done: true, value: { count: 42, level: 3 } });
  });

  test('a schema that needs asynchronous validation ends the stream with a TypeError saying so (validation is synchronous), after the partial values', async () => {
    let checks = 0;
    const slow = z.object({ name: z.string().refine(async (name) => (checks++, Promise.resolve(name.length > 0))) });
    const { events, error } = await outcome(slow, ['{"name": "A', 'da"}']);
    expect(events.map((event) => event.partial)).toEqual([{ name: 'A' }, { name: 'Ada' }]);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('The output cannot be validated: the schema is asynchronous (an async refinement or transform)');
    expect(checks).toBe(1);
  });

  test.each([
    ['refinement', (thrown: Error) => z.object({ name: z.string().refine(() => { throw thrown; }) })],
    ['transform', (thrown: Error) => z.object({ name: z.string().transform(() => { throw thrown; }) })],
  ])('a %s that throws ends the stream with what it threw, run once', async (_kind, schemaThrowing) => {
    class CheckFailed extends Error {}
    const thrown = new CheckFailed('the check broke');
    let runs = 0;
    const schema = schemaThrowing(thrown);
    const counted = z.preprocess((value) => (runs++, value), schema);
    const { events, error } = await outcome(counted, ['{"name": "Ada"}']);
    expect(error).toBe(thrown);
    expect(runs).toBe(1);
    expect(events.map((event) => event.done)).toEqual([false]);
  });

  test('a schema failure keeps zod’s own issue messages and paths', async () => {
    const { error } = await outcome(Person, ['{"name": 7, "age": 1.5, "tags": []}']);
    expect(error).toBeInstanceOf(OutputValidationError);
    const { issues, message } = error as OutputValidationError;
    expect(issues.map((issue) => [issue.path, issue.message])).toEqual([
      [['name'], 'Invalid input: expected string, received number'],
      [['age'], 'Invalid input: expected int, received number'],
    ]);
    expect(message).toBe('The output failed the schema at name: Invalid input: expected string, received number (and 1 more issue)');
  });

  test('strict mode’s null for an absent optional property becomes absent; a nullable one keeps it; a default fills it', async () => {
    const schema = z.object({
      nickname: z.string().optional(),
      note: z.string().nullable().optional(),
      size: z.number().default(1),
      inner: z.object({ unit: z.enum(['cm', 'in']).optional() }).optional(),
      items: z.array(z.object({ label: z.string().optional() })),
      choice: z.discriminatedUnion('kind', [z.object({ kind: z.literal('a'), a: z.string().optional() }), z.object({ kind: z.literal('b'), b: z.number().optional() })]),
      both: z.intersection(z.object({ a: z.string().optional() }), z.object({ b: z.number() })),
    });
    const text =
      '{"nickname": null, "note": null, "size": null, "inner": {"unit": null}, "items": [{"label": null}, {"label": "x"}], "choice": {"kind": "b", "b": null}, "both": {"a": null, "b": 1}}';
    const { events, error } = await outcome(schema, [text]);
    expect(error).toBeUndefined();
    const last = events.at(-1);
    expect(last?.done && last.value).toStrictEqual({ note: null, size: 1, inner: {}, items: [{}, { label: 'x' }], choice: { kind: 'b' }, both: { b: 1 } });
    // The partial values stay what the model wrote.
    expect(last?.partial).toEqual(JSON.parse(text));
  });

  test('a value that fails the schema ends with an OutputValidationError naming the path and keeping text and issues', async () => {
    const text = '{"name": "Ada", "age": 36.5, "tags": ["x", 7]}';
    const { events, error } = await outcome(Person, [text.slice(0, 20), text.slice(20)]);
    expect(events.every((event) => !event.done)).toBe(true);
    expect(error).toBeInstanceOf(OutputValidationError);
    const failure = error as OutputValidationError;
    expect(failure.text).toBe(text);
    expect(failure.issues.map((issue) => issue.path)).toEqual([['age'], ['tags', 1]]);
    expect(failure.message).toBe('The output failed the schema at age: Invalid input: expected int, received number (and 1 more issue)');
  });

  test('invalid JSON fails at once, at the delta with the bad character, with the parser’s error as cause', async () => {
    const source = new Subject<string>();
    let error: unknown;
    const partials: unknown[] = [];
    source.pipe(structuredOutput(Person)).subscribe({ next: (event) => partials.push(event.partial), error: (e: unknown) => (error = e) });
    source.next('{"name": "Ada"');
    source.next(', age: 3');
    expect(error).toBeInstanceOf(OutputValidationError);
    expect((error as OutputValidationError).message).toBe(
      'The output could not be parsed as JSON: Invalid JSON: unexpected "a", expected a key (at position 16)',
    );
    expect((error as OutputValidationError).cause).toBeInstanceOf(PartialJsonError);
    expect((error as OutputValidationError).text).toBe('{"name": "Ada", age: 3');
    expect(partials).toEqual([{ name: 'Ada' }]);
  });

  test('JSON cut short fails when the stream completes', async () => {
    const { error } = await outcome(Person, ['{"name": "Ada", "age": 3']);
    expect(error).toBeInstanceOf(OutputValidationError);
    expect((error as OutputValidationError).message).toMatch(/^The output could not be parsed as JSON: JSON ended unfinished/);
  });

  test('a refusal ends with a RefusalError carrying the whole refusal text', async () => {
    const { events, error } = await outcome(Person, [{ refusal: 'I cannot ' }, { refusal: 'help with that.' }]);
    expect(events).toEqual([]);
    expect(error).toBeInstanceOf(RefusalError);
    expect((error as RefusalError).refusal).toBe('I cannot help with that.');
    expect((error as RefusalError).message).toBe('The model refused: I cannot help with that.');
  });

  test('after a refusal, text that follows is not parsed: the refusal wins', async () => {
    const { error } = await outcome(Person, [{ refusal: 'No.' }, 'I cannot answer in JSON']);
    expect(error).toBeInstanceOf(RefusalError);
    expect((error as RefusalError).refusal).toBe('No.');
  });

  test('an empty answer is an OutputValidationError that says the answer had no text', async () => {
    const { error } = await outcome(Person, []);
    expect(error).toBeInstanceOf(OutputValidationError);
    expect((error as OutputValidationError).message).toBe('The output is empty: the answer had no text');
  });
});

describe('structuredOutput over a real server', () => {
  const answer = { name: 'Ada Lovelace', age: 36, tags: ['math', 'poetry "and" code'] };
  let upstream: MockUpstream;
  let server: TestServer | undefined;
  beforeAll(async () => {
    upstream = await startMockUpstream({ tokenDelayMs: 0, behavior: { text: JSON.stringify(answer) } });
  });
  afterAll(() => upstream.close());
  afterEach(() => server?.close());

  const client = () => createClient({ baseURL: upstream.baseURL, apiKey: 'sk-structured-test' });
  const messages = [{ role: 'user' as const, content: 'Who wrote the first program?' }];

  test('chat: stream(params).pipe(contentDeltas(), structuredOutput(Person))', async () => {
    const events = await lastValueFrom(
      client()
        .chat.completions.stream({ model: 'gpt-4o-mini', messages, response_format: zodResponseFormat(Person, 'person') })
        .pipe(contentDeltas(), structuredOutput(Person), toArray()),
    );
    expect(events.length).toBeGreaterThan(3);
    const last = events.at(-1);
    expect(last?.done && last.value).toEqual(answer);
    const sent = upstream.requests.at(-1)?.body as { response_format: unknown };
    expect(sent.response_format).toEqual(JSON.parse(JSON.stringify(zodResponseFormat(Person, 'person'))));
  });

  test('Responses: responses.stream(...).pipe(outputTextDeltas(), structuredOutput(Person))', async () => {
    const events = await lastValueFrom(
      client()
        .responses.stream({ model: 'gpt-4o-mini', input: 'Who wrote the first program?', text: { format: zodTextFormat(Person, 'person') } })
        .pipe(outputTextDeltas(), structuredOutput(Person), toArray()),
    );
    const last = events.at(-1);
    expect(last?.done && last.value).toEqual(answer);
  });

  const refusedChat = () => [
    wire.data(deltaChunk({ role: 'assistant', content: null, refusal: '' })),
    wire.data(deltaChunk({ refusal: 'I cannot help ' })),
    wire.data(deltaChunk({ refusal: 'with that.' })),
    wire.data(deltaChunk({}, 'stop')),
    wire.done,
  ];
  const refusedChat$ = (url: string) =>
    createClient({ baseURL: url, apiKey: 'sk-structured-test' }).chat.completions.stream({ model: 'gpt-4o-mini', messages });
  const refusedResponses$ = (url: string) =>
    createClient({ baseURL: url, apiKey: 'sk-structured-test' }).responses.stream({ model: 'gpt-4o-mini', input: 'hi' });

  test.each([
    ['contentOrRefusal()', contentOrRefusal()],
    ['contentDeltas()', contentDeltas()],
  ])('chat: a refusal streamed in delta.refusal, through %s, ends with a RefusalError carrying its text', async (_name, deltas) => {
    server = await serveStream(refusedChat());
    const refused = refusedChat$(server.url).pipe(deltas, structuredOutput(Person));
    await expect(lastValueFrom(refused)).rejects.toMatchObject({ name: 'RefusalError', refusal: 'I cannot help with that.' });
  });

  test.each([
    ['outputTextOrRefusal()', outputTextOrRefusal()],
    ['outputTextDeltas()', outputTextDeltas()],
  ])('Responses: a refusal part, through %s, ends with a RefusalError carrying its text', async (_name, deltas) => {
    server = await serveStream(responsesWire(responseStream([refusalEvents(0, 'msg_1', ['I cannot ', 'do that.'])])));
    const refused = refusedResponses$(server.url).pipe(deltas, structuredOutput(Person));
    await expect(lastValueFrom(refused)).rejects.toMatchObject({ name: 'RefusalError', refusal: 'I cannot do that.' });
  });

  test('chat without structuredOutput: contentDeltas() ends a refused answer with a RefusalError, not an empty completion', async () => {
    server = await serveStream(refusedChat());
    const error = await lastValueFrom(refusedChat$(server.url).pipe(contentDeltas())).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(RefusalError);
    expect(error).toMatchObject({ refusal: 'I cannot help with that.', message: 'The model refused: I cannot help with that.' });
  });
});
