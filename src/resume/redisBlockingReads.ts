import type { RedisClientType } from 'redis';
import { OpenAIRxError } from '../errors.js';

export interface BlockingReadsConfig {
  /** A connection of its own: it spends its time inside `XREAD BLOCK`. */
  connection: RedisClientType;
  /** Another connection, to wake the blocked one (an entry in `wakeKey`) when a new stream is to be watched. */
  commands: RedisClientType;
  /** A key only this instance reads; it lives `wakeTtlMs` after the last wake. */
  wakeKey: string;
  wakeTtlMs: number;
  /** The client's own key prefix, which Redis's replies carry. */
  keyPrefix: string;
  commandTimeoutMs: number;
}

/** One reader's wait: `done` settles when its stream has entries after its position, at its deadline, or on cancel. */
export interface BlockingWait {
  done: Promise<void>;
  cancel(): void;
}

interface Waiter {
  key: string;
  position: string;
  deadline: number;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * Every wait of an instance's readers in one `XREAD BLOCK` on one connection, whatever the number of readers: the
 * call names each watched stream at the lowest position waited for, and returns when one of them grows (the
 * readers of that stream then read what is new) or at the earliest deadline. A wait for a stream the blocked call
 * does not name adds an entry to the instance's wake key, which the call always names: it returns at once, also
 * when the wake arrives before the call itself (it reads the wake key from the last entry it saw, not from `$`).
 *
 * @example
 * const wait = blockingReads.wait(keys.frames, '41-0', 3000);
 * await wait.done; // then XREAD from 41-0 again
 */
export class BlockingReads {
  private readonly waiters = new Set<Waiter>();
  /** What the call in flight watches; `undefined` between calls. */
  private watching: { keys: Set<string>; deadline: number; woken: boolean } | undefined;
  private running = false;
  private wakeSeen = '0-0';
  private closed = false;

  constructor(private readonly config: BlockingReadsConfig) {}

  wait(key: string, position: string, timeoutMs: number): BlockingWait {
    let waiter!: Waiter;
    const done = new Promise<void>((resolve, reject) => {
      waiter = { key, position, deadline: Date.now() + timeoutMs, resolve, reject };
    });
    if (this.closed) {
      waiter.reject(closedError());
      return { done, cancel: () => undefined };
    }
    this.waiters.add(waiter);
    this.watch(waiter);
    return {
      done,
      cancel: () => {
        if (this.waiters.delete(waiter)) waiter.resolve();
      },
    };
  }

  /** Rejects every wait; the connection itself is closed by its owner. */
  close(): void {
    this.closed = true;
    this.failAll(closedError());
  }

  private watch(waiter: Waiter): void {
    if (!this.running) {
      this.running = true;
      void this.run();
      return;
    }
    const watching = this.watching;
    if (!watching || watching.woken) return;
    if (watching.keys.has(waiter.key) && waiter.deadline >= watching.deadline) return;
    watching.woken = true;
    const { commands, wakeKey, wakeTtlMs } = this.config;
    // A failed wake leaves the call to return at its deadline; a broken connection fails the call itself.
    commands
      .multi()
      .xAdd(wakeKey, '*', { w: '1' }, { TRIM: { strategy: 'MAXLEN', threshold: 1 } })
      .pExpire(wakeKey, wakeTtlMs)
      .exec()
      .catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (this.waiters.size > 0 && !this.closed) {
      const { positions, deadline } = watchList(this.waiters);
      const block = Math.max(1, Math.ceil(deadline - Date.now()));
      this.watching = { keys: new Set(positions.keys()), deadline, woken: false };
      let reply: StreamsReply;
      try {
        reply = (await this.config.connection
          .withCommandOptions({ timeout: block + this.config.commandTimeoutMs, typeMapping: {} })
          .xRead(
            [{ key: this.config.wakeKey, id: this.wakeSeen }, ...[...positions].map(([key, id]) => ({ key, id }))],
            { BLOCK: block, COUNT: 1 },
          )) as StreamsReply;
      } catch (error) {
        this.failAll(new OpenAIRxError({ message: 'The resume store lost its connection to Redis', cause: error }));
        break;
      } finally {
        this.watching = undefined;
      }
      this.deliver(reply);
    }
    this.running = false;
  }

  private deliver(reply: StreamsReply): void {
    const grown = new Set<string>();
    for (const { name, messages } of reply ?? []) {
      const key = String(name).slice(this.config.keyPrefix.length);
      if (key === this.config.wakeKey) this.wakeSeen = String(messages[messages.length - 1]?.id ?? this.wakeSeen);
      else grown.add(key);
    }
    const now = Date.now();
    for (const waiter of this.waiters) {
      if (!grown.has(waiter.key) && waiter.deadline > now) continue;
      this.waiters.delete(waiter);
      waiter.resolve();
    }
  }

  private failAll(error: Error): void {
    for (const waiter of this.waiters) waiter.reject(error);
    this.waiters.clear();
  }
}

type StreamsReply = Array<{ name: string | Buffer; messages: Array<{ id: string | Buffer }> }> | null;

/** Each watched stream at the lowest position waited for, and the earliest deadline. */
function watchList(waiters: Iterable<Waiter>): { positions: Map<string, string>; deadline: number } {
  const positions = new Map<string, string>();
  let deadline = Infinity;
  for (const waiter of waiters) {
    const lowest = positions.get(waiter.key);
    if (lowest === undefined || compareEntryIds(waiter.position, lowest) < 0) positions.set(waiter.key, waiter.position);
    deadline = Math.min(deadline, waiter.deadline);
  }
  return { positions, deadline };
}

/** Orders stream entry ids (`ms-seq`). */
function compareEntryIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(Number);
  const [bMs, bSeq] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}

function closedError(): OpenAIRxError {
  return new OpenAIRxError({ message: 'The resume store was closed' });
}
