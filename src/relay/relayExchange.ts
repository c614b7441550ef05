import { BehaviorSubject, firstValueFrom, fromEvent, type Subscription } from 'rxjs';
import { APIConnectionError, APIError, OpenAIRxError } from '../errors.js';
import { encodeSse } from '../sse/encodeSse.js';
import { apiErrorFromResponse, isRecord, requestIdOf } from '../sse/httpErrors.js';
import { readText } from '../sse/readText.js';
import type { ResponseHead, SseFrame } from '../sse/types.js';
import { watchIdle, type IdleWatch } from '../sse/watchIdle.js';
import { jsonDeadlines } from './jsonDeadlines.js';
import { errorInFrame, usageIn } from './relayAudit.js';
import { BODY_TOO_LARGE, type ReadBody } from './relayBody.js';
import {
  RelayRejection,
  relayErrorResponse,
  upstreamFailure,
  type RelayErrorResponse,
} from './relayErrors.js';
import { EVENT_STREAM_HEADERS, forwardedResponseHeaders, JSON_CONTENT_TYPE } from './relayHeaders.js';
import { matchRoute, parseRequestBody } from './relayRoutes.js';
import type { RelayRuntime } from './relayRuntime.js';
import type { AllowModels, RelayContext, RelayOutcome, RelayRequestBody, RelaySummary } from './types.js';

/** The incoming request, as an I/O adapter presents it. */
export interface RelayIncoming<Req> {
  request: Req;
  method: string;
  /** The path without query string. */
  pathname: string;
  readBody: ReadBody;
  /**
   * Resolves when this request's response may be written. HTTP/1.1 pipelining queues responses behind the earlier
   * ones of their connection; upstream is contacted only once it is this request's turn, so one connection cannot
   * start many generations at once. Absent: at once.
   */
  turn?: Promise<void>;
}

/**
 * The outgoing response, as an I/O adapter implements it. The exchange calls
 * either `send` once, or `open`, then `write` any number of times, then `end`;
 * nothing after the client went away.
 */
export interface RelayResponder {
  /** A complete answer: an error, or a non-streaming JSON response. */
  send(status: number, headers: Record<string, string>, body: Uint8Array<ArrayBuffer>): void;
  /** Starts the event stream; the status and headers go out at once. */
  open(status: number, headers: Record<string, string>): void;
  /** One chunk of the stream, as it arrived. `false` when the client is not keeping up: call `resume` when it is. */
  write(chunk: Uint8Array): boolean;
  end(): void;
  /** Drops the client's connection without ending the response properly: it stopped reading. */
  abort(): void;
}

/** What the adapter tells the exchange about the client. */
export interface RelayExchange {
  /** The client has room again (`drain`, a stream's `pull`): reading upstream resumes. */
  resume(): void;
  /** The client went away: the upstream request is aborted at once. */
  clientClosed(): void;
}

const KEEP_ALIVE = ': keep-alive\n\n';
/** A JSON answer larger than this goes out in pieces of this size, each written when the client has room. */
const BODY_SLICE = 64 * 1024;
const encoder = new TextEncoder();

/**
 * One relayed request from arrival to `onSettled`, independent of the HTTP
 * stack: route and body checks, hooks, then one upstream request: a raw SSE
 * stream written frame by frame with backpressure, or a bounded JSON answer.
 */
export function startExchange<Req>(
  relay: RelayRuntime<Req>,
  incoming: RelayIncoming<Req>,
  responder: RelayResponder,
): RelayExchange {
  const { options } = relay;
  const { onFrame, onSettled } = options;
  const { scheduler } = relay;
  const startedAt = scheduler.now();
  const context: RelayContext<Req> = {
    request: incoming.request,
    route: undefined,
    model: undefined,
    stream: false,
    requestId: undefined,
  };
  const pause$ = new BehaviorSubject(false);
  // `sending`: a large JSON answer is being written piece by piece.
  let state: 'pending' | 'streaming' | 'sending' | 'settled' = 'pending';
  let status = 0;
  let frames = 0;
  let bytes = 0;
  let timeToFirstByteMs: number | undefined;
  let usage: Record<string, unknown> | undefined;
  let inStreamError: Error | undefined;
  let upstream: Subscription | undefined;
  let jsonRequest: AbortController | undefined;
  let heartbeat: IdleWatch | undefined;
  let stallTimer: Subscription | undefined;
  let unsentBody: { chunk: Uint8Array; offset: number; outcome: RelayOutcome } | undefined;

  // A function, not an inline comparison: the state changes across the awaits below.
  const isSettled = () => state === 'settled';
  const settle = (outcome: RelayOutcome, error?: unknown) => {
    if (isSettled()) return;
    state = 'settled';
    heartbeat?.stop();
    stallTimer?.unsubscribe();
    if (!onSettled) return;
    const { request, ...known } = context;
    const summary = {
      ...known,
      outcome,
      status,
      durationMs: scheduler.now() - startedAt,
      timeToFirstByteMs,
      frames,
      bytes,
      usage,
      error: error instanceof Error ? relay.redactError(error) : undefined,
    } as RelaySummary<Req>;
    // Not enumerable: the summary serializes as a log line (an IncomingMessage is circular).
    Object.defineProperty(summary, 'request', { value: request, enumerable: false });
    relay.guard(context, () => onSettled(summary));
  };

  const redactValues = (headers: Record<string, string>) => {
    const redacted: Record<string, string> = {};
    for (const name in headers) redacted[name] = relay.redact(headers[name]);
    return redacted;
  };
  const forwarded = (upstreamHeaders: Record<string, string>) => redactValues(forwardedResponseHeaders(upstreamHeaders));
  // Upstream chose it: a server that echoes credentials may put one there.
  const requestIdIn = (upstreamHeaders: Record<string, string>) => {
    const id = requestIdOf(upstreamHeaders);
    return id === undefined ? undefined : relay.redact(id);
  };

  const sendJson = (code: number, headers: Record<string, string>, body: string, outcome: RelayOutcome, error?: unknown) => {
    const chunk = encoder.encode(relay.redact(body));
    status = code;
    bytes += chunk.byteLength;
    timeToFirstByteMs = scheduler.now() - startedAt;
    const allHeaders = { 'content-type': JSON_CONTENT_TYPE, ...headers };
    if (chunk.byteLength <= BODY_SLICE) {
      responder.send(code, allHeaders, chunk);
      settle(outcome, error);
      return;
    }
    // Written piece by piece as the client takes it: a client that never reads is dropped after stalledClientMs.
    state = 'sending';
    responder.open(code, { ...allHeaders, 'content-length': String(chunk.byteLength) });
    unsentBody = { chunk, offset: 0, outcome };
    sendRest();
  };
  const sendRest = () => {
    if (!unsentBody || isSettled()) return;
    const { chunk, outcome } = unsentBody;
    while (unsentBody.offset < chunk.byteLength) {
      const piece = chunk.subarray(unsentBody.offset, unsentBody.offset + BODY_SLICE);
      unsentBody.offset += piece.byteLength;
      if (!responder.write(piece) && unsentBody.offset < chunk.byteLength) {
        clientFull();
        return;
      }
    }
    unsentBody = undefined;
    responder.end();
    settle(outcome);
  };

  /** The client's buffer is full: reading upstream pauses, and a client that stays full is dropped. */
  const clientFull = () => {
    if (!pause$.value) pause$.next(true);
    if (relay.stalledClientMs > 0) stallTimer ??= scheduler.schedule(dropStalledClient, relay.stalledClientMs);
  };
  const dropStalledClient = () => {
    if (isSettled()) return;
    upstream?.unsubscribe();
    responder.abort();
    settle('client-stalled', new OpenAIRxError({ message: `The client took none of the response for ${relay.stalledClientMs} ms` }));
  };

  // Frames decoded from one upstream read arrive in one synchronous burst; they leave as one write
  // at the end of it (a microtask later, so no frame waits for the next read). One write per frame
  // cost a chunk header, an encode and a redaction pass each: ~40% of the relay's CPU.
  let unwritten = '';
  let flushQueued = false;
  const flush = () => {
    flushQueued = false;
    if (!unwritten || isSettled()) return;
    const chunk = encoder.encode(relay.redact(unwritten));
    unwritten = '';
    bytes += chunk.byteLength;
    heartbeat?.touch();
    if (!responder.write(chunk)) clientFull();
  };
  const write = (text: string) => {
    unwritten += text;
    if (!flushQueued) {
      flushQueued = true;
      queueMicrotask(flush);
    }
  };
  const end = () => {
    flush();
    responder.end();
  };

  /** Before the stream started: the error's status, headers and JSON body. After: one error frame, then the end. */
  const failWith = (answer: RelayErrorResponse, error: unknown) => {
    if (isSettled()) return;
    if (state === 'pending') {
      sendJson(answer.status, redactValues(answer.headers), JSON.stringify(answer.body), answer.outcome, error);
      return;
    }
    write(encodeSse({ type: 'event', data: JSON.stringify(answer.body) }));
    end();
    settle(answer.outcome, error);
  };
  const fail = (error: unknown) => {
    if (error instanceof APIError) context.requestId ??= error.requestId;
    failWith(relayErrorResponse(error, state === 'streaming'), error);
  };

  const openStream = (head: ResponseHead) => {
    if (state !== 'pending') return;
    state = 'streaming';
    status = head.status;
    context.requestId = requestIdIn(head.headers);
    responder.open(status, { ...forwarded(head.headers), ...EVENT_STREAM_HEADERS });
    // While the client is not keeping up, a heartbeat would only queue behind the data.
    if (relay.heartbeatMs > 0) {
      heartbeat = watchIdle(
        relay.heartbeatMs,
        () => {
          if (!pause$.value) write(KEEP_ALIVE);
        },
        scheduler,
      );
    }
  };

  const relayFrame = (frame: SseFrame) => {
    frames++;
    write(encodeSse(frame));
    timeToFirstByteMs ??= scheduler.now() - startedAt;
    if (frame.type === 'event') {
      usage = usageIn(frame.data) ?? usage;
      inStreamError ??= errorInFrame(frame);
    }
    if (onFrame) relay.guard(context, () => onFrame(frame, context));
  };

  const relayStream = (path: string, body: RelayRequestBody) => {
    upstream = relay.streamUpstream(path, body, openStream, pause$).subscribe({
      next: relayFrame,
      error: fail,
      complete() {
        if (isSettled()) return;
        end();
        settle(inStreamError ? 'upstream-error' : 'completed', inStreamError);
      },
    });
  };

  const relayJson = async (path: string, body: RelayRequestBody) => {
    const controller = new AbortController();
    jsonRequest = controller;
    const deadlines = jsonDeadlines(options.timeout, controller, scheduler);
    try {
      const response = await firstValueFrom(relay.postJson(path, body, controller.signal));
      const aborted$ = fromEvent(controller.signal, 'abort');
      const { text, truncated } = await firstValueFrom(readText(deadlines.responded(response.body), relay.maxResponseBytes, aborted$));
      if (isSettled()) return;
      context.requestId = requestIdIn(response.headers);
      const expired = deadlines.expired();
      if (expired) {
        fail(expired);
      } else if (truncated) {
        const message = `The upstream response is larger than this relay's limit of ${relay.maxResponseBytes} bytes.`;
        failWith(upstreamFailure(502, message, 'upstream_response_too_large'), new OpenAIRxError({ message }));
      } else if (response.status >= 200 && response.status < 300) {
        usage = usageIn(text);
        const contentType = response.headers['content-type'] ?? JSON_CONTENT_TYPE;
        sendJson(response.status, { ...forwarded(response.headers), 'content-type': contentType }, text, 'completed');
      } else {
        fail(relay.redactError(apiErrorFromResponse(response.status, response.headers, text)));
      }
    } catch (cause) {
      if (isSettled()) return;
      fail(deadlines.expired() ?? new APIConnectionError({ message: 'The upstream request failed', cause }));
    } finally {
      deadlines.clear();
    }
  };

  const clientClosed = () => {
    if (isSettled()) return;
    upstream?.unsubscribe();
    jsonRequest?.abort();
    if (status === 0) status = 499;
    settle('client-closed');
  };

  const run = async () => {
    const route = matchRoute(relay.prefix, incoming.method, incoming.pathname);
    context.route = route;
    let text: Awaited<ReturnType<ReadBody>>;
    try {
      text = await incoming.readBody(relay.maxBodyBytes);
    } catch (error) {
      if (error instanceof RelayRejection) throw error;
      clientClosed();
      return;
    }
    if (isSettled()) return;
    if (text === BODY_TOO_LARGE) {
      throw new RelayRejection({
        status: 413,
        message: `The request body is larger than this relay's limit of ${relay.maxBodyBytes} bytes.`,
        code: 'request_too_large',
      });
    }
    const parsed = parseRequestBody(route, text);
    context.model = parsed.model;
    context.stream = parsed.stream === true;
    await checkModel(options.allowModels, parsed.model, incoming.request);
    const body = options.transformRequest ? await options.transformRequest(parsed, incoming.request) : parsed;
    if (isSettled()) return;
    if (!isRecord(body)) throw new OpenAIRxError({ message: 'transformRequest must return the request body as an object' });
    context.model = typeof body.model === 'string' ? body.model : undefined;
    context.stream = body.stream === true;
    await incoming.turn;
    if (isSettled()) return;
    if (context.stream) relayStream(`/${route}`, body);
    else await relayJson(`/${route}`, body);
  };

  run().catch((error: unknown) => {
    if (!(error instanceof RelayRejection)) relay.report(error, context);
    fail(error);
  });

  return {
    resume() {
      stallTimer?.unsubscribe();
      stallTimer = undefined;
      if (unsentBody) sendRest();
      else if (pause$.value) pause$.next(false);
    },
    clientClosed,
  };
}

async function checkModel<Req>(allow: AllowModels<Req> | undefined, model: string, request: Req): Promise<void> {
  if (!allow) return;
  const allowed = typeof allow === 'function' ? await allow(model, request) : allow.includes(model);
  if (!allowed) {
    throw new RelayRejection({
      status: 403,
      message: `The model '${model}' is not available through this relay.`,
      param: 'model',
      code: 'model_not_allowed',
    });
  }
}
