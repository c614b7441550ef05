import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListenError } from './exitCodes.js';

export interface RunningServer {
  /** `http://127.0.0.1:8787` */
  readonly url: string;
  readonly port: number;
  /** Requests whose response has not ended yet (open streams among them). */
  activeRequests(): number;
  /** Stops listening and destroys every open connection, ending the streams they carry. */
  close(): Promise<void>;
}

/** A node:http server listening on `host:port`; a failure to listen becomes a {@link ListenError}. */
export async function listenHttp(handler: RequestListener, port: number, host: string): Promise<RunningServer> {
  let active = 0;
  const server = createServer((req, res) => {
    active++;
    res.once('close', () => active--);
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, host, port)));
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    activeRequests: () => active,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

/** A failure to listen, said plainly: `cannot listen on 127.0.0.1:8787: the address is in use (EADDRINUSE)`. */
export function listenError(error: NodeJS.ErrnoException, host: string, port: number): ListenError {
  const why = error.code === 'EADDRINUSE' ? 'the address is in use' : error.code === 'EACCES' ? 'permission denied' : error.message;
  return new ListenError(`cannot listen on ${host}:${port}: ${why}${error.code ? ` (${error.code})` : ''}; pick another --port`);
}
