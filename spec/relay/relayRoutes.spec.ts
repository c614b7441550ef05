import { RelayRejection } from '../../src/index.node';
import { matchRoute, normalizePrefix, parseRequestBody, routeOf } from '../../src/relay/relayRoutes';

function rejectionOf(run: () => unknown): RelayRejection {
  try {
    run();
  } catch (error) {
    if (error instanceof RelayRejection) return error;
    throw error;
  }
  throw new Error('expected a RelayRejection');
}

describe('matchRoute', () => {
  test.each([
    ['/v1/chat/completions', 'chat/completions'],
    ['/v1/completions', 'completions'],
    ['/v1/responses', 'responses'],
    ['/v1/responses/', 'responses'],
  ])('POST %s → %s', (path, route) => {
    expect(matchRoute('/v1', 'POST', path)).toBe(route);
  });

  test('an unknown path is a 404 that lists the routes served', () => {
    const rejection = rejectionOf(() => matchRoute('/v1', 'POST', '/v1/embeddings'));
    expect(rejection).toMatchObject({ status: 404, code: 'unknown_url', type: 'invalid_request_error' });
    expect(rejection.message).toBe(
      'Unknown route POST /v1/embeddings; this relay serves POST /v1/chat/completions, /v1/completions, /v1/responses.',
    );
  });

  test('a known path with another method is a 405 with Allow: POST', () => {
    expect(rejectionOf(() => matchRoute('/v1', 'GET', '/v1/chat/completions'))).toMatchObject({
      status: 405,
      code: 'method_not_allowed',
      headers: { allow: 'POST' },
    });
  });

  test('routeOf and normalizePrefix: prefixes with and without slashes, and the empty prefix', () => {
    expect(['/v1', 'v1/', '/v1//'].map(normalizePrefix)).toEqual(['/v1', '/v1', '/v1']);
    expect(['/', ''].map(normalizePrefix)).toEqual(['', '']);
    expect(routeOf('', '/chat/completions')).toBe('chat/completions');
    expect(routeOf('/api/v1', '/api/v1/completions')).toBe('completions');
    expect(routeOf('/v1', '/v1chat/completions')).toBeUndefined();
    expect(routeOf('/v1', '/v2/chat/completions')).toBeUndefined();
  });
});

describe('parseRequestBody', () => {
  test('keeps every field it does not know', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true, seed: 1, extra_body: { a: 1 } };
    expect(parseRequestBody('chat/completions', JSON.stringify(body))).toEqual(body);
  });

  test.each([
    ['chat/completions', { model: 'm', messages: [] }],
    ['chat/completions', { model: 'm', messages: [], stream: null }],
    ['completions', { model: 'm', prompt: 'Say' }],
    ['completions', { model: 'm', prompt: [[1, 2, 3]] }],
    ['responses', { model: 'm', input: 'hi' }],
    ['responses', { model: 'm', input: [{ role: 'user', content: 'hi' }] }],
    ['responses', { model: 'm', previous_response_id: 'resp_1' }],
  ] as const)('%s accepts %j', (route, body) => {
    expect(parseRequestBody(route, JSON.stringify(body))).toEqual(body);
  });

  test.each([
    ['chat/completions', '{"model":"m","messages":{}}', 'messages', "Invalid request body for POST /chat/completions at 'messages': expected array"],
    ['chat/completions', '{"model":"","messages":[]}', 'model', "Invalid request body for POST /chat/completions at 'model': must not be empty"],
    ['chat/completions', '{"model":"m","messages":[],"stream":"yes"}', 'stream', "Invalid request body for POST /chat/completions at 'stream': expected boolean"],
    ['completions', '{"model":7,"prompt":"x"}', 'model', "Invalid request body for POST /completions at 'model': expected string"],
    ['responses', '"hi"', null, 'Invalid request body for POST /responses: expected object'],
  ] as const)('%s refuses %s (param %s)', (route, text, param, message) => {
    expect(rejectionOf(() => parseRequestBody(route, text))).toMatchObject({
      status: 400,
      code: 'invalid_request_body',
      param,
      message,
    });
  });

  test('invalid JSON is a 400 saying so', () => {
    const rejection = rejectionOf(() => parseRequestBody('responses', '{"model":'));
    expect(rejection).toMatchObject({ status: 400, code: 'invalid_json' });
    expect(rejection.message).toMatch(/^The request body is not valid JSON: /);
  });
});
