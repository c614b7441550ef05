import type { Browser, Page } from 'playwright-core';
import { startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { cliEnv, killLeftovers } from '../cli/cliProcess';
import { launchChromium, startDemoCli } from './harness';

/*
 * The demo's structured-output and tool-loop scenarios in headless Chromium.
 * The demo runs as a real CLI process in front of a mock upstream in this
 * process, so the spec sees every request the page's tool loop sends.
 */

const KEY = 'sk-demo-tools-e2e-3c7d';

let upstream: MockUpstream;
let demoUrl: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  upstream = await startMockUpstream({ apiKey: KEY, tokenDelayMs: 20 });
  ({ url: demoUrl } = await startDemoCli(cliEnv({ OPENAI_BASE_URL: upstream.baseURL, OPENAI_API_KEY: KEY })));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
});

afterAll(async () => {
  await browser?.close();
  killLeftovers();
  await upstream?.close();
});

const field = (name: string) => page.textContent(`.field[data-field="${name}"] output`);
const detail = () => page.textContent('#status-detail');

test('structured output: the form fills in field by field as the JSON streams, and ends valid', async () => {
  await page.goto(`${demoUrl}/`);
  const requestsBefore = upstream.requests.length;
  await page.click('#presets [data-preset="structured"]');

  // Mid-answer: the first fields are there, the last not yet begun.
  await page.waitForFunction(
    () =>
      document.querySelector('.field[data-field="destination"]')?.getAttribute('data-state') === 'filled' &&
      document.querySelector('.field[data-field="notes"]')?.getAttribute('data-state') === 'empty',
    null,
    { timeout: 20_000, polling: 'raf' },
  );
  expect(await page.getAttribute('.plan', 'data-valid')).toBe('pending');

  await page.waitForSelector('#status[data-state="done"]', { timeout: 20_000 });
  expect(await page.getAttribute('.plan', 'data-valid')).toBe('true');
  expect(await page.textContent('.plan-badge')).toBe('✓ valid TripPlan');
  expect(await page.$$eval('.field', (rows) => rows.map((row) => row.getAttribute('data-state')))).toEqual(Array(9).fill('filled'));
  expect(await field('destination')).toBe('Lisbon');
  expect(await field('budget')).toBe('2 EUR');
  expect(await page.$$eval('.field[data-field="itinerary"] li', (items) => items.map((item) => item.textContent))).toEqual(['Day 3: pastries', 'Day 4: fado']);
  expect(await field('visaNeeded')).toBe('yes');
  // The raw panel shows the same request's frames; the request asked for the schema.
  expect(await page.$$eval('#frames li.frame', (items) => items.length)).toBeGreaterThan(30);
  expect(upstream.requests).toHaveLength(requestsBefore + 1);
  expect(upstream.requests[requestsBefore].body).toMatchObject({ response_format: { type: 'json_schema', json_schema: { name: 'trip_plan', strict: true } } });
});

test('the tool loop: step 1 calls the page’s get_weather, which runs for a second; step 2 answers with its result', async () => {
  await page.goto(`${demoUrl}/`);
  const requestsBefore = upstream.requests.length;
  await page.click('#presets [data-preset="tools"]');

  await page.waitForSelector('.tool-run[data-state="running"]', { timeout: 20_000 });
  expect(await page.textContent('#status-text')).toBe('Running a tool…');
  expect(await page.textContent('.run-args')).toBe('{"city":"Paris and Oslo"}');

  await page.waitForSelector('#status[data-state="done"]', { timeout: 20_000 });
  expect(await page.$$eval('.step', (steps) => steps.map((step) => step.getAttribute('data-step')))).toEqual(['1', '2']);
  expect(await page.getAttribute('.tool-run', 'data-state')).toBe('done');
  const result = JSON.parse((await page.textContent('.tool-result')) ?? '');
  expect(result).toMatchObject({ city: 'Paris and Oslo', sky: expect.any(String), tempC: expect.any(Number) });
  expect(await page.textContent('.step[data-step="2"] .step-text')).toMatch(/^The tool returned \{"city":"Paris and Oslo",/);
  expect(await detail()).toMatch(/^2 steps, 1 tool call\. /);

  // The second request carries the conversation, the call and its result, as the API expects.
  expect(upstream.requests).toHaveLength(requestsBefore + 2);
  const messages = (upstream.requests[requestsBefore + 1].body as { messages: Array<Record<string, unknown>> }).messages;
  expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'tool']);
  expect(messages[4]).toEqual({ role: 'tool', tool_call_id: 'call_mock_' + (requestsBefore + 1), content: JSON.stringify(result) });
});

test('Stop while the tool runs: its signal aborts, the card says cancelled, and no further request reaches the upstream', async () => {
  await page.goto(`${demoUrl}/`);
  const requestsBefore = upstream.requests.length;
  await page.click('#presets [data-preset="tools"]');
  await page.waitForSelector('.tool-run[data-state="running"]', { timeout: 20_000 });

  await page.click('#stop');

  expect(await page.getAttribute('.tool-run', 'data-state')).toBe('cancelled');
  expect(await page.textContent('.tool-state')).toBe('cancelled: its signal aborted');
  expect(await page.getAttribute('#status', 'data-state')).toBe('stopped');
  expect(await detail()).toMatch(/the running tool's signal aborted, and no further request was sent\.$/);
  expect(upstream.requests).toHaveLength(requestsBefore + 1);

  // An answer that takes longer than the tool would have: had the loop gone on, its request would come before this one's end.
  await page.click('#clear-scenario');
  await page.fill('#prompt', 'Afterwards [[mock:tokens=30]] [[mock:delay=50]]');
  await page.click('#send');
  await page.waitForSelector('#status[data-state="done"]', { timeout: 20_000 });
  expect(upstream.requests).toHaveLength(requestsBefore + 2);
  expect(upstream.requests[requestsBefore + 1].prompt).toBe('Afterwards [[mock:tokens=30]] [[mock:delay=50]]');
});
