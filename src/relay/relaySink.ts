import type { ReadBody } from './relayBody.js';

/** The incoming request, as an I/O adapter (node:http, fetch) presents it. */
export interface RelayIncoming<Req> {
  request: Req;
  method: string;
  /** The path without query string. */
  pathname: string;
  /** The query string without its `?`; empty when there is none. */
  search: string;
  /** A request header by lower-case name; repeated headers joined with `, `. */
  header(name: string): string | undefined;
  readBody: ReadBody;
  /**
   * Resolves when this request's response may be written. HTTP/1.1 pipelining queues responses behind the earlier
   * ones of their connection; upstream is contacted only once it is this request's turn, so one connection cannot
   * start many generations at once. Absent: at once.
   */
  turn?: Promise<void>;
}

/**
 * The client's side of one exchange, as an I/O adapter implements it. The
 * exchange calls either `send` once, or `open`, then `write` any number of
 * times, then `end` (or `abort`); nothing after the client went away.
 */
export interface RelaySink {
  /** A complete answer: an error, or a small JSON response. */
  send(status: number, headers: Record<string, string>, body: Uint8Array): void;
  /** Starts a body written piece by piece (an event stream, a large JSON answer); the head goes out at once. */
  open(status: number, headers: Record<string, string>): void;
  /** `false` when the client is not keeping up: wait for `onDrain`. */
  write(chunk: Uint8Array): boolean;
  end(): void;
  /** Drops the connection without ending the response properly: the client stopped reading. */
  abort(): void;
  /** `callback` runs each time the client has room again after `write` returned `false`. */
  onDrain(callback: () => void): void;
  /** `callback` runs once if the client goes away before the response ended. */
  onClose(callback: () => void): void;
}
