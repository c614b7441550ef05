import { startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { rawRequest } from '../relay/relayHelpers';
import { cliEnv, killLeftovers, listeningUrl, startCli } from './cliProcess';

// `openai-rx relay --cors <origin>` as a real process: the relay answers preflights itself and labels its answers.

const APP = 'https://app.example';

let upstream: MockUpstream;

beforeEach(async () => {
  upstream = await startMockUpstream({ tokenDelayMs: 0 });
});

afterEach(async () => {
  killLeftovers();
  await upstream.close();
});

async function startRelay(): Promise<string> {
  const relay = startCli(['relay', '--port', '0', '--upstream', upstream.baseURL, '--cors', APP], cliEnv({ OPENAI_API_KEY: 'sk-cors-spec' }));
  await relay.waitFor((stdout) => stdout.includes('listening on'), 'the relay to listen');
  return `${listeningUrl(relay.stdout().toString())}/v1/chat/completions`;
}

const preflight = (origin: string) => ({
  method: 'OPTIONS',
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
});

test('a preflight from the allowed origin: 204 with the CORS headers, answered without contacting upstream', async () => {
  const url = await startRelay();
  const response = await rawRequest(url, preflight(APP));
  expect(response.status).toBe(204);
  expect(response.headers).toMatchObject({
    'access-control-allow-origin': APP,
    'access-control-allow-methods': expect.stringContaining('POST'),
    'access-control-allow-headers': 'authorization, content-type',
    vary: 'Origin, Access-Control-Request-Headers',
  });
  expect(upstream.requests).toHaveLength(0);
});

test('a preflight from another origin: 403 in OpenAI format, no CORS headers', async () => {
  const url = await startRelay();
  const response = await rawRequest(url, preflight('https://evil.example'));
  expect(response.status).toBe(403);
  expect(response.json()).toMatchObject({ error: { code: 'origin_not_allowed' } });
  expect(response.headers['access-control-allow-origin']).toBeUndefined();
  expect(upstream.requests).toHaveLength(0);
});

test('a streamed POST from the allowed origin gets access-control-allow-origin and the exposed headers', async () => {
  const url = await startRelay();
  const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Hi [[mock:text=Across origins.]]' }] });
  const response = await rawRequest(url, { body, headers: { origin: APP } });
  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
  expect(response.headers['access-control-allow-origin']).toBe(APP);
  expect(String(response.headers['access-control-expose-headers']).split(', ')).toEqual(expect.arrayContaining(['x-request-id', 'x-stream-id']));
  expect(response.text).toContain('data: [DONE]');
});
