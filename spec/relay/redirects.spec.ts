import type { IncomingHttpHeaders } from 'node:http';
import { inspect } from 'node:util';
import { APIError } from '../../src/errors';
import { createFetchRelay as createBrowserFetchRelay } from '../../src/index';
import { createFetchRelay } from '../../src/index.node';
import { createRelay } from '../../src/node';
import type { RelayOptions, RelaySummary } from '../../src/relay/types';
import { fetchTransport } from '../../src/transport/fetchTransport';
import type { Transport } from '../../src/transport/types';
import { watchedList } from '../helpers/changes';
import { chatData, sseHead, startServer, type TestServer } from '../helpers/server';
import { listen, rawRequest, type Listening } from './relayHelpers';

const KEY = 'sk-relay-redirect-secret-0123456789';
const CREDENTIAL_HEADERS = { 'api-key': KEY, 'x-api-key': KEY };
const REDIRECT_STATUSES = [301, 302, 303, 307, 308];

/** The relay's answer, whichever adapter produced it. */
interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}
type Ask = (body: unknown) => Promise<Answer>;

let target: TestServer;
let upstream: TestServer | undefined;
let relayServer: Listening | undefined;
let summaries = watchedList<RelaySummary<unknown>>();

beforeEach(async () => {
  // The other origin answers like a provider: a followed redirect would be relayed as its answer.
  target = await startServer((_req, res) => {
    sseHead(res);
    res.end(`${chatData('foreign answer', 'stop')}data: [DONE]\n\n`);
  });
});
afterEach(async () => {
  await relayServer?.close();
  await upstream?.close();
  await target.close();
  relayServer = upstream = undefined;
  summaries = watchedList();
});

const overHttp = async (handler: Parameters<typeof listen>[0]): Promise<Ask> => {
  relayServer = await listen(handler);
  const url = `${relayServer.url}/v1/chat/completions`;
  return async (body) => {
    const response = await rawRequest(url, { body: JSON.stringify(body) });
    return { status: response.status, headers: flatten(response.headers), text: response.text };
  };
};

const overFetch =
  (relay: (request: Request) => Promise<Response>): Ask =>
  async (body) => {
    const request = new Request('http://relay.test/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const response = await relay(request);
    return { status: response.status, headers: Object.fromEntries(response.headers), text: await response.text() };
  };

function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) flat[name] = String(value);
  return flat;
}

/** Every relay there is, on its default transport and on the other one. */
const RELAYS: Array<[string, (baseURL: string) => Promise<Ask>]> = [
  ['createRelay (undici)', (baseURL) => overHttp(createRelay(relayOptions(baseURL)))],
  ['createRelay (fetch transport)', (baseURL) => overHttp(createRelay(relayOptions(baseURL, fetchTransport())))],
  ['createFetchRelay on Node (undici)', async (baseURL) => overFetch(createFetchRelay(relayOptions(baseURL)))],
  ['createFetchRelay, browser entry (fetch)', async (baseURL) => overFetch(createBrowserFetchRelay(relayOptions(baseURL)))],
];

function relayOptions<Req>(baseURL: string, transport?: Transport): RelayOptions<Req> {
  return {
    apiKey: KEY,
    baseURL,
    headers: CREDENTIAL_HEADERS,
    transport,
    onSettled: (summary) => summaries.push(summary),
  };
}

const chatBody = (stream: boolean) => ({ model: 'm', messages: [{ role: 'user', content: 'my secret prompt' }], stream });

describe.each(RELAYS)('%s', (_name, startRelay) => {
  describe.each([
    ['stream', true],
    ['JSON', false],
  ])('a %s request', (_mode, stream) => {
    test.each(REDIRECT_STATUSES)('upstream %i to another origin: a 502 naming the redirect, not followed, no key', async (status) => {
      upstream = await startServer((_req, res) => {
        const to = `${target.url}/private/v1/chat/completions?api-key=${KEY}`;
        res.writeHead(status, { location: to, 'content-type': 'text/html', 'x-request-id': 'req_moved' });
        res.end(`<a href="${to}">Redirecting</a>`);
      });
      const ask = await startRelay(`${upstream.url}/v1`);
      const answer = await ask(chatBody(stream));

      expect(answer.status).toBe(502);
      expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(answer.headers['x-request-id']).toBe('req_moved');
      expect(answer.headers.location).toBeUndefined();
      expect(JSON.parse(answer.text)).toEqual({
        error: {
          message: `The upstream server answered ${status} (a redirect), which the relay does not follow.`,
          type: 'upstream_error',
          param: null,
          code: 'upstream_redirect',
        },
      });
      expect(JSON.stringify(answer)).not.toContain(KEY);
      expect(JSON.stringify(answer)).not.toContain(target.url);

      expect(upstream.requests).toHaveLength(1);
      expect(upstream.requests[0].headers).toMatchObject({ authorization: `Bearer ${KEY}`, 'api-key': KEY, 'x-api-key': KEY });
      expect(target.requests).toHaveLength(0);

      await summaries.reaches(1, 'onSettled');

      expect(summaries).toHaveLength(1);
      const [summary] = summaries;
      expect(summary).toMatchObject({ outcome: 'upstream-error', status: 502, requestId: 'req_moved' });
      expect(summary.error).toBeInstanceOf(APIError);
      expect((summary.error as APIError).status).toBe(status);
      expect(inspect(summary, { depth: 10 })).not.toContain(KEY);
    });
  });
});

test("createFetchRelay over a browser's fetch: an opaque redirect becomes the same 502", async () => {
  const opaqueRedirect = { type: 'opaqueredirect', status: 0, ok: false, redirected: false, url: '', headers: new Headers(), body: null };
  const inits: RequestInit[] = [];
  const fetch = (async (_url: string, init: RequestInit) => {
    inits.push(init);
    return opaqueRedirect as unknown as Response;
  }) as typeof globalThis.fetch;
  const ask = overFetch(createBrowserFetchRelay(relayOptions('https://api.test/v1', fetchTransport({ fetch }))));
  for (const stream of [true, false]) {
    const answer = await ask(chatBody(stream));
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.text)).toEqual({
      error: { message: 'The upstream server answered with a redirect, which the relay does not follow.', type: 'upstream_error', param: null, code: 'upstream_redirect' },
    });
  }
  expect(inits.map((init) => init.redirect)).toEqual(['manual', 'manual']);
  await summaries.reaches(2, 'onSettled twice');
  expect(summaries).toHaveLength(2);
  expect(summaries.map((summary) => (summary.error as APIError).status)).toEqual([0, 0]);
});
