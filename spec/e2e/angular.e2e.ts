import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { splitTokens, startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { launchChromium, RELAY_API_KEY, startRelay, startSite, waitUntil, type E2eRelay, type Site } from './harness';

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
  await run('npx', ['--no-install', 'ng', 'build'], exampleDir, 300_000);
}

/** Prompts whose stream sends two tokens and then stays open until the client leaves. */
const heldOpen = new Set(['a long story', 'rx']);
const answerTo = (prompt: string) => `${prompt}: cold, cancellable, streamed.`;
/** What a held-open stream has rendered: its first two tokens. */
const openingOf = (prompt: string) => splitTokens(answerTo(prompt)).slice(0, 2).join('');

let upstream: MockUpstream;
let relay: E2eRelay;
let site: Site;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await ensureAngularBuild();
  upstream = await startMockUpstream({
    apiKey: RELAY_API_KEY,
    tokenDelayMs: 10,
    behavior: (request) => ({ text: answerTo(request.prompt), stall: heldOpen.has(request.prompt) ? 2 : undefined }),
  });
  relay = startRelay(upstream.baseURL);
  site = await startSite({ relay: relay.handler, spaRoot: distDir });
  browser = await launchChromium();
  page = await browser.newPage();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await upstream?.close();
});

/** Waits until `selector`'s text equals `expected` (polled in the page). */
function waitForText(selector: string, expected: string) {
  return page.waitForFunction(
    ({ selector, expected }) => document.querySelector(selector)?.textContent === expected,
    { selector, expected },
    { timeout: 20_000 },
  );
}

/** Sends `prompt` from the chat page once upstream has received it; returns its index in `upstream.requests`. */
async function sendChat(prompt: string): Promise<number> {
  const index = upstream.requests.length;
  await page.fill('#prompt', prompt);
  await page.click('#send');
  await waitUntil(() => upstream.requests.length > index, `upstream to receive "${prompt}"`);
  expect(upstream.requests[index].prompt).toBe(prompt);
  return index;
}

/** Both far hops saw the request end early: the relay reports the client gone, upstream its request aborted. */
async function expectAbortedAcrossHops(requestIndex: number, settledBefore: number, closedBefore: number) {
  await waitUntil(() => relay.settled.length > settledBefore, 'the relay to see the browser close');
  expect(relay.settled[settledBefore]).toMatchObject({ outcome: 'client-closed' });
  await waitUntil(() => upstream.closedConnections() > closedBefore, 'upstream to see its socket close');
  await waitUntil(() => upstream.requests[requestIndex].state === 'aborted', 'upstream to mark the request aborted');
}

test('the chat page renders the streamed text', async () => {
  await page.goto(`${site.url}/chat`);
  const index = await sendChat('hello');
  await waitForText('#status', 'done');
  expect(await page.textContent('#output')).toBe(answerTo('hello'));
  expect(upstream.requests[index].state).toBe('completed');
});

test('Stop on the chat page aborts the request across relay and upstream', async () => {
  await page.goto(`${site.url}/chat`);
  const closedBefore = upstream.closedConnections();
  const settledBefore = relay.settled.length;
  const index = await sendChat('a long story');
  await waitForText('#output', openingOf('a long story'));
  expect(await page.textContent('#status')).toBe('streaming');

  await page.click('#stop');
  await expectAbortedAcrossHops(index, settledBefore, closedBefore);
  expect(await page.textContent('#status')).toBe('stopped');
});

test('navigating away from the chat page aborts its request (takeUntilDestroyed)', async () => {
  await page.goto(`${site.url}/chat`);
  const closedBefore = upstream.closedConnections();
  const settledBefore = relay.settled.length;
  const index = await sendChat('a long story');
  await waitForText('#output', openingOf('a long story'));

  await page.click('#nav-typeahead');
  await page.waitForSelector('#query', { timeout: 20_000 });
  await expectAbortedAcrossHops(index, settledBefore, closedBefore);
});

test('the typeahead debounces keystrokes and runs only the last query to completion', async () => {
  await page.goto(`${site.url}/typeahead`);
  const before = upstream.requests.length;
  const settledBefore = relay.settled.length;
  /** Types each value in turn within one task, far inside the 300 ms debounce. */
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

  await type(['r', 'rx']);
  await waitForText('#suggestion', openingOf('rx'));
  // "rx" is still streaming: the next query switches to a new request and aborts this one.
  await type(['rxj', 'rxjs']);
  await waitForText('#suggestion', answerTo('rxjs'));

  await waitUntil(() => upstream.requests[before + 1]?.state === 'completed', 'upstream to finish "rxjs"');
  await waitUntil(() => upstream.requests[before].state === 'aborted', 'upstream to see "rx" aborted');
  expect(upstream.requests.slice(before).map(({ prompt, state }) => ({ prompt, state }))).toEqual([
    { prompt: 'rx', state: 'aborted' },
    { prompt: 'rxjs', state: 'completed' },
  ]);
  await waitUntil(() => relay.settled.length >= settledBefore + 2, 'the relay to settle both queries');
  expect(relay.settled.slice(settledBefore).map((summary) => summary.outcome)).toEqual(['client-closed', 'completed']);
});
