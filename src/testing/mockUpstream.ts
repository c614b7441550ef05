import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { firstValueFrom } from 'rxjs';
import { parseForeignJson } from '../json.js';
import { encodeSse } from '../sse/encodeSse.js';
import { readText } from '../sse/readText.js';
import { readableByteStream } from '../transport/readableByteStream.js';
import { changeWaiters } from './changeWaiters.js';
import {
  chatEndpoint,
  completionsEndpoint,
  responsesEndpoint,
  answerTokens,
  type MockAnswer,
  type MockContext,
  type MockEndpoint,
  type MockTool,
  type MockToolCall,
  type PlannedFrame,
} from './mockEndpoints.js';
import {
  answerOpening,
  derivedAnswer,
  HALFWAY,
  MockDirectiveError,
  parseDirectives,
  toolResultOpening,
  type MockBehavior,
} from './mockModel.js';
import { isRecord } from '../sse/httpErrors.js';
import { maskCredentials } from './maskCredentials.js';
import { constantStrings, promptWords, sampleJson } from './mockSample.js';
import { splitTokens } from './tokens.js';

export interface MockUpstreamOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** When set, requests must send `Authorization: Bearer <apiKey>`, else they get a 401. */
  apiKey?: string;
  /** Pause before each token; default {@link DEFAULT_TOKEN_DELAY_MS}. */
  tokenDelayMs?: number;
  /** How every request is answered, or a function choosing per request; `[[mock:…]]` directives win over it. */
  behavior?: MockBehavior | ((request: MockRequest) => MockBehavior | undefined);
  /** Answer CORS preflights and allow any origin, for a browser page talking to the mock directly. */
  cors?: boolean;
}

/**
 * `open` while the server is answering; `completed` once the whole response
 * was sent; `aborted` when the client closed the connection first; `cut` when
 * the server destroyed the socket on purpose (`[[mock:cut]]`).
 */
export type MockRequestState = 'open' | 'completed' | 'aborted' | 'cut';

export interface MockRequest {
  /** 1 for the first request the server received, and so on. */
  readonly id: number;
  readonly method: string;
  /** The path without the query, as sent (`/v1/chat/completions`). */
  readonly path: string;
  /** Lower-case names; credentials (`authorization`, `api-key`, `x-api-key`) are masked. */
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed JSON body, or the raw text when it is not JSON. */
  readonly body: unknown;
  /** The text of the last user message, `[[mock:…]]` directives included. */
  readonly prompt: string;
  readonly stream: boolean;
  /** How many requests with the same path and body arrived so far, this one included: 2 for a first retry. */
  readonly attempt: number;
  /** Token deltas (text or tool-call arguments) written so far. */
  readonly tokensSent: number;
  /** The HTTP status sent, once sent. */
  readonly status: number | undefined;
  readonly state: MockRequestState;
  /** The client stopped reading: the mock waits for the socket to drain before it writes more. */
  readonly waitingForDrain: boolean;
}

export interface MockUpstream {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `url + '/v1'`: what a client's `baseURL` should be. */
  readonly baseURL: string;
  readonly port: number;
  /** Every request received, in order of arrival (CORS preflights excepted). */
  readonly requests: readonly MockRequest[];
  /** Sockets currently open to the server. */
  openConnections(): number;
  /** Sockets closed so far, by either side. */
  closedConnections(): number;
  /**
   * Resolves once `condition()` holds, checked now and each time the mock records something (a connection opened or
   * closed, a request, its status, state or tokens); rejects after `timeoutMs` (default 2000).
   */
  waitFor(condition: () => boolean, timeoutMs?: number): Promise<void>;
  /** Destroys the open sockets (ending streams that are still running) and stops listening. */
  close(): Promise<void>;
}

export const DEFAULT_TOKEN_DELAY_MS = 5;

const BODY_LIMIT = 16 * 1024 * 1024;
const ENDPOINTS: Record<string, MockEndpoint> = {
  '/chat/completions': chatEndpoint,
  '/completions': completionsEndpoint,
  '/responses': responsesEndpoint,
};
const EXPOSED_HEADERS = 'x-request-id, retry-after, retry-after-ms, x-should-retry';

type RecordedRequest = { -readonly [K in keyof MockRequest]: MockRequest[K] };

/**
 * Starts a local OpenAI-compatible server with a deterministic simulated
 * model, for tests, demos and benchmarks. It serves `POST /v1/chat/completions`,
 * `/v1/completions` and `/v1/responses` (streamed or not; the Responses stream
 * in its real event format, without `[DONE]`) and `GET /v1/models`. It never logs.
 *
 * The answer is derived from the last user message: the same prompt always
 * gets the same text, sent as token-sized deltas `tokenDelayMs` apart. A request
 * offering function `tools` gets a call of the first one (or the one
 * `tool_choice` names) with arguments filled from its schema (every string the
 * prompt); a conversation ending in tool results gets a text answer that starts
 * `The tool returned …`. A request asking for structured output (chat
 * `response_format`, Responses `text.format`: `json_schema`) gets JSON that fits
 * the schema: strings the prompt's words in turn, enums their first value,
 * arrays of 2 items, numbers counting up from 1, booleans `true`, every listed
 * property, a nullable type or union its non-null branch. `stream_options.include_usage`
 * adds the usage chunk; `max_tokens` / `max_completion_tokens` cut a chat or
 * legacy answer with `finish_reason: 'length'`. Writes wait for `drain`, so a slow reader
 * slows the stream down.
 *
 * Directives in the last user message change one request's answer:
 *
 * | directive | effect |
 * | --- | --- |
 * | `[[mock:text=Hello there]]` | answer exactly this text |
 * | `[[mock:tokens=N]]` | a derived answer of exactly N tokens |
 * | `[[mock:delay=MS]]` | MS between tokens |
 * | `[[mock:error=429]]` | answer with this HTTP status and an OpenAI error body |
 * | `[[mock:retry-after=2]]`, `[[mock:retry-after-ms=1500]]`, `[[mock:should-retry=false]]` | headers sent with `error` (`retry-after` may also be an HTTP date) |
 * | `[[mock:stall]]`, `[[mock:stall=N]]`, `[[mock:stall=headers]]` | stop after the headers / after N tokens and keep the socket open; or never answer |
 * | `[[mock:cut]]`, `[[mock:cut=N]]` | destroy the socket halfway / after N tokens |
 * | `[[mock:error-mid-stream]]`, `[[mock:error-mid-stream=N]]` | send an in-stream error event halfway / after N tokens, then end |
 * | `[[mock:times=N]]` | apply the error, stall, cut or error-mid-stream only to the first N requests with the same body, so a retry succeeds |
 * | `[[mock:parallel]]` | two tool calls in one turn (unless `parallel_tool_calls: false`): the first two tools offered, or the only one twice, for the prompt up to its first `and` or comma and for the rest |
 * | `[[mock:tool-rounds=N]]` | N turns of tool calls (counted since the last user message) before the text answer; default 1 |
 *
 * An unknown or malformed directive is answered with HTTP 400 naming it. A
 * request has one fault at most: stall, else cut, else error-mid-stream. For a
 * non-streaming request a stall never answers, a cut closes the socket without
 * an answer and error-mid-stream answers 500.
 *
 * @example
 * const upstream = await startMockUpstream({ tokenDelayMs: 20 });
 * const client = createClient({ baseURL: upstream.baseURL, apiKey: 'sk-mock' });
 * client.chat.completions
 *   .stream({ model: 'mock', messages: [{ role: 'user', content: 'Hi [[mock:cut=3]]' }] })
 *   .pipe(contentDeltas())
 *   .subscribe({ next: (text) => process.stdout.write(text), error: (error) => console.error(error.name) });
 * // …later
 * await upstream.close();
 */
export async function startMockUpstream(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const sockets = new Set<Socket>();
  const requests: RecordedRequest[] = [];
  const attempts = new Map<string, number>();
  let closedConnections = 0;
  const recorded = changeWaiters();
  let closing: Promise<void> | undefined;

  const server = createServer((req, res) => {
    answer(req, res).catch(() => {
      // A failure after the headers left can only be reported by closing the connection.
      if (res.headersSent) res.destroy();
      else sendError(res, 500, 'The mock upstream failed to answer');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    recorded.changed();
    socket.once('close', () => {
      sockets.delete(socket);
      closedConnections++;
      recorded.changed();
    });
  });

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (options.cors) {
      res.setHeader('access-control-allow-origin', '*');
      res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*',
          'access-control-max-age': '600',
        });
        res.end();
        return;
      }
    }
    const raw = await readBody(req);
    if (raw === undefined) {
      if (!res.destroyed) sendError(res, 413, `The request body exceeds ${BODY_LIMIT} bytes`);
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    const route = path.replace(/^\/v1(?=\/)/, '');
    const endpoint = ENDPOINTS[route];
    const body = parseBody(raw);
    const attemptKey = `${req.method} ${path}\n${raw}`;
    const attempt = (attempts.get(attemptKey) ?? 0) + 1;
    attempts.set(attemptKey, attempt);
    const validBody = isRecord(body) && endpoint && !endpoint.invalid(body) ? body : undefined;
    const record: RecordedRequest = {
      id: requests.length + 1,
      method: req.method ?? 'GET',
      path,
      headers: maskCredentials(req.headers),
      body,
      prompt: validBody && endpoint ? endpoint.prompt(validBody) : '',
      stream: validBody?.stream === true,
      attempt,
      tokensSent: 0,
      get status() {
        return res.headersSent ? res.statusCode : undefined;
      },
      state: 'open',
      waitingForDrain: false,
    };
    requests.push(record);
    recorded.changed();
    res.setHeader('x-request-id', `req_mock_${record.id}`);
    res.once('finish', () => {
      if (record.state === 'open') record.state = 'completed';
      recorded.changed();
    });
    res.once('close', () => {
      if (record.state === 'open') record.state = 'aborted';
      recorded.changed();
    });

    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      sendError(res, 401, 'Incorrect API key provided.');
      return;
    }
    if (route === '/models' && req.method === 'GET') {
      sendJson(res, 200, { object: 'list', data: [{ id: 'mock-model', object: 'model', created: 0, owned_by: 'openai-rx' }] });
      return;
    }
    if (!endpoint) {
      sendError(res, 404, `Unknown path ${req.method} ${path}`);
      return;
    }
    if (req.method !== 'POST') {
      sendError(res, 405, `${path} takes POST, not ${req.method}`);
      return;
    }
    if (!isRecord(body)) {
      sendError(res, 400, 'The request body is not a JSON object');
      return;
    }
    const invalid = endpoint.invalid(body);
    if (invalid) {
      sendError(res, 400, invalid);
      return;
    }

    let behavior: MockBehavior;
    let prompt: string;
    try {
      const fromPrompt = parseDirectives(record.prompt);
      const fromOptions = typeof options.behavior === 'function' ? options.behavior(record) : options.behavior;
      behavior = { tokenDelayMs: options.tokenDelayMs ?? DEFAULT_TOKEN_DELAY_MS, ...defined(fromOptions), ...fromPrompt.behavior };
      prompt = fromPrompt.prompt;
    } catch (error) {
      if (!(error instanceof MockDirectiveError)) throw error;
      sendError(res, 400, error.message);
      return;
    }
    const faulty = attempt <= (behavior.times ?? Infinity);
    const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
    if (faulty && behavior.error !== undefined) {
      sendError(res, behavior.error, errorMessage(behavior.error), retryHeaders(behavior));
      return;
    }
    if (faulty && behavior.stall === 'headers') return closed;

    const context: MockContext = {
      id: `${endpoint.idPrefix}${record.id}`,
      model: typeof body.model === 'string' && body.model ? body.model : 'mock-model',
      created: Math.floor(Date.now() / 1000),
      promptTokens: splitTokens(endpoint.inputText(body)).length,
      includeUsage: isRecord(body.stream_options) && body.stream_options.include_usage === true,
    };
    const modelAnswer = simulate(endpoint, body, prompt, behavior, record.id);
    const fault = faulty ? faultOf(behavior) : undefined;
    const delayMs = behavior.tokenDelayMs ?? DEFAULT_TOKEN_DELAY_MS;
    const signal = abortSignalOf(res);

    if (!record.stream) {
      if (fault?.kind === 'stall') return closed;
      if (fault?.kind === 'cut') {
        record.state = 'cut';
        recorded.changed();
        res.destroy();
        return;
      }
      if (fault?.kind === 'error') {
        sendError(res, 500, errorMessage(500));
        return;
      }
      const tokens = answerTokens(modelAnswer);
      if (!(await sleep(delayMs * tokens, signal))) return;
      sendJson(res, 200, endpoint.json(modelAnswer, context));
      record.tokensSent = tokens;
      recorded.changed();
      return;
    }

    const frames = endpoint.streamFrames(modelAnswer, context);
    const faultAt = fault ? faultPosition(frames, fault.afterTokens) : -1;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    recorded.changed();
    const waitingForDrain = (waiting: boolean) => {
      record.waitingForDrain = waiting;
      recorded.changed();
    };
    for (let index = 0; index < frames.length; index++) {
      if (index === faultAt && fault) {
        if (fault.kind === 'stall') return closed;
        if (fault.kind === 'cut') {
          await flushed(res);
          record.state = 'cut';
          recorded.changed();
          res.destroy();
          return;
        }
        if (await write(res, encodeSse(endpoint.errorFrame(errorMessage(500), index)))) res.end();
        return;
      }
      const planned = frames[index];
      if (planned.token && !(await sleep(delayMs, signal))) return;
      if (!(await write(res, encodeSse(planned.frame), waitingForDrain))) return;
      if (planned.token) record.tokensSent++;
      recorded.changed();
    }
    res.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const hostName = options.host ?? '127.0.0.1';
  const url = `http://${hostName.includes(':') ? `[${hostName}]` : hostName}:${port}`;

  return {
    url,
    baseURL: `${url}/v1`,
    port,
    requests,
    openConnections: () => sockets.size,
    closedConnections: () => closedConnections,
    waitFor: (condition, timeoutMs = 2000) =>
      recorded.until(condition, timeoutMs, () => new Error(`waitFor: the condition did not hold within ${timeoutMs} ms`)),
    close: () =>
      (closing ??= Promise.all([
        // Registered after the bookkeeping listener, so the counts are up to date when close() resolves.
        ...[...sockets].map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve()).destroy())),
        new Promise<void>((resolve) => server.close(() => resolve())),
      ]).then(() => undefined)),
  };
}

function simulate(endpoint: MockEndpoint, body: Record<string, unknown>, prompt: string, behavior: MockBehavior, id: number): MockAnswer {
  const tools = endpoint.toolRounds(body) < (behavior.toolRounds ?? 1) ? endpoint.tools(body) : [];
  if (tools.length > 0) return { kind: 'tool', calls: toolCalls(tools, prompt, behavior.parallel === true && endpoint.parallelCalls(body), id) };
  const results = endpoint.toolResults(body);
  const schema = endpoint.outputSchema(body);
  const text =
    behavior.text ??
    (schema !== undefined
      ? JSON.stringify(sampleJson(schema, promptWords(prompt)))
      : results.length > 0
        ? derivedAnswer(results.join('\n'), toolResultOpening(results), behavior.tokens)
        : derivedAnswer(prompt, answerOpening(prompt), behavior.tokens));
  const tokens = splitTokens(text);
  const max = endpoint.maxTokens(body);
  return max !== undefined && tokens.length > max
    ? { kind: 'text', tokens: tokens.slice(0, max), finish: 'length' }
    : { kind: 'text', tokens, finish: 'stop' };
}

/**
 * The calls of one turn: the first tool, its string arguments the prompt. In parallel, two calls: the first two
 * tools, or the only one twice, for the prompt's part before its first `and` or comma and for the rest.
 */
function toolCalls(tools: readonly MockTool[], prompt: string, parallel: boolean, id: number): MockToolCall[] {
  const call = (tool: MockTool, text: string, callId: string): MockToolCall => ({
    name: tool.name,
    callId,
    argumentTokens: splitTokens(JSON.stringify(sampleJson(tool.parameters, constantStrings(text)) ?? {})),
  });
  const first = `call_mock_${id}`;
  if (!parallel) return [call(tools[0], prompt, first)];
  if (tools.length > 1) return [call(tools[0], prompt, first), call(tools[1], prompt, `${first}_2`)];
  const [head, tail] = splitPrompt(prompt);
  return [call(tools[0], head, first), call(tools[0], tail, `${first}_2`)];
}

/** `Paris and Oslo` → `['Paris', 'Oslo']`; a prompt without `and` or a comma is both parts. */
function splitPrompt(prompt: string): [string, string] {
  const match = /\s*(?:,|\band\b)\s*/i.exec(prompt);
  if (!match) return [prompt, prompt];
  return [prompt.slice(0, match.index).trim() || prompt, prompt.slice(match.index + match[0].length).trim() || prompt];
}

type Fault = { kind: 'stall' | 'cut' | 'error'; afterTokens: number };

function faultOf(behavior: MockBehavior): Fault | undefined {
  if (typeof behavior.stall === 'number') return { kind: 'stall', afterTokens: behavior.stall };
  if (behavior.cutAfter !== undefined) return { kind: 'cut', afterTokens: behavior.cutAfter };
  if (behavior.errorAfter !== undefined) return { kind: 'error', afterTokens: behavior.errorAfter };
  return undefined;
}

/** How many frames go out before the fault: none for 0, else up to the Nth token (or the last one, if fewer). */
function faultPosition(frames: readonly PlannedFrame[], afterTokens: number): number {
  const tokenCount = frames.filter((frame) => frame.token).length;
  const wanted = afterTokens === HALFWAY ? Math.max(1, Math.floor(tokenCount / 2)) : afterTokens;
  if (wanted === 0) return 0;
  let seen = 0;
  let afterLast = 0;
  for (let index = 0; index < frames.length; index++) {
    if (!frames[index].token) continue;
    seen++;
    afterLast = index + 1;
    if (seen === wanted) return afterLast;
  }
  return afterLast;
}

function defined(behavior: MockBehavior | undefined): MockBehavior {
  return Object.fromEntries(Object.entries(behavior ?? {}).filter(([, value]) => value !== undefined));
}

function retryHeaders(behavior: MockBehavior): Record<string, string> {
  const headers: Record<string, string> = {};
  if (behavior.retryAfter !== undefined) headers['retry-after'] = behavior.retryAfter;
  if (behavior.retryAfterMs !== undefined) headers['retry-after-ms'] = String(behavior.retryAfterMs);
  if (behavior.shouldRetry !== undefined) headers['x-should-retry'] = String(behavior.shouldRetry);
  return headers;
}

const ERROR_MESSAGES: Record<number, string> = {
  408: 'The request timed out (mock).',
  409: 'The request conflicts with another request (mock).',
  429: 'Rate limit reached for requests (mock).',
  500: 'The server had an error while processing your request (mock).',
  503: 'The engine is currently overloaded, please try again later (mock).',
};

function errorMessage(status: number): string {
  return ERROR_MESSAGES[status] ?? `Mock error ${status}.`;
}

function errorFields(status: number): { type: string; code: string | null } {
  if (status === 401) return { type: 'invalid_request_error', code: 'invalid_api_key' };
  if (status === 429) return { type: 'requests', code: 'rate_limit_exceeded' };
  if (status >= 500) return { type: 'server_error', code: 'server_error' };
  return { type: 'invalid_request_error', code: null };
}

function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { message, ...errorFields(status), param: null } }, headers);
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
}

/** The body as text, or `undefined` when it is larger than the limit. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const { text, truncated } = await firstValueFrom(readText(readableByteStream(req, 'leave'), BODY_LIMIT));
  return truncated ? undefined : text;
}

/** The body as JSON, or its text when it is not JSON. */
function parseBody(text: string): unknown {
  const json = parseForeignJson(text);
  return json === undefined ? text : json;
}

function abortSignalOf(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  if (res.destroyed) controller.abort();
  else res.once('close', () => controller.abort());
  return controller.signal;
}

/** Waits `ms`; `false` when the response closed first. */
async function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await sleepFor(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** Writes and, when the socket's buffer is full, waits for `drain`; `false` when the response closed. */
async function write(res: ServerResponse, text: string, waiting?: (waiting: boolean) => void): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(text)) return true;
  waiting?.(true);
  await drainOrClose(res);
  waiting?.(false);
  return !res.destroyed;
}

/** Resolves once what was written has left for the network, so that a cut loses nothing written before it. */
async function flushed(res: ServerResponse): Promise<void> {
  // node:http corks the socket until the next tick; a macrotask later the writes are with the socket.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const socket = res.socket;
  if (socket && !socket.destroyed && socket.writableLength > 0) await drainOrClose(socket);
}

function drainOrClose(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
