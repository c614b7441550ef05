import { once } from 'node:events';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { createParser } from 'eventsource-parser';
import { Agent } from 'undici';
import { createFetchRelay, type RelayOptions, type RelayOutcome, type RelaySummary, type Transport } from '../../src/index.node';
import { createRelay, undiciTransport } from '../../src/node';
import type { TestServer } from '../helpers/server';
import { trackedScheduler, type TrackedScheduler } from '../helpers/timers';

/*
 * Tools for the relay's fuzz specs: a seeded random source whose seed every failure names, servers that count their
 * sockets, a ledger of onSettled calls, a fetch-handler adapter for node:http, and readers for what a client
 * received (HTTP/1.1 responses, SSE). They look at the relay from outside only: sockets, bytes, hooks.
 */

/** A seeded pseudo-random source: the same seed gives the same cases on every run and platform. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  bytes(count: number): Buffer;
  /** `buffer` cut at random offsets into at most `maxPieces` non-empty pieces. */
  pieces(buffer: Buffer, maxPieces: number): Buffer[];
}

/**
 * mulberry32: 32 bits of state, fast, and good enough to pick test inputs.
 *
 * @example
 * const random = mulberry32(7);
 * random.pick(['GET', 'POST']);
 */
function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    chance: (probability) => next() < probability,
    pick: (items) => items[int(0, items.length - 1)],
    bytes: (count) => Buffer.from(Array.from({ length: count }, () => int(0, 255))),
    pieces(buffer, maxPieces) {
      const cuts = new Set<number>();
      const wanted = Math.min(int(1, maxPieces), buffer.length) - 1;
      for (let tries = 0; cuts.size < wanted && tries < wanted * 4; tries++) cuts.add(int(1, buffer.length - 1));
      const offsets = [0, ...[...cuts].sort((a, b) => a - b), buffer.length];
      return offsets.slice(1).map((end, i) => buffer.subarray(offsets[i], end)).filter((piece) => piece.length > 0);
    },
  };
}

/** The random source of one case, derived from its seed and index: a case replays alone, whatever ran before it. */
function caseRandom(seed: number, index: number): Random {
  return mulberry32(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35));
}

/** One seed and the indices of its cases to run. */
export interface FuzzRun {
  seed: number;
  cases: number[];
}

/**
 * The seeds to run: `defaultSeeds` with `casesPerSeed` cases each, or those of `FUZZ_SEED` (`7` for every case of
 * seed 7, `7:13` for its case 13 alone, comma-separated). `FUZZ_CASES` changes the count per seed, for a longer hunt.
 */
export function fuzzRuns(defaultSeeds: readonly number[], casesPerSeed: number): FuzzRun[] {
  const count = Number(process.env.FUZZ_CASES) || casesPerSeed;
  const all = Array.from({ length: count }, (_, index) => index);
  const chosen = process.env.FUZZ_SEED?.trim();
  if (!chosen) return defaultSeeds.map((seed) => ({ seed, cases: all }));
  return chosen.split(',').map((item) => {
    const [seed, only] = item.split(':').map(Number);
    if (!Number.isInteger(seed) || (only !== undefined && !Number.isInteger(only))) throw new Error(`FUZZ_SEED: cannot read '${item}'`);
    return { seed, cases: only === undefined ? all : [only] };
  });
}

/** Runs every timer of the relays under test: what a seed checks for timers left pending. */
const relayTimers = trackedScheduler();
/** What watches a whole seed: uncaught exceptions, and the timers the relays start. */
export interface SeedWatch {
  failures: ProcessFailures;
  timers: TrackedScheduler;
}

/**
 * Runs a seed's cases one after the other under a {@link SeedWatch}; `runCase` gets each case's own random source.
 * At the end the timer tracker must have seen relay timers, so that "none pending" was no vacuous claim.
 */
export async function fuzzSeed(
  seed: number,
  cases: readonly number[],
  runCase: (random: Random, index: number, watch: SeedWatch) => Promise<void>,
): Promise<void> {
  const watch = { failures: recordProcessFailures(), timers: relayTimers };
  const startedBefore = relayTimers.started();
  try {
    for (const index of cases) await runCase(caseRandom(seed, index), index, watch);
    // A whole seed starts relay timers, so "none pending" says something; one replayed case may start none.
    if (cases.length > 1) expect(relayTimers.started()).toBeGreaterThan(startedBefore);
  } finally {
    watch.failures.stop();
  }
}

/** Waits, on events, until the case is over: every socket to the relay closed, every request settled, upstream idle. */
export async function caseOver(relay: RelayUnderTest, upstream: TestServer, timeoutMs: number): Promise<void> {
  await relay.server.allClosed(timeoutMs);
  await relay.ledger.allSettled(timeoutMs);
  await upstreamClosed(upstream, timeoutMs);
}

/**
 * What every case must leave: no uncaught exception, no onError call, no ledger problem, and no relay timer pending
 * once everything settled and every socket closed, or, given `timersEndWithinMs`, none still pending after that long.
 */
export async function expectNothingLeft(relay: RelayUnderTest, watch: SeedWatch, timersEndWithinMs = 0): Promise<void> {
  expect(watch.failures.failures).toEqual([]);
  expect(relay.hookErrors).toEqual([]);
  expect(relay.ledger.takeProblems()).toEqual([]);
  if (timersEndWithinMs > 0) {
    // A timeout here is reported by the expectation below.
    await timerChanges.until(() => watch.timers.live() === 0, () => 'the relay timers to end', timersEndWithinMs).catch(() => undefined);
  }
  expect({ relayTimersPending: watch.timers.live() }).toEqual({ relayTimersPending: 0 });
}

/** Runs one case; a failure is rethrown with `label` (seed, case, what was sent) first, so that it can be replayed. */
export async function replayable(label: () => string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    throw new Error(`${label()}\n${message}`);
  }
}

/** Uncaught exceptions and unhandled rejections while it records: none may come from the relay. */
export interface ProcessFailures {
  failures: unknown[];
  stop(): void;
}

function recordProcessFailures(): ProcessFailures {
  const failures: unknown[] = [];
  const record = (error: unknown) => failures.push(error);
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
  return {
    failures,
    stop() {
      process.off('uncaughtException', record);
      process.off('unhandledRejection', record);
    },
  };
}

/** Promises that resolve when a condition turns true, re-checked on `notify`; each has a deadline that names it. */
export class Waiters {
  private readonly checks = new Set<() => void>();

  notify(): void {
    for (const check of [...this.checks]) check();
  }

  until(condition: () => boolean, what: () => string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (condition()) return resolve();
      const timer = setTimeout(() => {
        this.checks.delete(check);
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what()}`));
      }, timeoutMs);
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.checks.delete(check);
        resolve();
      };
      this.checks.add(check);
    });
  }
}

/** Woken whenever one of the relays' timers has run or was cancelled. */
const timerChanges = new Waiters();
/** The relays' scheduler: {@link relayTimers}, waking {@link timerChanges} as each action ends. */
const relayScheduler: SchedulerLike = {
  now: () => relayTimers.now(),
  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay?: number, state?: T): Subscription {
    const action = relayTimers.schedule<T>(
      function (this: SchedulerAction<T>, value?: T) {
        work.call(this, value);
        timerChanges.notify();
      },
      delay,
      state,
    );
    action.add(() => timerChanges.notify());
    return action;
  },
};

/** Rejects naming `what` when `promise` has not settled within `timeoutMs`: a hang is a finding. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Hung: ${what} did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** `turns` passes of the event loop (setImmediate): a pause that lets I/O happen, and no timer. */
export async function pause(turns: number): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A node:http server on 127.0.0.1:0 that knows its open sockets. */
export interface TrackedServer {
  url: string;
  port: number;
  openSockets(): number;
  /** Resolves once every socket to the server has closed and node:http counts no connection either. */
  allClosed(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

async function listenTracked(handler: RequestListener): Promise<TrackedServer> {
  const server = createServer(handler);
  const sockets = new Set<Socket>();
  const waiters = new Waiters();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      waiters.notify();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    openSockets: () => sockets.size,
    async allClosed(timeoutMs) {
      await waiters.until(() => sockets.size === 0, () => `${sockets.size} relay socket(s) to close`, timeoutMs);
      const counted = await connectionsOf(server);
      if (counted !== 0) throw new Error(`node:http still counts ${counted} connection(s) on the relay server`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function connectionsOf(server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

/**
 * Resolves once every socket to `upstream` that carried a request has closed: a relay that forgot an upstream
 * request is found here. undici may also keep a connection that never carried one (after an abort it connects
 * again); that is its pool's, not a leak, as long as there are few.
 */
async function upstreamClosed(upstream: TestServer, timeoutMs: number, maxIdle = 4): Promise<void> {
  // Each round waits for one more close event; a close of an idle pool connection just means another round.
  for (let round = 0; upstream.openRequestSockets() > 0 && round < 50; round++) {
    await upstream.waitForClosedSockets(upstream.closedSockets() + 1, timeoutMs);
  }
  if (upstream.openRequestSockets() !== 0) throw new Error(`${upstream.openRequestSockets()} upstream socket(s) left open`);
  const idle = upstream.openSockets();
  if (idle > maxIdle) throw new Error(`${idle} idle upstream connections: more than a pool keeps`);
}

/**
 * The relay's default transport (undici) on an agent of its own that keeps an idle connection for 1 ms, so that
 * "no upstream socket left open" can be waited for instead of the shared agent's 10 s keep-alive.
 */
function shortKeepAliveTransport(): { transport: Transport; agent: Agent } {
  const agent = new Agent({ keepAliveTimeout: 1, keepAliveMaxTimeout: 1 });
  return { transport: undiciTransport({ dispatcher: agent }), agent };
}

const OUTCOMES: readonly RelayOutcome[] = [
  'completed',
  'client-closed',
  'client-stalled',
  'upstream-error',
  'truncated',
  'timeout',
  'rejected',
  'relay-error',
];

/** Every request that reached the relay, and the onSettled summaries each one got. */
export interface SettleLedger<Req extends object> {
  reached(request: Req): void;
  settled(summary: RelaySummary<Req>): void;
  /** Resolves once every request that reached the relay has a summary. */
  allSettled(timeoutMs: number): Promise<void>;
  summariesOf(request: Req): RelaySummary<Req>[];
  /** Requests since `mark()`, in arrival order. */
  since(mark: number): Req[];
  mark(): number;
  /**
   * Anything wrong since the last call: a request settled twice, a summary for a request never seen, an
   * undocumented outcome. Taken once, so that a later case is not blamed for it.
   */
  takeProblems(): string[];
}

function settleLedger<Req extends object>(describe: (request: Req) => string): SettleLedger<Req> {
  const order: Req[] = [];
  const summaries = new Map<Req, RelaySummary<Req>[]>();
  const problems: string[] = [];
  const waiters = new Waiters();
  const unsettled = () => order.filter((request) => summaries.get(request)?.length === 0);
  return {
    reached(request) {
      order.push(request);
      summaries.set(request, []);
    },
    settled(summary) {
      const seen = summaries.get(summary.request);
      if (!seen) problems.push(`onSettled for a request that never reached the relay (${summary.outcome})`);
      else {
        seen.push(summary);
        if (seen.length > 1) {
          problems.push(`${describe(summary.request)} settled ${seen.length} times: ${seen.map((each) => each.outcome).join(', ')}`);
        }
      }
      if (!OUTCOMES.includes(summary.outcome)) problems.push(`undocumented outcome '${summary.outcome}'`);
      waiters.notify();
    },
    allSettled: (timeoutMs) =>
      waiters.until(
        () => unsettled().length === 0,
        () => `onSettled for ${unsettled().map(describe).join('; ')}`,
        timeoutMs,
      ),
    summariesOf: (request) => summaries.get(request) ?? [],
    since: (mark) => order.slice(mark),
    mark: () => order.length,
    takeProblems: () => problems.splice(0),
  };
}

export type RelayKind = 'node' | 'fetch';

/** One relay served on 127.0.0.1, with what it reported. */
export interface RelayUnderTest {
  server: TrackedServer;
  ledger: SettleLedger<object>;
  /** What reached `onError`: unexpected relay failures, as no hook here throws. */
  hookErrors: unknown[];
}

/** Both relays under test, and what closes them and their upstream connections. */
export interface Relays extends Record<RelayKind, RelayUnderTest> {
  close(): Promise<void>;
}

/**
 * Both relays with the same `options`, each on a server of its own: `createRelay` as the request handler,
 * `createFetchRelay` through {@link serveFetch}. Every request that reaches either is entered in its ledger.
 * They call upstream through undici on an agent that keeps idle connections for 1 ms (see {@link upstreamClosed}).
 */
export async function startRelays(options: Omit<RelayOptions<object>, 'onSettled' | 'onError' | 'transport'>): Promise<Relays> {
  const { transport, agent } = shortKeepAliveTransport();
  const hooks = (ledger: SettleLedger<object>, hookErrors: unknown[]) => ({
    ...options,
    transport,
    scheduler: relayScheduler,
    onSettled: (summary: RelaySummary<object>) => ledger.settled(summary),
    onError: (error: unknown) => hookErrors.push(error),
  });
  const nodeLedger = settleLedger<object>((req) => `${(req as IncomingMessage).method} ${(req as IncomingMessage).url}`);
  const nodeErrors: unknown[] = [];
  const nodeRelay = createRelay(hooks(nodeLedger, nodeErrors));
  const nodeServer = await listenTracked((req, res) => {
    nodeLedger.reached(req);
    nodeRelay(req, res);
  });
  const fetchLedger = settleLedger<object>((request) => `${(request as Request).method} ${(request as Request).url}`);
  const fetchErrors: unknown[] = [];
  const fetchServer = await listenTracked(serveFetch(createFetchRelay(hooks(fetchLedger, fetchErrors)), (request) => fetchLedger.reached(request)));
  return {
    node: { server: nodeServer, ledger: nodeLedger, hookErrors: nodeErrors },
    fetch: { server: fetchServer, ledger: fetchLedger, hookErrors: fetchErrors },
    async close() {
      await nodeServer.close();
      await fetchServer.close();
      await agent.close();
    },
  };
}

/**
 * Serves a fetch handler on node:http, as Next.js, Hono or a Deno/Bun shim would: the client leaving aborts
 * `request.signal` and cancels the response body. The socket is watched as well as the response, because a
 * response queued behind others on a pipelined connection never closes by itself when the client leaves.
 * `onRequest` sees each `Request` before the handler; one that cannot even be built (a method fetch forbids, a host
 * no URL takes) is answered 400 here, in OpenAI's error format, without reaching the handler.
 */
function serveFetch(handler: (request: Request) => Promise<Response>, onRequest: (request: Request) => void): RequestListener {
  return (req, res) => {
    req.on('error', ignore);
    res.on('error', ignore);
    const left = new AbortController();
    const leave = () => {
      if (!res.writableFinished) left.abort();
    };
    // `req.socket` is detached (null) once the response is done: keep the socket itself.
    const socket = req.socket;
    socket.once('close', leave);
    res.once('close', () => {
      socket.off('close', leave);
      leave();
    });
    let request: Request;
    try {
      request = toRequest(req, left.signal);
    } catch {
      answerUnbuildable(res);
      return;
    }
    onRequest(request);
    handler(request)
      .then((response) => writeResponse(response, res, left.signal))
      .catch(() => res.destroy());
  };
}

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return new Request(new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`), {
    method: req.method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    signal,
    duplex: 'half',
  } as RequestInit);
}

function answerUnbuildable(res: ServerResponse): void {
  const body = JSON.stringify({
    error: { message: 'This request cannot be expressed as a fetch Request.', type: 'invalid_request_error', param: null, code: null },
  });
  res.writeHead(400, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
  res.end(body);
}

async function writeResponse(response: Response, res: ServerResponse, left: AbortSignal): Promise<void> {
  if (left.aborted) {
    await response.body?.cancel();
    return;
  }
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.flushHeaders();
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  const cancel = () => void reader.cancel().catch(ignore);
  left.addEventListener('abort', cancel, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await once(res, 'drain', { signal: left });
    }
    res.end();
  } finally {
    left.removeEventListener('abort', cancel);
  }
}

function ignore(): void {}

/** One HTTP/1.1 response as a client received it. */
export interface HttpResponse {
  status: number;
  /** Lower-case names; a repeated header's values joined with `, `. */
  headers: Record<string, string>;
  body: Buffer;
  /** The whole body arrived: its content-length, its last chunk, or the end of a connection that delimits it. */
  complete: boolean;
  /** An answer that has no body by rule (to a HEAD request, a 204 or a 304). */
  bodiless: boolean;
  /** The body ends where the connection ends (HTTP/1.0): a connection cut short looks just like its end. */
  closeDelimited: boolean;
}

/**
 * Reads what a client received on one connection as HTTP/1.1 responses, interim 1xx ones skipped. `methods` are
 * the requests' methods in order (a HEAD answer has no body); `closed` says the connection has ended. Throws on
 * bytes that are no HTTP response: the relay's server must never send such.
 */
export function parseResponses(bytes: Buffer, methods: readonly string[], closed: boolean): HttpResponse[] {
  const responses: HttpResponse[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const headEnd = bytes.indexOf('\r\n\r\n', offset);
    if (headEnd === -1) {
      checkStatusLine(bytes.subarray(offset, offset + 12).toString('latin1'), true);
      break;
    }
    const [statusLine, ...lines] = bytes.subarray(offset, headEnd).toString('latin1').split('\r\n');
    const status = checkStatusLine(statusLine, false);
    const headers = headerFields(lines);
    offset = headEnd + 4;
    if (status < 200) continue;
    const bodiless = methods[responses.length] === 'HEAD' || status === 204 || status === 304;
    const { body, end, complete } = bodiless ? { body: Buffer.alloc(0), end: offset, complete: true } : readBody(bytes, offset, headers, closed);
    const closeDelimited = !bodiless && headers['content-length'] === undefined && !/\bchunked\b/i.test(headers['transfer-encoding'] ?? '');
    responses.push({ status, headers, body, complete, bodiless, closeDelimited });
    if (!complete) break;
    offset = end;
  }
  return responses;
}

function checkStatusLine(line: string, partial: boolean): number {
  const match = /^HTTP\/1\.[01] ([1-5]\d\d)(?: [^\r\n]*)?$/.exec(line);
  if (match) return Number(match[1]);
  if (partial && 'HTTP/1.1 '.startsWith(line.slice(0, 9))) return 0;
  if (partial && /^HTTP\/1\.[01] \d{0,3}/.test(line)) return 0;
  throw new Error(`Not an HTTP/1.1 status line: ${JSON.stringify(line.slice(0, 80))}`);
}

function headerFields(lines: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!match) throw new Error(`Not an HTTP header line: ${JSON.stringify(line.slice(0, 80))}`);
    const name = match[1].toLowerCase();
    headers[name] = headers[name] === undefined ? match[2] : `${headers[name]}, ${match[2]}`;
  }
  return headers;
}

function readBody(bytes: Buffer, start: number, headers: Record<string, string>, closed: boolean) {
  if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) return readChunked(bytes, start);
  const length = headers['content-length'];
  if (length !== undefined) {
    if (!/^\d+$/.test(length)) throw new Error(`Bad content-length '${length}'`);
    const end = start + Number(length);
    return { body: bytes.subarray(start, Math.min(end, bytes.length)), end, complete: bytes.length >= end };
  }
  return { body: bytes.subarray(start), end: bytes.length, complete: closed };
}

function readChunked(bytes: Buffer, start: number) {
  const parts: Buffer[] = [];
  let offset = start;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', offset);
    if (lineEnd === -1) return { body: Buffer.concat(parts), end: bytes.length, complete: false };
    const sizeText = bytes.subarray(offset, lineEnd).toString('latin1').split(';')[0].trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new Error(`Bad chunk size line ${JSON.stringify(sizeText.slice(0, 40))}`);
    const size = parseInt(sizeText, 16);
    offset = lineEnd + 2;
    if (size === 0) {
      const trailersEnd = bytes.subarray(offset, offset + 2).toString('latin1') === '\r\n' ? offset + 2 : bytes.indexOf('\r\n\r\n', offset) + 4;
      const complete = trailersEnd >= offset + 2 && trailersEnd <= bytes.length;
      return { body: Buffer.concat(parts), end: complete ? trailersEnd : bytes.length, complete };
    }
    if (bytes.length < offset + size + 2) {
      parts.push(bytes.subarray(offset, Math.min(offset + size, bytes.length)));
      return { body: Buffer.concat(parts), end: bytes.length, complete: false };
    }
    if (bytes.subarray(offset + size, offset + size + 2).toString('latin1') !== '\r\n') throw new Error('A chunk does not end with CRLF');
    parts.push(bytes.subarray(offset, offset + size));
    offset += size + 2;
  }
}

/** A frame as a spec-compliant SSE parser reads it. */
type ParsedFrame = { type: 'event'; event?: string; id?: string; data: string } | { type: 'comment'; text: string };

/** What an SSE text parses to: the frames it completes, and those only a final blank line would complete. */
interface ParsedSse {
  frames: ParsedFrame[];
  pending: ParsedFrame[];
}

/** Parses with eventsource-parser, which reads SSE as browsers' EventSource does. */
function parseSse(text: string): ParsedSse {
  const frames: ParsedFrame[] = [];
  const parser = createParser({
    onEvent: ({ event, id, data }) =>
      frames.push({ type: 'event', ...(event === undefined ? {} : { event }), ...(id === undefined ? {} : { id }), data }),
    onComment: (comment) => frames.push({ type: 'comment', text: comment }),
  });
  parser.feed(text);
  // A final CR ends its line whatever follows; the parser holds it back only to see whether an LF comes.
  if (text.endsWith('\r')) parser.feed('\n');
  const complete = frames.length;
  parser.feed('\n\n');
  return { frames: frames.slice(0, complete), pending: frames.slice(complete) };
}

/** One block of an upstream event stream, by offsets into the body, and what an independent reading finds in it. */
export interface SseBlockFacts {
  start: number;
  end: number;
  /** `[DONE]`, or a Responses event whose `type` ends the response. */
  finishing: boolean;
  /** An error event in a shape the relay's audit knows, llama.cpp's bare `error:` line included. */
  error: boolean;
  /** An event whose data is longer than `maxEventSize` characters, or more bytes than the relay holds for a block. */
  oversize: boolean;
}

/** What follows an upstream body's last blank line. */
export interface SseTailFacts extends SseBlockFacts {
  /** Ends in the middle of a line or of an event whose events are not whole (`[DONE]` or JSON data): truncated. */
  cut: boolean;
}

/** An upstream event stream cut into blocks the way the SSE standard reads it, independently of the relay's reader. */
export interface UpstreamSse {
  /** The blocks that end with their blank line. */
  blocks: SseBlockFacts[];
  tail: SseTailFacts | undefined;
  /**
   * Every offset at which the relay may end what it passed on, or write a heartbeat: 0, each block's end, and after
   * the CR of a blank line's CRLF (a read may end there; the LF then starts the next block).
   */
  cuts: number[];
}

const FINISHING_TYPES = new Set<unknown>(['response.completed', 'response.incomplete', 'response.failed']);

/**
 * Reads an upstream body into blocks (LF, CR and CRLF line endings; a final CR ends its line) and their facts,
 * with eventsource-parser for the events: the reference the relay's bytes are held to.
 *
 * @example
 * const { blocks, tail } = readUpstreamSse(Buffer.from('data: [DONE]\n\ndata: x'), 4096);
 * // blocks[0].finishing, tail.cut
 */
export function readUpstreamSse(body: Buffer, maxEventSize: number): UpstreamSse {
  const blocks: SseBlockFacts[] = [];
  const cuts = [0];
  let blockStart = 0;
  let lineStart = 0;
  for (let at = 0; at < body.length; ) {
    const byte = body[at];
    if (byte !== LF && byte !== CR) {
      at++;
      continue;
    }
    const blank = at === lineStart;
    const crlf = byte === CR && body[at + 1] === LF;
    at += crlf ? 2 : 1;
    lineStart = at;
    if (!blank) continue;
    blocks.push(blockFacts(body, blockStart, at, maxEventSize).facts);
    if (crlf) cuts.push(at - 1);
    cuts.push(at);
    blockStart = at;
  }
  if (blockStart === body.length) return { blocks, tail: undefined, cuts };
  const { facts, events, pendingEvent } = blockFacts(body, blockStart, body.length, maxEventSize);
  const midLine = lineStart < body.length;
  const whole = events.every((event) => event.data === '[DONE]' || jsonOf(event.data) !== undefined);
  return { blocks, tail: { ...facts, cut: (midLine || pendingEvent) && !whole }, cuts };
}

const LF = 10;
const CR = 13;

interface SseEvent {
  event?: string;
  data: string;
}

function blockFacts(body: Buffer, start: number, end: number, maxEventSize: number) {
  const decoded = new TextDecoder('utf-8', { ignoreBOM: true }).decode(body.subarray(start, end));
  // The body's BOM, once, at its start; the SSE standard drops it.
  const text = start === 0 && decoded.startsWith('\uFEFF') ? decoded.slice(1) : decoded;
  const { frames, pending } = parseSse(text);
  const parsed = [...frames, ...pending].filter((frame): frame is Extract<ParsedFrame, { type: 'event' }> => frame.type === 'event');
  const events: SseEvent[] = [...parsed, ...bareErrors(text)];
  const finishing = events.some((event) => event.data === '[DONE]' || FINISHING_TYPES.has(recordOf(event.data)?.type));
  const error = events.some((event) => event.event === 'error' || carriesError(recordOf(event.data)));
  const oversize = parsed.some((event) => event.data.length > maxEventSize) || end - start > maxEventSize * 4;
  return { facts: { start, end, finishing, error, oversize }, events, pendingEvent: pending.some((frame) => frame.type === 'event') };
}

/** llama.cpp's `error: {...}` lines, which the standard ignores and openai-rx reads as `event: error`. */
function bareErrors(text: string): SseEvent[] {
  return text.split(/\r\n|\r|\n/).flatMap((line) => {
    const match = /^error(?::(.*))?$/s.exec(line);
    return match ? [{ event: 'error', data: (match[1] ?? '').replace(/^ /, '') }] : [];
  });
}

/** The shapes of an in-stream error: `{"error":{…}}` or a non-empty string, vLLM's `object`, Responses' `type`. */
function carriesError(json: Record<string, unknown> | undefined): boolean {
  if (!json) return false;
  const { error } = json;
  const isErrorObject = typeof error === 'object' && error !== null && !Array.isArray(error);
  return isErrorObject || (typeof error === 'string' && error !== '') || json.object === 'error' || json.type === 'error' || json.type === 'response.failed';
}

function jsonOf(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

function recordOf(text: string): Record<string, unknown> | undefined {
  const value = jsonOf(text)?.value;
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** `[[[…]]]` nested `depth` levels around `inner`. */
export function nested(depth: number, inner = '0'): string {
  return `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
}

/** Reads an OpenAI-format error body: `{"error":{"message": string, …}}`; returns why not, or undefined. */
export function openAIErrorProblem(body: Buffer, headers: Record<string, string>): string | undefined {
  if (!/^application\/json\b/i.test(headers['content-type'] ?? '')) return `content-type ${headers['content-type']} is not JSON`;
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return `the error body is not JSON: ${JSON.stringify(body.toString('utf8').slice(0, 120))}`;
  }
  const error = (json as { error?: { message?: unknown } } | null)?.error;
  if (typeof error !== 'object' || error === null || typeof error.message !== 'string') {
    return `the error body is not in OpenAI's format: ${JSON.stringify(body.toString('utf8').slice(0, 120))}`;
  }
  return undefined;
}
