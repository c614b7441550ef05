import { setTimeout as sleep } from 'node:timers/promises';
import { openerFor, type ClientName, type OpenStream, type StreamSink } from './clients.js';
import { serveCalls } from './serveCalls.js';
import { nowUs, requestBody, TOKEN, type UpstreamPlan } from './protocol.js';

/*
 * A client process: runs one client's streams when the runner asks, and measures them from inside (wall time,
 * CPU, memory, handles). One worker per client keeps heaps and JIT state apart; the runner interleaves them.
 */

const openers = new Map<string, Promise<OpenStream>>();
const opener = (client: ClientName, baseURL: string) => {
  const key = `${client} ${baseURL}`;
  let open = openers.get(key);
  if (!open) openers.set(key, (open = openerFor(client, baseURL)));
  return open;
};

let runs = 0;
const nextRunId = () => `${process.pid}-${++runs}`;

/** Runs one stream to its end; rejects on error or after `timeoutMs`. */
function runToEnd(open: OpenStream, plan: UpstreamPlan, onValue: (value: unknown) => void, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      running.cancel();
      reject(new Error(`the stream did not end within ${timeoutMs} ms`));
    }, timeoutMs);
    const running = open(requestBody({ bench: plan, runId: nextRunId() }), {
      next: onValue,
      end(error) {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      },
    });
  });
}

export interface ThroughputArgs {
  client: ClientName;
  baseURL: string;
  events: number;
}

export interface ThroughputResult {
  ms: number;
  eventsPerSecond: number;
  cpuMs: number;
}

async function throughput({ client, baseURL, events }: ThroughputArgs): Promise<ThroughputResult> {
  const open = await opener(client, baseURL);
  let count = 0;
  let chars = 0;
  let last: unknown;
  const cpu = process.cpuUsage();
  const startedAt = performance.now();
  await runToEnd(
    open,
    { mode: 'burst', events },
    (value) => {
      count++;
      if (typeof value === 'string') chars += value.length;
      last = value;
    },
    120_000,
  );
  const ms = performance.now() - startedAt;
  const { user, system } = process.cpuUsage(cpu);
  // Text clients deliver the answer's text (paced text in fewer values than events).
  if (client === 'rx-content' || client === 'rx-pace') {
    if (chars !== events * TOKEN.length) throw new Error(`${client} delivered ${chars} chars, expected ${events * TOKEN.length}`);
    return { ms, eventsPerSecond: (events / ms) * 1000, cpuMs: (user + system) / 1000 };
  }
  // raw frames also count the finishing chunk and [DONE]; parsed clients the finishing chunk.
  if (count < events) throw new Error(`${client} delivered ${count} of ${events} events`);
  if (client === 'rx-accumulate') {
    const content = (last as { choices: Array<{ message: { content: string } }> }).choices[0].message.content;
    if (content.length !== events * TOKEN.length) throw new Error(`accumulated ${content.length} chars, expected ${events * TOKEN.length}`);
  }
  return { ms, eventsPerSecond: (events / ms) * 1000, cpuMs: (user + system) / 1000 };
}

export interface CancelArgs {
  client: ClientName;
  baseURL: string;
  plan: UpstreamPlan;
  /** Cancel when this many values have arrived. */
  cancelAfter: number;
  /** How long to keep counting deliveries after the cancel. */
  settleMs: number;
}

export interface CancelResult {
  runId: string;
  cancelAtUs: number;
  deliveredAfterCancel: number;
  /** What the client reported after the cancel, if anything: `complete`, or an error's name. */
  endAfterCancel: string | undefined;
}

async function cancel({ client, baseURL, plan, cancelAfter, settleMs }: CancelArgs): Promise<CancelResult> {
  const open = await opener(client, baseURL);
  const runId = nextRunId();
  let delivered = 0;
  let deliveredAfterCancel = 0;
  let cancelAtUs: number | undefined;
  let endAfterCancel: string | undefined;
  let failure: unknown;
  let cancelled: () => void = () => undefined;
  const cancelledOrFailed = new Promise<void>((resolve) => (cancelled = resolve));
  const sink: StreamSink = {
    next() {
      if (cancelAtUs !== undefined) {
        deliveredAfterCancel++;
        return;
      }
      if (++delivered === cancelAfter) {
        cancelAtUs = nowUs();
        running.cancel();
        cancelled();
      }
    },
    end(error) {
      if (cancelAtUs === undefined) {
        failure = error ?? new Error(`the stream ended after ${delivered} values, before the cancel`);
        cancelled();
      } else endAfterCancel = error ? ((error as Error).name ?? 'error') : 'complete';
    },
  };
  const running = open(requestBody({ bench: plan, runId }), sink);
  const timer = setTimeout(() => {
    failure = new Error(`no cancel within 10 s (${delivered} values arrived)`);
    running.cancel();
    cancelled();
  }, 10_000);
  await cancelledOrFailed;
  clearTimeout(timer);
  if (failure !== undefined || cancelAtUs === undefined) throw failure;
  await sleep(settleMs);
  return { runId, cancelAtUs, deliveredAfterCancel, endAfterCancel };
}

export interface LatencyArgs {
  client: ClientName;
  /** One paced stream per base URL, all at the same time, so that they share whatever else the machine does. */
  baseURLs: string[];
  events: number;
  intervalMs: number;
}

/**
 * Per-event latency in µs, one array per base URL in the order the events were sent: the client's receive time
 * minus the timestamp the upstream wrote into the event.
 */
async function latency({ client, baseURLs, events, intervalMs }: LatencyArgs): Promise<number[][]> {
  const opens = await Promise.all(baseURLs.map((baseURL) => opener(client, baseURL)));
  return Promise.all(
    opens.map(async (open) => {
      const latencies: number[] = [];
      await runToEnd(
        open,
        { mode: 'paced', events, intervalMs, timestamps: true },
        (value) => {
          const receivedAt = nowUs();
          const t = timestampIn(value);
          if (t !== undefined) latencies.push(receivedAt - t);
        },
        events * intervalMs * 4 + 30_000,
      );
      return latencies;
    }),
  );
}

function timestampIn(value: unknown): number | undefined {
  const frame = value as { type?: string; data?: string; t?: number };
  if (frame.type === 'event') return frame.data === '[DONE]' ? undefined : (JSON.parse(frame.data ?? '{}') as { t?: number }).t;
  return frame.t;
}

export interface ConcurrentArgs {
  client: ClientName;
  baseURL: string;
  streams: number;
  events: number;
  intervalMs: number;
}

export interface ConcurrentResult {
  wallMs: number;
  cpuMs: number;
  /** Peak resident set of the whole process (kernel's maxrss), in bytes. */
  peakRssBytes: number;
  /** Resident set just before the streams started. */
  startRssBytes: number;
}

/** All streams opened at once; one fresh process per call, so the peak RSS belongs to this run alone. */
async function concurrent({ client, baseURL, streams, events, intervalMs }: ConcurrentArgs): Promise<ConcurrentResult> {
  const open = await opener(client, baseURL);
  const startRssBytes = process.memoryUsage.rss();
  const cpu = process.cpuUsage();
  const startedAt = performance.now();
  let values = 0;
  const timeoutMs = events * intervalMs * 20 + 60_000;
  await Promise.all(
    Array.from({ length: streams }, () => runToEnd(open, { mode: 'paced', events, intervalMs }, () => values++, timeoutMs)),
  );
  const wallMs = performance.now() - startedAt;
  const { user, system } = process.cpuUsage(cpu);
  if (values < streams * events) throw new Error(`${client} delivered ${values} of ${streams * events} events`);
  return { wallMs, cpuMs: (user + system) / 1000, peakRssBytes: process.resourceUsage().maxRSS * 1024, startRssBytes };
}

export interface SoakArgs {
  client: ClientName;
  baseURL: string;
  cycles: number;
  warmupCycles: number;
}

export interface SoakResult {
  cycles: number;
  heapBeforeBytes: number;
  heapAfterBytes: number;
  /** Active handles and requests by type, before the cycles and once they settled. */
  resourcesBefore: Record<string, number>;
  resourcesAfter: Record<string, number>;
  ms: number;
}

/**
 * Subscribe/unsubscribe cycles against a stream that stays open: odd cycles unsubscribe at once (before the
 * response), even ones after the first value. Needs `--expose-gc`.
 */
async function soak({ client, baseURL, cycles, warmupCycles }: SoakArgs): Promise<SoakResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('soak needs node --expose-gc');
  const open = await opener(client, baseURL);
  const cycle = async (index: number) => {
    const plan: UpstreamPlan = { mode: 'buffered', events: 5 };
    if (index % 2 === 1) {
      open(requestBody({ bench: plan, runId: nextRunId() }), { next() {}, end() {} }).cancel();
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`soak cycle ${index}: no value within 10 s`)), 10_000);
      let done = false;
      const running = open(requestBody({ bench: plan, runId: nextRunId() }), {
        next() {
          if (done) return;
          done = true;
          clearTimeout(timer);
          running.cancel();
          resolve();
        },
        end(error) {
          clearTimeout(timer);
          reject(error ?? new Error(`soak cycle ${index} ended before its first value`));
        },
      });
    });
  };
  const settle = async (target: Record<string, number>) => {
    // Sockets close asynchronously after the last cancel; give them a bounded moment, then collect.
    for (let i = 0; i < 100 && count(resources()) > count(target); i++) await sleep(50);
    for (let i = 0; i < 3; i++) {
      gc();
      await sleep(20);
    }
  };
  const initial = resources();
  for (let i = 0; i < warmupCycles; i++) await cycle(i);
  await settle(initial);
  const baseline = resources();
  const heapBeforeBytes = process.memoryUsage().heapUsed;
  const startedAt = performance.now();
  for (let i = 0; i < cycles; i++) await cycle(i);
  const ms = performance.now() - startedAt;
  await settle(baseline);
  return {
    cycles,
    heapBeforeBytes,
    heapAfterBytes: process.memoryUsage().heapUsed,
    resourcesBefore: baseline,
    resourcesAfter: resources(),
    ms,
  };
}

function resources(): Record<string, number> {
  const byType: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) byType[type] = (byType[type] ?? 0) + 1;
  return byType;
}

function count(byType: Record<string, number>): number {
  return Object.values(byType).reduce((sum, n) => sum + n, 0);
}

serveCalls({ pid: process.pid }, { throughput, cancel, latency, concurrent, soak });
