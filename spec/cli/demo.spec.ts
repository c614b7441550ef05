import { startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { rawRequest } from '../relay/relayHelpers';
import { cliEnv, killLeftovers, listeningUrl, startCli, startProcess, type CliProcess } from './cliProcess';
import { expectUnsupportedMethodsAnswered } from './rawSocket';

// `openai-rx demo` (what `npm start` runs): the page at / and the relay at /v1, as a real process.

const KEY = 'sk-demo-spec-secret-c29e';

let upstream: MockUpstream;

beforeAll(async () => {
  upstream = await startMockUpstream({ apiKey: KEY, tokenDelayMs: 5 });
});

afterEach(() => killLeftovers());

afterAll(() => upstream.close());

async function started(demo: CliProcess): Promise<string> {
  await demo.waitFor((stdout) => stdout.includes('→ upstream'), 'the demo to listen', 30_000);
  return listeningUrl(demo.stdout().toString());
}

const streamBody = (content: string) =>
  JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content }] });

test('without a key: the embedded mock; GET / serves the page, /demo.js its bundle, and /v1 streams a completion', async () => {
  const demo = startCli(['demo', '--port', '0', '--delay', '1']);
  const url = await started(demo);
  expect(demo.stdout().toString()).toMatch(
    new RegExp(`^openai-rx demo: open ${url}/\\nrelay: ${url}/v1 → upstream embedded mock \\(http://127\\.0\\.0\\.1:\\d+/v1, 1 ms per token\\)\\n`),
  );

  const page = await rawRequest(`${url}/`, { method: 'GET' });
  expect(page.status).toBe(200);
  expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
  for (const id of ['prompt', 'send', 'stop', 'text', 'frames', 'status', 'presets']) expect(page.text).toContain(`id="${id}"`);
  expect(page.text).toContain('data-upstream="mock"');
  expect(page.text).toContain('data-directive="[[mock:error=429]]"');
  expect(page.text).toContain('<script type="module" src="/demo.js"></script>');

  const script = await rawRequest(`${url}/demo.js`, { method: 'GET' });
  expect(script.status).toBe(200);
  expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
  expect(script.body.length).toBeGreaterThan(10_000);
  expect(script.text).not.toMatch(/\bimport\s*[{"']|require\(/);

  const stream = await rawRequest(`${url}/v1/chat/completions`, { body: streamBody('Hi [[mock:text=Through the demo relay.]]') });
  expect(stream.status).toBe(200);
  expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
  const contents = [...stream.text.matchAll(/"content":"([^"]*)"/g)].map((match) => match[1]).join('');
  expect(contents).toBe('Through the demo relay.');
  // The demo relay runs in resume mode: every event carries its id, and the answer names its stream.
  expect(stream.text).toMatch(/data: \[DONE\]\nid: \d+\n\n$/);
  expect(stream.headers['x-stream-id']).toMatch(/^[A-Za-z0-9_-]{24}$/);
  await demo.waitFor((_, stderr) => /200 completed/.test(stderr), 'the relay log line');

  demo.child.kill('SIGINT');
  const result = await demo.exited();
  expect(result.code).toBe(0);
  expect(result.stderr).toMatch(/page bundled with esbuild in \d+ ms \([\d.]+ KB\); Ctrl-C to stop\n/);
  expect(result.stderr).toMatch(/SIGINT: shutting down\nstopped\n$/);
});

test('with OPENAI_BASE_URL and OPENAI_API_KEY: relays to that upstream with the key, never prints it, and SIGTERM closes open streams', async () => {
  const demo = startCli(['demo', '--port', '0'], cliEnv({ OPENAI_BASE_URL: upstream.baseURL, OPENAI_API_KEY: KEY }));
  const url = await started(demo);
  expect(demo.stdout().toString()).toContain(`relay: ${url}/v1 → upstream ${upstream.baseURL} (API key from OPENAI_API_KEY)\n`);
  const page = await rawRequest(`${url}/`, { method: 'GET' });
  expect(page.text).toContain('data-upstream="external"');
  // Only the scenarios any model can play: the mock's faults (rate limit, …) are hidden.
  expect(page.text).toContain('data-preset=');
  expect(page.text).not.toContain('data-preset="rate-limit"');

  const stream = await rawRequest(`${url}/v1/chat/completions`, { body: streamBody('Hi [[mock:text=With the key.]]') });
  expect(stream.status).toBe(200);
  expect(stream.text).toContain('"content":" key"');
  expect(upstream.requests.at(-1)).toMatchObject({ state: 'completed', headers: { authorization: 'Bearer [redacted]' } });

  // A stream the upstream holds open, as a browser tab would.
  const open = rawRequest(`${url}/v1/chat/completions`, { body: streamBody('Hold [[mock:stall=2]]') }).catch((error: Error) => error);
  await upstream.waitFor(() => upstream.requests.at(-1)?.prompt === 'Hold [[mock:stall=2]]' && upstream.requests.at(-1)?.tokensSent === 2, 10_000);
  const held = upstream.requests.at(-1)!;

  demo.child.kill('SIGTERM');
  const result = await demo.exited();

  expect(result.code).toBe(0);
  expect(result.stderr).toMatch(/SIGTERM: shutting down, closing 1 open request\n/);
  await upstream.waitFor(() => held.state === 'aborted', 5000);
  await open;
  expect(result.stdout.toString() + result.stderr).not.toContain(KEY);
});

test('npm start (PORT=0) answers GET /, refuses TRACE, TRACK and CONNECT, streams one completion through the relay, and Ctrl-C stops it', async () => {
  // Its own process group, like a terminal's foreground job: Ctrl-C signals npm, sh and node together.
  const npm = startProcess('npm', ['start', '--silent'], cliEnv({ PORT: '0' }), { detached: true });
  const url = await started(npm);
  expect(await expectUnsupportedMethodsAnswered(url)).toEqual({ TRACE: 405, TRACK: 400, CONNECT: 405 });

  const page = await rawRequest(`${url}/`, { method: 'GET' });
  expect(page.status).toBe(200);
  expect(page.text).toContain('<title>openai-rx demo</title>');
  const stream = await rawRequest(`${url}/v1/chat/completions`, { body: streamBody('Hi [[mock:text=Started by npm.]] [[mock:delay=1]]') });
  expect([...stream.text.matchAll(/"content":"([^"]*)"/g)].map((match) => match[1]).join('')).toBe('Started by npm.');

  process.kill(-npm.child.pid!, 'SIGINT');
  const result = await npm.exited();
  expect(result.stderr).toMatch(/SIGINT: shutting down\nstopped\n/);
  // npm itself either re-raises the Ctrl-C it received or exits 130.
  expect([130, 'SIGINT']).toContain(result.code ?? result.signal);
});
