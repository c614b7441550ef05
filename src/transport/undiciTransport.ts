import { Agent, errors, type Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import type { ByteSink, ByteStream, PromiseTransport, TransportResponse } from './types.js';

export interface UndiciTransportConfig {
  /** Defaults to one keep-alive `Agent` shared by every undici transport in the process. */
  dispatcher?: Dispatcher;
}

let sharedAgent: Agent | undefined;

function defaultAgent(): Agent {
  sharedAgent ??= new Agent({ keepAliveTimeout: 10_000 });
  return sharedAgent;
}

/**
 * Node transport on undici's dispatcher: the body is read as it arrives, and
 * aborting the signal destroys the socket of a response still in flight. Like
 * `request()` it follows no redirect (a dispatcher given here with a redirect
 * interceptor would): a 3xx ends the request with an `APIError`.
 *
 * @example
 * const client = createClient({ transport: undiciTransport({ dispatcher: new ProxyAgent(url) }) });
 */
export function undiciTransport(config: UndiciTransportConfig = {}): PromiseTransport {
  return (request) =>
    new Promise((resolve, reject) => {
      // Aborted already: nothing to send, and no connection to open for it.
      if (request.signal.aborted) return reject(abortReasonOf(request.signal));
      const { origin, pathname, search } = new URL(request.url);
      const { method, headers, body } = request;
      const dispatcher = config.dispatcher ?? defaultAgent();
      dispatcher.dispatch({ origin, path: pathname + search, method: method as Dispatcher.HttpMethod, headers, body }, new UndiciExchange(request.signal, resolve, reject));
    });
}

/**
 * One request's handler, and its response's body: a stream's whole transport state in one object. `request()`
 * would add a `Readable` and its listeners between the socket and the decoder, a cost every open stream pays on
 * every read.
 */
class UndiciExchange implements Dispatcher.DispatchHandler, ByteStream {
  private controller: Dispatcher.DispatchController | undefined;
  private responded = false;
  private sink: ByteSink | undefined;
  /** Unread until `read`, then while paused: undici hands on the chunk in flight before its parser stops. */
  private paused = true;
  private held: Buffer[] | undefined;
  /** How the body ended while chunks were held or before anybody read it: `true`, or the error. */
  private endedHeld: unknown;
  private resumeQueued = false;

  /** Only the signal: an open stream would otherwise keep the request's body (undici keeps its own copy until the end). */
  constructor(
    private readonly signal: AbortSignal,
    private readonly resolve: (response: TransportResponse) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    signal.addEventListener('abort', this);
  }

  /**
   * The request's signal aborted. A request undici has not started yet (queued behind others on the
   * connections it may use, or connecting) rejects now: its turn may be a whole stream away.
   */
  handleEvent(): void {
    const reason = abortReasonOf(this.signal);
    if (this.controller) this.abort(this.controller, reason);
    else this.onResponseError(undefined, reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // Thrown, undici drops the request unsent and keeps the connection; `abort` would destroy the socket
    // the request before it left for the next one. The request has already rejected (handleEvent).
    if (this.signal.aborted) throw abortReasonOf(this.signal);
    this.controller = controller;
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    // The controller would keep the raw header buffers for the whole stream, and with them the socket read they view.
    controller.rawHeaders = null;
    if (status < 200) return;
    this.responded = true;
    // Nothing reads the body until the Promise's continuation has run: the socket waits for it.
    controller.pause();
    this.resolve({ status, headers: flattenHeaders(headers), body: this });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.paused && this.sink) return this.sink.data(chunk);
    (this.held ??= []).push(chunk);
    controller.pause();
  }

  onResponseEnd(): void {
    this.settleBody(true);
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.responded) this.settleBody(error);
    else {
      this.stopWatchingSignal();
      this.reject(error);
    }
  }

  read(sink: ByteSink): void {
    this.sink = sink;
    this.resume();
  }

  pause(): void {
    this.paused = true;
    this.controller?.pause();
  }

  /** Deferred: undici's parser may not be resumed from inside any parser's callbacks, and a sink's `data` runs inside one. */
  resume(): void {
    this.paused = false;
    if (this.resumeQueued) return;
    this.resumeQueued = true;
    queueMicrotask(() => {
      this.resumeQueued = false;
      this.deliverHeld();
    });
  }

  cancel(): void {
    this.sink = undefined;
    this.held = undefined;
    this.stopWatchingSignal();
    // A half-read HTTP/1.1 response cannot be reused: aborting destroys its socket. After the end it does nothing.
    if (this.controller) this.abort(this.controller, new errors.RequestAbortedError());
  }

  /**
   * Paused too: aborted inside a sink's `data`, undici's parser would otherwise go on with the rest of the
   * chunk it is parsing, and the end of a response on a connection that closes after it reaches a request
   * already aborted (an assertion inside undici fails).
   */
  private abort(controller: Dispatcher.DispatchController, reason: Error): void {
    controller.pause();
    controller.abort(reason);
  }

  private settleBody(end: unknown): void {
    this.stopWatchingSignal();
    if (this.held || this.paused || !this.sink) this.endedHeld = end;
    else this.deliverEnd(this.sink, end);
  }

  private deliverHeld(): void {
    const held = this.held;
    this.held = undefined;
    for (let index = 0; held && index < held.length; index++) {
      if (this.paused || !this.sink) {
        this.held = held.slice(index);
        return;
      }
      this.sink.data(held[index]);
    }
    if (this.paused || !this.sink) return;
    if (this.endedHeld !== undefined) this.deliverEnd(this.sink, this.endedHeld);
    else this.controller?.resume();
  }

  private deliverEnd(sink: ByteSink, end: unknown): void {
    this.sink = undefined;
    if (end === true) sink.end();
    else sink.error(end);
  }

  private stopWatchingSignal(): void {
    this.signal.removeEventListener('abort', this);
  }
}

/** The error a request aborted by `signal` ends with: its reason, when that is an error undici can carry. */
function abortReasonOf(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new errors.RequestAbortedError();
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
