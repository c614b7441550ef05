import { connect, type Socket } from 'node:net';

/*
 * HTTP spoken byte by byte over a plain TCP socket: for what node's http
 * client refuses to send (TRACE with a body, CONNECT to a path, pipelined
 * requests in one write, headers a byte at a time).
 */

/** Opens a TCP connection to `url`'s host and port. */
export async function openSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** Resolves with everything the server sent once the connection is closed; rejects after `timeoutMs`. */
export function readUntilClosed(socket: Socket, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`The server kept the connection open for ${timeoutMs} ms; received: ${JSON.stringify(received)}`));
    }, timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

/** Sends `bytes` on a new connection; resolves with the server's whole answer once it closes the connection. */
export async function exchangeRaw(url: string, bytes: string | Buffer): Promise<string> {
  const socket = await openSocket(url);
  const answer = readUntilClosed(socket);
  socket.write(bytes);
  return answer;
}

/** The status code of a raw HTTP/1.1 answer. */
export function statusOf(answer: string): number {
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(answer);
  if (!match) throw new Error(`Not an HTTP answer: ${JSON.stringify(answer)}`);
  return Number(match[1]);
}

/** The methods `new Request()` throws for and node:http hands to a 'connect' listener. */
export const UNSUPPORTED_METHODS = ['TRACE', 'TRACK', 'CONNECT'] as const;

/**
 * Sends each unsupported method (with `Connection: close`) and expects an HTTP
 * answer: 405 with an error in OpenAI's format, or 400 (node's parser does not
 * know TRACK). Returns the statuses by method.
 */
export async function expectUnsupportedMethodsAnswered(url: string): Promise<Record<string, number>> {
  const { host } = new URL(url);
  const statuses: Record<string, number> = {};
  for (const method of UNSUPPORTED_METHODS) {
    const target = method === 'CONNECT' ? host : '/v1/chat/completions';
    const answer = await exchangeRaw(url, `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    const status = statusOf(answer);
    statuses[method] = status;
    expect([400, 405]).toContain(status);
    if (status === 405) {
      expect(answer).toMatch(/\r\nallow: POST\r\n/i);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error?: Record<string, unknown> };
      expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'method_not_allowed', param: null });
      expect(body.error?.message).toContain(method);
    }
  }
  return statuses;
}
