import { fork, type ChildProcess } from 'node:child_process';
import { childScriptPath, type ChildScript } from './build.js';
import type { CallMessage, ReplyMessage } from './serveCalls.js';

/* The runner's side of the bench's child processes: start, call, stop, and stop them all on every way out. */

export interface ChildOptions {
  /** Extra node flags (`--expose-gc`, `--cpu-prof`). */
  nodeFlags?: string[];
  /** How long the child may take to announce itself. */
  startTimeoutMs?: number;
  /** Command-line arguments for the child script. */
  args?: string[];
  name: string;
}

const running = new Set<Child>();

/** A child process running one of the bundled bench scripts (see build.ts), with an IPC channel. */
export class Child<Ready = unknown> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  readonly exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    readonly process: ChildProcess,
    readonly ready: Ready,
  ) {
    this.exited = new Promise((resolve) => process.once('exit', (code) => resolve(code)));
    process.on('message', (message: ReplyMessage) => {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if ('error' in message) waiter.reject(new Error(`${name}: ${message.error}`));
      else waiter.resolve(message.result);
    });
    void this.exited.then((code) => {
      running.delete(this);
      for (const waiter of this.pending.values()) waiter.reject(new Error(`${name} exited (code ${code}) during a call`));
      this.pending.clear();
    });
  }

  static async start<Ready>(script: ChildScript, options: ChildOptions): Promise<Child<Ready>> {
    const child = fork(childScriptPath(script), options.args ?? [], {
      execArgv: options.nodeFlags ?? [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${options.name} did not start within ${timeoutMs} ms`));
      }, timeoutMs);
      child.once('message', (message: { ready: Ready }) => {
        clearTimeout(timer);
        resolve(message.ready);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${options.name} exited (code ${code}) before it was ready`));
      });
    });
    const handle = new Child<Ready>(options.name, child, ready);
    running.add(handle as Child);
    return handle;
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  /** Calls `method` in the child; rejects if it throws, exits, or takes longer than `timeoutMs`. */
  call<T>(method: string, args: unknown = {}, timeoutMs = 120_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}.${method} took longer than ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.process.send({ id, method, args } satisfies CallMessage);
    });
  }

  /**
   * Ends the child and waits for it: closing the IPC channel lets it exit on its own (so that `--cpu-prof` writes
   * its profile); SIGKILL after two seconds if it has not.
   */
  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    if (this.process.connected) this.process.disconnect();
    else this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 2000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Stops every child still running; the runner calls it on every way out. */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...running].map((child) => child.stop()));
}

/** For a synchronous `exit` handler: signals every child still running. */
export function killAllChildrenNow(): void {
  for (const child of running) child.process.kill('SIGKILL');
}
