import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { sseHead, startServer, type TestServer } from '../helpers/server';
import { cliCommandLine, cliEnv, killLeftovers, runCli, startProcess } from './cliProcess';

// `openai-rx chat --schema file.json`: structured output from the command line, against a local upstream.

const KEY = 'sk-cli-schema-secret-51c2';
const PERSON = {
  title: 'person',
  type: 'object',
  properties: { name: { type: 'string' }, born: { type: 'integer' }, fields: { type: 'array', items: { type: 'string' } } },
  required: ['name', 'born', 'fields'],
  additionalProperties: false,
};
const PERSON_ANSWER = { name: 'Describe', born: 1, fields: ['Ada', 'Lovelace'] };

let upstream: MockUpstream;
let dir: string;
let schemaPath: string;

beforeAll(async () => {
  upstream = await startMockUpstream({ apiKey: KEY, tokenDelayMs: 2 });
  dir = await mkdtemp(join(tmpdir(), 'openai-rx-schema-'));
  schemaPath = join(dir, 'person.json');
  await writeFile(schemaPath, JSON.stringify(PERSON));
});

afterEach(() => killLeftovers());

afterAll(async () => {
  await upstream.close();
  await rm(dir, { recursive: true, force: true });
});

const env = () => cliEnv({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: upstream.baseURL });
const lastRequest = () => upstream.requests[upstream.requests.length - 1];

test('into a pipe: the schema goes as a strict json_schema response format, and stdout is the final JSON on one line', async () => {
  const result = await runCli(['chat', '-q', '--schema', schemaPath, 'Describe Ada Lovelace'], env());

  expect(result.code).toBe(0);
  expect(result.stdout.toString()).toBe(`${JSON.stringify(PERSON_ANSWER)}\n`);
  expect(lastRequest().body).toMatchObject({ response_format: { type: 'json_schema', json_schema: { name: 'person', schema: PERSON, strict: true } } });
});

test('--responses sends it as text.format', async () => {
  const result = await runCli(['chat', '-q', '--responses', '--schema', schemaPath, 'Describe Ada Lovelace'], env());

  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout.toString())).toEqual(PERSON_ANSWER);
  expect(lastRequest().body).toMatchObject({ text: { format: { type: 'json_schema', name: 'person', schema: PERSON, strict: true } } });
});

test('on a terminal: the object grows on one line, redrawn in place, then is printed whole', async () => {
  // `script` gives the CLI a pseudo-terminal for stdout and stderr.
  const cli = cliCommandLine(['chat', '-q', '--schema', schemaPath, 'Describe Ada Lovelace']);
  const result = await startProcess('script', ['-qec', cli, '/dev/null'], env()).exited(30_000);
  const screen = result.stdout.toString();

  expect(result.code).toBe(0);
  const redraws = screen.split('\r').filter((line) => line.endsWith('\x1b[K'));
  expect(redraws.length).toBeGreaterThan(5);
  expect(redraws).toContain('{"name":"Describe"}\x1b[K');
  expect(redraws).toContain('{"name":"Describe","born":1,"fields":["Ada"]}\x1b[K');
  expect(screen.replace(/\r\n/g, '\n').endsWith(`\x1b[K${JSON.stringify(PERSON_ANSWER, null, 2)}\n`)).toBe(true);
});

test('an answer that is not JSON exits 6 with one line; a schema file that cannot be used is a usage error', async () => {
  const broken = await runCli(['chat', '-q', '--schema', schemaPath, 'Hi [[mock:text={"name": tru]]'], env());
  expect(broken.code).toBe(6);
  expect(broken.stdout.toString()).toBe('');
  expect(broken.stderr).toMatch(/^openai-rx: the answer is not the JSON asked for: The output could not be parsed as JSON: .*\n$/);

  const notJson = join(dir, 'broken.json');
  await writeFile(notJson, '{ "type": ');
  for (const [file, message] of [
    [join(dir, 'missing.json'), /cannot read .*missing\.json: ENOENT/],
    [notJson, /broken\.json is not JSON/],
    [dir, /is not a file/],
  ] as const) {
    const result = await runCli(['chat', '--schema', file, 'Hi'], env());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  }
});

describe('a refusal', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer((_req, res) => {
      sseHead(res);
      const chunk = (delta: object, finish: string | null = null) =>
        `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.end(chunk({ role: 'assistant', refusal: "I can't help with that." }) + chunk({}, 'stop') + 'data: [DONE]\n\n');
    });
  });
  afterAll(() => server.close());

  test('exits 1 with the refusal on one line', async () => {
    const result = await runCli(['chat', '-q', '--schema', schemaPath, 'Hi'], cliEnv({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url }));
    expect(result.code).toBe(1);
    expect(result.stdout.toString()).toBe('');
    expect(result.stderr).toBe("openai-rx: The model refused: I can't help with that.\n");
  });
});
