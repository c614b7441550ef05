import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { splitTokens, startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import {
  bundlePage,
  launchChromium,
  RELAY_API_KEY,
  startRelay,
  startSite,
  waitUntil,
  type E2eRelay,
  type Site,
} from './harness';

const answer = 'Cold observables send nothing until someone subscribes, and stop when they leave.';

let upstream: MockUpstream;
let relay: E2eRelay;
let site: Site;
let browser: Browser;
let page: Page;
let bundleWarnings: string[];

beforeAll(async () => {
  const bundle = await bundlePage(join(__dirname, 'plain-page', 'page.ts'));
  bundleWarnings = bundle.warnings;
  upstream = await startMockUpstream({
    apiKey: RELAY_API_KEY,
    tokenDelayMs: 10,
    // "slow" sends three tokens, then holds the stream open until the client leaves.
    behavior: (request) => (request.prompt === 'slow' ? { stall: 3 } : { text: answer }),
  });
  relay = startRelay(upstream.baseURL);
  site = await startSite({
    relay: relay.handler,
    files: {
      '/': { type: 'text/html; charset=utf-8', body: readFileSync(join(__dirname, 'plain-page', 'index.html'), 'utf8') },
      '/page.js': { type: 'text/javascript; charset=utf-8', body: bundle.code },
    },
  });
  browser = await launchChromium();
  page = await browser.newPage();
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await upstream?.close();
});

test('the page bundle builds for the browser without warnings', () => {
  expect(bundleWarnings).toEqual([]);
});

test('a plain page streams through the relay and renders the deltas in order', async () => {
  await page.goto(site.url);
  await page.fill('#prompt', 'explain');
  await page.click('#send');
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'done', null, { timeout: 20_000 });
  const deltas = await page.$$eval('#output .delta', (spans) => spans.map((span) => span.textContent));
  expect(deltas).toEqual(splitTokens(answer));
  await waitUntil(() => relay.settled.length === 1, 'the relay to settle the request');
  expect(relay.settled[0]).toMatchObject({ outcome: 'completed', route: 'chat/completions', status: 200 });
  expect(upstream.requests[0]).toMatchObject({ prompt: 'explain', state: 'completed' });
});

test('Stop unsubscribes, and the cancellation crosses browser → relay → upstream', async () => {
  await page.goto(site.url);
  const closedBefore = upstream.closedConnections();
  const settledBefore = relay.settled.length;
  const requestsBefore = upstream.requests.length;
  await page.fill('#prompt', 'slow');
  await page.click('#send');
  await page.waitForSelector('#output .delta:nth-child(3)', { timeout: 20_000 });
  expect(await page.textContent('#status')).toBe('streaming');
  await page.click('#stop');

  await waitUntil(() => relay.settled.length > settledBefore, 'the relay to see the browser close');
  expect(relay.settled[settledBefore]).toMatchObject({ outcome: 'client-closed' });
  await waitUntil(() => upstream.closedConnections() > closedBefore, 'upstream to see its socket close');
  await waitUntil(() => upstream.requests[requestsBefore]?.state === 'aborted', 'upstream to mark the request aborted');
  expect(upstream.requests[requestsBefore].prompt).toBe('slow');
  expect(await page.textContent('#status')).toBe('stopped');
  expect(await page.$$eval('#output .delta', (spans) => spans.length)).toBe(3);
});
