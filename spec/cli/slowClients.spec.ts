import { performance } from 'node:perf_hooks';
import { startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { rawRequest } from '../relay/relayHelpers';
import { cliEnv, killLeftovers, listeningUrl, startCli, type CliProcess } from './cliProcess';
import { openSocket, readUntilClosed, statusOf } from './rawSocket';

// Slowloris against `openai-rx relay`: clients that send their request a byte at a time are cut off; streams are not.

const HEADERS_TIMEOUT_MS = 300;
const REQUEST_TIMEOUT_MS = 600;
const SLOW_CLIENTS = 100;
/** A byte every this long: far too slow to finish the request before the limits. */
const DRIP_MS = 25;

let upstream: MockUpstream;

beforeAll(async () => {
  upstream = await startMockUpstream({ tokenDelayMs: 5 });
});

afterEach(() => killLeftovers());

afterAll(() => upstream.close());

async function startRelay(): Promise<{ relay: CliProcess; url: string }> {
  const relay = startCli([
    'relay', '--port', '0', '--upstream', upstream.baseURL,
    '--headers-timeout', String(HEADERS_TIMEOUT_MS), '--request-timeout', String(REQUEST_TIMEOUT_MS),
  ], cliEnv({ OPENAI_API_KEY: 'sk-slow-spec' }));
  await relay.waitFor((stdout) => stdout.includes('listening on'), 'the relay to listen');
  return { relay, url: listeningUrl(relay.stdout().toString()) };
}

/**
 * Writes `request` one byte every {@link DRIP_MS} until the server closes the
 * connection or the bytes run out (the loop is bounded by the request's length).
 * Resolves with the server's answer and how many bytes were never sent.
 */
async function drip(url: string, request: string, alreadySent = ''): Promise<{ answer: string; unsent: number }> {
  const socket = await openSocket(url);
  const answer = readUntilClosed(socket, 20_000);
  socket.write(alreadySent);
  let sent = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || sent === request.length) clearInterval(timer);
    else socket.write(request[sent++]);
  }, DRIP_MS);
  try {
    return { answer: await answer, unsent: request.length - sent };
  } finally {
    clearInterval(timer);
  }
}

const streamBody = (content: string) => JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content }] });

test(`${SLOW_CLIENTS} clients sending their headers a byte at a time are all answered 408 and closed; the relay goes on serving`, async () => {
  const { relay, url } = await startRelay();
  const headers = `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(400)}\r\n\r\n`;

  const slow = await Promise.all(Array.from({ length: SLOW_CLIENTS }, () => drip(url, headers)));

  for (const { answer, unsent } of slow) {
    expect(statusOf(answer)).toBe(408);
    // Closed by the server long before the client would have finished its headers.
    expect(unsent).toBeGreaterThan(headers.length / 2);
  }
  const served = await rawRequest(`${url}/v1/chat/completions`, { body: streamBody('Hi [[mock:text=Still here.]]') });
  expect(served.status).toBe(200);
  expect(served.text.endsWith('data: [DONE]\n\n')).toBe(true);
  expect(relay.child.exitCode).toBeNull();
});

test('a body sent a byte at a time is cut off by the request timeout', async () => {
  const { url } = await startRelay();
  const body = streamBody('Hi');
  const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;

  const { answer, unsent } = await drip(url, body, head);

  expect(statusOf(answer)).toBe(408);
  expect(unsent).toBeGreaterThan(0);
});

test('a stream that lasts several request timeouts still completes: the limit covers the request, not the response', async () => {
  const { url } = await startRelay();
  const started = performance.now();
  const stream = await rawRequest(`${url}/v1/chat/completions`, { body: streamBody('Go [[mock:tokens=40]] [[mock:delay=40]]') });
  const elapsed = performance.now() - started;

  expect(elapsed).toBeGreaterThan(2 * REQUEST_TIMEOUT_MS);
  expect(stream.status).toBe(200);
  expect(stream.text.endsWith('data: [DONE]\n\n')).toBe(true);
  expect(stream.text).toContain('"finish_reason":"stop"');
  expect(upstream.requests.at(-1)?.state).toBe('completed');
});
