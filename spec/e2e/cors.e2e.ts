import type { IncomingMessage, RequestListener } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { RelaySummary } from '../../src/index.node';
import { createRelay } from '../../src/node';
import { splitTokens, startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { listen, type Listening } from '../relay/relayHelpers';
import { bundlePage, launchChromium, RELAY_API_KEY, startSite, waitUntil, type Site } from './harness';

/*
 * A page on one origin streaming through a relay on another: Chromium sends
 * a real preflight, the relay answers it, and the stream renders. A page on
 * an origin the relay does not allow is stopped by the browser, and upstream
 * hears nothing of it.
 */

const answer = 'A relay on another origin answers the preflight itself.';

let upstream: MockUpstream;
let allowedSite: Site;
let refusedSite: Site;
let relay: Listening;
let settled: Array<RelaySummary<IncomingMessage>>;
let browser: Browser;
let bundleWarnings: string[];

beforeAll(async () => {
  const bundle = await bundlePage(join(__dirname, 'cors-page', 'page.ts'));
  bundleWarnings = bundle.warnings;
  upstream = await startMockUpstream({ apiKey: RELAY_API_KEY, tokenDelayMs: 5, behavior: () => ({ text: answer }) });
  const files = {
    '/': { type: 'text/html; charset=utf-8', body: readFileSync(join(__dirname, 'cors-page', 'index.html'), 'utf8') },
    '/page.js': { type: 'text/javascript; charset=utf-8', body: bundle.code },
  };
  // The pages' own servers serve no relay.
  const noRelay: RequestListener = (_req, res) => res.writeHead(404).end();
  allowedSite = await startSite({ relay: noRelay, files });
  refusedSite = await startSite({ relay: noRelay, files });
  settled = [];
  relay = await listen(
    createRelay({ apiKey: RELAY_API_KEY, baseURL: upstream.baseURL, cors: allowedSite.url, onSettled: (summary) => settled.push(summary) }),
  );
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await relay?.close();
  await allowedSite?.close();
  await refusedSite?.close();
  await upstream?.close();
});

const pageURL = (site: Site) => `${site.url}/?relay=${encodeURIComponent(`${relay.url}/v1`)}`;

test('the page bundle builds for the browser without warnings', () => {
  expect(bundleWarnings).toEqual([]);
  expect(new URL(allowedSite.url).origin).not.toBe(new URL(relay.url).origin);
});

test('a page on an allowed origin streams through the relay on another origin and renders the deltas', async () => {
  const page = await browser.newPage();
  await page.goto(pageURL(allowedSite));
  await page.click('#send');
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'done', null, { timeout: 20_000 });
  expect(await page.$$eval('#output .delta', (spans) => spans.map((span) => span.textContent))).toEqual(splitTokens(answer));
  await page.close();

  await waitUntil(() => settled.length === 2, 'the preflight and the stream to settle');
  expect(settled.map(({ outcome, status }) => ({ outcome, status }))).toEqual([
    { outcome: 'preflight', status: 204 },
    { outcome: 'completed', status: 200 },
  ]);
  expect(settled[0].request.headers).toMatchObject({ origin: allowedSite.url, 'access-control-request-method': 'POST' });
  expect(upstream.requests).toHaveLength(1);
  expect(upstream.requests[0]).toMatchObject({ state: 'completed' });
});

test('a page on a refused origin fails with a CORS error; the relay rejects the preflight and upstream gets nothing', async () => {
  const settledBefore = settled.length;
  const requestsBefore = upstream.requests.length;
  const connectionsBefore = upstream.openConnections() + upstream.closedConnections();
  const page = await browser.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await page.goto(pageURL(refusedSite));
  await page.click('#send');
  await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('error'), null, { timeout: 20_000 });
  expect(await page.textContent('#status')).toBe('error: APIConnectionError');
  expect(await page.$$eval('#output .delta', (spans) => spans.length)).toBe(0);
  await waitUntil(() => consoleErrors.some((text) => text.includes('CORS policy')), "Chromium's CORS error in the console");
  await page.close();

  await waitUntil(() => settled.length === settledBefore + 1, 'the preflight to settle');
  expect(settled[settledBefore]).toMatchObject({ outcome: 'rejected', status: 403 });
  expect(settled[settledBefore].request.method).toBe('OPTIONS');
  expect(upstream.requests).toHaveLength(requestsBefore);
  expect(upstream.openConnections() + upstream.closedConnections()).toBe(connectionsBefore);
});
