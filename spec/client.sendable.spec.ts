import { lastValueFrom, toArray, type Observable } from 'rxjs';
import { InvalidRequestError } from '../src/errors';
import { createClient } from '../src/index';
import { createClient as createNodeClient } from '../src/index.node';
import { contentDeltas } from '../src/openai/contentDeltas';
import { chatFrames, scriptedTransport, sseText } from '../src/testing/index';

// A request that cannot go out as configured fails when subscribed, with an InvalidRequestError that says why,
// and nothing is sent: OpenAI's own API without a key (it would answer 401), a key no header can carry.

const params = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };
const KEY = 'sk-sendable-spec-5e1d07';

const answering = () => scriptedTransport({ body: sseText(chatFrames(['Hi'])) });

/** The error the Observable ends with, delivered at subscribe (before any await: nothing was sent). */
function syncError(source$: Observable<unknown>): unknown {
  let failure: unknown;
  source$.subscribe({ error: (error: unknown) => (failure = error) }).unsubscribe();
  return failure;
}

describe("OpenAI's own API without a key", () => {
  test('fails at subscribe, not at createClient, with an InvalidRequestError naming the fix; nothing is sent', () => {
    const transport = answering();
    const client = createClient({ transport });
    const answer$ = client.chat.completions.stream(params);

    const error = syncError(answer$);

    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as Error).message).toBe(
      "No API key for https://api.openai.com/v1: set apiKey (on Node OPENAI_API_KEY) or an 'authorization' header",
    );
    expect(transport.requests).toHaveLength(0);
  });

  test('every endpoint and client.sse check it; a base URL written differently is still OpenAI', () => {
    const transport = answering();
    const client = createClient({ transport, baseURL: 'HTTPS://API.OPENAI.COM/v1/' });
    const requests = [
      client.completions.stream({ model: 'gpt-3.5-turbo-instruct', prompt: 'hi' }),
      client.responses.events({ model: 'gpt-4o-mini', input: 'hi' }),
      client.sse('/chat/completions', params),
    ];

    for (const request$ of requests) expect(syncError(request$)).toBeInstanceOf(InvalidRequestError);
    expect(transport.requests).toHaveLength(0);
  });

  test('on Node, createClient() without OPENAI_API_KEY fails the same way', () => {
    const saved = { key: process.env.OPENAI_API_KEY, url: process.env.OPENAI_BASE_URL };
    delete process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_BASE_URL;
    try {
      const transport = answering();
      const error = syncError(createNodeClient({ transport }).chat.completions.stream(params));

      expect(error).toBeInstanceOf(InvalidRequestError);
      expect((error as Error).message).toMatch(/^No API key for https:\/\/api\.openai\.com\/v1: /);
      expect(transport.requests).toHaveLength(0);
    } finally {
      if (saved.key !== undefined) process.env.OPENAI_API_KEY = saved.key;
      if (saved.url !== undefined) process.env.OPENAI_BASE_URL = saved.url;
    }
  });

  test.each([
    ['apiKey', { apiKey: KEY }, {}],
    ['an authorization header', { headers: { Authorization: `Bearer ${KEY}` } }, {}],
    ["Azure's api-key header", { headers: { 'api-key': KEY } }, {}],
    ['a per-request authorization header', {}, { headers: { authorization: `Bearer ${KEY}` } }],
  ])('%s is a key: the request is sent', async (_name, clientOptions, requestOptions) => {
    const transport = answering();
    const client = createClient({ transport, ...clientOptions });

    await expect(lastValueFrom(client.chat.completions.stream(params, requestOptions).pipe(contentDeltas(), toArray()))).resolves.toEqual(['Hi']);
    expect(transport.requests).toHaveLength(1);
  });

  test('another base URL needs no key (a browser talking to a relay, a local server)', async () => {
    for (const baseURL of ['https://relay.example.test/v1', 'http://127.0.0.1:11434/v1', 'https://api.openai.com.relay.example.test/v1']) {
      const transport = answering();
      const answer$ = createClient({ transport, baseURL }).chat.completions.stream(params).pipe(contentDeltas(), toArray());

      await expect(lastValueFrom(answer$)).resolves.toEqual(['Hi']);
      expect(transport.requests.map((request) => request.url)).toEqual([`${baseURL}/chat/completions`]);
    }
  });
});

describe('a key with a line break (read from a file with its newline)', () => {
  test.each(['\n', '\r\n', '\r'])('%j: an InvalidRequestError that names the API key and its header, never the key; nothing is sent', (end) => {
    const transport = answering();
    const client = createClient({ transport, apiKey: `${KEY}${end}`, baseURL: 'https://relay.example.test/v1' });

    const error = syncError(client.chat.completions.stream(params));

    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as Error).message).toBe("The API key (apiKey) contains a line break, so the 'authorization' header cannot be sent");
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain(KEY);
    expect(transport.requests).toHaveLength(0);
  });

  test('another header with a line break is named as that header', () => {
    const transport = answering();
    const client = createClient({ transport, apiKey: KEY, headers: { 'x-team': 'a\nb' }, baseURL: 'https://relay.example.test/v1' });

    const error = syncError(client.chat.completions.stream(params));

    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as Error).message).toMatch(/^The value of header 'x-team' /);
    expect(transport.requests).toHaveLength(0);
  });
});
