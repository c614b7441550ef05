import { SpanStatusCode } from '@opentelemetry/api';
import { APIError, StreamAbortError } from '../../src/index.node';
import { chatChunk, chatCompletion, chatUsageChunk, doneFrame, responseObject, responseUsage, sseComment, sseEvent } from '../../src/testing/index.node';
import { onlySpan, otelHarness, type OtelHarness } from './otelHarness';

// The recorder on its own, on a clock the spec moves: exact times, and how each way of ending is recorded.

let clock = 0;
let harness: OtelHarness;

beforeEach(() => {
  clock = 1000;
  harness = otelHarness({ now: () => clock });
});

afterEach(() => harness.shutdown());

const chat = (model = 'gpt-4o-mini') => harness.telemetry.startOperation({ endpoint: 'chat/completions', model, url: 'https://api.openai.com/v1' });

async function histogramSums(name: string): Promise<Array<number | undefined>> {
  return ((await harness.histograms()).get(name) ?? []).map((point) => point.sum);
}

test('time to the first chunk, time between chunks and the duration come from the clock, in seconds', async () => {
  const operation = chat();
  clock += 250;
  operation.frame(sseEvent(chatChunk({ role: 'assistant', content: '' })));
  clock += 40;
  operation.frame(sseComment('keep-alive'));
  operation.frame(sseEvent(chatChunk('Hi')));
  clock += 60;
  operation.frame(sseEvent(chatChunk({ finish: 'stop' })));
  operation.frame(doneFrame());
  clock += 5;
  operation.end();

  expect(onlySpan(harness).attributes['gen_ai.response.time_to_first_chunk']).toBe(0.25);
  expect(await histogramSums('gen_ai.client.operation.time_to_first_chunk')).toEqual([0.25]);
  // Comments and [DONE] are no chunks: two intervals, 0.04 s and 0.06 s.
  const [perChunk] = (await harness.histograms()).get('gen_ai.client.operation.time_per_output_chunk') ?? [];
  expect(perChunk).toMatchObject({ count: 2, min: 0.04, max: 0.06 });
  expect(await histogramSums('gen_ai.client.operation.duration')).toEqual([0.355]);
});

test('end() counts once: a later end, frame or response changes nothing', async () => {
  const operation = chat();
  operation.frame(sseEvent(chatChunk({ model: 'gpt-4o-mini-2024-07-18' })));
  operation.end();
  operation.end({ error: new APIError({ message: 'late', status: 500 }) });
  operation.frame(sseEvent(chatChunk({ model: 'other' })));
  operation.response({ usage: { inputTokens: 1, outputTokens: 2 } });

  const span = onlySpan(harness);
  expect(span.attributes['error.type']).toBeUndefined();
  expect(span.attributes['gen_ai.response.model']).toBe('gpt-4o-mini-2024-07-18');
  expect(span.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
  expect((await harness.histograms()).get('gen_ai.client.operation.duration')?.[0].count).toBe(1);
  expect((await harness.histograms()).get('gen_ai.client.token.usage')).toBeUndefined();
});

test.each([
  ['unsubscribing', { cancelled: true }],
  ["the caller's AbortSignal", { error: new StreamAbortError({ reason: 'stop' }) }],
])('%s is a cancellation: no error.type, status unset', (_name, outcome) => {
  chat().end(outcome);

  const span = onlySpan(harness);
  expect(span.attributes['openai_rx.cancelled']).toBe(true);
  expect(span.attributes['error.type']).toBeUndefined();
  expect(span.status.code).toBe(SpanStatusCode.UNSET);
});

test('an error event that arrived before the end is recorded even when the end says cancelled or done', () => {
  const cancelled = chat();
  cancelled.frame(sseEvent({ error: { message: 'overloaded', type: 'server_error', code: 'overloaded' } }));
  cancelled.end({ cancelled: true });
  const failed = chat();
  failed.frame(sseEvent({ type: 'response.failed', response: { status: 'failed', error: { code: 'server_error', message: 'x' } } }));
  failed.end();

  expect(harness.spans().map((span) => [span.attributes['error.type'], span.attributes['openai_rx.cancelled'], span.status.code])).toEqual([
    ['overloaded', undefined, SpanStatusCode.ERROR],
    ['server_error', undefined, SpanStatusCode.ERROR],
  ]);
});

test('an explicit errorType wins over the one derived from the error', () => {
  chat().end({ error: new APIError({ message: 'gone', status: 502 }), errorType: 'client-stalled' });

  expect(onlySpan(harness).attributes['error.type']).toBe('client-stalled');
});

test('response() from elsewhere (a JSON body): usage and finish reasons on the span, tokens on the histogram', async () => {
  const operation = harness.telemetry.startOperation({ endpoint: 'chat/completions', model: 'gpt-4o-mini', url: 'http://127.0.0.1:8788/v1', stream: false });
  operation.response({ model: 'gpt-4o-mini-2024-07-18', id: 'chatcmpl-9', finishReasons: ['stop', 'length'], usage: { inputTokens: 12, outputTokens: 30 } });
  operation.end();

  const span = onlySpan(harness);
  expect(span.attributes['gen_ai.request.stream']).toBeUndefined();
  expect(span.attributes).toMatchObject({ 'gen_ai.response.finish_reasons': ['stop', 'length'], 'gen_ai.usage.output_tokens': 30, 'server.port': 8788 });
  expect(await histogramSums('gen_ai.client.token.usage')).toEqual([12, 30]);
  expect((await harness.histograms()).get('gen_ai.client.operation.time_to_first_chunk')).toBeUndefined();
});

test.each([
  ['chat/completions', chatCompletion({ id: 'chatcmpl-5', model: 'gpt-4o-mini-2024-07-18', content: 'Hi', usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }), 'chatcmpl-5'],
  ['responses', responseObject({ id: 'resp_5', model: 'gpt-4o-mini-2024-07-18', text: 'Hi', usage: responseUsage(3, 1) }), 'resp_5'],
] as const)('a %s JSON answer given as one frame: model, id, finish reason and usage; no chunk metric', async (endpoint, body, id) => {
  const operation = harness.telemetry.startOperation({ endpoint, model: 'gpt-4o-mini', url: 'https://api.openai.com/v1', stream: false });
  operation.frame(sseEvent(body));
  operation.end();

  expect(onlySpan(harness).attributes).toMatchObject({
    'gen_ai.response.id': id,
    'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
    'gen_ai.response.finish_reasons': ['stop'],
    'gen_ai.usage.input_tokens': 3,
    'gen_ai.usage.output_tokens': 1,
  });
  expect((await harness.histograms()).get('gen_ai.client.operation.time_to_first_chunk')).toBeUndefined();
});

test('the frames of a chat stream with usage give every response attribute', () => {
  const identity = { id: 'chatcmpl-7', model: 'gpt-4o-mini-2024-07-18' };
  const operation = chat();
  operation.frame(sseEvent(chatChunk({ ...identity, role: 'assistant', content: '' })));
  operation.frame(sseEvent(chatChunk({ ...identity, content: 'Hi', finish: 'stop' })));
  operation.frame(sseEvent(chatUsageChunk({ prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 }, identity)));
  operation.end();

  expect(onlySpan(harness).attributes).toMatchObject({
    'gen_ai.response.id': 'chatcmpl-7',
    'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
    'gen_ai.response.finish_reasons': ['stop'],
    'gen_ai.usage.input_tokens': 9,
    'gen_ai.usage.output_tokens': 1,
  });
});

describe('span name and start attributes', () => {
  test('without a model the span is named after the operation alone', () => {
    harness.telemetry.startOperation({ endpoint: 'completions', url: 'https://api.openai.com/v1' }).end();

    expect(onlySpan(harness).name).toBe('text_completion');
    expect(onlySpan(harness).attributes['gen_ai.request.model']).toBeUndefined();
  });

  test('server.address and server.port: default ports, IPv6 without brackets, no attribute for what is no URL', () => {
    const urls = ['https://api.openai.com/v1', 'http://[::1]:8787/v1', 'not a url'];
    for (const url of urls) harness.telemetry.startOperation({ endpoint: 'chat/completions', model: 'm', url }).end();

    expect(harness.spans().map((span) => [span.attributes['server.address'], span.attributes['server.port']])).toEqual([
      ['api.openai.com', 443],
      ['::1', 8787],
      [undefined, undefined],
    ]);
  });

  test("a relative base URL is read against the page's location; a `location` that throws (Deno) is no page", () => {
    const at = (location: PropertyDescriptor) => {
      Object.defineProperty(globalThis, 'location', { ...location, configurable: true });
      try {
        harness.telemetry.startOperation({ endpoint: 'chat/completions', model: 'm', url: '/v1' }).end();
        harness.telemetry.startOperation({ endpoint: 'chat/completions', model: 'm', url: 'http://127.0.0.1:8787/v1' }).end();
      } finally {
        delete (globalThis as { location?: unknown }).location;
      }
    };
    at({ value: { href: 'https://app.example/chat' } });
    at({
      get() {
        throw new ReferenceError('Access to "location", run again with --location <href>.');
      },
    });

    expect(harness.spans().map((span) => span.attributes['server.address'] ?? null)).toEqual(['app.example', '127.0.0.1', null, '127.0.0.1']);
  });

  test('another provider name: openai.* attributes are left out', () => {
    const groq = otelHarness({ providerName: 'groq' });
    groq.telemetry.startOperation({ endpoint: 'responses', model: 'llama-3.3-70b', url: 'https://api.groq.com/openai/v1' }).end();

    expect(onlySpan(groq).attributes['gen_ai.provider.name']).toBe('groq');
    expect(onlySpan(groq).attributes['openai.api.type']).toBeUndefined();
    return groq.shutdown();
  });
});
