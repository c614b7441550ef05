import { setTimeout as sleep } from 'node:timers/promises';
import { byteChunks, chatFrames, chatUsageChunk, sseComment, sseEvent, sseText, splitTokens, startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { startServer, sseHead, type TestServer } from '../helpers/server';
import { cliCommandLine, cliEnv, killLeftovers, runCli, startCli, startProcess } from './cliProcess';

// `openai-rx chat`, spawned as a real process against a local upstream on 127.0.0.1.

const KEY = 'sk-cli-spec-secret-7f3a9c';
const ANSWER = 'Cold observables send nothing until someone subscribes, and stop when they leave.';

let upstream: MockUpstream;
const servers: TestServer[] = [];

beforeAll(async () => {
  upstream = await startMockUpstream({ apiKey: KEY, tokenDelayMs: 5 });
});

afterEach(() => killLeftovers());

afterAll(async () => {
  await upstream.close();
  await Promise.all(servers.map((server) => server.close()));
});

const env = () => cliEnv({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: upstream.baseURL });
const lastRequest = () => upstream.requests[upstream.requests.length - 1];

async function scripted(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const server = await startServer(handler);
  servers.push(server);
  return server;
}

function expectNoSecretOrStack(...outputs: Array<string | Buffer>): void {
  for (const output of outputs) {
    expect(output.toString()).not.toContain(KEY);
    expect(output.toString()).not.toMatch(/\n\s+at .+:\d+:\d+/);
  }
}

test('streams the answer to stdout and ends with a stats line on stderr', async () => {
  const result = await runCli(['chat', `Explain [[mock:text=${ANSWER}]]`], env());

  expect(result.code).toBe(0);
  expect(result.stdout.toString()).toBe(`${ANSWER}\n`);
  const tokens = splitTokens(ANSWER).length;
  expect(result.stderr).toMatch(
    new RegExp(`^stats: first token \\d+ ms · ${tokens} tokens · [\\d.]+ tokens/s · total [\\d.]+ m?s · finish stop\\n$`),
  );
  expect(lastRequest()).toMatchObject({ path: '/v1/chat/completions', state: 'completed', prompt: `Explain [[mock:text=${ANSWER}]]` });
  expect(lastRequest().body).toMatchObject({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true } });
  expect(lastRequest().headers.authorization).toBe('Bearer [redacted]');
  expectNoSecretOrStack(result.stdout, result.stderr);
});

test('--model, --system and --base-url/--api-key reach the request', async () => {
  const result = await runCli(
    ['chat', '-m', 'gpt-test', '--system', 'Be brief.', '--base-url', upstream.baseURL, '--api-key', KEY, '-q', 'Hi [[mock:text=Brief.]]'],
    cliEnv(),
  );

  expect(result.code).toBe(0);
  expect(result.stdout.toString()).toBe('Brief.\n');
  expect(result.stderr).toBe('');
  expect(lastRequest().body).toMatchObject({
    model: 'gpt-test',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi [[mock:text=Brief.]]' },
    ],
  });
});

test('each delta reaches stdout as it arrives; SIGINT stops at once, prints partial stats, exits 130 and closes the upstream socket', async () => {
  const cli = startCli(['chat', `Go [[mock:text=${ANSWER}]] [[mock:stall=4]]`], env());
  const firstFour = splitTokens(ANSWER).slice(0, 4).join('');
  // The upstream holds the stream open after four tokens: they can only be on stdout if they were written as they came.
  await cli.waitFor((stdout) => stdout === firstFour, 'the first four tokens on stdout');
  const request = lastRequest();
  expect(request.state).toBe('open');
  const closedBefore = upstream.closedConnections();

  cli.child.kill('SIGINT');
  const result = await cli.exited();

  expect(result.code).toBe(130);
  expect(result.stdout.toString()).toBe(`${firstFour}\n`);
  expect(result.stderr).toMatch(/^stats: first token \d+ ms · ~4 tokens · .* · interrupted\n$/);
  await upstream.waitFor(() => request.state === 'aborted' && upstream.closedConnections() > closedBefore, 5000);
});

test('piped into `head -c 10`: exits cleanly (EPIPE handled) and aborts the upstream request', async () => {
  const requestsBefore = upstream.requests.length;
  const closedBefore = upstream.closedConnections();
  const cli = cliCommandLine(['chat', `Go [[mock:text=${ANSWER}]] [[mock:delay=10]] [[mock:stall=14]]`]);
  const shell = startProcess('sh', ['-c', `{ ${cli}; echo "cli-exit=$?" >&2; } | head -c 10`], env());

  // The upstream never ends this stream by itself (it stalls): the CLI must notice the closed pipe and leave.
  const result = await shell.exited(30_000);

  expect(result.code).toBe(0);
  expect(result.stdout.toString()).toBe(ANSWER.slice(0, 10));
  expect(result.stderr).toContain('cli-exit=0');
  expect(result.stderr).toMatch(/stats: .* · output closed/);
  expect(result.stderr).not.toMatch(/EPIPE|Error/);
  const request = upstream.requests[requestsBefore];
  await upstream.waitFor(() => request.state === 'aborted' && upstream.closedConnections() > closedBefore, 5000);
});

test('--raw writes the upstream bytes unchanged (comments, split UTF-8, usage, [DONE])', async () => {
  const wire = sseText([
    sseComment('OPENROUTER PROCESSING'),
    ...chatFrames({ content: ['Grüße', ' aus', ' 東京 ✓'], id: 'chatcmpl-raw', created: 1, model: 'm' }).slice(0, -1),
    sseEvent(chatUsageChunk({ prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 }, { id: 'chatcmpl-raw', created: 1, model: 'm' })),
    sseComment('keep-alive'),
    sseEvent('[DONE]'),
  ]);
  const server = await scripted(async (_req, res) => {
    sseHead(res, { 'x-request-id': 'req_raw' });
    // 7-byte pieces: lines, events and multi-byte characters split wherever the count falls.
    for (const piece of byteChunks(wire, 7)) {
      res.write(piece);
      await sleep(1);
    }
    res.end();
  });

  const result = await runCli(['chat', '--raw', '--base-url', `${server.url}/v1`, 'hi'], env());

  expect(result.code).toBe(0);
  expect(result.stdout.equals(Buffer.from(wire, 'utf8'))).toBe(true);
  expect(result.stderr).toMatch(/^stats: first token \d+ ms · 3 tokens · .* · finish stop\n$/);
});

test('--json prints each validated chunk as one JSON line', async () => {
  const result = await runCli(['chat', '--json', '-q', 'Hi [[mock:text=One two three]]'], env());

  expect(result.code).toBe(0);
  const lines = result.stdout.toString().trimEnd().split('\n');
  const chunks = lines.map((line) => JSON.parse(line));
  expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
  expect(chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('')).toBe('One two three');
  expect(chunks.at(-1).usage).toMatchObject({ completion_tokens: splitTokens('One two three').length });
});

test('--responses streams from the Responses API', async () => {
  const result = await runCli(['chat', '--responses', '-s', 'Be kind.', 'Hi [[mock:text=Via responses.]]'], env());

  expect(result.code).toBe(0);
  expect(result.stdout.toString()).toBe('Via responses.\n');
  expect(result.stderr).toMatch(/ · \d+ tokens · .* · finish completed\n$/);
  expect(lastRequest()).toMatchObject({ path: '/v1/responses', state: 'completed' });
  expect(lastRequest().body).toMatchObject({ instructions: 'Be kind.', input: 'Hi [[mock:text=Via responses.]]', stream: true });
});

test('--mock answers from the embedded mock without a key or network', async () => {
  const result = await runCli(['chat', '--mock', 'Hello [[mock:text=From the embedded mock.]] [[mock:delay=1]]'], cliEnv());

  expect(result.code).toBe(0);
  expect(result.stdout.toString()).toBe('From the embedded mock.\n');
  expect(result.stderr).toMatch(/finish stop\n$/);
});

test('an HTTP error prints one line (status, provider message, request id) and exits 3', async () => {
  const result = await runCli(['chat', 'Hi [[mock:error=429]] [[mock:retry-after=2]]'], env());

  expect(result.code).toBe(3);
  expect(result.stdout.toString()).toBe('');
  expect(result.stderr).toMatch(
    /^openai-rx: HTTP 429 \(rate_limit_exceeded\): Rate limit reached for requests \(mock\)\. · request req_mock_\d+ · retry after 2000 ms\n$/,
  );
  expectNoSecretOrStack(result.stderr);
});

test('a key the server echoes in its error is redacted, with and without --verbose', async () => {
  const server = await scripted((req, res) => {
    res.writeHead(401, { 'content-type': 'application/json', 'x-request-id': 'req_echo' });
    res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${req.headers.authorization}`, type: 'invalid_request_error', code: 'invalid_api_key' } }));
  });
  const args = ['chat', '--base-url', `${server.url}/v1`, '--api-key', KEY, 'hi'];

  const plain = await runCli(args, cliEnv());
  const verbose = await runCli([...args, '--verbose'], cliEnv());

  expect(server.requests[0].headers.authorization).toBe(`Bearer ${KEY}`);
  expect(plain.code).toBe(3);
  expect(plain.stderr).toBe('openai-rx: HTTP 401 (invalid_api_key): Incorrect API key provided: Bearer [redacted] · request req_echo\n');
  expect(verbose.code).toBe(3);
  expect(verbose.stderr).toContain('openai-rx: HTTP 401 (invalid_api_key): Incorrect API key provided: Bearer [redacted] · request req_echo\n');
  expect(verbose.stderr).toMatch(/^ {2}error: APIError$/m);
  expect(verbose.stderr).toMatch(/^ {2}body: \{"error":\{"message":"Incorrect API key provided: Bearer \[redacted\]"/m);
  expect(verbose.stderr).toContain('API key from --api-key');
  expectNoSecretOrStack(plain.stderr, verbose.stderr);
});

test('--verbose shows the timeouts: by default 10 min to the first event and 5 min between events; --timeout sets all, 0 none', async () => {
  const prompt = 'Go [[mock:tokens=3]]';
  const defaults = await runCli(['chat', '--verbose', prompt], env());
  const set = await runCli(['chat', '--verbose', '--timeout', '2500', prompt], env());
  const none = await runCli(['chat', '--verbose', '--timeout', '0', prompt], env());

  expect([defaults.code, set.code, none.code]).toEqual([0, 0, 0]);
  expect(defaults.stderr).toContain('\ntimeouts: 10 min for the headers, 10 min for the first event, 5 min between events\n');
  expect(set.stderr).toContain('\ntimeouts: 2500 ms for the headers, 2500 ms for the first event, 2500 ms between events\n');
  expect(none.stderr).toContain('\ntimeouts: none (--timeout 0)\n');
  expect(none.stdout.toString()).toBe(defaults.stdout.toString());
});

describe('every kind of failure has its own exit code and one clear line', () => {
  test('a key with a trailing newline (read from a file): 2, one line naming where the key came from, nothing sent', async () => {
    const server = await scripted((_req, res) => {
      res.end();
    });
    const fromEnv = await runCli(['chat', '--base-url', `${server.url}/v1`, 'hi'], { ...cliEnv(), OPENAI_API_KEY: `${KEY}\n` });
    const fromFlag = await runCli(['chat', '--base-url', `${server.url}/v1`, '--api-key', `${KEY}\r\n`, 'hi'], cliEnv());

    expect([fromEnv.code, fromFlag.code]).toEqual([2, 2]);
    const message = (source: string) =>
      `openai-rx: the API key from ${source} contains a line break or a NUL character, which no HTTP header can carry (read from a file with its newline?)\n` +
      'Run with --help for usage.\n';
    expect(fromEnv.stderr).toBe(message('OPENAI_API_KEY'));
    expect(fromFlag.stderr).toBe(message('--api-key'));
    expect(server.requests).toHaveLength(0);
    expectNoSecretOrStack(fromEnv.stderr, fromFlag.stderr);
  });

  test('connection refused: 4', async () => {
    const closed = await startServer(() => undefined);
    const url = closed.url;
    await closed.close();
    const result = await runCli(['chat', '--base-url', `${url}/v1`, 'hi'], env());
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^openai-rx: connection failed: .*ECONNREFUSED.*\n$/);
  });

  test('a cut stream: 4, after the text that arrived', async () => {
    const result = await runCli(['chat', '-q', `Go [[mock:text=${ANSWER}]] [[mock:cut=3]]`], env());
    expect(result.code).toBe(4);
    expect(result.stdout.toString()).toBe(`${splitTokens(ANSWER).slice(0, 3).join('')}\n`);
    expect(result.stderr).toMatch(/^openai-rx: connection failed: The connection closed before the stream ended.* · request req_mock_\d+\n$/);
  });

  test('--timeout on a stalled stream: 5', async () => {
    const result = await runCli(['chat', '-q', '--timeout', '400', `Go [[mock:text=${ANSWER}]] [[mock:stall=2]]`], env());
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/^openai-rx: timed out: no new event for 400 ms · request req_mock_\d+\n$/);
  });

  test('not an event stream: 6', async () => {
    const server = await scripted((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>captive portal</html>');
    });
    const result = await runCli(['chat', '--base-url', `${server.url}/v1`, 'hi'], env());
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/^openai-rx: protocol error \(content-type\): .*text\/html.*\n$/);
  });

  test('a stream that ends before the answer finished: 7', async () => {
    const server = await scripted((_req, res) => {
      sseHead(res);
      res.end(sseText(chatFrames(['Half', ' an']).slice(0, 3)));
    });
    const result = await runCli(['chat', '--base-url', `${server.url}/v1`, 'hi'], env());
    expect(result.code).toBe(7);
    expect(result.stdout.toString()).toBe('Half an\n');
    expect(result.stderr).toMatch(/^openai-rx: stream cut short: .*\n$/);
  });

  test('an error event inside the stream: 3', async () => {
    const result = await runCli(['chat', '-q', `Go [[mock:text=${ANSWER}]] [[mock:error-mid-stream=2]]`], env());
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /^openai-rx: error event in the stream \(server_error\): The server had an error while processing your request \(mock\)\. · request req_mock_\d+\n$/,
    );
  });

  test('--timeout takes milliseconds; a negative value gets the same clear line as a word, not a parser message', async () => {
    const negative = await runCli(['chat', '--timeout', '-5', 'hi'], env());
    const word = await runCli(['chat', '--timeout', 'abc', 'hi'], env());
    const inline = await runCli(['chat', '--timeout=-5', 'hi'], env());

    expect([negative.code, word.code, inline.code]).toEqual([2, 2, 2]);
    expect(negative.stderr).toBe("openai-rx: --timeout takes milliseconds (an integer of at least 0), not '-5'\nRun with --help for usage.\n");
    expect(word.stderr).toBe("openai-rx: --timeout takes milliseconds (an integer of at least 0), not 'abc'\nRun with --help for usage.\n");
    expect(inline.stderr).toBe(negative.stderr);
  });

  test('an option missing its value before another option is one line', async () => {
    const result = await runCli(['chat', '--system', '-q', 'hi'], env());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^openai-rx: chat: Option '--system' argument is ambiguous\. Did you forget .*'--system=-XYZ'\.\nRun with --help for usage\.\n$/);
  });

  test('usage errors: 2', async () => {
    const unknown = await runCli(['chat', '--bogus', 'hi'], env());
    const noKey = await runCli(['chat', 'hi'], cliEnv());
    const both = await runCli(['chat', '--raw', '--json', 'hi'], env());
    expect([unknown.code, noKey.code, both.code]).toEqual([2, 2, 2]);
    expect(unknown.stderr).toBe("openai-rx: chat: Unknown option '--bogus'\nRun with --help for usage.\n");
    expect(noKey.stderr).toMatch(/^openai-rx: no API key for https:\/\/api\.openai\.com\/v1: set OPENAI_API_KEY, pass --api-key, or use the embedded mock \(--mock\)\n/);
    expect(both.stderr).toMatch(/--raw and --json exclude each other/);
  });
});

test('on a terminal, stderr shows a live status (waiting, then tokens per second) and the stats line', async () => {
  // `script` gives the CLI a pseudo-terminal for stdout and stderr.
  const cli = cliCommandLine(['chat', `Go [[mock:tokens=40]] [[mock:delay=30]]`]);
  const shell = startProcess('script', ['-qec', cli, '/dev/null'], { ...env(), NO_COLOR: '' });
  const result = await shell.exited(30_000);
  const screen = result.stdout.toString();

  expect(result.code).toBe(0);
  expect(screen).toMatch(/waiting for gpt-4o-mini · \d+ ms/);
  expect(screen).toMatch(/\d+ tokens · [\d.]+ tokens\/s/);
  expect(screen).toMatch(/stats: first token \d+ ms · 40 tokens · [\d.]+ tokens\/s · total [\d.]+ m?s · finish stop/);
  expectNoSecretOrStack(screen);
});
