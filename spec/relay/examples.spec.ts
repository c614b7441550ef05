import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { expectUnsupportedMethodsAnswered, openSocket } from '../cli/rawSocket';
import { watchChanges, watchedList } from '../helpers/changes';
import { chatData, sseHead, startServer, type TestServer } from '../helpers/server';
import { CHAT_BODY, CHAT_STREAM_PARTS, chatProvider, openStream, rawRequest } from './relayHelpers';

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

interface RunningExample {
  url: string;
  /** Its stdout and stderr so far. */
  output(): string;
  /** Resolves once `condition` holds, checked again whenever the example writes. */
  until(condition: () => boolean, what: string, timeoutMs?: number): Promise<void>;
}

/** Starts an example and resolves with the relay URL it prints, once it prints it. */
async function runExample(file: string, env: Record<string, string> = {}): Promise<RunningExample> {
  const started = spawn(process.execPath, ['--import', 'tsx', join('examples', file)], {
    cwd: ROOT,
    env: { ...process.env, OPENAI_API_KEY: KEY, OPENAI_BASE_URL: upstream.url, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = started;
  let output = '';
  const changes = watchChanges();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    changes.changed();
  };
  started.stdout?.on('data', append);
  started.stderr?.on('data', append);
  started.on('exit', changes.changed);
  await changes.until(() => /listening on (http:\S+)/.test(output) || started.exitCode !== null, `${file} to start listening`, 15_000);
  const url = /listening on (http:\S+)/.exec(output)?.[1];
  if (!url) throw new Error(`${file} did not start: ${output}`);
  return { url, output: () => output, until: changes.until };
}

const MODEL_BODY = { ...CHAT_BODY, model: 'gpt-4o-mini' };

describe.each(['node-http-relay.ts', 'express-relay.ts', 'fetch-relay.ts'])('examples/%s', (file) => {
  test('relays a stream byte for byte, refuses a wrong method, and aborts upstream when the client leaves', async () => {
    const { url, output, until } = await runExample(file);

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

    await until(() => output().includes('"outcome":"client-closed"'), 'the audit line of the aborted request');
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
  test.each([2, 300])('a client that pipelined %i streams and left aborts every upstream request', async (count) => {
    // Each stream gets one token, then upstream holds it open: only an abort ends it.
    const firstTokens = watchedList<'sent'>();
    const ends = watchedList<'aborted' | 'completed'>();
    const stalling = await startServer((_req, res) => {
      sseHead(res);
      res.write(chatData('Go'), () => firstTokens.push('sent'));
      res.on('close', () => ends.push(res.writableEnded ? 'completed' : 'aborted'));
    });
    try {
      const { url, output, until } = await runExample('fetch-relay.ts', { OPENAI_BASE_URL: stalling.url });
      const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Go' }] });
      const { host } = new URL(url);
      const request = `POST /v1/chat/completions HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      const socket = await openSocket(url);
      socket.on('error', () => undefined);
      socket.write(request.repeat(count));

      await firstTokens.reaches(count, `the first token of ${count} upstream streams`, 20_000);
      expect(stalling.requests).toHaveLength(count);
      expect(stalling.openRequestSockets()).toBe(count);
      socket.destroy();

      await ends.reaches(count, `${count} upstream responses to close`, 10_000);
      expect(ends).toEqual(Array(count).fill('aborted'));
      await stalling.until(() => stalling.openSockets() === 0, 'every upstream socket to close', 10_000);
      await until(() => (output().match(/"outcome":"client-closed"/g) ?? []).length === count, `${count} client-closed audit lines`, 10_000);
      expect(child?.exitCode).toBeNull();
    } finally {
      await stalling.close();
    }
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
