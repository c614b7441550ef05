import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { expectUnsupportedMethodsAnswered, openSocket } from '../cli/rawSocket';
import { startServer, type TestServer } from '../helpers/server';
import { CHAT_BODY, CHAT_STREAM_PARTS, chatProvider, eventually, openStream, rawRequest } from './relayHelpers';

/* Each example runs as its users would run it (`node --import tsx examples/…`), on port 0, against a local provider. */

const KEY = 'sk-example-secret-0123456789';
const ROOT = join(__dirname, '..', '..');

let upstream: TestServer;
let child: ChildProcess | undefined;

beforeEach(async () => {
  upstream = await startServer(chatProvider({ 'x-request-id': 'req_example' }));
});

afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  child = undefined;
  await upstream.close();
});

/** Starts an example and resolves with the relay URL it prints, plus its output so far. */
async function runExample(file: string, env: Record<string, string> = {}): Promise<{ url: string; output: () => string }> {
  const started = spawn(process.execPath, ['--import', 'tsx', join('examples', file)], {
    cwd: ROOT,
    env: { ...process.env, OPENAI_API_KEY: KEY, OPENAI_BASE_URL: upstream.url, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = started;
  let output = '';
  started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await eventually(
    () => /listening on (http:\S+)/.test(output) || started.exitCode !== null,
    `${file} to start listening`,
    15_000,
  );
  const url = /listening on (http:\S+)/.exec(output)?.[1];
  if (!url) throw new Error(`${file} did not start: ${output}`);
  return { url, output: () => output };
}

const MODEL_BODY = { ...CHAT_BODY, model: 'gpt-4o-mini' };

describe.each(['node-http-relay.ts', 'express-relay.ts', 'fetch-relay.ts'])('examples/%s', (file) => {
  test('relays a stream byte for byte, refuses a wrong method, and aborts upstream when the client leaves', async () => {
    const { url, output } = await runExample(file);

    const response = await rawRequest(`${url}/chat/completions`, { body: JSON.stringify(MODEL_BODY) });
    expect(response.status).toBe(200);
    expect(response.text).toBe(CHAT_STREAM_PARTS.join(''));
    expect(response.headers['x-request-id']).toBe('req_example');
    expect(upstream.requests[0].headers.authorization).toBe(`Bearer ${KEY}`);

    const refused = await rawRequest(`${url}/chat/completions`, { method: 'GET' });
    expect(refused.status).toBe(405);

    const stream = await openStream(`${url}/chat/completions`, { ...MODEL_BODY, model: 'gpt-4o-hang' });
    await stream.waitFor('Hel');
    const closedBefore = upstream.closedSockets();
    stream.abort();
    await upstream.waitForClosedSockets(closedBefore + 1);

    await eventually(() => output().includes('"outcome":"client-closed"'), 'the audit line of the aborted request');
    expect(output()).toContain('"outcome":"completed"');
    expect(output()).toContain('"total_tokens":8');
    expect(output()).not.toContain(KEY);
  });

  test('TRACE, TRACK and CONNECT each get an HTTP answer, and the example goes on serving', async () => {
    const { url } = await runExample(file);
    // node's parser answers TRACK (a method it does not know) with 400 by itself.
    expect(await expectUnsupportedMethodsAnswered(url)).toEqual({ TRACE: 405, TRACK: 400, CONNECT: 405 });
    const response = await rawRequest(`${url}/chat/completions`, { body: JSON.stringify(MODEL_BODY) });
    expect(response.text).toBe(CHAT_STREAM_PARTS.join(''));
    expect(child?.exitCode).toBeNull();
  });
});

describe('examples/fetch-relay.ts with pipelined requests', () => {
  let mock: MockUpstream;

  beforeEach(async () => {
    mock = await startMockUpstream({ tokenDelayMs: 1 });
  });

  afterEach(() => mock.close());

  test.each([2, 300])('a client that pipelined %i streams and left aborts every upstream request', async (count) => {
    const { url, output } = await runExample('fetch-relay.ts', { OPENAI_BASE_URL: mock.baseURL });
    // Each stream sends one token and then holds the upstream connection open: only an abort ends it.
    const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Go [[mock:stall=1]]' }] });
    const { host } = new URL(url);
    const request = `POST /v1/chat/completions HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const socket = await openSocket(url);
    socket.on('error', () => undefined);
    socket.write(request.repeat(count));

    await mock.waitFor(() => mock.requests.length === count && mock.requests.every((upstreamRequest) => upstreamRequest.tokensSent === 1), 20_000);
    expect(mock.openConnections()).toBe(count);
    socket.destroy();

    await mock.waitFor(() => mock.openConnections() === 0, 10_000);
    expect(mock.requests.map((upstreamRequest) => upstreamRequest.state)).toEqual(Array(count).fill('aborted'));
    await eventually(() => (output().match(/"outcome":"client-closed"/g) ?? []).length === count, `${count} client-closed audit lines`, 10_000);
    expect(child?.exitCode).toBeNull();
  });
});

test('examples/express-relay.ts: the client token guards the relay, other routes still work', async () => {
  const { url } = await runExample('express-relay.ts', { RELAY_CLIENT_TOKEN: 'let-me-in' });
  const origin = url.replace(/\/v1$/, '');
  expect((await rawRequest(`${url}/chat/completions`, { body: JSON.stringify(MODEL_BODY) })).status).toBe(401);
  const allowed = await rawRequest(`${url}/chat/completions`, {
    body: JSON.stringify(MODEL_BODY),
    headers: { authorization: 'Bearer let-me-in' },
  });
  expect(allowed.text).toBe(CHAT_STREAM_PARTS.join(''));
  expect(upstream.requests[0].headers.authorization).toBe(`Bearer ${KEY}`);
  expect((await rawRequest(`${origin}/healthz`, { method: 'GET' })).json()).toEqual({ ok: true });
  expect((await rawRequest(`${origin}/echo`, { body: '{"a":1}' })).json()).toEqual({ a: 1 });
  const refused = await rawRequest(`${url}/chat/completions`, {
    body: JSON.stringify({ ...MODEL_BODY, model: 'o3-pro' }),
    headers: { authorization: 'Bearer let-me-in' },
  });
  expect(refused.status).toBe(403);
});
