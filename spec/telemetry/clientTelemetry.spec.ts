import { metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { APIError, createClient, type ChatCompletionChunk, type Telemetry } from '../../src/index.node';
import { openTelemetry } from '../../src/opentelemetry';
import { startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { sseHead, startServer } from '../helpers/server';
import { onlySpan, otelHarness, type HistogramPoint, type OtelHarness } from './otelHarness';

// Every request of a client with `telemetry` is a GenAI operation: a CLIENT span and the semantic conventions' metrics.

const API_KEY = 'sk-telemetry-spec-0123456789';

let upstream: MockUpstream;
let harness: OtelHarness;

beforeAll(async () => {
  upstream = await startMockUpstream({ tokenDelayMs: 2 });
});

beforeEach(() => {
  harness = otelHarness();
});

afterEach(() => harness.shutdown());

afterAll(() => upstream.close());

const clientWith = (telemetry: Telemetry | undefined, baseURL = upstream.baseURL) => createClient({ baseURL, apiKey: API_KEY, telemetry });
const chatParams = (content: string) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content }] });
const serverAttributes = () => ({ 'server.address': '127.0.0.1', 'server.port': Number(new URL(upstream.url).port) });

async function histogram(name: string): Promise<HistogramPoint[]> {
  return (await harness.histograms()).get(name) ?? [];
}

test('a completed chat stream: span attributes with usage, finish reasons, response model and id; every metric', async () => {
  const chunks: ChatCompletionChunk[] = await lastValueFrom(
    clientWith(harness.telemetry)
      .chat.completions.stream({ ...chatParams('Hi [[mock:tokens=4]]'), stream_options: { include_usage: true } })
      .pipe(toArray()),
  );
  const usage = chunks.at(-1)?.usage;

  const span = onlySpan(harness);
  expect(span.name).toBe('chat gpt-4o-mini');
  expect(span.kind).toBe(SpanKind.CLIENT);
  expect(span.status.code).toBe(SpanStatusCode.UNSET);
  const timeToFirstChunk = span.attributes['gen_ai.response.time_to_first_chunk'];
  expect(span.attributes).toEqual({
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o-mini',
    ...serverAttributes(),
    'gen_ai.request.stream': true,
    'openai.api.type': 'chat_completions',
    'gen_ai.response.model': chunks[0].model,
    'gen_ai.response.id': chunks[0].id,
    'gen_ai.response.finish_reasons': ['stop'],
    'gen_ai.usage.input_tokens': usage?.prompt_tokens,
    'gen_ai.usage.output_tokens': 4,
    'gen_ai.response.time_to_first_chunk': expect.any(Number),
  });

  const metricAttributes = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o-mini',
    'gen_ai.response.model': chunks[0].model,
    ...serverAttributes(),
  };
  const [duration] = await histogram('gen_ai.client.operation.duration');
  expect(duration).toMatchObject({ attributes: metricAttributes, count: 1 });
  const [firstChunk] = await histogram('gen_ai.client.operation.time_to_first_chunk');
  expect(firstChunk).toMatchObject({ attributes: metricAttributes, count: 1, sum: timeToFirstChunk });
  expect(firstChunk.sum).toBeGreaterThan(0);
  expect(firstChunk.sum).toBeLessThanOrEqual(duration.sum ?? 0);
  // Recorded for every chunk after the first: each data event but [DONE] is one chunk.
  const [perChunk] = await histogram('gen_ai.client.operation.time_per_output_chunk');
  expect(perChunk.count).toBe(chunks.length - 1);
  const tokens = await histogram('gen_ai.client.token.usage');
  expect(tokens).toEqual([
    expect.objectContaining({ attributes: { ...metricAttributes, 'gen_ai.token.type': 'input' }, count: 1, sum: usage?.prompt_tokens }),
    expect.objectContaining({ attributes: { ...metricAttributes, 'gen_ai.token.type': 'output' }, count: 1, sum: 4 }),
  ]);
});

test('a client that unsubscribes: the span ends at once as cancelled, not as an error', async () => {
  const client = clientWith(harness.telemetry);
  const first = new Promise<void>((resolve) => {
    const subscription = client.chat.completions.stream(chatParams('Hi [[mock:tokens=200]] [[mock:delay=20]]')).subscribe((chunk) => {
      if (chunk.choices[0]?.delta?.content) {
        subscription.unsubscribe();
        resolve();
      }
    });
  });
  await first;

  const span = onlySpan(harness);
  expect(span.attributes['openai_rx.cancelled']).toBe(true);
  expect(span.attributes['error.type']).toBeUndefined();
  expect(span.status.code).toBe(SpanStatusCode.UNSET);
  expect(span.attributes['gen_ai.response.finish_reasons']).toBeUndefined();
  const [duration] = await histogram('gen_ai.client.operation.duration');
  expect(duration.attributes['error.type']).toBeUndefined();
  expect(await histogram('gen_ai.client.token.usage')).toEqual([]);
  await upstream.waitFor(() => upstream.requests.at(-1)?.state === 'aborted');
});

test("an upstream 429: error.type '429' on the span and on the duration, the status an error; no chunk metric", async () => {
  const error = await firstValueFrom(clientWith(harness.telemetry).chat.completions.stream(chatParams('Hi [[mock:error=429]]'))).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(APIError);

  const span = onlySpan(harness);
  expect(span.attributes['error.type']).toBe('429');
  expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: (error as APIError).message });
  expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeUndefined();
  const [duration] = await histogram('gen_ai.client.operation.duration');
  expect(duration.attributes['error.type']).toBe('429');
  expect(await histogram('gen_ai.client.operation.time_to_first_chunk')).toEqual([]);
});

test("an error event inside the stream: error.type is the provider's code, for stream() and for the raw events()", async () => {
  const client = clientWith(harness.telemetry);
  const params = chatParams('Hi [[mock:tokens=3]] [[mock:error-mid-stream]]');

  await expect(lastValueFrom(client.chat.completions.stream(params))).rejects.toMatchObject({ code: 'server_error', inStream: true });
  // The raw frames complete: the error event is one of them. Telemetry still records the failure.
  await lastValueFrom(client.chat.completions.events(params));

  const spans = harness.spans();
  expect(spans.map((span) => span.attributes['error.type'])).toEqual(['server_error', 'server_error']);
  expect(spans.map((span) => span.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.ERROR]);
  const [duration] = await histogram('gen_ai.client.operation.duration');
  expect(duration).toMatchObject({ attributes: { 'error.type': 'server_error' }, count: 2 });
});

test('an error that echoes the API key reaches the span status redacted', async () => {
  const server = await startServer((_req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${API_KEY}`, type: 'invalid_request_error' } }));
  });
  try {
    await lastValueFrom(clientWith(harness.telemetry, server.url).chat.completions.stream(chatParams('Hi'))).catch(() => undefined);
  } finally {
    await server.close();
  }

  const span = onlySpan(harness);
  expect(span.attributes['error.type']).toBe('401');
  expect(span.status.message).toContain('Incorrect API key provided');
  expect(JSON.stringify({ attributes: span.attributes, status: span.status, name: span.name })).not.toContain(API_KEY);
});

test("Responses: operation 'chat' with openai.api.type 'responses'; only the output deltas are chunks", async () => {
  const events = await lastValueFrom(
    clientWith(harness.telemetry).responses.stream({ model: 'gpt-4o-mini', input: 'Hi [[mock:tokens=3]]' }).pipe(toArray()),
  );
  const completed = events.at(-1);
  if (completed?.type !== 'response.completed') throw new Error(`The stream ended with ${completed?.type}`);

  const span = onlySpan(harness);
  expect(span.name).toBe('chat gpt-4o-mini');
  expect(span.attributes).toMatchObject({
    'gen_ai.operation.name': 'chat',
    'openai.api.type': 'responses',
    'gen_ai.response.id': completed.response.id,
    'gen_ai.response.model': 'gpt-4o-mini',
    'gen_ai.response.finish_reasons': ['stop'],
    'gen_ai.usage.input_tokens': completed.response.usage?.input_tokens,
    'gen_ai.usage.output_tokens': 3,
    'gen_ai.usage.cache_read.input_tokens': 0,
    'gen_ai.usage.reasoning.output_tokens': 0,
  });
  const deltas = events.filter((event) => event.type.endsWith('.delta'));
  expect(deltas).toHaveLength(3);
  const [perChunk] = await histogram('gen_ai.client.operation.time_per_output_chunk');
  expect(perChunk.count).toBe(deltas.length - 1);
});

test("legacy completions: operation 'text_completion', no openai.api.type", async () => {
  await lastValueFrom(clientWith(harness.telemetry).completions.stream({ model: 'gpt-3.5-turbo-instruct', prompt: 'Hi [[mock:tokens=2]]' }));

  const span = onlySpan(harness);
  expect(span.name).toBe('text_completion gpt-3.5-turbo-instruct');
  expect(span.attributes['gen_ai.operation.name']).toBe('text_completion');
  expect(span.attributes['openai.api.type']).toBeUndefined();
  expect(span.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
  expect(span.attributes['gen_ai.response.id']).toMatch(/^cmpl-/);
});

test('every subscription is an operation of its own; the model is read at subscribe, as the body is', async () => {
  const params = chatParams('Hi [[mock:tokens=1]]');
  const stream$ = clientWith(harness.telemetry).chat.completions.events(params);
  await lastValueFrom(stream$);
  params.model = 'gpt-4.1-mini';
  await lastValueFrom(stream$);

  expect(harness.spans().map((span) => span.name)).toEqual(['chat gpt-4o-mini', 'chat gpt-4.1-mini']);
});

describe('with an SDK registered globally', () => {
  beforeEach(() => {
    trace.setGlobalTracerProvider(harness.tracerProvider);
    metrics.setGlobalMeterProvider(harness.meterProvider);
  });

  afterEach(() => {
    trace.disable();
    metrics.disable();
  });

  test('a client without `telemetry` records nothing: telemetry is opt-in per client', async () => {
    await lastValueFrom(clientWith(undefined).chat.completions.stream(chatParams('Hi [[mock:tokens=2]]')));

    expect(harness.spans()).toEqual([]);
    expect(await harness.histograms()).toEqual(new Map());
  });

  test('openTelemetry() without providers records into the global ones', async () => {
    await lastValueFrom(clientWith(openTelemetry()).chat.completions.stream(chatParams('Hi [[mock:tokens=2]]')));

    expect(onlySpan(harness).name).toBe('chat gpt-4o-mini');
    expect((await histogram('gen_ai.client.operation.duration'))[0].count).toBe(1);
  });
});

test('the response model and finish reason are what the server sent, not what was asked', async () => {
  const server = await startServer((_req, res) => {
    sseHead(res);
    res.end('data: {"id":"c1","model":"m-1","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"length"}]}\n\ndata: [DONE]\n\n');
  });
  try {
    await lastValueFrom(clientWith(harness.telemetry, server.url).chat.completions.events({ model: 'm', messages: [] }));
  } finally {
    await server.close();
  }

  expect(onlySpan(harness).attributes).toMatchObject({ 'gen_ai.response.finish_reasons': ['length'], 'gen_ai.response.model': 'm-1' });
});
