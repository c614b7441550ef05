import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { watchChanges } from './changes';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * A real node:http server on 127.0.0.1:0 for integration tests. It records
 * every request and tracks every socket, so tests can assert that a
 * cancellation closed the connection.
 */
export interface TestServer {
  url: string;
  requests: RecordedRequest[];
  /** Sockets currently open to the server. */
  openSockets(): number;
  /** How many sockets have closed so far. */
  closedSockets(): number;
  /** Sockets still open that carried at least one request (a client may also open idle ones). */
  openRequestSockets(): number;
  /** Resolves when `count` sockets in total have closed (or rejects after `timeoutMs`). */
  waitForClosedSockets(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves when `count` requests have arrived. */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves when every socket that carried a request has closed: nothing more can reach its client. */
  requestSocketsClosed(timeoutMs?: number): Promise<void>;
  /** Resolves when `condition` holds, checked again whenever a request arrives or a socket opens or closes. */
  until(condition: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest) => void | Promise<void>;

export async function startServer(handler: Handler): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const served = new WeakSet<Socket>();
  const requests: RecordedRequest[] = [];
  let closed = 0;
  const changes = watchChanges();

  const server: Server = createServer((req, res) => {
    served.add(req.socket);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      changes.changed();
      void Promise.resolve(handler(req, res, recorded)).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(error));
      });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    changes.changed();
    socket.on('close', () => {
      sockets.delete(socket);
      closed++;
      changes.changed();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const openRequestSockets = () => [...sockets].filter((socket) => served.has(socket)).length;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    openSockets: () => sockets.size,
    closedSockets: () => closed,
    openRequestSockets,
    waitForClosedSockets: (count, timeoutMs = 2000) => changes.until(() => closed >= count, `${count} closed sockets`, timeoutMs),
    waitForRequests: (count, timeoutMs = 2000) => changes.until(() => requests.length >= count, `${count} requests`, timeoutMs),
    requestSocketsClosed: (timeoutMs = 2000) => changes.until(() => openRequestSockets() === 0, 'every request socket to close', timeoutMs),
    until: changes.until,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Starts an event-stream response. */
export function sseHead(res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
  res.flushHeaders();
}

/** A chat chunk's `data:` line for content `text` (and an optional finish). */
export function chatData(text: string, finish: string | null = null, index = 0): string {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index, delta: { content: text }, finish_reason: finish }],
  })}\n\n`;
}
