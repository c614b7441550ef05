import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { watchChanges } from './changes';

/**
 * A TCP proxy on 127.0.0.1:0 that forwards bytes both ways to `target`, so a
 * test can break a client's connection mid-stream the way a network does
 * (`cut`), or hold back what the target sends (`hold`) while the target
 * believes it delivered it.
 */
export interface TcpProxy {
  url: string;
  /** Connections the proxy accepted so far. */
  accepted(): number;
  /** Resolves once `count` connections were accepted. */
  waitForAccepted(count: number): Promise<void>;
  /** Destroys every open connection, both sides. */
  cut(): void;
  /** `true`: what the target sends on the connections open now is kept back; `false`: it goes on, what was kept first. */
  hold(held: boolean): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  target: Socket;
  held: boolean;
  kept: Buffer[];
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const pairs = new Set<Pair>();
  const changes = watchChanges();
  let accepted = 0;

  const server = createServer((client) => {
    accepted++;
    const pair: Pair = { client, target: connect(Number(port), hostname), held: false, kept: [] };
    pairs.add(pair);
    changes.changed();
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      pair.target.destroy();
    };
    client.on('data', (chunk: Buffer) => pair.target.write(chunk));
    pair.target.on('data', (chunk: Buffer) => (pair.held ? pair.kept.push(chunk) : client.write(chunk)));
    for (const socket of [client, pair.target]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${address.port}`,
    accepted: () => accepted,
    waitForAccepted: (count) => changes.until(() => accepted >= count, `${count} proxied connections`),
    cut() {
      for (const pair of [...pairs]) {
        pair.client.destroy();
        pair.target.destroy();
      }
    },
    hold(held) {
      for (const pair of pairs) {
        pair.held = held;
        if (!held) for (const chunk of pair.kept.splice(0)) pair.client.write(chunk);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of pairs) pair.client.destroy();
        server.close(() => resolve());
      }),
  };
}
