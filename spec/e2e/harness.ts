import { build } from 'esbuild';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RelaySummary } from '../../src/index.node';
import { createRelay } from '../../src/node';
import { listeningUrl, startCli, type CliProcess } from '../cli/cliProcess';

/*
 * The pieces every end-to-end spec needs: a page bundle built by esbuild, a
 * site (static files + the relay on one origin, so the browser needs no CORS),
 * headless Chromium, and bounded polling.
 */

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Debian's Chromium, headless. The background-networking flags keep it from
 * dialing Google's hosts, which this machine's closed network refuses;
 * playwright gives every launch a new empty user-data-dir.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 60_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface PageBundle {
  code: string;
  warnings: string[];
}

/** Bundles a page script for the browser (rxjs included, as an app would ship it). */
export async function bundlePage(entry: string): Promise<PageBundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0].text, warnings: result.warnings.map((warning) => warning.text) };
}

export interface Site {
  url: string;
  close(): Promise<void>;
}

export interface SiteConfig {
  /** Handles every request under `/v1/`. */
  relay: RequestListener;
  /** Files served from memory, by URL path. */
  files?: Record<string, { type: string; body: string }>;
  /** A built single-page app: its files are served, and unknown paths get its index.html. */
  spaRoot?: string;
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/** A node:http server on 127.0.0.1:0 serving a page and the relay from one origin. */
export async function startSite(config: SiteConfig): Promise<Site> {
  const sockets = new Set<Socket>();

  const serveFile = async (path: string, res: ServerResponse) => {
    const file = config.files?.[path];
    if (file) {
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
      res.end(file.body);
      return;
    }
    if (!config.spaRoot) {
      res.writeHead(404).end();
      return;
    }
    const candidate = normalize(join(config.spaRoot, decodeURIComponent(path)));
    const inside = candidate.startsWith(config.spaRoot + sep);
    const isFile = inside && (await stat(candidate).catch(() => undefined))?.isFile();
    const target = isFile ? candidate : join(config.spaRoot, 'index.html');
    res.writeHead(200, { 'content-type': contentTypes[extname(target)] ?? 'application/octet-stream' });
    res.end(await readFile(target));
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://site').pathname;
    if (path.startsWith('/v1/')) {
      config.relay(req, res);
      return;
    }
    serveFile(path, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface E2eRelay {
  handler: RequestListener;
  /** What the relay reported of each request it handled (`onSettled`), in order. */
  settled: Array<RelaySummary<IncomingMessage>>;
}

/** The key only the relay holds; the mock upstream refuses requests without it. */
export const RELAY_API_KEY = 'sk-e2e-relay-only';

/** The node:http relay in front of `baseURL`, holding the API key the browser never sees. */
export function startRelay(baseURL: string): E2eRelay {
  const settled: Array<RelaySummary<IncomingMessage>> = [];
  const handler = createRelay({
    apiKey: RELAY_API_KEY,
    baseURL,
    onSettled: (summary) => settled.push(summary),
  });
  return { handler, settled };
}

/** Polls `condition` every 25 ms; rejects with `what` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface DemoCli {
  process: CliProcess;
  url: string;
}

/** `openai-rx demo` as a real process on a free port, `delayMs` between the embedded mock's tokens. */
export async function startDemoCli(env: NodeJS.ProcessEnv, delayMs = 20): Promise<DemoCli> {
  const demo = startCli(['demo', '--port', '0', '--delay', String(delayMs)], env);
  await demo.waitFor((stdout) => stdout.includes('→ upstream'), 'the demo to listen', 30_000);
  return { process: demo, url: listeningUrl(demo.stdout().toString()) };
}

/** Whether every element matching `selector` is one line tall: the raw panel's frames never wrap. */
export function singleLines(page: Page, selector: string): Promise<boolean> {
  return page.$$eval(selector, (items) =>
    items.every((item) => {
      const lineHeight = parseFloat(getComputedStyle(item).lineHeight);
      return item.getBoundingClientRect().height < lineHeight * 1.5;
    }),
  );
}

/** Whether the element is inside its scrolling panel's visible area (the panel followed the tail). */
export function inView(page: Page, selector: string): Promise<boolean> {
  return page.$eval(selector, (element) => {
    const panel = element.parentElement!;
    const box = element.getBoundingClientRect();
    const view = panel.getBoundingClientRect();
    return box.top >= view.top - 1 && box.bottom <= view.bottom + 1;
  });
}
