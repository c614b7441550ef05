import type { Browser, Page } from 'playwright-core';
import { splitTokens, startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { cliEnv, killLeftovers, listeningUrl, startCli, type CliProcess } from '../cli/cliProcess';
import { launchChromium } from './harness';

/*
 * The demo page of `openai-rx demo` (npm start) in headless Chromium. The demo
 * runs as a real CLI process; its upstream is a mock in this process, so the
 * spec sees every request the relay sends and when its socket closes.
 */

const KEY = 'sk-demo-e2e-secret-90b1';
const ANSWER = 'Cold observables send nothing until someone subscribes, and stop when they leave.';

let upstream: MockUpstream;
let demo: CliProcess;
let demoUrl: string;
let browser: Browser;
let page: Page;

async function startDemo(env: NodeJS.ProcessEnv): Promise<{ process: CliProcess; url: string }> {
  const process = startCli(['demo', '--port', '0', '--delay', '20'], env);
  await process.waitFor((stdout) => stdout.includes('→ upstream'), 'the demo to listen', 30_000);
  return { process, url: listeningUrl(process.stdout().toString()) };
}

beforeAll(async () => {
  upstream = await startMockUpstream({ apiKey: KEY, tokenDelayMs: 20 });
  ({ process: demo, url: demoUrl } = await startDemo(cliEnv({ OPENAI_BASE_URL: upstream.baseURL, OPENAI_API_KEY: KEY })));
  browser = await launchChromium();
  page = await browser.newPage();
});

afterAll(async () => {
  await browser?.close();
  killLeftovers();
  await upstream?.close();
});

const state = () => page.getAttribute('#status', 'data-state');
const text = () => page.textContent('#text');
const rawFrames = () => page.$$eval('#frames li.frame', (items) => items.map((item) => item.textContent ?? ''));

async function send(prompt: string): Promise<void> {
  await page.fill('#prompt', prompt);
  await page.click('#send');
}

test('one request feeds both panels: the text streams in, the raw panel shows the same frames', async () => {
  await page.goto(`${demoUrl}/`);
  const requestsBefore = upstream.requests.length;
  await send(`Explain [[mock:text=${ANSWER}]]`);
  await page.waitForSelector('#status[data-state="done"]', { timeout: 20_000 });

  expect(await text()).toBe(ANSWER);
  const frames = await rawFrames();
  // role chunk, one chunk per token, finish chunk, usage chunk, [DONE]
  expect(frames).toHaveLength(splitTokens(ANSWER).length + 4);
  expect(frames.at(-1)).toBe('data: [DONE]\n\n');
  const chunks = frames.slice(0, -1).map((frame) => JSON.parse(frame.replace(/^data: /, '')));
  expect(chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('')).toBe(ANSWER);
  expect(await page.textContent('#stats')).toMatch(/first token \d+ ms · \d+ deltas · \d+ renders · \d+ frames · finish stop · usage \d+ in → \d+ out tokens/);
  // share(): the raw and the parsed pipeline came from a single upstream request.
  expect(upstream.requests.length).toBe(requestsBefore + 1);
  expect(upstream.requests[requestsBefore]).toMatchObject({ state: 'completed', headers: { authorization: 'Bearer [redacted]' } });
});

test('text appears while the stream is still open, and Stop stops it across browser, relay and upstream', async () => {
  await page.goto(`${demoUrl}/`);
  const requestsBefore = upstream.requests.length;
  await send(`Go [[mock:text=${ANSWER}]] [[mock:stall=5]]`);
  const firstFive = splitTokens(ANSWER).slice(0, 5).join('');
  // The upstream sends five tokens and then holds the stream open: they are on the page before any end.
  await page.waitForFunction((expected) => document.getElementById('text')?.textContent === expected, firstFive, { timeout: 20_000 });
  expect(await state()).toBe('streaming');
  expect(await rawFrames()).toHaveLength(6);
  const request = upstream.requests[requestsBefore];
  expect(request.state).toBe('open');

  await page.click('#stop');

  expect(await state()).toBe('stopped');
  await upstream.waitFor(() => request.state === 'aborted', 10_000);
  await demo.waitFor((_, stderr) => stderr.includes('client-closed'), 'the relay to log the client leaving');
  expect(await text()).toBe(firstFive);
  expect(await page.isDisabled('#stop')).toBe(true);
});

describe('with the embedded mock (no key)', () => {
  let mockDemo: { process: CliProcess; url: string };

  beforeAll(async () => {
    mockDemo = await startDemo(cliEnv());
  });

  test('the presets show an HTTP error and a cut stream as typed errors', async () => {
    await page.goto(`${mockDemo.url}/`);
    expect(await page.textContent('.upstream')).toContain('embedded mock');

    await page.click('#presets button[data-directive="[[mock:error=429]]"]');
    await page.waitForSelector('#status[data-state="error"]', { timeout: 20_000 });
    expect(await page.textContent('#status')).toBe('APIError: 429 Rate limit reached for requests (mock).');
    expect(await rawFrames()).toEqual([]);
    expect(await page.textContent('#frames li.end')).toBe('the stream ended with an error');

    await page.click('#presets button[data-directive="[[mock:cut]]"]');
    await page.waitForSelector('#status[data-state="error"]', { timeout: 20_000 });
    expect(await page.inputValue('#prompt')).toMatch(/\[\[mock:cut\]\]$/);
    expect((await text())!.length).toBeGreaterThan(0);
    // The relay reports the upstream's broken connection to the browser as an error frame.
    expect((await rawFrames()).at(-1)).toMatch(/^data: \{"error":/);
    expect(await page.textContent('#status')).toMatch(/^APIError: /);
  });

  test('the tool preset streams a tool call', async () => {
    await page.goto(`${mockDemo.url}/`);
    await page.click('#presets button[data-tools="true"]');
    await page.waitForSelector('#status[data-state="done"]', { timeout: 20_000 });
    expect(await page.textContent('#tool-calls')).toMatch(/^tool call get_weather: \{"city":".*"\}$/);
    expect(await page.textContent('#stats')).toContain('finish tool_calls');
  });
});

test('Ctrl-C stops the demo cleanly: the open stream ends on the page and upstream, the key never printed', async () => {
  await page.goto(`${demoUrl}/`);
  const requestsBefore = upstream.requests.length;
  await send(`Hold [[mock:text=${ANSWER}]] [[mock:stall=3]]`);
  await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'streaming', null, { timeout: 20_000 });
  const request = upstream.requests[requestsBefore];

  demo.child.kill('SIGINT');
  const result = await demo.exited();

  expect(result.code).toBe(0);
  expect(result.stderr).toMatch(/SIGINT: shutting down, closing 1 open request\n(.*\n)*stopped\n$/);
  await upstream.waitFor(() => request.state === 'aborted', 10_000);
  await page.waitForSelector('#status[data-state="error"]', { timeout: 20_000 });
  expect(await page.textContent('#status')).toMatch(/^APIConnectionError: /);
  expect(result.stdout.toString() + result.stderr).not.toContain(KEY);
});
