import type { IncomingHttpHeaders } from 'node:http';
import { inspect } from 'node:util';
import { APIError } from '../../src/errors';
import { createClient } from '../../src/index.node';
import { isRetryableError } from '../../src/operators/retryStream';
import { fetchTransport } from '../../src/transport/fetchTransport';
import type { ByteSink, Transport, TransportResponse } from '../../src/transport/types';
import { chatData, sseHead, startServer, type Handler, type TestServer } from '../helpers/server';
import { TRANSPORTS, errorOf } from '../helpers/streams';

const KEY = 'sk-redirect-secret-0123456789';
const CREDENTIAL_HEADERS = { 'api-key': KEY, 'x-api-key': KEY };
const REDIRECT_STATUSES = [301, 302, 303, 307, 308];
const ADVICE = 'openai-rx follows no redirect; set baseURL to the final URL';
const PARAMS = { model: 'm', messages: [{ role: 'user' as const, content: 'my secret prompt' }] };

/** The other origin: a different port on the same host. It answers like a provider, so a followed redirect would succeed. */
let target: TestServer;
let upstream: TestServer | undefined;

beforeEach(async () => {
  target = await startServer((_req, res) => {
    sseHead(res);
    res.end(`${chatData('foreign answer', 'stop')}data: [DONE]\n\n`);
  });
});
afterEach(async () => {
  await upstream?.close();
  await target.close();
  upstream = undefined;
});

/** An upstream that redirects every request: to `location`, with an HTML "Redirecting" page repeating it. */
const redirectingTo =
  (status: number, location: (target: TestServer) => string): Handler =>
  (_req, res) => {
    const to = location(target);
    res.writeHead(status, { location: to, 'content-type': 'text/html' });
    res.end(`<a href="${to}">Redirecting to ${to}</a>`);
  };

/** A target URL whose path and query carry credentials, as a signed URL or an echoing server's would. */
const secretPathOf = (server: TestServer) => `${server.url}/private/v1/chat/completions?api-key=${KEY}&sig=signed-part`;

async function startUpstream(handler: Handler): Promise<TestServer> {
  upstream = await startServer(handler);
  return upstream;
}

const clientOn = (server: TestServer, transport: Transport) =>
  createClient({ apiKey: KEY, baseURL: `${server.url}/v1`, transport, headers: CREDENTIAL_HEADERS });

/** Every way an error is shown: none may hold the key, the redirect target's path or its query. */
function expectNothingSecretIn(error: unknown) {
  const renderings = [(error as Error).message, String(error), JSON.stringify(error), inspect(error, { depth: 10 }), (error as Error).stack ?? ''];
  for (const text of renderings) expect(text).not.toContain(KEY);
  for (const text of [(error as Error).message, (error as Error).stack ?? '']) {
    expect(text).not.toContain('/private');
    expect(text).not.toContain('signed-part');
  }
}

/** The request reached upstream with every credential: so their absence at the target means something. */
function expectCredentialsSentTo(server: TestServer) {
  expect(server.requests).toHaveLength(1);
  const headers: IncomingHttpHeaders = server.requests[0].headers;
  expect(headers).toMatchObject({ authorization: `Bearer ${KEY}`, 'api-key': KEY, 'x-api-key': KEY });
}

function readToEnd(response: TransportResponse): Promise<string> {
  return new Promise((resolve, reject) => {
    const decoder = new TextDecoder();
    let text = '';
    const sink: ByteSink = { data: (chunk) => (text += decoder.decode(chunk)), end: () => resolve(text), error: reject };
    response.body.read(sink);
  });
}

describe.each(TRANSPORTS)('%s transport', (_name, transport) => {
  test.each(REDIRECT_STATUSES)('hands back a %i to another origin as it is, and the other origin is never asked', async (status) => {
    const server = await startUpstream(redirectingTo(status, secretPathOf));
    const response = await transport({
      url: `${server.url}/v1/chat/completions`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...CREDENTIAL_HEADERS },
      body: JSON.stringify(PARAMS),
      signal: new AbortController().signal,
    });
    expect(response.status).toBe(status);
    expect(response.headers.location).toBe(secretPathOf(target));
    expect(await readToEnd(response)).toContain('Redirecting');
    expectCredentialsSentTo(server);
    expect(target.requests).toHaveLength(0);
  });

  test.each(REDIRECT_STATUSES)('createClient: a %i ends the stream with an APIError naming the status and the origin only', async (status) => {
    const server = await startUpstream(redirectingTo(status, secretPathOf));
    const error = await errorOf(clientOn(server, transport).chat.completions.stream(PARAMS));
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ status, message: `${status} redirect to ${target.url}: ${ADVICE}`, inStream: false });
    expect(isRetryableError(error)).toBe(false);
    expectNothingSecretIn(error);
    expectCredentialsSentTo(server);
    expect(target.requests).toHaveLength(0);
  });

  test.each([
    ['a relative location', () => `/private/v2?api-key=${KEY}&sig=signed-part`, `307 redirect: ${ADVICE}`],
    ['no location', undefined, `307 redirect: ${ADVICE}`],
    ['credentials in the location', (server: TestServer) => secretPathOf(server).replace('://', `://user:${KEY}@`), undefined],
  ])('createClient: a 307 with %s names no path, query or credential', async (_what, location, message) => {
    const server = await startUpstream((_req, res) => {
      res.writeHead(307, location ? { location: location(target) } : {});
      res.end();
    });
    const error = await errorOf(clientOn(server, transport).chat.completions.stream(PARAMS));
    expect(error).toMatchObject({ status: 307, message: message ?? `307 redirect to ${target.url}: ${ADVICE}` });
    expectNothingSecretIn(error);
    expect(target.requests).toHaveLength(0);
  });

  test('createClient: a 3xx explaining itself with an OpenAI error object keeps that error', async () => {
    const server = await startUpstream((_req, res) => {
      res.writeHead(302, { location: secretPathOf(target), 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'Use the regional endpoint', type: 'invalid_request_error', code: 'moved' } }));
    });
    const error = await errorOf(clientOn(server, transport).chat.completions.stream(PARAMS));
    expect(error).toMatchObject({ status: 302, message: '302 Use the regional endpoint', code: 'moved' });
    expect(target.requests).toHaveLength(0);
  });
});

describe("a browser's opaque redirect (status 0, no headers, no body)", () => {
  /** What a browser's fetch returns for a redirect under `redirect: 'manual'`; Node's fetch cannot produce one. */
  const opaqueRedirect = () =>
    ({ type: 'opaqueredirect', status: 0, ok: false, redirected: false, url: '', headers: new Headers(), body: null }) as unknown as Response;

  function browserFetch() {
    const inits: RequestInit[] = [];
    const fetch = (async (_url: string, init: RequestInit) => {
      inits.push(init);
      return opaqueRedirect();
    }) as typeof globalThis.fetch;
    return { fetch, inits };
  }

  test('fetchTransport asks fetch not to follow, and hands the opaque answer back with status 0 and an empty body', async () => {
    const { fetch, inits } = browserFetch();
    const response = await fetchTransport({ fetch })({ url: 'https://api.test/v1/x', method: 'POST', headers: {}, signal: new AbortController().signal });
    expect(inits[0].redirect).toBe('manual');
    expect(response.status).toBe(0);
    expect(response.headers).toEqual({});
    expect(await readToEnd(response)).toBe('');
  });

  test('createClient: the stream ends with an APIError saying that a redirect was not followed', async () => {
    const { fetch, inits } = browserFetch();
    const client = createClient({ apiKey: KEY, baseURL: 'https://api.test/v1', transport: fetchTransport({ fetch }), headers: CREDENTIAL_HEADERS });
    const error = await errorOf(client.chat.completions.stream(PARAMS));
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ status: 0, message: `Opaque redirect: ${ADVICE}` });
    expect(isRetryableError(error)).toBe(false);
    expect(inits).toHaveLength(1);
    expectNothingSecretIn(error);
  });
});

test("Node's fetch on its own follows the 307 with the api-key header: what fetchTransport's 'manual' prevents", async () => {
  const server = await startUpstream(redirectingTo(307, (to) => `${to.url}/v1/chat/completions`));
  const response = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: CREDENTIAL_HEADERS, body: '{}' });
  expect(response.status).toBe(200);
  expect(await response.text()).toContain('foreign answer');
  expect(target.requests).toHaveLength(1);
  expect(target.requests[0].headers['api-key']).toBe(KEY);
});
