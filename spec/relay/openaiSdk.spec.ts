import type { IncomingMessage } from 'node:http';
import OpenAI, { APIError as OpenAIAPIError } from 'openai';
import type { RelaySummary } from '../../src/index.node';
import { createRelay } from '../../src/node';
import { watchedList, type WatchedList } from '../helpers/changes';
import { sseHead, startServer, type Handler, type TestServer } from '../helpers/server';
import { CHAT_STREAM_PARTS, chatProvider, listen, nextTurn, streamParts, type Listening } from './relayHelpers';

/*
 * The official SDK pointed at the relay must not be able to tell it from the
 * provider: whatever it yields through the relay deep-equals what it yields
 * talking to upstream directly.
 */

const KEY = 'sk-relay-secret-0123456789';

const responseObject = (status: string, usage: unknown) => ({
  id: 'resp_1',
  object: 'response',
  created_at: 1,
  status,
  model: 'm',
  output:
    status === 'completed'
      ? [
          {
            id: 'msg_1',
            type: 'message',
            role: 'assistant',
            status: 'completed',
            content: [{ type: 'output_text', text: 'Hi there', annotations: [] }],
          },
        ]
      : [],
  usage,
});

const RESPONSE_EVENTS = [
  { type: 'response.created', sequence_number: 0, response: responseObject('in_progress', null) },
  {
    type: 'response.output_text.delta',
    sequence_number: 1,
    item_id: 'msg_1',
    output_index: 0,
    content_index: 0,
    delta: 'Hi',
  },
  {
    type: 'response.output_text.delta',
    sequence_number: 2,
    item_id: 'msg_1',
    output_index: 0,
    content_index: 0,
    delta: ' there',
  },
  {
    type: 'response.completed',
    sequence_number: 3,
    response: responseObject('completed', { input_tokens: 3, output_tokens: 2, total_tokens: 5 }),
  },
];
const RESPONSE_PARTS = RESPONSE_EVENTS.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);

let upstream: TestServer;
let relay: Listening;
let summaries: WatchedList<RelaySummary<IncomingMessage>>;

beforeEach(async () => {
  summaries = watchedList();
  const chat = chatProvider({ 'x-request-id': 'req_sdk' });
  const provider: Handler = async (req, res, recorded) => {
    if (recorded.url === '/responses') return streamParts(RESPONSE_PARTS, { 'x-request-id': 'req_sdk' })(req, res, recorded);
    if ((JSON.parse(recorded.body) as { model: string }).model !== 'reset') return chat(req, res, recorded);
    sseHead(res);
    res.write(CHAT_STREAM_PARTS[1]);
    await nextTurn();
    res.socket?.destroy();
  };
  upstream = await startServer(provider);
  relay = await listen(
    createRelay({ apiKey: KEY, baseURL: upstream.url, onSettled: (summary) => summaries.push(summary) }),
  );
});

afterEach(async () => {
  await relay.close();
  await upstream.close();
});

const viaRelay = () => new OpenAI({ apiKey: 'sk-browser-has-no-key', baseURL: `${relay.url}/v1`, maxRetries: 0 });
const direct = () => new OpenAI({ apiKey: KEY, baseURL: upstream.url, maxRetries: 0 });

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

test('a chat completion stream through the relay deep-equals the stream from upstream', async () => {
  const params = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }], stream: true as const };
  const through = await collect(await viaRelay().chat.completions.create(params));
  const straight = await collect(await direct().chat.completions.create(params));
  expect(through).toEqual(straight);
  expect(through.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('Hello, wörld 👋');
  expect(upstream.requests.map((request) => request.headers.authorization)).toEqual([`Bearer ${KEY}`, `Bearer ${KEY}`]);
  await summaries.reaches(1, 'the relay summary');
  expect(summaries).toHaveLength(1);
  expect(summaries[0]).toMatchObject({ outcome: 'completed', usage: { total_tokens: 8 } });
});

test('a Responses stream through the relay deep-equals the stream from upstream', async () => {
  const params = { model: 'm', input: 'hi', stream: true as const };
  const through = await collect(await viaRelay().responses.create(params));
  const straight = await collect(await direct().responses.create(params));
  expect(through).toEqual(straight);
  expect(through).toEqual(RESPONSE_EVENTS);
  await summaries.reaches(1, 'the relay summary');
  expect(summaries).toHaveLength(1);
  expect(summaries[0]).toMatchObject({ outcome: 'completed', route: 'responses', usage: { total_tokens: 5 } });
});

test("the SDK's controller.abort() makes upstream see its socket close", async () => {
  const stream = await viaRelay().chat.completions.create({ model: 'hang', messages: [], stream: true });
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  expect(first.value?.choices[0]?.delta.content).toBe('Hel');
  stream.controller.abort();
  await upstream.waitForClosedSockets(1);
  await summaries.reaches(1, 'the relay summary');
  expect(summaries).toHaveLength(1);
  expect(summaries[0]).toMatchObject({ outcome: 'client-closed', frames: 1 });
});

test("an upstream failure after the stream started reaches the SDK as an APIError with the relay's message", async () => {
  const stream = await viaRelay().chat.completions.create({ model: 'reset', messages: [], stream: true });
  const chunks: string[] = [];
  const failure = await (async () => {
    try {
      for await (const chunk of stream) chunks.push(chunk.choices[0]?.delta.content ?? '');
    } catch (error) {
      return error;
    }
    return undefined;
  })();
  expect(chunks).toEqual(['Hel']);
  expect(failure).toBeInstanceOf(OpenAIAPIError);
  expect((failure as Error).message).toContain('The connection to the upstream API broke before the stream ended.');
  await summaries.reaches(1, 'the relay summary');
  expect(summaries).toHaveLength(1);
  expect(summaries[0].outcome).toBe('upstream-error');
});
