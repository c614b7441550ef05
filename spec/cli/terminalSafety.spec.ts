import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { chatCommand } from '../../src/cli/chat';
import { CliOutput } from '../../src/cli/io';
import { settledLine } from '../../src/cli/relayServer';
import type { RelaySummary } from '../../src/relay/types';
import { chatData, sseHead, startServer, type TestServer } from '../helpers/server';
import { rawRequest } from '../relay/relayHelpers';
import { cliEnv, killLeftovers, listeningUrl, runCli, startCli } from './cliProcess';

// Foreign data (a client's model name, an upstream's messages, ids and answers) on the operator's terminal.

/** CR/LF that would forge a log line, ANSI colour, OSC title and hyperlink, C1 CSI, a line separator, a bidi override. */
const HOSTILE =
  'gpt-4o\r\nPOST /v1/forged · gpt-4o · 200 completed · 1 frames · 1 ms\x1b[31m\x1b]0;title\x07' +
  '\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\\u009b2J\u2028\u202e';
/** Everything a terminal acts on or a log reader splits on; stderr may hold line feeds only between its lines. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
/** What a terminal acts on in answer text (line feeds are text there). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const TERMINAL_CONTROLS = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;
const HOSTILE_REQUEST_ID = 'req_\u009b31m';
const ANSWER = 'Hello\n\x1b]0;pwned\x07\x1b[2J\u009b31mthere';

let upstream: TestServer;

/** Answers by the prompt: an HTTP error, an error event inside the stream, a hostile answer, or a plain one. */
beforeAll(async () => {
  upstream = await startServer((_req, res, recorded) => {
    const body = JSON.parse(recorded.body) as { messages: Array<{ content: string }> };
    const prompt = body.messages[0].content;
    if (prompt === 'http-error') {
      res.writeHead(500, { 'content-type': 'application/json', 'x-request-id': HOSTILE_REQUEST_ID });
      res.end(JSON.stringify({ error: { message: HOSTILE, type: 'server_error', code: 'boom\x1b[0m', param: null } }));
      return;
    }
    sseHead(res, { 'x-request-id': HOSTILE_REQUEST_ID });
    if (prompt === 'stream-error') res.end(`${chatData('Hi')}data: ${JSON.stringify({ error: { message: HOSTILE, type: 'server_error' } })}\n\n`);
    else if (prompt === 'hostile-answer') res.end(`${chatData(ANSWER)}: keep\x1b]0;pwned\x07alive\n\n${chatData('', `stop${HOSTILE}`)}data: [DONE]\n\n`);
    else res.end(`${chatData('Hi', 'stop')}data: [DONE]\n\n`);
  });
});

afterEach(() => killLeftovers());

afterAll(() => upstream.close());

const chatEnv = () => cliEnv({ OPENAI_API_KEY: 'sk-terminal-spec', OPENAI_BASE_URL: `${upstream.url}/v1` });

function expectSafeLines(stderr: string): string[] {
  expect(stderr.endsWith('\n')).toBe(true);
  const lines = stderr.slice(0, -1).split('\n');
  for (const line of lines) expect(line).not.toMatch(UNSAFE);
  return lines;
}

test('the relay logs exactly one line per request, with the hostile model, messages and request id escaped', async () => {
  const relay = startCli(['relay', '--port', '0', '--upstream', `${upstream.url}/v1`], chatEnv());
  await relay.waitFor((stdout) => stdout.includes('listening on'), 'the relay to listen');
  const url = `${listeningUrl(relay.stdout().toString())}/v1/chat/completions`;
  const ask = (model: string, prompt: string) =>
    rawRequest(url, { body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: prompt }] }) });

  expect((await ask(HOSTILE, 'ok')).status).toBe(200);
  expect((await ask(HOSTILE, 'http-error')).status).toBe(500);
  expect((await ask('gpt-4o-mini', 'stream-error')).status).toBe(200);
  await relay.waitFor((_, stderr) => stderr.split('\n').length > 3, 'three log lines');

  const lines = expectSafeLines(relay.stderr());
  expect(lines).toHaveLength(3);
  const model = String.raw`gpt-4o\r\nPOST /v1/forged · gpt-4o · 200 completed · 1 frames · 1 ms\x1b[31m\x1b]0;title\x07\x1b]8;;http://evil\x1b\c… (116 characters)`;
  const message = String.raw`gpt-4o\r\nPOST /v1/forged · gpt-4o · 200 completed · 1 frames · 1 ms\x1b[31m\x1b]0;title\x07\x1b]8;;http://evil\x1b\click\x1b]8;;\x1b\\x9b2J\u{2028}\u{202e}`;
  // undici reads the id's UTF-8 bytes one by one (Latin-1), so the C1 control arrives after an Â.
  const requestId = /req_Â?\\x9b31m/.source;
  const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  expect(lines).toEqual(
    expect.arrayContaining([
      expect.stringMatching(new RegExp(`^POST /v1/chat/completions · ${escaped(model)} · 200 completed · 2 frames · \\d+ ms · ${requestId}$`)),
      expect.stringMatching(new RegExp(`^POST /v1/chat/completions · ${escaped(model)} · 500 upstream-error · 0 frames · \\d+ ms · ${requestId} · 500 ${escaped(message)}$`)),
      expect.stringMatching(new RegExp(`^POST /v1/chat/completions · gpt-4o-mini · 200 upstream-error · 2 frames · \\d+ ms · ${requestId} · ${escaped(message)}$`)),
    ]),
  );
  expect(relay.stdout().toString()).not.toMatch(UNSAFE);
});

test('a log line bounds and escapes every field the client chose, the request URL included', () => {
  const request = { method: 'POST', url: `/v1/chat/completions?q=\u009b2J\x1b]0;t\x07${'a'.repeat(1000)}` } as IncomingMessage;
  const summary: RelaySummary<IncomingMessage> = {
    request, route: 'chat/completions', model: HOSTILE, stream: true, requestId: HOSTILE_REQUEST_ID, outcome: 'upstream-error', status: 502,
    durationMs: 12, timeToFirstByteMs: undefined, frames: 0, bytes: 10, usage: undefined, error: new Error(`x${HOSTILE}`.repeat(100)),
  };
  const line = settledLine(summary);
  expect(line).not.toMatch(UNSAFE);
  expect(line).toMatch(/^POST \/v1\/chat\/completions\?q=\\x9b2J\\x1b\]0;t\\x07a+… \(1032 characters\) · gpt-4o\\r\\n/);
  expect(line).toContain(' · 502 upstream-error · 0 frames · 12 ms · req_\\x9b31m · xgpt-4o\\r\\n');
  expect(line.length).toBeLessThan(1500);
});

test('chat: an error is one line, with --verbose every line is safe; nothing from the server starts a line of its own', async () => {
  const quiet = await runCli(['chat', '-q', '-m', HOSTILE, 'http-error'], chatEnv());
  expect(quiet.code).toBe(3);
  expect(expectSafeLines(quiet.stderr)).toEqual([expect.stringMatching(/^openai-rx: HTTP 500 \(boom\\x1b\[0m\): gpt-4o\\r\\nPOST \/v1\/forged /)]);

  const verbose = await runCli(['chat', '--verbose', '-m', HOSTILE, 'http-error'], chatEnv());
  const lines = expectSafeLines(verbose.stderr);
  expect(lines.length).toBeGreaterThan(4);
  for (const line of lines) expect(line).toMatch(/^(POST |timeouts: |HTTP |openai-rx: | {2}|stats: )/);

  const inStream = await runCli(['chat', '-q', 'stream-error'], chatEnv());
  expect(inStream.code).toBe(3);
  expect(expectSafeLines(inStream.stderr)).toEqual([expect.stringMatching(/^openai-rx: error event in the stream .*\\x1b\]8;;http:\/\/evil/)]);
});

test('chat into a pipe: the answer passes byte for byte; the stats line shows the finish reason escaped', async () => {
  const result = await runCli(['chat', 'hostile-answer'], chatEnv());
  expect(result.code).toBe(0);
  expect(result.stdout.toString('utf8')).toBe(`${ANSWER}\n`);
  const [stats] = expectSafeLines(result.stderr);
  expect(stats).toMatch(/ · finish stopgpt-4o\\r\\nPOST \/v1\/forged .*\\u\{202e\}$/);
});

describe('chat on a terminal: the answer cannot drive it', () => {
  /** Runs the chat command in this process with stdout a (fake) terminal; resolves with what it printed. */
  async function chatOnTerminal(args: string[]): Promise<{ code: number; stdout: string }> {
    const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
    const stderr = new PassThrough();
    let printed = '';
    stdout.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
    stderr.resume();
    const output = new CliOutput(stdout as unknown as NodeJS.WriteStream, stderr as unknown as NodeJS.WriteStream);
    const code = await chatCommand(['-q', ...args], output, { OPENAI_API_KEY: 'sk-terminal-spec', OPENAI_BASE_URL: `${upstream.url}/v1` });
    return { code, stdout: printed };
  }

  test('text: line breaks stay, escape sequences and C1 controls are shown as escapes', async () => {
    const { code, stdout } = await chatOnTerminal(['hostile-answer']);
    expect(code).toBe(0);
    expect(stdout).toBe('Hello\n\\x1b]0;pwned\\x07\\x1b[2J\\x9b31mthere\n');
  });

  test('--raw: the frames, shown safe', async () => {
    const { stdout } = await chatOnTerminal(['--raw', 'hostile-answer']);
    expect(stdout).toContain('data: {"id":"chatcmpl-1"');
    // JSON already escapes C0 inside the data; the C1 control and a comment's raw bytes are shown as escapes.
    expect(stdout).toContain('\\u001b]0;pwned\\u0007');
    expect(stdout).toContain('\\x9b31mthere');
    expect(stdout).toContain(': keep\\x1b]0;pwned\\x07alive\n\n');
    expect(stdout).not.toMatch(TERMINAL_CONTROLS);
  });

  test('--json: still one valid JSON value per line, with no control character', async () => {
    const { stdout } = await chatOnTerminal(['--json', 'hostile-answer']);
    expect(stdout).not.toMatch(TERMINAL_CONTROLS);
    const chunks = stdout.trim().split('\n').map((line) => JSON.parse(line) as { choices: Array<{ delta: { content?: string } }> });
    expect(chunks[0].choices[0].delta.content).toBe(ANSWER);
  });
});
