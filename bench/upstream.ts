import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { serveCalls } from './serveCalls.js';
import { chunkJson, DONE, nowUs, PACED_LIMIT_MS, sseData, TOKEN, type BenchRequestFields, type UpstreamPlan } from './protocol.js';

/*
 * The bench's upstream, in its own process on 127.0.0.1: a minimal OpenAI-shaped SSE server built to cost as
 * little CPU as possible (pre-encoded writes of ~64 KB in burst mode), so that it is never what limits a client.
 * Every write honours backpressure (a `false` from write() waits for `drain`). Through IPC it reports its CPU time,
 * when each request's socket closed (on the clock the clients share), and how far each stream got.
 */

export interface UpstreamReady {
  port: number;
}

export interface StreamStats {
  /** Bytes handed to the socket so far. */
  bytes: number;
  /** Whether the stream is waiting for `drain` right now. */
  waitingForDrain: boolean;
  /** When the request's socket closed, in µs of the shared clock; undefined while it is open. */
  closedAtUs: number | undefined;
  state: 'open' | 'ended' | 'closed-by-client';
}

const WRITE_BYTES = 64 * 1024;
const HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' };

const streams = new Map<string, StreamStats>();
const runOfSocket = new WeakMap<Socket, string>();
const sockets = new Set<Socket>();

const server = createServer({ noDelay: true, keepAliveTimeout: 10_000 }, (req, res) => {
  readBody(req).then(
    (text) => answer(req, res, JSON.parse(text) as BenchRequestFields),
    () => res.destroy(),
  );
});
server.on('connection', (socket: Socket) => {
  sockets.add(socket);
  socket.once('close', () => {
    const closedAtUs = nowUs();
    sockets.delete(socket);
    const runId = runOfSocket.get(socket);
    const stats = runId === undefined ? undefined : streams.get(runId);
    if (stats) stats.closedAtUs = closedAtUs;
  });
});

function answer(req: IncomingMessage, res: ServerResponse, fields: BenchRequestFields): void {
  const stats: StreamStats = { bytes: 0, waitingForDrain: false, closedAtUs: undefined, state: 'open' };
  streams.set(fields.runId, stats);
  runOfSocket.set(req.socket, fields.runId);
  res.on('close', () => {
    if (stats.state === 'open') stats.state = 'closed-by-client';
  });
  res.writeHead(200, HEADERS);
  const plan = fields.bench;
  const writer = streamWriter(res, stats);
  if (plan.mode === 'burst') void burst(writer, plan);
  else if (plan.mode === 'buffered') buffered(writer, plan);
  else paced(writer, plan);
}

interface StreamWriter {
  /** Writes; resolves once the socket has room again, false when the client left. */
  write(chunk: string | Buffer): Promise<boolean>;
  /** Writes without waiting; true when the socket has room. */
  writeNow(chunk: string | Buffer): boolean;
  drained(): Promise<boolean>;
  end(last: string): void;
  gone(): boolean;
  onGone(listener: () => void): void;
}

function streamWriter(res: ServerResponse, stats: StreamStats): StreamWriter {
  const gone = () => res.destroyed || stats.state !== 'open';
  const writeNow = (chunk: string | Buffer) => {
    stats.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    return res.write(chunk);
  };
  const drained = () =>
    new Promise<boolean>((resolve) => {
      stats.waitingForDrain = true;
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        stats.waitingForDrain = false;
        resolve(!gone());
      };
      res.on('drain', done);
      res.on('close', done);
    });
  return {
    writeNow,
    drained,
    gone,
    async write(chunk) {
      if (gone()) return false;
      return writeNow(chunk) || drained();
    },
    end(last) {
      if (gone()) return;
      stats.bytes += Buffer.byteLength(last);
      stats.state = 'ended';
      res.end(last);
    },
    onGone: (listener) => res.once('close', listener),
  };
}

async function burst(writer: StreamWriter, plan: Extract<UpstreamPlan, { mode: 'burst' }>): Promise<void> {
  const event = sseData(chunkJson(plan.contentChars === undefined ? TOKEN : 'x'.repeat(plan.contentChars)));
  const perWrite = Math.max(1, Math.floor(WRITE_BYTES / Buffer.byteLength(event)));
  const block = Buffer.from(event.repeat(perWrite));
  let left = plan.events;
  while (left >= perWrite) {
    if (!(await writer.write(block))) return;
    left -= perWrite;
  }
  if (left > 0 && !(await writer.write(event.repeat(left)))) return;
  writer.end(sseData(chunkJson('', 'stop')) + DONE);
}

function buffered(writer: StreamWriter, plan: Extract<UpstreamPlan, { mode: 'buffered' }>): void {
  writer.writeNow(sseData(chunkJson(TOKEN)).repeat(plan.events));
  // Held open until the client closes it; bounded all the same.
  const limit = setTimeout(() => writer.end(''), PACED_LIMIT_MS);
  writer.onGone(() => clearTimeout(limit));
}

function paced(writer: StreamWriter, plan: Extract<UpstreamPlan, { mode: 'paced' }>): void {
  let sent = 0;
  let waiting = false;
  const startedAt = Date.now();
  const stop = () => clearInterval(ticker);
  const ticker = setInterval(() => {
    if (waiting) return;
    if (writer.gone()) return stop();
    if ((plan.events > 0 && sent >= plan.events) || Date.now() - startedAt > PACED_LIMIT_MS) {
      stop();
      writer.end(sseData(chunkJson('', 'stop')) + DONE);
      return;
    }
    sent++;
    if (!writer.writeNow(sseData(chunkJson(TOKEN, null, plan.timestamps ? Math.round(nowUs()) : undefined)))) {
      waiting = true;
      void writer.drained().then(() => {
        waiting = false;
      });
    }
  }, plan.intervalMs);
  writer.onGone(stop);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

server.listen(0, '127.0.0.1', () => {
  serveCalls({ port: (server.address() as AddressInfo).port } satisfies UpstreamReady, {
    cpu: () => process.cpuUsage(),
    stream: ({ runId }: { runId: string }) => streams.get(runId),
    openSockets: () => sockets.size,
    /** Forgets finished streams so that a long run does not grow the upstream's own memory. */
    forget: () => {
      for (const [runId, stats] of streams) if (stats.state !== 'open' || stats.closedAtUs !== undefined) streams.delete(runId);
    },
  });
});
