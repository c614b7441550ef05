import type { IncomingMessage } from 'node:http';
import { SpanStatusCode } from '@opentelemetry/api';
import type { RelaySummary } from '../../src/index.node';
import { createRelay } from '../../src/node';
import { startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { chatData, sseHead, startServer, type Handler, type TestServer } from '../helpers/server';
import { CHAT_BODY, listen, openStream, rawRequest, type Listening } from '../relay/relayHelpers';
import { onlySpan, otelHarness, type OtelHarness } from './otelHarness';

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
