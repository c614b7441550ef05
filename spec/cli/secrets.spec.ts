import { printableUrl } from '../../src/cli/args';
import { chatData, sseHead, startServer, type TestServer } from '../helpers/server';
import { cliEnv, killLeftovers, runCli, startCli } from './cliProcess';

// Keys in what the CLI prints: an upstream URL's query, and an upstream that echoes the key back.

/** A placeholder key, as local servers (Ollama, vLLM) take: short enough to occur in an answer. */
const KEY = 'ollama';
const CHAT_ANSWER = chatData('I run on ollama, locally.');
const RESPONSES_ANSWER = `event: response.output_text.delta\ndata: ${JSON.stringify({
  type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'I run on ollama, locally.', sequence_number: 1,
})}\n\n`;

/** In-stream errors that echo the key, in the shapes providers send them, after an answer that names the key too. */
const STREAMS: Record<string, { args: string[]; answer: string; error: string }> = {
  'OpenAI (data: {"error": …})': {
    args: [],
    answer: CHAT_ANSWER,
    error: `data: ${JSON.stringify({ error: { message: `Incorrect API key provided: ${KEY}`, type: 'invalid_request_error' } })}\n\n`,
  },
  'event: error': {
    args: [],
    answer: CHAT_ANSWER,
    error: `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: `key ${KEY} revoked` } })}\n\n`,
  },
  'Responses response.failed': {
    args: ['--responses'],
    answer: RESPONSES_ANSWER,
    error: `event: response.failed\ndata: ${JSON.stringify({
      type: 'response.failed',
      sequence_number: 2,
      response: { id: 'resp_1', object: 'response', status: 'failed', output: [], error: { code: 'invalid_api_key', message: `key ${KEY} revoked` } },
    })}\n\n`,
  },
};

let upstream: TestServer;

beforeAll(async () => {
  upstream = await startServer((_req, res, recorded) => {
    const body = JSON.parse(recorded.body) as { messages?: Array<{ content: string }>; input?: string };
    const stream = STREAMS[body.input ?? body.messages?.[0].content ?? ''];
    sseHead(res);
    res.end(`${stream.answer}: ${KEY} keep-alive\n\n${stream.error}`);
  });
});

afterEach(() => killLeftovers());

afterAll(() => upstream.close());

test('a printable URL keeps origin and path; user, password, query values and fragment are gone', () => {
  expect(printableUrl('https://user:pw@api.example.com/v1/?key=SECRET&api-version=2024#frag')).toBe(
    'https://api.example.com/v1?key=[redacted]&api-version=[redacted]',
  );
  expect(printableUrl('http://127.0.0.1:8788/v1')).toBe('http://127.0.0.1:8788/v1');
  expect(printableUrl('not a url sk-123')).toBe('[not a URL]');
});

test.each(['relay', 'demo'])('%s --upstream URL?key=SECRET: the start-up line shows the query name, never its value', async (command) => {
  const server = startCli([command, '--port', '0', '--upstream', `http://user:pw@127.0.0.1:9/v1?key=SECRET-QUERY-KEY&deployment=x`], cliEnv({ OPENAI_API_KEY: 'sk-x' }));
  await server.waitFor((stdout) => stdout.includes('→ upstream'), `the ${command} to start`, 30_000);
  expect(server.stdout().toString()).toContain('→ upstream http://127.0.0.1:9/v1?key=[redacted]&deployment=[redacted] (API key from OPENAI_API_KEY)\n');
  server.child.kill('SIGTERM');
  const result = await server.exited();
  expect(result.stdout.toString() + result.stderr).not.toMatch(/SECRET-QUERY-KEY|pw@/);
});

test.each(Object.keys(STREAMS))('chat --raw: the answer frame is printed as sent, key and all; a %s error frame and comments are redacted', async (shape) => {
  const { args, answer, error } = STREAMS[shape];
  const result = await runCli(['chat', '--raw', ...args, '--base-url', `${upstream.url}/v1`, '--api-key', KEY, shape], cliEnv());
  const stdout = result.stdout.toString();

  expect(result.code).toBe(3);
  expect(stdout).toBe(`${answer}: [redacted] keep-alive\n\n${error.split(KEY).join('[redacted]')}`);
  expect(stdout.slice(answer.length)).not.toContain(KEY);
  expect(result.stderr).toMatch(/^openai-rx: error event in the stream .*\[redacted\]/);
  expect(result.stderr).not.toContain(KEY);
});
