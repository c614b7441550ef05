import type { Browser, Page } from 'playwright-core';
import { startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { answerOpening, derivedAnswer, parseDirectives } from '../../src/testing/mockModel';
import { cliEnv, killLeftovers } from '../cli/cliProcess';
import { launchChromium, startDemoCli, type DemoCli } from './harness';

/*
 * The demo page survives a reload mid-answer: the relay runs in resume mode,
 * the page keeps the stream id in sessionStorage while the answer streams, and
 * after the reload re-attaches with client.resumeStream(id) from the first
 * frame. The upstream is a mock in this process, so the spec sees that the
 * generation was never restarted and that Stop after the reload reaches it.
 */

const KEY = 'sk-demo-resume-e2e-7c1';
const STORAGE_KEY = 'openai-rx-demo:stream';

let upstream: MockUpstream;
let demo: DemoCli;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  upstream = await startMockUpstream({ apiKey: KEY });
  demo = await startDemoCli(cliEnv({ OPENAI_BASE_URL: upstream.baseURL, OPENAI_API_KEY: KEY }));
  browser = await launchChromium();
  page = await browser.newPage();
});

afterAll(async () => {
  await browser?.close();
  killLeftovers();
  await upstream?.close();
});

const text = () => page.textContent('#text');
const storedStream = () => page.evaluate((key) => sessionStorage.getItem(key), STORAGE_KEY);
const requestsFor = (prompt: string) => upstream.requests.filter((request) => request.prompt === prompt);

/** The mock's whole answer to `prompt`: deterministic, so the page's text can be compared with it. */
function mockAnswer(prompt: string): string {
  const { prompt: topic, behavior } = parseDirectives(prompt);
  return derivedAnswer(topic, answerOpening(topic), behavior.tokens);
}

/** Sends `prompt` and reloads the page once some of the answer is on it; resolves with the text seen before the reload. */
async function reloadMidAnswer(prompt: string): Promise<string> {
  await page.goto(`${demo.url}/`);
  await page.fill('#prompt', prompt);
  await page.click('#send');
  await page.waitForFunction(() => (document.getElementById('text')?.textContent ?? '').length > 40, null, { timeout: 20_000 });
  expect(await storedStream()).toMatch(/^\{"streamId":"[\w-]+"/);
  const before = (await text())!;
  await page.reload();
  return before;
}

test('a reload mid-answer picks the answer up: rebuilt whole, no text twice, the generation never restarted', async () => {
  const prompt = 'Tell me about cancellation [[mock:tokens=120]] [[mock:delay=40]]';
  const before = await reloadMidAnswer(prompt);

  await page.waitForSelector('#resumed', { state: 'visible', timeout: 10_000 });
  expect(await page.textContent('#resumed')).toContain('resumed after reload');
  expect(await page.inputValue('#prompt')).toBe(prompt);
  await page.waitForSelector('#status[data-state="done"]', { timeout: 20_000 });

  const answer = mockAnswer(prompt);
  expect(await text()).toBe(answer);
  expect(answer.startsWith(before)).toBe(true);
  // Every frame once, from the first: event numbers 1…n without a gap or a repeat.
  const ids = await page.$$eval('#frames li.frame .frame-id', (cells) => cells.map((cell) => cell.textContent));
  expect(ids).toEqual(Array.from({ length: 120 + 4 }, (_, index) => String(index + 1)));
  expect(await page.textContent('#status-detail')).toMatch(/^Rebuilt after the reload: 120 tokens in /);
  // One upstream request, answered to its end: the reload re-attached to it instead of asking again.
  expect(requestsFor(prompt)).toHaveLength(1);
  expect(requestsFor(prompt)[0].state).toBe('completed');
  await demo.process.waitFor((_, stderr) => /GET \/v1\/streams\/\S+ · 200 completed/.test(stderr), 'the relay to log the re-attach');
  expect(await storedStream()).toBeNull();
});

test('Stop after a reload stops the generation upstream, and a later reload resumes nothing', async () => {
  const prompt = 'Tell me about stopping [[mock:tokens=400]] [[mock:delay=40]]';
  await reloadMidAnswer(prompt);
  await page.waitForSelector('#status[data-state="streaming"]', { timeout: 10_000 });
  expect(await page.isVisible('#resumed')).toBe(true);
  const [request] = requestsFor(prompt);
  expect(request.state).toBe('open');

  await page.click('#stop');

  expect(await page.getAttribute('#status', 'data-state')).toBe('stopped');
  await upstream.waitFor(() => request.state === 'aborted', 10_000);
  expect(requestsFor(prompt)).toHaveLength(1);
  expect(await storedStream()).toBeNull();

  await page.reload();
  expect(await page.getAttribute('#status', 'data-state')).toBe('idle');
  expect(await page.isVisible('#resumed')).toBe(false);
  expect(await text()).toBe('');
});

test('a stored stream the relay does not know: a friendly message, and the id is forgotten', async () => {
  await page.goto(`${demo.url}/`);
  await page.evaluate((key) => sessionStorage.setItem(key, JSON.stringify({ streamId: 'A'.repeat(24), prompt: 'Hi', presetId: 'none' })), STORAGE_KEY);
  await page.reload();

  await page.waitForSelector('#status[data-state="error"]', { timeout: 10_000 });
  expect(await page.textContent('#status-text')).toBe('The answer is no longer on the relay: it expired, or the relay restarted.');
  expect(await page.textContent('#status-detail')).toMatch(/^StreamNotFoundError · HTTP 404 · /);
  expect(await storedStream()).toBeNull();
});
