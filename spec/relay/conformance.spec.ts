import { once } from 'node:events';
import OpenAI from 'openai';
import { meteredTransport, type MeteredTransport } from '../helpers/meteredTransport';
import { sseHead, startServer, type Handler, type TestServer } from '../helpers/server';
import { bothRelays } from './bothRelays';
import { relayFixture } from './relayFixture';
import { rawRequest, type Listening } from './relayHelpers';

/*
 * Conformance: whatever bytes upstream sends as its event stream, split
 * wherever the network splits them, the client gets those bytes and no
 * others, and the official SDK cannot tell the relay from upstream.
 */

const KEY = 'sk-relay-secret-0123456789';

const chunk = (content: string, finish: string | null = null) =>
  JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: finish }] });

/** A chat stream with line ending `eol`: two chunks, a comment, the finish chunk and `[DONE]`. */
const chatStream = (eol: string) =>
  [`data: ${chunk('Hel')}`, '', ': keep-alive', '', `data: ${chunk('lo')}`, '', `data: ${chunk('', 'stop')}`, '', 'data: [DONE]', '', ''].join(eol);

const RESPONSE_EVENTS = [
  { type: 'response.created', sequence_number: 0, response: { id: 'r1', object: 'response', status: 'in_progress', output: [] } },
  { type: 'response.output_text.delta', sequence_number: 1, item_id: 'm1', output_index: 0, content_index: 0, delta: 'Hé 👋' },
  { type: 'response.completed', sequence_number: 2, response: { id: 'r1', object: 'response', status: 'completed', output: [] } },
];

interface Body {
  name: string;
  route: 'chat/completions' | 'responses';
  bytes: Buffer;
}

const utf8 = (name: string, text: string, route: Body['route'] = 'chat/completions'): Body => ({ name, route, bytes: Buffer.from(text, 'utf8') });

const BODIES: Body[] = [
  utf8('LF line endings (the OpenAI shape)', chatStream('\n')),
  utf8('CRLF line endings', chatStream('\r\n')),
  utf8('CR line endings', chatStream('\r')),
  utf8(
    'mixed line endings',
    `data: ${chunk('a')}\r\n\n` + `data: ${chunk('b')}\n\r` + `data: ${chunk('c')}\r\r\n` + ': x\r\n\r\n' + 'data: [DONE]\n\r\n',
  ),
  utf8('retry: lines, alone and in events', `retry: 3000\n\nretry: 10\ndata: ${chunk('a')}\n\ndata: ${chunk('b')}\nretry: x\n\ndata: [DONE]\n\n`),
  utf8('id:-only blocks', `id: 1\n\ndata: ${chunk('a')}\nid: 2\n\nid\n\nid:\n\ndata: ${chunk('b')}\n\ndata: [DONE]\n\n`),
  utf8('comments with and without a space', `: lead\n\n:bare\n\n:\n\n: before\ndata: ${chunk('a')}\n:after\n\ndata: [DONE]\n\n`),
  utf8('data: without a space (and with two)', `data:${chunk('a')}\n\ndata:  ${chunk('b')}\n\ndata:[DONE]\n\n`),
  utf8(
    'unknown fields and any field order',
    `event: message\nfoo: bar\ndata: ${chunk('a')}\nid: 9\n\ndata: ${chunk('b')}\nevent: message\nx-custom:1\nbare\n\ndata: [DONE]\n\n`,
  ),
  utf8('a UTF-8 BOM at the start', `\uFEFF${chatStream('\n')}`),
  utf8('ï»¿ (U+00EF U+00BB U+00BF, the BOM read as Latin-1) at the start', `\u00EF\u00BB\u00BF${chatStream('\n')}`),
  utf8('NUL in a comment, an id and a field name', `: nul\0here\n\nid: a\0b\ndata: ${chunk('a')}\n\nx\0y: z\n\ndata: ${chunk('n\0l')}\n\ndata: [DONE]\n\n`),
  utf8(
    'U+2028, U+2029 and U+0085 (not line endings in SSE)',
    `: line\u2028separator\n\ndata: ${chunk('a\u2028b\u2029c\u0085d')}\n\ndata: [DONE]\n\n`,
  ),
  utf8('a last event without its blank line', `data: ${chunk('a')}\n\ndata: ${chunk('', 'stop')}\n`),
  utf8('a last event without a line ending', `data: ${chunk('a')}\n\ndata: ${chunk('', 'stop')}`),
  utf8('[DONE] without a newline', `data: ${chunk('a')}\n\ndata: [DONE]`),
  utf8(
    'multi-byte characters (2, 3 and 4 bytes) in data, comments and event names',
    `data: ${chunk('wörld 你好 👋𝄞')}\n\n: 🚀 ü\n\nevent: ünï\ndata: ${chunk('é')}\n\ndata: [DONE]\n\n`,
  ),
  {
    name: 'bytes that are not UTF-8, in a comment',
    route: 'chat/completions',
    bytes: Buffer.concat([Buffer.from(': '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(`\n\ndata: ${chunk('a')}\n\ndata: [DONE]\n\n`)]),
  },
  utf8(
    'a Responses stream with CRLF line endings',
    RESPONSE_EVENTS.map((event) => `event: ${event.type}\r\ndata: ${JSON.stringify(event)}\r\n\r\n`).join(''),
    'responses',
  ),
];

const requestBody = (route: Body['route'], extra: Record<string, unknown> = {}) =>
  route === 'responses'
    ? { model: 'm', input: 'hi', stream: true, ...extra }
    : { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true, ...extra };

/**
 * Serves `body`: split at the request's `split` offset into two writes, the second written only once the relay
 * has read the first (so it cannot join it on the way), or whole when there is no `split`.
 */
const splitServer =
  (body: Buffer, meter: MeteredTransport): Handler =>
  async (_req, res, recorded) => {
    const { split } = JSON.parse(recorded.body) as { split?: number };
    sseHead(res);
    if (split === undefined) {
      res.end(body);
      return;
    }
    res.write(body.subarray(0, split));
    await Promise.race([meter.hasRead(split), once(res, 'close')]);
    res.end(body.subarray(split));
  };

/** Bytes as a string for a failure message, one character per byte (Latin-1), so that every difference shows. */
const shown = (bytes: Buffer) => JSON.stringify(bytes.toString('latin1'));

// With `onFrame` set, every frame is read on its way: the bytes must not change for it.
const hookings = bothRelays.flatMap((kind) => [
  { kind, name: kind.name, hooks: 'no hook', options: {} },
  { kind, name: kind.name, hooks: 'onFrame', options: { onFrame: () => undefined } },
]);

describe.each(hookings)('$name ($hooks) passes every split of every body through byte for byte', ({ kind, options }) => {
  const fixture = relayFixture(kind, KEY);

  test.each(BODIES.map((body) => ({ ...body, splits: body.bytes.length - 1 })))('$name ($splits splits)', async ({ bytes, route }) => {
    const meter = meteredTransport();
    const { relay } = await fixture.start(splitServer(bytes, meter), { heartbeatMs: 0, transport: meter.transport, ...options });
    const url = `${relay.url}/v1/${route}`;

    const whole = await rawRequest(url, { body: JSON.stringify(requestBody(route)) });
    expect(shown(whole.body)).toBe(shown(bytes));
    const mismatches: string[] = [];
    const unsplit: number[] = [];
    for (let split = 1; split < bytes.length; split++) {
      const response = await rawRequest(url, { body: JSON.stringify(requestBody(route, { split })) });
      if (!response.body.equals(bytes)) mismatches.push(`split at ${split}: ${shown(response.body)}`);
      if (meter.reads()[0] !== split) unsplit.push(split);
    }
    expect({ mismatches: mismatches.length, first: mismatches.slice(0, 3) }).toEqual({ mismatches: 0, first: [] });
    // Each split reached the relay as two reads: the first one ended exactly at the split.
    expect(unsplit).toEqual([]);

    const summaries = await fixture.settled(bytes.length);
    // Every body here ends well: with [DONE], with a whole event, or with a final JSON event cut from its newline.
    const outcomes = new Set(summaries.map(({ outcome, status, bytes: written }) => JSON.stringify({ outcome, status, written })));
    expect([...outcomes]).toEqual([JSON.stringify({ outcome: 'completed', status: 200, written: bytes.length })]);
  });
});

describe.each(bothRelays)('the official SDK cannot tell $name from upstream', ({ serve }) => {
  let upstream: TestServer;
  let relay: Listening;

  beforeAll(async () => {
    const servers = new Map(BODIES.map((body) => [body.name, splitServer(body.bytes, meteredTransport())]));
    upstream = await startServer((req, res, recorded) => {
      const { model } = JSON.parse(recorded.body) as { model: string };
      return servers.get(model)?.(req, res, recorded);
    });
    relay = await serve({ apiKey: KEY, baseURL: upstream.url, heartbeatMs: 0 });
  });

  afterAll(async () => {
    await relay.close();
    await upstream.close();
  });

  /** What the SDK yields for one request: the items it yielded, and the class and message of what it threw. */
  async function consume(stream: () => Promise<AsyncIterable<unknown>>) {
    const items: unknown[] = [];
    try {
      for await (const item of await stream()) items.push(item);
      return { items, thrown: undefined };
    } catch (error) {
      return { items, thrown: error instanceof Error ? { class: error.constructor.name, message: error.message } : error };
    }
  }

  const viaRelay = () => new OpenAI({ apiKey: 'sk-browser-has-no-key', baseURL: `${relay.url}/v1`, maxRetries: 0 });
  const direct = () => new OpenAI({ apiKey: KEY, baseURL: upstream.url, maxRetries: 0 });

  test.each(BODIES.filter((body) => body.route === 'chat/completions'))('chat: $name', async ({ name }) => {
    const params = { model: name, messages: [{ role: 'user' as const, content: 'hi' }], stream: true as const };
    const through = await consume(() => viaRelay().chat.completions.create(params));
    const straight = await consume(() => direct().chat.completions.create(params));
    expect(through).toEqual(straight);
    expect(through.items.length).toBeGreaterThan(0);
  });

  test.each(BODIES.filter((body) => body.route === 'responses'))('responses: $name', async ({ name }) => {
    const params = { model: name, input: 'hi', stream: true as const };
    const through = await consume(() => viaRelay().responses.create(params));
    const straight = await consume(() => direct().responses.create(params));
    expect(through).toEqual(straight);
    expect(through.items).toEqual(RESPONSE_EVENTS);
  });
});
