/**
 * The relay inside an Express 5 app, next to the app's own routes. Mount it before any body parser: it reads the
 * request body itself (with its own size limit). Paths that are not relay routes fall through to the next handler.
 *
 *   OPENAI_API_KEY=sk-... RELAY_CLIENT_TOKEN=let-me-in node --import tsx examples/express-relay.ts
 *
 * Environment: OPENAI_API_KEY (required), OPENAI_BASE_URL, PORT (default 8787, 0 picks a free port),
 * HOST (default 127.0.0.1), RELAY_CLIENT_TOKEN (optional: clients must send `Authorization: Bearer <token>`).
 * In your own project import from 'openai-rx/node' instead of '../src/node.js'.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createRelay } from '../src/node.js';

if (!process.env.OPENAI_API_KEY) {
  console.error('Set OPENAI_API_KEY: the relay calls the provider with its own key.');
  process.exit(1);
}

const app = express();
app.disable('x-powered-by');

app.get('/healthz', (_req, res) => {
  res.json({ ok: true });
});

// The client's Authorization header authenticates it to this app; the relay never forwards it upstream.
const clientToken = process.env.RELAY_CLIENT_TOKEN;
app.use('/v1', (req: Request, res: Response, next: NextFunction) => {
  if (!clientToken || req.headers.authorization === `Bearer ${clientToken}`) return next();
  res.status(401).json({ error: { message: 'Missing or wrong client token', type: 'invalid_request_error', param: null, code: null } });
});

app.use(
  createRelay({
    allowModels: (model) => model.startsWith('gpt-4o') || model.startsWith('gpt-4.1'),
    timeout: { headersMs: 30_000, firstEventMs: 60_000, idleMs: 60_000, totalMs: 600_000 },
    onSettled: ({ outcome, status, route, model, durationMs, bytes, usage, requestId }) =>
      console.log(JSON.stringify({ outcome, status, route, model, durationMs, bytes, usage, requestId })),
  }),
);

// Body parsers for the app's own routes come after the relay.
app.use(express.json());
app.post('/echo', (req, res) => {
  res.json(req.body);
});

const server = app.listen(Number(process.env.PORT ?? 8787), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address() as AddressInfo;
  console.log(`openai-rx relay listening on http://${address}:${port}/v1`);
});
server.on('connect', refuseConnect);

/** node:http hands CONNECT to a 'connect' listener and, without one, drops the connection unanswered; this is no proxy. */
function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  const body = JSON.stringify({ error: { message: 'Method CONNECT is not allowed; use POST.', type: 'invalid_request_error', param: null, code: 'method_not_allowed' } });
  socket.on('error', () => undefined);
  socket.resume();
  socket.end(
    `HTTP/1.1 405 Method Not Allowed\r\nallow: POST\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
