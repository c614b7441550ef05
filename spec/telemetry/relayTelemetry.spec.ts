import type { IncomingMessage } from 'node:http';
import { SpanStatusCode } from '@opentelemetry/api';
import { createFetchRelay, type RelaySummary } from '../../src/index.node';
import { createRelay } from '../../src/node';
import { startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { watchedList } from '../helpers/changes';
import { serveFetch } from '../helpers/serveFetch';
import { chatData, sseHead, startServer, type Handler, type TestServer } from '../helpers/server';
import { CHAT_BODY, CHAT_STREAM_PARTS, listen, openStream, rawRequest, streamParts, type Listening } from '../relay/relayHelpers';
import { onlySpan, otelHarness, type HistogramPoint, type OtelHarness } from './otelHarness';

// A relay with `telemetry` records every relayed generation as a GenAI operation, as the client does.

const KEY = 'sk-relay-telemetry-0123456789';

let harness: OtelHarness;
let relay: Listening | undefined;
let upstream: TestServer | MockUpstream | undefined;
let settled: Promise<RelaySummary<IncomingMessage>>;

beforeEach(() => {
  harness = otelHarness();
});

afterEach(async () => {
  await relay?.close();
  await upstream?.close();
  relay = upstream = undefined;
  await harness.shutdown();
});

async function start(baseURL: string): Promise<string> {
  let resolve!: (summary: RelaySummary<IncomingMessage>) => void;
  settled = new Promise((done) => (resolve = done));
  relay = await listen(createRelay({ apiKey: KEY, baseURL, telemetry: harness.telemetry, onSettled: resolve, heartbeatMs: 0 }));
  return relay.url;
}

async function startWith(handler: Handler): Promise<string> {
  const server = await startServer(handler);
  upstream = server;
  return start(server.url);
}

/** The attributes every metric point of a chat request for model `m` to the test server carries. */
function requestAttributes(server: TestServer): Record<string, unknown> {
  return {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'm',
    'server.address': '127.0.0.1',
    'server.port': Number(new URL(server.url).port),
  };
}

/** Each histogram's points, attributes and count only, by metric name; histograms without points are left out. */
async function metricPoints(): Promise<Record<string, Array<Pick<HistogramPoint, 'attributes' | 'count'>>>> {
  const points: Record<string, Array<Pick<HistogramPoint, 'attributes' | 'count'>>> = {};
  for (const [name, each] of await harness.histograms()) {
    if (each.length > 0) points[name] = each.map(({ attributes, count }) => ({ attributes, count }));
  }
  return points;
}

test('a completed stream: the span and the four metrics, with usage and finish reasons', async () => {
  const mock = await startMockUpstream({ tokenDelayMs: 1 });
  upstream = mock;
  const url = await start(mock.baseURL);
  const body = { ...CHAT_BODY, model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi [[mock:tokens=3]]' }], stream_options: { include_usage: true } };
  const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(body) });
  expect(response.status).toBe(200);
  expect((await settled).outcome).toBe('completed');
  const span = onlySpan(harness);
  expect(span.name).toBe('chat gpt-4o-mini');
  expect(span.status.code).toBe(SpanStatusCode.UNSET);
  expect(span.attributes).toMatchObject({
    'gen_ai.operation.name': 'chat',
    'gen_ai.request.model': 'gpt-4o-mini',
    'gen_ai.request.stream': true,
    'gen_ai.response.finish_reasons': ['stop'],
    'gen_ai.usage.output_tokens': 3,
    'server.address': '127.0.0.1',
  });
  const histograms = await harness.histograms();
  for (const name of [
    'gen_ai.client.operation.duration',
    'gen_ai.client.token.usage',
    'gen_ai.client.operation.time_to_first_chunk',
    'gen_ai.client.operation.time_per_output_chunk',
  ]) {
    expect(histograms.get(name)?.reduce((count, point) => count + point.count, 0)).toBeGreaterThan(0);
  }
});

test('a client that left: recorded as cancelled, not as an error', async () => {
  const url = await startWith((_req, res) => {
    sseHead(res);
    res.write(chatData('Hel'));
  });
  const stream = await openStream(`${url}/v1/chat/completions`, CHAT_BODY);
  await stream.waitFor('Hel');
  stream.abort();
  expect((await settled).outcome).toBe('client-closed');
  const span = onlySpan(harness);
  expect(span.status.code).toBe(SpanStatusCode.UNSET);
  expect(span.attributes['openai_rx.cancelled']).toBe(true);
  expect(span.attributes['error.type']).toBeUndefined();
  // A cancellation is no error in the metrics either: the duration point carries no error.type.
  const attributes = { ...requestAttributes(upstream as TestServer), 'gen_ai.response.model': 'm' };
  expect(await metricPoints()).toEqual({
    'gen_ai.client.operation.duration': [{ attributes, count: 1 }],
    'gen_ai.client.operation.time_to_first_chunk': [{ attributes, count: 1 }],
  });
});

test('an upstream 429: error.type is the status, and the key is in no attribute', async () => {
  const url = await startWith((_req, res) => {
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end(JSON.stringify({ error: { message: `Rate limit for ${KEY}`, type: 'requests', code: 'rate_limit_exceeded' } }));
  });
  const response = await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
  expect(response.status).toBe(429);
  expect((await settled).outcome).toBe('upstream-error');
  const span = onlySpan(harness);
  expect(span.status.code).toBe(SpanStatusCode.ERROR);
  expect(span.attributes['error.type']).toBe('429');
  expect(JSON.stringify({ attributes: span.attributes, status: span.status, events: span.events })).not.toContain(KEY);
  // Nothing streamed: one duration point, labelled with the status; no token or chunk metrics.
  const points = await metricPoints();
  expect(points).toEqual({
    'gen_ai.client.operation.duration': [{ attributes: { ...requestAttributes(upstream as TestServer), 'error.type': '429' }, count: 1 }],
  });
  expect(JSON.stringify(points)).not.toContain(KEY);
});

test('an in-stream error event: error.type from the event, outcome upstream-error', async () => {
  const url = await startWith((_req, res) => {
    sseHead(res);
    res.write(chatData('Hel'));
    res.end(`data: ${JSON.stringify({ error: { message: 'overloaded', type: 'server_error', code: 503 } })}\n\n`);
  });
  await rawRequest(`${url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
  expect((await settled).outcome).toBe('upstream-error');
  const span = onlySpan(harness);
  expect(span.status.code).toBe(SpanStatusCode.ERROR);
  expect(span.attributes['error.type']).toBe('503');
  const attributes = { ...requestAttributes(upstream as TestServer), 'gen_ai.response.model': 'm' };
  expect(await metricPoints()).toEqual({
    'gen_ai.client.operation.duration': [{ attributes: { ...attributes, 'error.type': '503' }, count: 1 }],
    'gen_ai.client.operation.time_to_first_chunk': [{ attributes, count: 1 }],
  });
});

test('createFetchRelay records the same: finish reasons and usage on the span, token points by type', async () => {
  const server = await startServer(streamParts(CHAT_STREAM_PARTS));
  upstream = server;
  const summaries = watchedList<RelaySummary<Request>>();
  relay = await listen(
    serveFetch(createFetchRelay({ apiKey: KEY, baseURL: server.url, telemetry: harness.telemetry, heartbeatMs: 0, onSettled: (summary) => summaries.push(summary) })),
  );
  const response = await rawRequest(`${relay.url}/v1/chat/completions`, { body: JSON.stringify(CHAT_BODY) });
  expect(response.text).toBe(CHAT_STREAM_PARTS.join(''));
  await summaries.reaches(1, 'onSettled');
  expect(summaries.map((summary) => summary.outcome)).toEqual(['completed']);
  const span = onlySpan(harness);
  expect(span.attributes).toMatchObject({
    'gen_ai.request.model': 'm',
    'gen_ai.response.model': 'm',
    'gen_ai.response.finish_reasons': ['stop'],
    'gen_ai.usage.input_tokens': 5,
    'gen_ai.usage.output_tokens': 3,
  });
  expect(span.attributes['error.type']).toBeUndefined();
  const attributes = { ...requestAttributes(server), 'gen_ai.response.model': 'm' };
  expect(await metricPoints()).toEqual({
    'gen_ai.client.operation.duration': [{ attributes, count: 1 }],
    'gen_ai.client.token.usage': [
      { attributes: { ...attributes, 'gen_ai.token.type': 'input' }, count: 1 },
      { attributes: { ...attributes, 'gen_ai.token.type': 'output' }, count: 1 },
    ],
    'gen_ai.client.operation.time_to_first_chunk': [{ attributes, count: 1 }],
    // Four data events before [DONE] (two deltas, the finish, the usage): three gaps after the first.
    'gen_ai.client.operation.time_per_output_chunk': [{ attributes, count: 3 }],
  });
});

test('routes that are not generations (models) record no operation', async () => {
  const url = await startWith((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: [] }));
  });
  const response = await rawRequest(`${url}/v1/models`, { method: 'GET' });
  expect(response.status).toBe(200);
  expect((await settled).outcome).toBe('completed');
  expect(harness.spans()).toHaveLength(0);
});
