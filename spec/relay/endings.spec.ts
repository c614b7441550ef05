import OpenAI from 'openai';
import { StreamTruncatedError, type RelayOptions } from '../../src/index.node';
import { FINISHED_BODY_GRACE_MS } from '../../src/sse/sseFrames';
import { meteredTransport } from '../helpers/meteredTransport';
import { chatData, sseHead, type Handler } from '../helpers/server';
import { bothRelays } from './bothRelays';
import { relayFixture } from './relayFixture';
import { CHAT_BODY, rawRequest } from './relayHelpers';

/*
 * How a relayed exchange ends, and what it redacts on the way: the client
 * gets upstream's bytes whatever the last one was, the outcome says how
 * upstream ended, and only the relay's own credentials are taken out of what
 * is not model output.
 */

const KEY = 'sk-relay-secret-0123456789';

const FINISH = chatData('', 'stop').trimEnd();
const CONNECTION_LOST_FRAME = `data: ${JSON.stringify({
  error: {
    message: 'The connection to the upstream API broke before the stream ended.',
    type: 'server_error',
    param: null,
    code: 'upstream_connection_lost',
  },
})}\n\n`;

/** A provider that writes `body` in one piece and ends. */
const sends =
  (body: string): Handler =>
  (_req, res) => {
    sseHead(res);
    res.end(body);
  };

async function collect(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const items: unknown[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

describe.each(bothRelays)('$name', (kind) => {
  const fixture = relayFixture(kind, KEY);

  async function start(handler: Handler, options: RelayOptions<unknown> = {}) {
    const { upstream, relay } = await fixture.start(handler, { heartbeatMs: 0, ...options });
    const base = `${relay.url}/v1`;
    return { upstream, base, url: `${base}/chat/completions`, sdk: new OpenAI({ apiKey: 'sk-none', baseURL: base, maxRetries: 0 }) };
  }

  const settled = async () => (await fixture.settled())[0];

  const sdkParams = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }], stream: true as const };

  test('[DONE] without a trailing newline: the same bytes, completed, and the SDK ends normally', async () => {
    const body = `${chatData('Hi')}data: [DONE]`;
    const { upstream, url, sdk } = await start(sends(body));
    const response = await rawRequest(url, { body: JSON.stringify(CHAT_BODY) });
    expect(response.text).toBe(body);
    expect(await settled()).toMatchObject({ outcome: 'completed', status: 200, bytes: Buffer.byteLength(body), error: undefined });

    const through = await collect(await sdk.chat.completions.create(sdkParams));
    const direct = new OpenAI({ apiKey: KEY, baseURL: upstream.url, maxRetries: 0 });
    expect(through).toEqual(await collect(await direct.chat.completions.create(sdkParams)));
    expect(through).toEqual([JSON.parse(chatData('Hi').slice('data: '.length))]);
  });

  test('a final finish chunk without a newline and without [DONE]: the same bytes, completed, the SDK as directly', async () => {
    const body = `${chatData('Hi')}${FINISH}`;
    const { upstream, url, sdk } = await start(sends(body));
    const response = await rawRequest(url, { body: JSON.stringify(CHAT_BODY) });
    expect(response.text).toBe(body);
    expect(await settled()).toMatchObject({ outcome: 'completed', status: 200, error: undefined });

    const through = await collect(await sdk.chat.completions.create(sdkParams));
    const direct = new OpenAI({ apiKey: KEY, baseURL: upstream.url, maxRetries: 0 });
    expect(through).toEqual(await collect(await direct.chat.completions.create(sdkParams)));
    // The SDK, as the SSE standard says, drops an event that the body ended in before its blank line.
    expect(through).toEqual([JSON.parse(chatData('Hi').slice('data: '.length))]);
  });

  const responsesEvent = (type: string, status: string) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: 1, response: { id: 'r1', object: 'response', status, output: [] } })}\n\n`;

  test.each([
    { finishing: '[DONE]', route: 'chat/completions', body: `${chatData('Hi')}data: [DONE]\n\n`, outcome: 'completed' },
    { finishing: 'response.completed', route: 'responses', body: responsesEvent('response.completed', 'completed'), outcome: 'completed' },
    { finishing: 'response.incomplete', route: 'responses', body: responsesEvent('response.incomplete', 'incomplete'), outcome: 'completed' },
    { finishing: 'response.failed', route: 'responses', body: responsesEvent('response.failed', 'failed'), outcome: 'upstream-error' },
  ])(
    'upstream keeps its connection open after $finishing: the response ends ($outcome), upstream is closed within the grace',
    async ({ route, body, outcome }) => {
      const { upstream, base } = await start((_req, res) => {
        sseHead(res);
        res.write(body);
      });
      const request = route === 'responses' ? { model: 'm', input: 'hi', stream: true } : CHAT_BODY;
      const response = await rawRequest(`${base}/${route}`, { body: JSON.stringify(request) });
      expect(response.text).toBe(body);
      expect(await settled()).toMatchObject({ outcome, status: 200 });
      expect(upstream.openRequestSockets()).toBe(1);
      // Closed by the relay: this upstream never ends its response.
      await upstream.waitForClosedSockets(1, FINISHED_BODY_GRACE_MS + 2000);
    },
  );

  test('a clean end in the middle of a JSON line: the bytes as they came, truncated', async () => {
    const body = `${chatData('Hi')}data: {"choices":[{"index":0,"delta":{"content":"Hel`;
    const { url } = await start(sends(body));
    const response = await rawRequest(url, { body: JSON.stringify(CHAT_BODY) });
    expect(response.status).toBe(200);
    expect(response.text).toBe(body);
    const summary = await settled();
    expect(summary).toMatchObject({ outcome: 'truncated', status: 200 });
    expect(summary.error).toBeInstanceOf(StreamTruncatedError);
  });

  test('a reset in the middle of an event: the partial event is dropped, one error frame follows the last whole event', async () => {
    const whole = chatData('Hel');
    const partial = 'data: {"choices":[{"index":0,"del';
    const meter = meteredTransport();
    const { url } = await start(
      async (_req, res) => {
        sseHead(res);
        res.write(whole + partial);
        // The relay has the partial event in hand when the connection breaks.
        await meter.hasRead(Buffer.byteLength(whole + partial));
        res.socket?.resetAndDestroy();
      },
      { transport: meter.transport },
    );
    const response = await rawRequest(url, { body: JSON.stringify(CHAT_BODY) });
    expect(response.status).toBe(200);
    expect(response.text).toBe(whole + CONNECTION_LOST_FRAME);
    expect(await settled()).toMatchObject({ outcome: 'upstream-error', status: 200, frames: 1 });
  });

  describe("redaction: with apiKey 'ollama', model output is never altered, error text is", () => {
    const answer = 'I run on ollama';
    const echo = 'Invalid API key: ollama';
    const errorEvent = `data: ${JSON.stringify({ error: { message: echo, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } })}\n\n`;

    const provider: Handler = (_req, res, recorded) => {
      const { model, stream } = JSON.parse(recorded.body) as { model: string; stream?: boolean };
      if (model === 'denied') {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: echo, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }));
      } else if (!stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: answer } }] }));
      } else {
        sseHead(res);
        res.end(model === 'in-stream-error' ? chatData(answer) + errorEvent : `${chatData(answer)}data: [DONE]\n\n`);
      }
    };

    test('the answer reaches the client unchanged, streamed and as JSON', async () => {
      const { url } = await start(provider, { apiKey: 'ollama' });
      const streamed = await rawRequest(url, { body: JSON.stringify(CHAT_BODY) });
      expect(streamed.text).toBe(`${chatData(answer)}data: [DONE]\n\n`);
      const json = await rawRequest(url, { body: JSON.stringify({ ...CHAT_BODY, stream: false }) });
      expect(json.status).toBe(200);
      expect(json.text).toBe(JSON.stringify({ object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: answer } }] }));
    });

    test('an error body and an in-stream error frame that echo it are redacted, for the client and for onFrame', async () => {
      const seen: string[] = [];
      const { url } = await start(provider, { apiKey: 'ollama', onFrame: (frame) => seen.push(frame.type === 'event' ? frame.data : frame.text) });
      const denied = await rawRequest(url, { body: JSON.stringify({ ...CHAT_BODY, model: 'denied' }) });
      expect(denied.status).toBe(401);
      expect(denied.json()).toEqual({
        error: { message: 'Invalid API key: [redacted]', type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
      });
      const inStream = await rawRequest(url, { body: JSON.stringify({ ...CHAT_BODY, model: 'in-stream-error' }) });
      expect(inStream.text).toBe(chatData(answer) + errorEvent.replace(echo, 'Invalid API key: [redacted]'));
      const eventData = (text: string) => text.slice('data: '.length, -2);
      expect(seen).toEqual([eventData(chatData(answer)), eventData(errorEvent.replace(echo, 'Invalid API key: [redacted]'))]);
      const summaries = await fixture.settled(2);
      expect(summaries.map((summary) => summary.outcome)).toEqual(['upstream-error', 'upstream-error']);
      expect(JSON.stringify(summaries.map((summary) => summary.error?.message))).not.toContain('ollama');
    });
  });

  test('a real key echoed in a response header is redacted, streamed and as JSON', async () => {
    const { url } = await start((_req, res, recorded) => {
      const { stream } = JSON.parse(recorded.body) as { stream?: boolean };
      if (stream) {
        sseHead(res, { 'x-request-id': `req-${KEY}`, 'x-ratelimit-remaining-tokens': KEY });
        res.end(`${chatData('Hi')}data: [DONE]\n\n`);
      } else {
        res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': `req-${KEY}` });
        res.end('{"object":"chat.completion","choices":[]}');
      }
    });
    const streamed = await rawRequest(url, { body: JSON.stringify(CHAT_BODY) });
    const json = await rawRequest(url, { body: JSON.stringify({ ...CHAT_BODY, stream: false }) });
    expect(streamed.headers).toMatchObject({ 'x-request-id': 'req-[redacted]', 'x-ratelimit-remaining-tokens': '[redacted]' });
    expect(json.headers['x-request-id']).toBe('req-[redacted]');
    expect(streamed.text).toBe(`${chatData('Hi')}data: [DONE]\n\n`);
    for (const response of [streamed, json]) expect(JSON.stringify(response.headers)).not.toContain(KEY);
    const summaries = await fixture.settled(2);
    expect(summaries.map((summary) => summary.requestId)).toEqual(['req-[redacted]', 'req-[redacted]']);
  });
});
