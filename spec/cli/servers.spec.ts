import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { lastValueFrom, toArray } from 'rxjs';
import { contentDeltas, createClient } from '../../src/index.node';
import { startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { cliEnv, killLeftovers, listeningUrl, runCli, startCli } from './cliProcess';
import { expectUnsupportedMethodsAnswered } from './rawSocket';

// `openai-rx relay` and `openai-rx mock` as real server processes; `--help` of every command.

const KEY = 'sk-relay-spec-secret-51d0';

let upstream: MockUpstream;

beforeAll(async () => {
  upstream = await startMockUpstream({ apiKey: KEY, tokenDelayMs: 5 });
});

afterEach(() => killLeftovers());

afterAll(() => upstream.close());

const collect = (baseURL: string, content: string) =>
  lastValueFrom(
    createClient({ baseURL, apiKey: 'sk-browser-has-none' })
      .chat.completions.stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] })
      .pipe(contentDeltas(), toArray()),
  );

test('relay: streams through to the upstream with its own key, logs each request, and SIGTERM closes open streams', async () => {
  const relay = startCli(['relay', '--port', '0', '--upstream', upstream.baseURL], cliEnv({ OPENAI_API_KEY: KEY }));
  await relay.waitFor((stdout) => stdout.includes('listening on'), 'the relay to listen');
  const url = listeningUrl(relay.stdout().toString());
  expect(relay.stdout().toString()).toBe(`openai-rx relay listening on ${url}/v1 → upstream ${upstream.baseURL} (API key from OPENAI_API_KEY)\n`);

  const deltas = await collect(`${url}/v1`, 'Hi [[mock:text=Relayed by the CLI.]]');
  expect(deltas.join('')).toBe('Relayed by the CLI.');
  await relay.waitFor((_, stderr) => stderr.includes('200 completed'), 'the log line');
  expect(relay.stderr()).toMatch(/^POST \/v1\/chat\/completions · gpt-4o-mini · 200 completed · \d+ frames · \d+ ms · req_mock_\d+$/m);

  // A stream the upstream holds open; stopping the relay must end it on both sides.
  const stalled = createClient({ baseURL: `${url}/v1` })
    .chat.completions.stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Go [[mock:stall=2]]' }] })
    .pipe(contentDeltas(), toArray());
  const ended = lastValueFrom(stalled).then(
    () => 'completed',
    (error: Error) => error.name,
  );
  await upstream.waitFor(() => upstream.requests.some((request) => request.prompt === 'Go [[mock:stall=2]]' && request.tokensSent === 2), 10_000);
  const request = upstream.requests.find((candidate) => candidate.prompt === 'Go [[mock:stall=2]]')!;

  relay.child.kill('SIGTERM');
  const result = await relay.exited();

  expect(result.code).toBe(0);
  expect(result.stderr).toMatch(/SIGTERM: shutting down, closing 1 open request\n(.*\n)*stopped\n$/);
  expect(await ended).toBe('APIConnectionError');
  await upstream.waitFor(() => request.state === 'aborted', 5000);
  expect(result.stdout.toString() + result.stderr).not.toContain(KEY);
});

test('relay: TRACE, TRACK and CONNECT each get an HTTP answer, and the relay goes on serving', async () => {
  const relay = startCli(['relay', '--port', '0', '--upstream', upstream.baseURL], cliEnv({ OPENAI_API_KEY: KEY }));
  await relay.waitFor((stdout) => stdout.includes('listening on'), 'the relay to listen');
  const url = listeningUrl(relay.stdout().toString());

  // node's parser answers TRACK (a method it does not know) with 400 by itself.
  expect(await expectUnsupportedMethodsAnswered(url)).toEqual({ TRACE: 405, TRACK: 400, CONNECT: 405 });

  expect((await collect(`${url}/v1`, 'Hi [[mock:text=Still serving.]]')).join('')).toBe('Still serving.');
  expect(relay.child.exitCode).toBeNull();
});

test('mock: serves the simulated model until Ctrl-C', async () => {
  const mock = startCli(['mock', '--port', '0', '--delay', '1']);
  await mock.waitFor((stdout) => stdout.includes('listening on'), 'the mock to listen');
  const url = listeningUrl(mock.stdout().toString());
  expect(mock.stdout().toString()).toBe(`openai-rx mock upstream listening on ${url}/v1\n`);

  const deltas = await collect(`${url}/v1`, 'Hi [[mock:text=From the mock command.]]');
  expect(deltas.join('')).toBe('From the mock command.');

  mock.child.kill('SIGINT');
  const result = await mock.exited();
  expect(result.code).toBe(0);
  expect(result.stderr).toMatch(/SIGINT: shutting down\nstopped\n$/);
});

test('mock --api-key: requests without the key get 401', async () => {
  const mock = startCli(['mock', '--port', '0', '--api-key', KEY]);
  await mock.waitFor((stdout) => stdout.includes('listening on'), 'the mock to listen');
  const url = listeningUrl(mock.stdout().toString());

  const refused = await lastValueFrom(
    createClient({ baseURL: `${url}/v1`, apiKey: 'sk-wrong' }).chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
  ).catch((error: { status?: number }) => error.status);
  expect(refused).toBe(401);
  mock.child.kill('SIGTERM');
  expect((await mock.exited()).code).toBe(0);
});

test('a port in use: one line and exit code 8', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const { port } = blocker.address() as AddressInfo;
  try {
    const relay = await runCli(['relay', '--port', String(port), '--upstream', upstream.baseURL]);
    const mock = await runCli(['mock', '--port', String(port)]);
    for (const result of [relay, mock]) {
      expect(result.code).toBe(8);
      expect(result.stderr).toBe(`openai-rx: cannot listen on 127.0.0.1:${port}: the address is in use (EADDRINUSE); pick another --port\n`);
    }
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

test('relay without a key for OpenAI: one line that offers what relay takes (--upstream), not --mock', async () => {
  const result = await runCli(['relay', '--port', '0']);

  expect(result.code).toBe(2);
  expect(result.stderr).toBe(
    'openai-rx: no API key for https://api.openai.com/v1: set OPENAI_API_KEY, pass --api-key, or relay to an upstream that needs none ' +
      '(--upstream URL; openai-rx mock runs one on port 8788)\nRun with --help for usage.\n',
  );
});

test('relay checks every flag before the key: a bad --port is reported as such, with or without a key', async () => {
  const withoutKey = await runCli(['relay', '--port', 'abc']);
  const withKey = await runCli(['relay', '--port', '-1'], cliEnv({ OPENAI_API_KEY: KEY }));
  const metrics = await runCli(['relay', '--port', '0', '--metrics-port', '70000']);

  expect([withoutKey.code, withKey.code, metrics.code]).toEqual([2, 2, 2]);
  expect(withoutKey.stderr).toBe("openai-rx: --port takes a port number from 0 to 65535, not 'abc'\nRun with --help for usage.\n");
  expect(withKey.stderr).toBe("openai-rx: --port takes a port number from 0 to 65535, not '-1'\nRun with --help for usage.\n");
  expect(metrics.stderr).toMatch(/^openai-rx: --metrics-port takes a port number from 0 to 65535, not '70000'\n/);
});

test('relay with a key that ends in a newline does not start: one line naming OPENAI_API_KEY, never the key', async () => {
  const result = await runCli(['relay', '--port', '0', '--upstream', upstream.baseURL], cliEnv({ OPENAI_API_KEY: `${KEY}\n` }));

  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/^openai-rx: the API key from OPENAI_API_KEY contains a line break or a NUL character, which no HTTP header can carry/);
  expect(result.stdout.toString()).toBe('');
  expect(result.stderr).not.toContain(KEY);
});

test.each(['chat', 'relay', 'mock', 'demo'])('%s --help prints its usage and exits 0', async (command) => {
  const result = await runCli([command, '--help']);
  expect(result.code).toBe(0);
  expect(result.stdout.toString()).toMatch(new RegExp(`^Usage: openai-rx ${command} `));
  expect(result.stderr).toBe('');
});

test('openai-rx --help lists the commands; no command or an unknown one is a usage error', async () => {
  const help = await runCli(['--help']);
  const none = await runCli([]);
  const unknown = await runCli(['serve']);
  expect(help.code).toBe(0);
  expect(help.stdout.toString()).toMatch(/Commands:\n {2}chat "prompt".*\n {2}relay .*\n {2}mock .*\n {2}demo /);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('Usage: openai-rx <command> [options]');
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toBe("openai-rx: unknown command 'serve' (commands: chat, relay, mock, demo)\nRun with --help for usage.\n");
});
