/*
 * Every bench process other than the runner is a child with an IPC channel: it announces itself with
 * `{ ready }`, then answers `{ id, method, args }` calls with `{ id, result }` or `{ id, error }`.
 */

type Handler = (args: never) => unknown;
type Handlers = Record<string, Handler>;

export interface CallMessage {
  id: number;
  method: string;
  args: unknown;
}
export type ReplyMessage = { id: number; result: unknown } | { id: number; error: string };

/** In a child: answer the runner's calls, and exit when the runner goes away (no orphan keeps a port open). */
export function serveCalls(ready: unknown, handlers: Handlers): void {
  if (!process.send) throw new Error('A bench child process must be started by bench/run.ts (it needs an IPC channel)');
  const send = process.send.bind(process);
  process.on('message', (message: CallMessage) => {
    const handler = handlers[message.method];
    new Promise((resolve) => {
      if (!handler) throw new Error(`unknown call ${message.method}`);
      resolve(handler(message.args as never));
    }).then(
      (result) => send({ id: message.id, result } satisfies ReplyMessage),
      (error: unknown) =>
        send({ id: message.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies ReplyMessage),
    );
  });
  process.on('disconnect', () => process.exit(0));
  send({ ready });
}
