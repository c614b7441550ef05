import {
  asyncScheduler,
  concat,
  EMPTY,
  ignoreElements,
  isObservable,
  NEVER,
  of,
  throwError,
  timer,
  Observable,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import type { ByteSink, ByteStream, Transport, TransportRequest, TransportResponse } from '../transport/types.js';
import { parseForeignJson } from '../json.js';
import { maskCredentials } from './maskCredentials.js';

export type ScriptedChunk = string | Uint8Array;

/** A pause between two chunks of a scripted body. */
export interface ScriptedWait {
  waitMs: number;
}

export type ScriptedStep = ScriptedChunk | ScriptedWait;

/** One scripted answer. */
export interface ScriptedResponse {
  /** Default 200. */
  status?: number;
  /** Default `content-type: text/event-stream` for a 2xx status, `application/json` otherwise. */
  headers?: Record<string, string>;
  /** Time before the status and headers arrive; `Infinity` never answers (for header timeouts). Default 0. */
  headersDelayMs?: number;
  /**
   * The body: one chunk, a list of chunks and {@link wait}s (each chunk is one
   * network read), or an Observable of chunks (a marble `cold(...)` works),
   * whose completion ends the body and whose error resets the connection.
   */
  body?: ScriptedChunk | readonly ScriptedStep[] | Observable<ScriptedChunk>;
  /** After a list of steps: `complete` (default), `hang` (stay open until cancelled) or `reset` (the connection breaks). */
  end?: 'complete' | 'hang' | 'reset';
  /** The transport rejects with this instead of answering, as when a connection is refused. */
  connectionError?: unknown;
}

/** `waiting` for the headers, `streaming` the body, then `completed`, `cancelled` by the client, or `failed` (reset, refused). */
export type ScriptedRequestState = 'waiting' | 'streaming' | 'completed' | 'cancelled' | 'failed';

export interface ScriptedRequest {
  url: string;
  method: string;
  /** Lower-case names; credentials are masked. */
  headers: Record<string, string>;
  body: string | undefined;
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  json: unknown;
  state: ScriptedRequestState;
}

export type Script =
  | ScriptedResponse
  | readonly ScriptedResponse[]
  | ((request: ScriptedRequest, index: number) => ScriptedResponse);

export interface ScriptedTransportConfig {
  /** Schedules the scripted delays; default `asyncScheduler`, which runs in virtual time under `TestScheduler.run`. */
  scheduler?: SchedulerLike;
}

/** A transport that answers from a script and records every request it was asked to send. */
export interface ScriptedTransport extends Transport {
  readonly requests: readonly ScriptedRequest[];
}

/** A pause of `ms` between two chunks of a scripted body. */
export function wait(ms: number): ScriptedWait {
  return { waitMs: ms };
}

/**
 * A {@link Transport} that plays scripted responses: statuses, headers, body
 * chunks cut wherever you like, pauses, stalls, resets and refused
 * connections. A list scripts one response per request, in order; a function
 * answers each request as it comes. Each request is recorded with its state,
 * so a test can see that a cancellation reached the transport.
 *
 * Delays run on an RxJS scheduler and the response is handed over from a
 * scheduler action (the transport answers with an Observable, not a Promise),
 * so under `TestScheduler.run` a whole client pipeline runs in virtual time,
 * error statuses included.
 *
 * @example
 * const transport = scriptedTransport({ body: [sseText(chatFrames(['Hel'])), wait(50), sseText(chatFrames(['lo']))] });
 * const client = createClient({ baseURL: 'https://api.test/v1', transport });
 * testScheduler.run(({ expectObservable }) => {
 *   expectObservable(client.chat.completions.events(params).pipe(chatChunks(), contentDeltas())).toBe(…);
 * });
 */
export function scriptedTransport(script: Script, config: ScriptedTransportConfig = {}): ScriptedTransport {
  const scheduler = config.scheduler ?? asyncScheduler;
  const requests: ScriptedRequest[] = [];

  const transport = (request: TransportRequest): Observable<TransportResponse> =>
    new Observable<TransportResponse>((subscriber) => {
      const recorded = record(request);
      const index = requests.length;
      requests.push(recorded);
      const scripted = responseFor(script, recorded, index);
      if (!scripted) {
        recorded.state = 'failed';
        subscriber.error(new Error(`scriptedTransport: no response is scripted for request #${index + 1} (${request.method} ${request.url})`));
        return undefined;
      }
      let body: ByteStream | undefined;
      const cancel = () => {
        body?.cancel();
        if (recorded.state === 'waiting') recorded.state = 'cancelled';
      };
      const onAbort = () => {
        cancel();
        subscriber.error(abortError(request.signal.reason));
      };
      const settled = () => request.signal.removeEventListener('abort', onAbort);
      if (request.signal.aborted) {
        onAbort();
        return undefined;
      }
      request.signal.addEventListener('abort', onAbort, { once: true });
      const answerNow = () => {
        if (scripted.connectionError !== undefined) {
          recorded.state = 'failed';
          settled();
          subscriber.error(scripted.connectionError);
          return;
        }
        const status = scripted.status ?? 200;
        recorded.state = 'streaming';
        body = scriptedBody(bodyChunks(scripted, scheduler), scheduler, recorded, settled);
        subscriber.next({ status, headers: responseHeaders(status, scripted.headers), body });
        subscriber.complete();
      };
      const headersDelayMs = scripted.headersDelayMs ?? 0;
      const answer = headersDelayMs === Infinity ? undefined : scheduler.schedule(answerNow, headersDelayMs);
      return () => {
        answer?.unsubscribe();
        // Answered: the body is the reader's now, cancelled through it.
        if (recorded.state === 'waiting') {
          settled();
          cancel();
        }
      };
    });
  return Object.assign(transport, { requests });
}

function record(request: TransportRequest): ScriptedRequest {
  return {
    url: request.url,
    method: request.method,
    headers: maskCredentials(request.headers),
    body: request.body,
    json: request.body === undefined ? undefined : parseForeignJson(request.body),
    state: 'waiting',
  };
}

function responseFor(script: Script, request: ScriptedRequest, index: number): ScriptedResponse | undefined {
  if (typeof script === 'function') return script(request, index);
  if (isResponseList(script)) return script[index];
  return script;
}

function isResponseList(script: Script): script is readonly ScriptedResponse[] {
  return Array.isArray(script);
}

function responseHeaders(status: number, headers: Record<string, string> = {}): Record<string, string> {
  const contentType = status >= 200 && status < 300 ? 'text/event-stream; charset=utf-8' : 'application/json';
  return { 'content-type': contentType, ...lowerCaseNames(headers) };
}

function lowerCaseNames(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function bodyChunks(scripted: ScriptedResponse, scheduler: SchedulerLike): Observable<ScriptedChunk> {
  const body = scripted.body ?? [];
  if (isObservable(body)) return body;
  const steps: readonly ScriptedStep[] = typeof body === 'string' || body instanceof Uint8Array ? [body] : (body as readonly ScriptedStep[]);
  const end =
    scripted.end === 'hang'
      ? NEVER
      : scripted.end === 'reset'
        ? throwError(() => new Error('scriptedTransport: the connection was reset'))
        : EMPTY;
  return concat(
    ...steps.map((step) =>
      isWait(step) ? (step.waitMs === Infinity ? NEVER : timer(step.waitMs, scheduler).pipe(ignoreElements())) : of(step),
    ),
    end,
  );
}

function isWait(step: ScriptedStep): step is ScriptedWait {
  return typeof step === 'object' && !(step instanceof Uint8Array);
}

type Delivery = { kind: 'data'; chunk: Uint8Array } | { kind: 'end' } | { kind: 'error'; error: unknown };

/**
 * A body that plays `chunks` to its reader, holding them back while paused. Reading starts in a scheduler
 * action, as a network read would come after `read()` returns, so a reader can pause before the first chunk.
 */
function scriptedBody(
  chunks: Observable<ScriptedChunk>,
  scheduler: SchedulerLike,
  recorded: ScriptedRequest,
  settled: () => void,
): ByteStream {
  const encoder = new TextEncoder();
  const held: Delivery[] = [];
  let sink: ByteSink | undefined;
  let subscription: Subscription | undefined;
  let paused = false;
  let done = false;

  const deliver = (delivery: Delivery) => {
    if (done || !sink) return;
    if (paused) {
      held.push(delivery);
      return;
    }
    if (delivery.kind === 'data') {
      sink.data(delivery.chunk);
      return;
    }
    done = true;
    settled();
    recorded.state = delivery.kind === 'end' ? 'completed' : 'failed';
    if (delivery.kind === 'end') sink.end();
    else sink.error(delivery.error);
  };

  return {
    read(target) {
      sink = target;
      subscription = scheduler.schedule(() => {
        subscription = chunks.subscribe({
          next: (chunk) => deliver({ kind: 'data', chunk: typeof chunk === 'string' ? encoder.encode(chunk) : chunk }),
          error: (error: unknown) => deliver({ kind: 'error', error }),
          complete: () => deliver({ kind: 'end' }),
        });
      });
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      while (!paused && held.length > 0) deliver(held.shift() as Delivery);
    },
    cancel() {
      if (done) return;
      done = true;
      settled();
      recorded.state = 'cancelled';
      subscription?.unsubscribe();
    },
  };
}

function abortError(reason: unknown): unknown {
  if (reason instanceof Error) return reason;
  const error = new Error('The request was aborted');
  error.name = 'AbortError';
  return error;
}
