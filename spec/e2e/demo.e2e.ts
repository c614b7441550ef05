import type { Browser, Page } from 'playwright-core';
import { splitTokens, startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { cliEnv, killLeftovers, type CliProcess } from '../cli/cliProcess';
import { inView, launchChromium, singleLines, startDemoCli, type DemoCli } from './harness';

/*
 * The demo page of `openai-rx demo` (npm start) in headless Chromium. The demo
 * runs as a real CLI process; its upstream is a mock in this process, so the
 * spec sees every request the relay sends and when its socket closes.
 * DEMO_SCREENSHOT=docs/demo.png writes the README's screenshot (a long answer
 * from the embedded mock, mid-stream).
 */

const KEY = 'sk-demo-e2e-secret-90b1';
const ANSWER = 'Cold observables send nothing until someone subscribes, and stop when they leave.';
const VIEWPORT = { width: 1280, height: 860 };

let upstream: MockUpstream;
let demo: CliProcess;
let demoUrl: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  upstream = await startMockUpstream({ apiKey: KEY, tokenDelayMs: 20 });
  ({ process: demo, url: demoUrl } = await startDemoCli(cliEnv({ OPENAI_BASE_URL: upstream.baseURL, OPENAI_API_KEY: KEY })));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: VIEWPORT });
});

afterAll(async () => {
  await browser?.close();
  killLeftovers();
  await upstream?.close();
});

const state = () => page.getAttribute('#status', 'data-state');
const statusText = () => page.textContent('#status-text');
const detail = () => page.textContent('#status-detail');
const text = () => page.textContent('#text');
/** Each raw frame as it went over the wire (the row's tooltip), and what its label column says it is. */
const rawFrames = () => page.$$eval('#frames li.frame', (items) => items.map((item) => (item as HTMLElement).title));
const frameKinds = () => page.$$eval('#frames li.frame', (items) => items.map((item) => (item as HTMLElement).dataset.kind));
const storedStream = () => page.evaluate(() => sessionStorage.getItem('openai-rx-demo:stream'));

async function send(prompt: string): Promise<void> {
  await page.fill('#prompt', prompt);
  await page.click('#send');
}

test('one request feeds both panels: the text streams in, the raw panel shows the same frames, one per line', async () => {
  await page.goto(`${demoUrl}/`);
  const requestsBefore = upstream.requests.length;
  await send(`Explain [[mock:text=${ANSWER}]]`);
  await page.waitForSelector('#status[data-state="done"]', { timeout: 20_000 });

  expect(await text()).toBe(ANSWER);
  const frames = await rawFrames();
  // role chunk, one chunk per token, finish chunk, usage chunk, [DONE]: each numbered by the resumable relay
  const tokens = splitTokens(ANSWER).length;
  expect(frames).toHaveLength(tokens + 4);
  expect(frames.map((frame) => /^id: (\d+)\n/.exec(frame)?.[1])).toEqual(frames.map((_, index) => String(index + 1)));
  expect(frames.at(-1)).toBe(`id: ${tokens + 4}\ndata: [DONE]\n\n`);
  const chunks = frames.slice(0, -1).map((frame) => JSON.parse(frame.replace(/^id: \d+\ndata: /, '')));
  expect(chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('')).toBe(ANSWER);
  expect(await frameKinds()).toEqual(['role', ...Array(tokens).fill('content'), 'finish', 'usage', 'done']);
  const labels = await page.$$eval('#frames li.frame .frame-label', (items) => items.map((item) => item.textContent));
  expect([labels[1], labels.at(-1)]).toEqual([JSON.stringify(splitTokens(ANSWER)[0]), '[DONE]']);
  // Readable: every frame on one line, and the panel followed the stream to its end marker.
  expect(await singleLines(page, '#frames li.frame')).toBe(true);
  expect(await page.textContent('#frames li.end')).toBe('end of stream');
  expect(await inView(page, '#frames li.end')).toBe(true);

  expect(await statusText()).toBe('Done');
  expect(await detail()).toMatch(
    new RegExp(
      `^${tokens} tokens in \\d+\\.\\d s, the first after \\d+ ms, drawn in \\d+ screen updates\\. Finish reason: stop\\. Usage: \\d+ prompt \\+ ${tokens} completion tokens\\.$`,
    ),
  );
  // connect(): the raw and the parsed pipeline came from a single upstream request.
  expect(upstream.requests.length).toBe(requestsBefore + 1);
  expect(upstream.requests[requestsBefore]).toMatchObject({ state: 'completed', headers: { authorization: 'Bearer [redacted]' } });
  expect(await storedStream()).toBeNull();
});

test('text appears while the stream is still open, and Stop stops it across browser, relay and upstream', async () => {
  await page.goto(`${demoUrl}/`);
  const requestsBefore = upstream.requests.length;
  await send(`Go [[mock:text=${ANSWER}]] [[mock:stall=5]]`);
  const firstFive = splitTokens(ANSWER).slice(0, 5).join('');
  // The upstream sends five tokens and then holds the stream open: they are on the page before any end.
  await page.waitForFunction((expected) => document.getElementById('text')?.textContent === expected, firstFive, { timeout: 20_000 });
  expect(['streaming', 'stalled']).toContain(await state());
  expect(await rawFrames()).toHaveLength(6);
  const request = upstream.requests[requestsBefore];
  expect(request.state).toBe('open');
  expect(await storedStream()).toContain('"streamId"');

  await page.click('#stop');

  expect(await state()).toBe('stopped');
  expect(await detail()).toMatch(/^You stopped the answer after 5 tokens \(\d+\.\d s\)\./);
  expect(await page.textContent('#ending')).toBe('Stopped by you');
  expect(await page.getAttribute('#frames li.end', 'data-kind')).toBe('stopped');
  // Unsubscribing sent the cancel: the relay stopped the generation and aborted its upstream request.
  await upstream.waitFor(() => request.state === 'aborted', 10_000);
  await demo.waitFor((_, stderr) => /POST \/v1\/streams\/\S+\/cancel · 202/.test(stderr), 'the relay to log the cancel');
  await demo.waitFor((_, stderr) => stderr.includes('200 cancelled'), 'the relay to log the generation cancelled');
  expect(await text()).toBe(firstFive);
  expect(await page.isDisabled('#stop')).toBe(true);
  expect(await storedStream()).toBeNull();
});

test('a model that goes quiet: the page counts the silence, gives up after 4 s and cancels the generation', async () => {
  await page.goto(`${demoUrl}/`);
  const requestsBefore = upstream.requests.length;
  await send(`Wait [[mock:text=${ANSWER}]] [[mock:stall=3]]`);
  await page.waitForSelector('#status[data-state="stalled"]', { timeout: 20_000 });
  expect(await statusText()).toBe('The model has gone quiet');
  expect(await page.isVisible('#meter')).toBe(true);
  // The count goes on: a later reading says more seconds than the first.
  const seconds = async () => Number(/no data for (\d+\.\d) s/.exec((await detail()) ?? '')?.[1]);
  const first = await seconds();
  await page.waitForFunction((since) => Number(/no data for (\d+\.\d) s/.exec(document.getElementById('status-detail')?.textContent ?? '')?.[1]) > since, first, { timeout: 5000 });
  const request = upstream.requests[requestsBefore];
  expect(request.state).toBe('open');

  await page.waitForSelector('#status[data-state="error"]', { timeout: 10_000 });

  expect(await statusText()).toBe('The model went quiet for 4 s, so the page stopped waiting and cancelled the generation.');
  expect(await detail()).toMatch(/^TimeoutError /);
  expect(await page.isVisible('#meter')).toBe(false);
  expect(await page.textContent('#ending')).toBe('The answer broke off here.');
  await upstream.waitFor(() => request.state === 'aborted', 10_000);
});

describe('with the embedded mock (no key)', () => {
  let mockDemo: DemoCli;

  beforeAll(async () => {
    mockDemo = await startDemoCli(cliEnv());
  });

  test('the fault scenarios end with a friendly message, the error class and code in small print', async () => {
    await page.goto(`${mockDemo.url}/`);
    expect(await page.textContent('.upstream')).toContain('embedded mock');

    await page.click('#presets [data-preset="rate-limit"]');
    await page.waitForSelector('#status[data-state="error"]', { timeout: 20_000 });
    expect(await page.textContent('#scenario-mock')).toBe('[[mock:error=429]]');
    expect(await statusText()).toBe('The provider is rate-limiting requests right now: try again in a moment.');
    expect(await detail()).toBe('APIError · HTTP 429 · rate_limit_exceeded · 429 Rate limit reached for requests (mock).');
    expect(await rawFrames()).toEqual([]);
    expect(await page.textContent('#frames li.end')).toBe('the stream ended with an error');

    await page.click('#presets [data-preset="cut"]');
    await page.waitForSelector('#status[data-state="error"]', { timeout: 20_000 });
    expect(await page.textContent('#scenario-mock')).toBe('[[mock:cut]]');
    expect((await text())!.length).toBeGreaterThan(0);
    // The relay reports the upstream's broken connection to the browser as an error frame.
    expect((await rawFrames()).at(-1)).toMatch(/^data: \{"error":/);
    expect(await statusText()).toBe("The connection to the model's server broke partway through the answer.");
    expect(await detail()).toMatch(/^APIError · in the stream · upstream_connection_lost · /);
    expect(await inView(page, '#frames li.end')).toBe(true);
  });

  test('the tool scenario asks about the city named in the conversation and streams the tool call', async () => {
    await page.goto(`${mockDemo.url}/`);
    await page.click('#presets [data-preset="tool-call"]');
    await page.waitForSelector('#status[data-state="done"]', { timeout: 20_000 });
    expect(await page.inputValue('#prompt')).toBe('Paris');
    expect(await page.textContent('#history')).toContain('Which city are you in?');
    expect(await page.textContent('.tool-name')).toBe('get_weather');
    expect(await page.textContent('.tool-args')).toBe('{"city":"Paris","unit":"celsius"}');
    expect(await detail()).toContain('Finish reason: tool_calls.');
  });

  test('a long answer streams to its end with both panels following it', async () => {
    await page.goto(`${mockDemo.url}/`);
    await page.click('#presets [data-preset="long"]');
    await page.waitForFunction(() => document.querySelectorAll('#frames li.frame').length >= 100, null, { timeout: 20_000 });
    expect(await state()).toBe('streaming');
    expect(await inView(page, '#frames li.frame:nth-of-type(100)')).toBe(true);
    if (process.env.DEMO_SCREENSHOT) {
      // The README's picture: mid-answer, the pointer off the buttons.
      await page.mouse.move(0, VIEWPORT.height - 1);
      await page.screenshot({ path: process.env.DEMO_SCREENSHOT });
    }
    await page.waitForSelector('#status[data-state="done"]', { timeout: 30_000 });
    expect(await detail()).toMatch(/^160 tokens in /);
    expect(await text()).not.toContain('error');
    expect(await inView(page, '#frames li.end')).toBe(true);
    expect(await page.$eval('#answer', (body) => body.scrollTop + body.clientHeight >= body.scrollHeight - 2)).toBe(true);
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
  expect(await statusText()).toBe('The connection to the relay was lost.');
  expect(await detail()).toMatch(/^APIConnectionError · /);
  expect(result.stdout.toString() + result.stderr).not.toContain(KEY);
});
