/**
 * A relay on plain node:http: browsers (or any OpenAI SDK) talk to it without a key, it calls the provider with
 * its own, and streams the answer back byte for byte.
 *
 *   OPENAI_API_KEY=sk-... node --import tsx examples/node-http-relay.ts
 *   curl -N localhost:8787/v1/chat/completions -d '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}'
 *
 * Environment: OPENAI_API_KEY (required), OPENAI_BASE_URL (default https://api.openai.com/v1),
 * PORT (default 8787, 0 picks a free port), HOST (default 127.0.0.1), ALLOW_MODELS (comma-separated, optional).
 * In your own project import from 'openai-rx/node' instead of '../src/node.js'.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createRelay } from '../src/node.js';

if (!process.env.OPENAI_API_KEY) {
  console.error('Set OPENAI_API_KEY: the relay calls the provider with its own key.');
  process.exit(1);
}

const MAX_OUTPUT_TOKENS = 4096;

const relay = createRelay({
  allowModels: process.env.ALLOW_MODELS?.split(',').map((model) => model.trim()),
  // Cap what one request may cost, whichever name the endpoint gives the limit.
  transformRequest: (body) => {
    const capped = { ...body };
    for (const field of ['max_tokens', 'max_completion_tokens', 'max_output_tokens']) {
      if (typeof capped[field] === 'number') capped[field] = Math.min(capped[field], MAX_OUTPUT_TOKENS);
    }
    return capped;
  },
  timeout: { headersMs: 30_000, firstEventMs: 60_000, idleMs: 60_000, totalMs: 600_000 },
  // One audit line per request: no prompt, no answer, no key.
  onSettled: ({ outcome, status, route, model, durationMs, timeToFirstByteMs, bytes, usage, requestId }) =>
    console.log(JSON.stringify({ outcome, status, route, model, durationMs, timeToFirstByteMs, bytes, usage, requestId })),
});

const server = createServer(relay);
server.on('connect', refuseConnect);
server.listen(Number(process.env.PORT ?? 8787), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address() as AddressInfo;
  console.log(`openai-rx relay listening on http://${address}:${port}/v1`);
});

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
