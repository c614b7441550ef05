import OpenAI, { NotFoundError } from 'openai';
import type { RelayOptions } from '../../src/index.node';
import type { Handler } from '../helpers/server';
import { bothRelays } from './bothRelays';
import { relayFixture } from './relayFixture';
import { rawRequest } from './relayHelpers';

/*
 * The JSON routes beside the generation routes: the model list and a model
 * (on by default: SDKs and tools list models first) and opt-in JSON routes
 * such as embeddings. The official SDK through the relay gets what it gets
 * from the provider; the relay's key stays on the relay.
 */

const KEY = 'sk-relay-secret-0123456789';

const model = (id: string) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'openai' });
const MODELS = { object: 'list', data: [model('gpt-4o-mini'), model('gpt-4.1'), model('text-embedding-3-small')] };
const VECTORS = [
  [0.25, -0.5, 1],
  [0.125, 2, -4],
];

/** A provider of models and embeddings that refuses any key but the relay's and echoes it where providers do. */
const provider: Handler = (req, res, recorded) => {
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req-${KEY}` });
    res.end(JSON.stringify(body));
  };
  if (req.headers.authorization !== `Bearer ${KEY}`) {
    return json(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
  }
  if (recorded.method === 'GET' && recorded.url === '/models') return json(200, MODELS);
  const found = MODELS.data.find((each) => recorded.url === `/models/${each.id}`);
  if (recorded.method === 'GET' && found) return json(200, found);
  if (recorded.method === 'GET' && recorded.url.startsWith('/models/')) {
    const message = `The model does not exist or you do not have access to it (key ${KEY}).`;
    return json(404, { error: { message, type: 'invalid_request_error', param: null, code: 'model_not_found' } });
  }
  if (recorded.method === 'POST' && recorded.url === '/embeddings') {
    const { encoding_format: format, model: name } = JSON.parse(recorded.body) as { encoding_format?: string; model: string };
    const encode = (vector: number[]) => (format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector);
    return json(200, {
      object: 'list',
      data: VECTORS.map((vector, index) => ({ object: 'embedding', index, embedding: encode(vector) })),
      model: name,
      usage: { prompt_tokens: 4, total_tokens: 4 },
    });
  }
  return json(404, { error: { message: 'Unknown route', type: 'invalid_request_error', param: null, code: null } });
};

async function listed(client: OpenAI): Promise<unknown[]> {
  const models: unknown[] = [];
  for await (const each of client.models.list()) models.push(each);
  return models;
}

async function thrown(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe.each(bothRelays)('$name', (kind) => {
  const fixture = relayFixture(kind, KEY);

  async function start(options: RelayOptions<unknown> = {}) {
    const { upstream, relay } = await fixture.start(provider, options);
    return {
      upstream,
      url: `${relay.url}/v1`,
      viaRelay: new OpenAI({ apiKey: 'sk-browser-has-no-key', baseURL: `${relay.url}/v1`, maxRetries: 0 }),
      direct: new OpenAI({ apiKey: KEY, baseURL: upstream.url, maxRetries: 0 }),
    };
  }

  test('models.list() and models.retrieve() give what they give directly', async () => {
    const { upstream, viaRelay, direct } = await start();
    const models = await listed(viaRelay);
    expect(models).toEqual(await listed(direct));
    expect(models).toEqual(MODELS.data);
    const one = await viaRelay.models.retrieve('gpt-4o-mini');
    expect(one).toEqual(await direct.models.retrieve('gpt-4o-mini'));
    expect(one).toEqual(model('gpt-4o-mini'));
    expect(upstream.requests.map((request) => `${request.method} ${request.url} ${request.headers.authorization}`)).toEqual([
      `GET /models Bearer ${KEY}`,
      `GET /models Bearer ${KEY}`,
      `GET /models/gpt-4o-mini Bearer ${KEY}`,
      `GET /models/gpt-4o-mini Bearer ${KEY}`,
    ]);
    expect((await fixture.settled(2)).map(({ outcome, route, status }) => ({ outcome, route, status }))).toEqual([
      { outcome: 'completed', route: 'models', status: 200 },
      { outcome: 'completed', route: 'models/{model}', status: 200 },
    ]);
  });

  test('the API key never reaches the client: not in answers, headers or error bodies that upstream fills with it', async () => {
    const { url, viaRelay } = await start();
    const answers = await Promise.all([
      rawRequest(`${url}/models`, { method: 'GET' }),
      rawRequest(`${url}/models/gpt-4o-mini`, { method: 'GET' }),
      rawRequest(`${url}/models/no-such-model`, { method: 'GET' }),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 404]);
    for (const answer of answers) {
      expect(answer.headers['x-request-id']).toBe('req-[redacted]');
      expect(JSON.stringify(answer.headers) + answer.text).not.toContain(KEY);
    }
    expect(answers[2].json()).toEqual({
      error: {
        message: 'The model does not exist or you do not have access to it (key [redacted]).',
        type: 'invalid_request_error',
        param: null,
        code: 'model_not_found',
      },
    });
    const missing = await thrown(viaRelay.models.retrieve('no-such-model'));
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(JSON.stringify(missing) + String(missing)).not.toContain(KEY);
  });

  test("with routes.json ['embeddings'], embeddings.create() gives what it gives directly, base64 and float", async () => {
    const { viaRelay, direct } = await start({ routes: { json: ['embeddings'] } });
    const params = { model: 'text-embedding-3-small', input: ['a', 'b'] };
    const decoded = await viaRelay.embeddings.create(params);
    expect(decoded).toEqual(await direct.embeddings.create(params));
    expect(decoded.data.map((each) => each.embedding)).toEqual(VECTORS);
    const floats = await viaRelay.embeddings.create({ ...params, encoding_format: 'float' });
    expect(floats).toEqual(await direct.embeddings.create({ ...params, encoding_format: 'float' }));
    expect((await fixture.settled(2)).map(({ outcome, route, usage }) => ({ outcome, route, usage }))).toEqual([
      { outcome: 'completed', route: 'embeddings', usage: { prompt_tokens: 4, total_tokens: 4 } },
      { outcome: 'completed', route: 'embeddings', usage: { prompt_tokens: 4, total_tokens: 4 } },
    ]);
  });

  test("without the opt-in, embeddings is a 404 in OpenAI's error format and upstream is not contacted", async () => {
    const { upstream, url, viaRelay } = await start();
    const answer = await rawRequest(`${url}/embeddings`, { body: JSON.stringify({ model: 'text-embedding-3-small', input: 'a' }) });
    expect(answer.status).toBe(404);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.json()).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'unknown_url' } });
    const error = await thrown(viaRelay.embeddings.create({ model: 'text-embedding-3-small', input: 'a' }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'unknown_url', type: 'invalid_request_error' });
    expect(upstream.openSockets() + upstream.closedSockets()).toBe(0);
  });

  test('with routes.models false, the model routes are a 404 and upstream is not contacted', async () => {
    const { upstream, url, viaRelay } = await start({ routes: { models: false } });
    for (const path of ['/models', '/models/gpt-4o-mini']) {
      const answer = await rawRequest(`${url}${path}`, { method: 'GET' });
      expect([path, answer.status]).toEqual([path, 404]);
      expect((answer.json() as { error: { code: string } }).error.code).toBe('unknown_url');
    }
    expect(await thrown(listed(viaRelay))).toBeInstanceOf(NotFoundError);
    expect(await thrown(viaRelay.models.retrieve('gpt-4o-mini'))).toMatchObject({ status: 404, code: 'unknown_url' });
    expect(upstream.openSockets() + upstream.closedSockets()).toBe(0);
    expect((await fixture.settled(4)).map((summary) => summary.outcome)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
  });
});
