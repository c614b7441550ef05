import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import {
  bundlePage,
  launchChromium,
  startRelay,
  startScriptedUpstream,
  startSite,
  waitUntil,
  type E2eRelay,
  type ScriptedUpstream,
  type Site,
} from './harness';

const words = Array.from({ length: 12 }, (_, i) => `w${i} `);
const slowDeltas = Array.from({ length: 1000 }, (_, i) => `s${i} `);

let upstream: ScriptedUpstream;
let relay: E2eRelay;
let site: Site;
let browser: Browser;
let page: Page;
let bundleWarnings: string[];

beforeAll(async () => {
  const bundle = await bundlePage(join(__dirname, 'plain-page', 'page.ts'));
  bundleWarnings = bundle.warnings;
  upstream = await startScriptedUpstream((prompt) =>
    prompt === 'slow' ? { deltas: slowDeltas, intervalMs: 50 } : { deltas: words, intervalMs: 10 },
  );
  relay = startRelay(upstream.server.url);
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
  await upstream?.server.close();
});

test('the page bundle builds for the browser without warnings', () => {
  expect(bundleWarnings).toEqual([]);
});

test('a plain page streams through the relay and renders the deltas in order', async () => {
  await page.goto(site.url);
  await page.fill('#prompt', 'count');
  await page.click('#send');
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'done', null, { timeout: 20_000 });
  const deltas = await page.$$eval('#output .delta', (spans) => spans.map((span) => span.textContent));
  expect(deltas).toEqual(words);
  await waitUntil(() => relay.settled.length === 1, 'the relay to settle the request');
  expect(relay.settled[0]).toMatchObject({ outcome: 'completed', route: 'chat/completions', status: 200 });
});

test('Stop unsubscribes, and the cancellation crosses browser → relay → upstream', async () => {
  await page.goto(site.url);
  const closedBefore = upstream.server.closedSockets();
  const settledBefore = relay.settled.length;
  const exchangesBefore = upstream.exchanges.length;
  await page.fill('#prompt', 'slow');
  await page.click('#send');
  await page.waitForSelector('#output .delta:nth-child(3)', { timeout: 20_000 });
  await page.click('#stop');

  await waitUntil(() => relay.settled.length > settledBefore, 'the relay to see the browser close');
  expect(relay.settled[settledBefore]).toMatchObject({ outcome: 'client-closed' });
  await upstream.server.waitForClosedSockets(closedBefore + 1, 10_000);
  await waitUntil(() => upstream.exchanges[exchangesBefore]?.outcome === 'aborted', 'upstream to see the request aborted');
  expect(await page.textContent('#status')).toBe('stopped');
  const rendered = await page.$$eval('#output .delta', (spans) => spans.length);
  expect(rendered).toBeGreaterThanOrEqual(3);
  expect(rendered).toBeLessThan(slowDeltas.length);
});
