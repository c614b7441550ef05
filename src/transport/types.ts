import type { Observable } from 'rxjs';

/**
 * The HTTP layer under the SSE source. A transport sends one request and hands
 * back the status, headers and a body that is read chunk by chunk, never
 * buffered whole. It knows nothing of SSE or of openai-rx's errors: it rejects
 * with whatever its HTTP stack threw.
 */
export interface TransportRequest {
  url: string;
  method: string;
  /** Header names as given; transports send them unchanged. */
  headers: Record<string, string>;
  body?: string;
  /** Aborting it must abort the request and release the socket. */
  signal: AbortSignal;
  /**
   * The request should outlive the page that sends it (fetch's `keepalive`), as a stream's cancel sent while
   * the page unloads must. A transport without such a notion (undici) ignores it.
   */
  keepalive?: boolean;
}

export interface TransportResponse {
  /** `0` for a redirect whose status the HTTP stack hides (a browser's opaque redirect). Redirects are never followed. */
  status: number;
  /** Lower-case header names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: ByteStream;
}

/** Receives a body's chunks. */
export interface ByteSink {
  data(chunk: Uint8Array): void;
  end(): void;
  error(error: unknown): void;
}

/**
 * A response body that pushes its chunks to one sink. `pause`/`resume` apply
 * backpressure to the connection; `cancel` stops reading and tears the
 * connection down (a half-read HTTP/1.1 response cannot be reused). It may
 * be a class instance (undici's is): a wrapper delegates to its methods,
 * where a spread (`{ ...body, read }`) would lose them.
 */
export interface ByteStream {
  read(sink: ByteSink): void;
  pause(): void;
  resume(): void;
  cancel(): void;
}

/**
 * Sends one request. It answers with a Promise, or with an Observable that
 * emits the response once: a test transport can then settle inside a scheduler
 * action, so a whole client runs in `TestScheduler` virtual time.
 */
export type Transport = (request: TransportRequest) => Promise<TransportResponse> | Observable<TransportResponse>;

/** A transport that answers with a Promise, as the HTTP stacks do (`undiciTransport`, `fetchTransport`). */
export type PromiseTransport = (request: TransportRequest) => Promise<TransportResponse>;
