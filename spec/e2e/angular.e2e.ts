import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import {
  launchChromium,
  startRelay,
  startScriptedUpstream,
  startSite,
  waitUntil,
  type E2eRelay,
  type ScriptedReply,
  type ScriptedUpstream,
  type Site,
} from './harness';

const root = join(__dirname, '..', '..');
const exampleDir = join(root, 'examples', 'angular');
const distDir = join(exampleDir, 'dist', 'openai-rx-example', 'browser');

/** Runs a command to completion (bounded), failing with its output. */
function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit code ${code}`}):\n${output}`));
    });
  });
}

/** CI builds the example before the e2e run (.ci/run); a developer's first run builds it here. */
async function ensureAngularBuild(): Promise<void> {
  if (existsSync(join(distDir, 'index.html'))) return;
  if (!existsSync(join(root, 'dist', 'esm', 'index.js'))) await run('npm', ['run', 'build'], root, 120_000);
  if (!existsSync(join(exampleDir, 'node_modules'))) await run('npm', ['ci', '--no-audit', '--no-fund'], exampleDir, 300_000);
  await run('npx', ['ng', 'build'], exampleDir, 300_000);
}

const words = Array.from({ length: 12 }, (_, i) => ` w${i}`);
const slow: ScriptedReply = { deltas: Array.from({ length: 1000 }, (_, i) => ` s${i}`), intervalMs: 50 };
/** Prompts that stream slowly enough to be interrupted; every other prompt gets a short, quick reply. */
const slowPrompts = new Set(['a long story', 'rx']);

let upstream: ScriptedUpstream;
let relay: E2eRelay;
let site: Site;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await ensureAngularBuild();
  upstream = await startScriptedUpstream((prompt) =>
    slowPrompts.has(prompt) ? slow : { deltas: [prompt, ...words], intervalMs: 20 },
  );
  relay = startRelay(upstream.server.url);
  site = await startSite({ relay: relay.handler, spaRoot: distDir });
  browser = await launchChromium();
  page = await browser.newPage();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await upstream?.server.close();
});

/** Sends `prompt` from the chat page and returns its upstream exchange once upstream has it. */
async function sendChat(prompt: string) {
  const before = upstream.exchanges.length;
  await page.fill('#prompt', prompt);
  await page.click('#send');
  await waitUntil(() => upstream.exchanges.length > before, `upstream to receive "${prompt}"`);
  return upstream.exchanges[before];
}

test('the chat page renders the streamed text', async () => {
  await page.goto(`${site.url}/chat`);
  const exchange = await sendChat('hello');
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'done', null, { timeout: 20_000 });
  expect(await page.textContent('#output')).toBe(['hello', ...words].join(''));
  expect(exchange.outcome).toBe('completed');
});

test('Stop on the chat page aborts the request upstream', async () => {
  await page.goto(`${site.url}/chat`);
  const closedBefore = upstream.server.closedSockets();
  const exchange = await sendChat('a long story');
  await page.waitForFunction(() => (document.getElementById('output')?.textContent ?? '').includes(' s2'), null, {
    timeout: 20_000,
  });
  expect(await page.textContent('#status')).toBe('streaming');
  await page.click('#stop');
  await upstream.server.waitForClosedSockets(closedBefore + 1, 10_000);
  await waitUntil(() => exchange.outcome === 'aborted', 'upstream to see the request aborted');
  expect(await page.textContent('#status')).toBe('stopped');
});

test('navigating away from the chat page aborts its request upstream', async () => {
  await page.goto(`${site.url}/chat`);
  const closedBefore = upstream.server.closedSockets();
  const settledBefore = relay.settled.length;
  const exchange = await sendChat('a long story');
  await page.waitForFunction(() => (document.getElementById('output')?.textContent ?? '').includes(' s2'), null, {
    timeout: 20_000,
  });
  await page.click('#nav-typeahead');
  await page.waitForSelector('#query', { timeout: 20_000 });

  await waitUntil(() => relay.settled.length > settledBefore, 'the relay to see the browser close');
  expect(relay.settled[settledBefore]).toMatchObject({ outcome: 'client-closed' });
  await upstream.server.waitForClosedSockets(closedBefore + 1, 10_000);
  await waitUntil(() => exchange.outcome === 'aborted', 'upstream to see the request aborted');
});

test('the typeahead debounces keystrokes and runs only the last query to completion', async () => {
  await page.goto(`${site.url}/typeahead`);
  const before = upstream.exchanges.length;
  const settledBefore = relay.settled.length;
  const type = (values: string[]) =>
    page.$eval(
      '#query',
      (input, typed) => {
        for (const value of typed) {
          (input as HTMLInputElement).value = value;
          input.dispatchEvent(new Event('input', { bubbles: true }));
        }
      },
      values,
    );

  // Two keystrokes within the debounce window: only the second becomes a request.
  await type(['r', 'rx']);
  await page.waitForFunction(() => (document.getElementById('suggestion')?.textContent ?? '').includes(' s1'), null, {
    timeout: 20_000,
  });
  // A new query while "rx" still streams: switchMap drops it, and its request is aborted.
  await type(['rxj', 'rxjs']);
  await page.waitForFunction(
    (expected) => document.getElementById('suggestion')?.textContent === expected,
    ['rxjs', ...words].join(''),
    { timeout: 20_000 },
  );
  await waitUntil(() => upstream.exchanges[before]?.outcome === 'aborted', 'upstream to see "rx" aborted');
  await waitUntil(() => upstream.exchanges[before + 1]?.outcome === 'completed', 'upstream to finish "rxjs"');
  expect(upstream.exchanges.slice(before)).toEqual([
    { prompt: 'rx', outcome: 'aborted' },
    { prompt: 'rxjs', outcome: 'completed' },
  ]);
  await waitUntil(() => relay.settled.length >= settledBefore + 2, 'the relay to settle both queries');
  expect(relay.settled.slice(settledBefore).map((summary) => summary.outcome)).toEqual(['client-closed', 'completed']);
});
