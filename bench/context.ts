import type { ClientName } from './clients.js';
import { Child } from './children.js';
import type { RelayReady } from './relayServer.js';
import type { UpstreamReady } from './upstream.js';

/** The sizes of one run: `full` is what BENCHMARKS.md reports, `quick` checks in CI that the harness works. */
export interface BenchSizes {
  throughputEvents: number;
  /** accumulate is also run on this many events, to show its per-chunk cost does not grow with the answer. */
  shortAnswerEvents: number;
  /** Each throughput client runs in this many long-lived processes, its repetitions pooled across them. */
  throughputProcesses: number;
  /** Repetitions per process. */
  throughputReps: number;
  warmupEvents: number;
  cancelReps: number;
  concurrentStreams: number;
  concurrentEvents: number;
  concurrentIntervalMs: number;
  concurrentReps: number;
  relayReps: number;
  latencyEvents: number;
  latencyReps: number;
  slowClientSeconds: number;
  slowUpstreamBytes: number;
  soakCycles: number;
  soakWarmupCycles: number;
}

export const SIZES: Record<'quick' | 'full', BenchSizes> = {
  full: {
    throughputEvents: 50_000,
    shortAnswerEvents: 10_000,
    // The same client in two processes differed by up to 9% in median events/s over 15 repetitions (3% over 40):
    // how a process's code was optimised stays with it. Three processes of 10 repetitions each average that out.
    throughputProcesses: 3,
    // A 50,000-event stream takes ~70 ms: medians of 7 moved a 3% difference by ±5% between runs.
    throughputReps: 10,
    warmupEvents: 20_000,
    cancelReps: 30,
    concurrentStreams: 500,
    concurrentEvents: 100,
    concurrentIntervalMs: 10,
    // Each repetition of each client is a fresh process; the CPU ratio's rounds spread ±0.05 with 3.
    concurrentReps: 5,
    relayReps: 7,
    latencyEvents: 2_000,
    latencyReps: 3,
    slowClientSeconds: 10,
    slowUpstreamBytes: 20 * 1024 * 1024,
    soakCycles: 10_000,
    soakWarmupCycles: 500,
  },
  quick: {
    throughputEvents: 5_000,
    shortAnswerEvents: 1_000,
    throughputProcesses: 1,
    throughputReps: 2,
    warmupEvents: 2_000,
    cancelReps: 5,
    concurrentStreams: 50,
    concurrentEvents: 20,
    concurrentIntervalMs: 10,
    concurrentReps: 1,
    relayReps: 2,
    latencyEvents: 200,
    latencyReps: 1,
    slowClientSeconds: 2,
    slowUpstreamBytes: 20 * 1024 * 1024,
    soakCycles: 300,
    soakWarmupCycles: 50,
  },
};

export interface BenchContext {
  sizes: BenchSizes;
  upstream: Child<UpstreamReady>;
  /** `http://127.0.0.1:<port>/v1` */
  upstreamBaseURL: string;
  /** Node flags for client processes (`--cpu-prof …` when profiling). */
  clientFlags: string[];
  /** The long-lived client process of `client` (its `instance`-th, for a client measured in several), started on first use. */
  worker(client: ClientName, instance?: number): Promise<Child>;
  /** A client process of its own, for measurements of a whole process (peak RSS, handles); stop it after use. */
  freshWorker(name: string, extraFlags?: string[]): Promise<Child>;
  /** A relay process of its own (createRelay in front of the upstream, with an `onFrame` hook if asked); stop it after use. */
  startRelay(options?: { onFrame?: boolean }): Promise<Child<RelayReady>>;
  /** The upstream's CPU time (user + system) in ms. */
  upstreamCpuMs(): Promise<number>;
}

/** A child's CPU time (user + system) in ms; children answer `cpu` with `process.cpuUsage()`. */
export async function cpuMsOf(child: Child): Promise<number> {
  const { user, system } = await child.call<NodeJS.CpuUsage>('cpu');
  return (user + system) / 1000;
}

export async function startContext(sizes: BenchSizes, clientFlags: string[]): Promise<BenchContext> {
  const upstream = await Child.start<UpstreamReady>('upstream', { name: 'upstream' });
  const workers = new Map<string, Promise<Child>>();
  const freshWorker = (name: string, extraFlags: string[] = []) =>
    Child.start('worker', { name, nodeFlags: [...clientFlags, ...extraFlags] });
  const upstreamBaseURL = `http://127.0.0.1:${upstream.ready.port}/v1`;
  return {
    sizes,
    upstream,
    upstreamBaseURL,
    clientFlags,
    async worker(client, instance = 0) {
      const name = instance === 0 ? `worker ${client}` : `worker ${client} #${instance}`;
      const running = await workers.get(name)?.catch(() => undefined);
      if (running?.process.connected) return running;
      // First use, or the last one died (a failed scenario must not break the ones after it).
      const worker = freshWorker(name);
      workers.set(name, worker);
      return worker;
    },
    freshWorker,
    startRelay: (options = {}) =>
      Child.start<RelayReady>('relayServer', {
        name: options.onFrame ? 'relay-on-frame' : 'relay',
        args: [upstreamBaseURL, ...(options.onFrame ? ['on-frame'] : [])],
        nodeFlags: clientFlags,
      }),
    upstreamCpuMs: () => cpuMsOf(upstream),
  };
}
