import type { IncomingHttpHeaders } from 'node:http';
import type { RelayOptions } from '../../src/index.node';
import { sseHead, type Handler } from '../helpers/server';
import { bothRelays } from './bothRelays';
import { relayFixture } from './relayFixture';
import { CHAT_BODY, CHAT_STREAM_PARTS, rawRequest } from './relayHelpers';

/*
 * CORS against real servers, for both relays: the relay answers preflights
 * itself (upstream never hears of them) and marks every answer to an
 * allowed origin, streams and errors alike, so that a page can read it.
 */

const KEY = 'sk-relay-secret-0123456789';
const APP = 'https://app.example.com';
const OTHER = 'https://other.example.net';

const EXPOSED = ['x-request-id', 'retry-after', 'retry-after-ms', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-tokens'];

/** Chat streams, except for the model 'limited', which gets a 429 with its retry hints. */
const provider: Handler = async (_req, res, recorded) => {
  if ((JSON.parse(recorded.body) as { model: string }).model === 'limited') {
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7', 'x-request-id': 'req_429' });
    res.end(JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } }));
    return;
  }
  sseHead(res, { 'x-request-id': 'req_cors' });
  res.end(CHAT_STREAM_PARTS.join(''));
};

const preflightHeaders = (origin: string) => ({
  origin,
  'access-control-request-method': 'POST',
  'access-control-request-headers': 'authorization,content-type',
});

const corsHeadersOf = (headers: IncomingHttpHeaders) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('access-control-') || name === 'vary'));

describe.each(bothRelays)('$name', (kind) => {
  const fixture = relayFixture(kind, KEY);

  async function start(options: RelayOptions<unknown>) {
    const { upstream, relay } = await fixture.start(provider, options);
    return { upstream, url: `${relay.url}/v1/chat/completions` };
  }

  const settled = async () => (await fixture.settled())[0];

  test('a preflight for a POST with authorization and content-type: 204 from the relay, upstream never contacted', async () => {
    const { upstream, url } = await start({ cors: APP });
    const answer = await rawRequest(url, { method: 'OPTIONS', headers: preflightHeaders(APP) });
    expect(answer.status).toBe(204);
    expect(answer.body.byteLength).toBe(0);
    expect(corsHeadersOf(answer.headers)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'POST, GET, OPTIONS',
      'access-control-allow-headers': 'authorization, content-type',
      'access-control-max-age': '7200',
      vary: 'Origin, Access-Control-Request-Headers',
    });
    expect(await settled()).toMatchObject({ outcome: 'preflight', status: 204, route: undefined });
    expect(upstream.openSockets() + upstream.closedSockets()).toBe(0);
  });

  test("a preflight from a refused origin: 403 origin_not_allowed in OpenAI's format, no allow header, outcome rejected", async () => {
    const { upstream, url } = await start({ cors: APP });
    const answer = await rawRequest(url, { method: 'OPTIONS', headers: preflightHeaders(OTHER) });
    expect(answer.status).toBe(403);
    expect(answer.json()).toEqual({
      error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'origin_not_allowed' },
    });
    expect(answer.text).not.toContain(OTHER);
    expect(corsHeadersOf(answer.headers)).toEqual({ vary: 'Origin' });
    expect(await settled()).toMatchObject({ outcome: 'rejected', status: 403 });
    expect(upstream.openSockets() + upstream.closedSockets()).toBe(0);
  });

  test('a stream to an allowed origin carries its origin and exposes the forwarded headers, bytes unchanged', async () => {
    const { url } = await start({ cors: APP });
    const answer = await rawRequest(url, { body: JSON.stringify(CHAT_BODY), headers: { origin: APP } });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(CHAT_STREAM_PARTS.join(''));
    expect(answer.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(answer.headers['x-request-id']).toBe('req_cors');
    expect(answer.headers).toMatchObject({ 'access-control-allow-origin': APP, vary: 'Origin' });
    expect(String(answer.headers['access-control-expose-headers']).split(', ')).toEqual(expect.arrayContaining(EXPOSED));
    expect(await settled()).toMatchObject({ outcome: 'completed', status: 200 });
  });

  test("error answers to an allowed origin carry the same headers: upstream's 429 and the relay's own 400", async () => {
    const { url } = await start({ cors: APP });
    const limited = await rawRequest(url, { body: JSON.stringify({ ...CHAT_BODY, model: 'limited' }), headers: { origin: APP } });
    const invalid = await rawRequest(url, { body: '{"model":', headers: { origin: APP } });
    expect([limited.status, invalid.status]).toEqual([429, 400]);
    expect(limited.headers).toMatchObject({ 'retry-after': '7', 'x-request-id': 'req_429' });
    for (const answer of [limited, invalid]) {
      expect(answer.headers).toMatchObject({ 'access-control-allow-origin': APP, vary: 'Origin' });
      expect(String(answer.headers['access-control-expose-headers']).split(', ')).toEqual(expect.arrayContaining(EXPOSED));
    }
  });

  test('a refused origin is still served (CORS is no access control) but without any allow header', async () => {
    const { url } = await start({ cors: APP });
    const answer = await rawRequest(url, { body: JSON.stringify(CHAT_BODY), headers: { origin: OTHER } });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(CHAT_STREAM_PARTS.join(''));
    expect(corsHeadersOf(answer.headers)).toEqual({ vary: 'Origin' });
  });

  test('a request without Origin gets no CORS header at all', async () => {
    const { url } = await start({ cors: APP });
    const answer = await rawRequest(url, { body: JSON.stringify(CHAT_BODY) });
    expect(answer.text).toBe(CHAT_STREAM_PARTS.join(''));
    expect(corsHeadersOf(answer.headers)).toEqual({});
  });

  test('cors off: a preflight is a 405 with Allow: POST, and upstream is not contacted', async () => {
    const { upstream, url } = await start({});
    const answer = await rawRequest(url, { method: 'OPTIONS', headers: preflightHeaders(APP) });
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe('POST');
    expect((answer.json() as { error: { code: string } }).error.code).toBe('method_not_allowed');
    expect(corsHeadersOf(answer.headers)).toEqual({});
    expect(await settled()).toMatchObject({ outcome: 'rejected', status: 405 });
    expect(upstream.openSockets() + upstream.closedSockets()).toBe(0);
  });

  test.each<[string, RelayOptions<unknown>['cors'], Record<string, string>]>([
    ['true', true, { 'access-control-allow-origin': '*', vary: 'Access-Control-Request-Headers' }],
    ['a list', [OTHER, APP], { 'access-control-allow-origin': APP }],
    ['a RegExp', /https:\/\/[a-z]+\.example\.com/, { 'access-control-allow-origin': APP }],
    ['an async function', async (origin) => origin === APP, { 'access-control-allow-origin': APP }],
    [
      'the object form with credentials and maxAgeSeconds',
      { origin: APP, credentials: true, maxAgeSeconds: 60 },
      { 'access-control-allow-origin': APP, 'access-control-allow-credentials': 'true', 'access-control-max-age': '60' },
    ],
  ])('cors as %s: its preflight answer; a look-alike origin refused unless any origin is allowed', async (_form, cors, expected) => {
    const { url } = await start({ cors });
    const allowed = await rawRequest(url, { method: 'OPTIONS', headers: preflightHeaders(APP) });
    expect(allowed.status).toBe(204);
    expect(allowed.headers).toMatchObject(expected);
    const lookAlike = await rawRequest(url, { method: 'OPTIONS', headers: preflightHeaders(`${APP}.attacker.net`) });
    expect(lookAlike.status).toBe(cors === true ? 204 : 403);
  });
});
