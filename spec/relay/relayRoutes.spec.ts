import { RelayRejection } from '../../src/index.node';
import { matchRoute, normalizePrefix, parseRequestBody, routeTable, servesPath, type RouteSpec } from '../../src/relay/relayRoutes';

function rejectionOf(run: () => unknown): RelayRejection {
  try {
    run();
  } catch (error) {
    if (error instanceof RelayRejection) return error;
    throw error;
  }
  throw new Error('expected a RelayRejection');
}

const ROUTES = routeTable();
const route = (name: string): RouteSpec => {
  const spec = ROUTES.find((each) => each.name === name);
  if (!spec) throw new Error(`no route ${name}`);
  return spec;
};

describe('matchRoute', () => {
  test.each([
    ['POST', '/v1/chat/completions', 'chat/completions', '/chat/completions'],
    ['POST', '/v1/completions', 'completions', '/completions'],
    ['POST', '/v1/responses', 'responses', '/responses'],
    ['POST', '/v1/responses/', 'responses', '/responses'],
    ['GET', '/v1/models', 'models', '/models'],
    ['GET', '/v1/models/gpt-4o-mini', 'models/{model}', '/models/gpt-4o-mini'],
    ['GET', '/v1/models/ft%3Agpt-4o%3Aorg%3A123', 'models/{model}', '/models/ft%3Agpt-4o%3Aorg%3A123'],
    ['GET', '/v1/models/meta-llama/Llama-3-8b', 'models/{model}', '/models/meta-llama/Llama-3-8b'],
    ['GET', '/v1/models/meta-llama%2FLlama-3-8b', 'models/{model}', '/models/meta-llama/Llama-3-8b'],
  ])('%s %s → %s, upstream %s', (method, path, name, upstreamPath) => {
    const matched = matchRoute(ROUTES, '/v1', method, path);
    expect([matched.spec.name, matched.target]).toEqual([name, upstreamPath]);
  });

  test('an unknown path is a 404 that lists the routes served', () => {
    const rejection = rejectionOf(() => matchRoute(ROUTES, '/v1', 'POST', '/v1/embeddings'));
    expect(rejection).toMatchObject({ status: 404, code: 'unknown_url', type: 'invalid_request_error' });
    expect(rejection.message).toBe(
      'Unknown route POST /v1/embeddings; this relay serves POST /v1/chat/completions, POST /v1/completions, POST /v1/responses, GET /v1/models, GET /v1/models/{model}.',
    );
  });

  test('a known path with another method is a 405 with Allow', () => {
    expect(rejectionOf(() => matchRoute(ROUTES, '/v1', 'GET', '/v1/chat/completions'))).toMatchObject({
      status: 405,
      code: 'method_not_allowed',
      headers: { allow: 'POST' },
    });
    expect(rejectionOf(() => matchRoute(ROUTES, '/v1', 'DELETE', '/v1/models/x'))).toMatchObject({ status: 405, headers: { allow: 'GET' } });
  });

  test('a model id: no dot segment, empty segment, control character, huge id or broken encoding', () => {
    for (const path of ['/v1/models/a/../b', '/v1/models/..', '/v1/models/a%2F..%2Fb', '/v1/models/a//b', '/v1/models/%0a', `/v1/models/${'x'.repeat(257)}`, '/v1/models/%E0%A4%A', '/v1/models/%2Fa']) {
      expect(rejectionOf(() => matchRoute(ROUTES, '/v1', 'GET', path))).toMatchObject({ status: 404 });
    }
  });

  test('opt-in JSON routes, and the model routes turned off', () => {
    const routes = routeTable({ models: false, json: ['embeddings', 'images/generations'] });
    expect(matchRoute(routes, '/v1', 'POST', '/v1/embeddings').target).toBe('/embeddings');
    expect(matchRoute(routes, '/v1', 'POST', '/v1/images/generations').target).toBe('/images/generations');
    expect(rejectionOf(() => matchRoute(routes, '/v1', 'GET', '/v1/models'))).toMatchObject({ status: 404 });
    for (const name of ['../x', 'Embeddings', 'chat/completions', 'models', '']) expect(() => routeTable({ json: [name] })).toThrow(/routes.json/);
  });

  test('servesPath and normalizePrefix: prefixes with and without slashes, and the empty prefix', () => {
    expect(['/v1', 'v1/', '/v1//'].map(normalizePrefix)).toEqual(['/v1', '/v1', '/v1']);
    expect(['/', ''].map(normalizePrefix)).toEqual(['', '']);
    expect(servesPath(ROUTES, '', '/chat/completions')).toBe(true);
    expect(servesPath(ROUTES, '/api/v1', '/api/v1/completions')).toBe(true);
    expect(servesPath(ROUTES, '/v1', '/v1chat/completions')).toBe(false);
    expect(servesPath(ROUTES, '/v1', '/v2/chat/completions')).toBe(false);
  });
});

describe('parseRequestBody', () => {
  test('keeps every field it does not know', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true, seed: 1, extra_body: { a: 1 } };
    expect(parseRequestBody(route('chat/completions'), JSON.stringify(body))).toEqual(body);
  });

  test.each([
    ['chat/completions', { model: 'm', messages: [] }],
    ['chat/completions', { model: 'm', messages: [], stream: null }],
    ['completions', { model: 'm', prompt: 'Say' }],
    ['completions', { model: 'm', prompt: [[1, 2, 3]] }],
    ['responses', { model: 'm', input: 'hi' }],
    ['responses', { model: 'm', input: [{ role: 'user', content: 'hi' }] }],
    ['responses', { model: 'm', previous_response_id: 'resp_1' }],
  ] as const)('%s accepts %j', (name, body) => {
    expect(parseRequestBody(route(name), JSON.stringify(body))).toEqual(body);
  });

  test.each([
    ['chat/completions', '{"model":"m","messages":{}}', 'messages', "Invalid request body for POST /chat/completions at 'messages': expected array"],
    ['chat/completions', '{"model":"","messages":[]}', 'model', "Invalid request body for POST /chat/completions at 'model': expected a non-empty string"],
    ['chat/completions', '{"model":"m","messages":[],"stream":"yes"}', 'stream', "Invalid request body for POST /chat/completions at 'stream': expected boolean"],
    ['completions', '{"model":7,"prompt":"x"}', 'model', "Invalid request body for POST /completions at 'model': expected a non-empty string"],
    ['completions', '{"model":"m","prompt":7}', 'prompt', "Invalid request body for POST /completions at 'prompt': expected a string or an array"],
    ['responses', '{"model":"m","input":{}}', 'input', "Invalid request body for POST /responses at 'input': expected a string or an array"],
    ['responses', '"hi"', null, 'Invalid request body for POST /responses: expected object'],
  ] as const)('%s refuses %s (param %s)', (name, text, param, message) => {
    expect(rejectionOf(() => parseRequestBody(route(name), text))).toMatchObject({
      status: 400,
      code: 'invalid_request_body',
      param,
      message,
    });
  });

  test('invalid JSON is a 400 saying so', () => {
    const rejection = rejectionOf(() => parseRequestBody(route('responses'), '{"model":'));
    expect(rejection).toMatchObject({ status: 400, code: 'invalid_json' });
    expect(rejection.message).toMatch(/^The request body is not valid JSON: /);
  });
});
