import type { Socket } from 'node:net';

const watchers = new WeakMap<Socket, Set<() => void>>();

/**
 * Calls `callback` when the client's connection closes; returns the function
 * that stops watching. A response queued behind earlier ones on a pipelined
 * connection never emits `close` of its own when the client leaves, so the
 * relay watches the socket itself. However many requests one connection
 * carries, the socket holds one listener.
 */
export function onConnectionClose(socket: Socket, callback: () => void): () => void {
  let callbacks = watchers.get(socket);
  if (!callbacks) {
    const watching = new Set<() => void>();
    callbacks = watching;
    watchers.set(socket, watching);
    socket.once('close', () => {
      watchers.delete(socket);
      for (const each of [...watching]) each();
    });
  }
  const watching = callbacks;
  watching.add(callback);
  return () => watching.delete(callback);
}
