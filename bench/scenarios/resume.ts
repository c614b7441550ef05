import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, type RedisClientType } from 'redis';
import { startRedisServer, type RedisServer } from '../../spec/helpers/redisServer.js';
import type { Child } from '../children.js';
import { cpuMsOf, type BenchContext } from '../context.js';
import { nowUs, type UpstreamPlan } from '../protocol.js';
import type { RelayReady } from '../relayServer.js';
import { bytes, int, judge, ms, ratio, spreadText, type Check, type Section, type Table } from '../report.js';
import { cancelStream, idLine, reattach, startStream } from '../resumeProbes.js';
import { startResumeRelay, type ResumeRelayMode } from '../resumeRelays.js';
import { percentile, rotate, sortedAscending, spread } from '../stats.js';
import type { StreamStats } from '../upstream.js';
import type { ThroughputArgs, ThroughputResult } from '../worker.js';

const TARGETS = { memoryThroughput: 0.8, redisThroughput: 0.5, memoryReattachMs: 5, redisReattachMs: 10, cancelMs: 10 };
/** The throughput streams stay below the stores' 20,000 blocks per stream: a client behind a longer burst is evicted. */
const MAX_THROUGHPUT_EVENTS = 15_000;
/** A generation that goes on until it is cancelled: one chunk per millisecond. */
const ENDLESS: UpstreamPlan = { mode: 'paced', events: 0, intervalMs: 1 };
/** The client drops after this event; the ones generated while nobody reads are the missed ones. */
const DROP_AFTER = 10;
const MISSED_MS = 20;
/** The answer whose keys' memory is measured: 1,998 chunks, the finishing chunk and [DONE]. */
const MEMORY_FRAMES = 2_000;
const SCENARIO = 'resume mode';
const JUDGED = 'rx-chat';

interface Relay {
  label: string;
  child: Child<RelayReady>;
  baseURL: string;
}

/**
 * Relays in resume mode, each in its own process, against the same relay without it: throughput through the memory
 * and the Redis store, re-attach latency, a cancel sent to another instance, and what a finished stream costs Redis.
 */
export async function resumeScenario(context: BenchContext): Promise<Section> {
  const redis = await redisIfInstalled();
  const started: Relay[] = [];
  const relay = async (mode: ResumeRelayMode, label: string) => {
    const child = await startResumeRelay(context.upstreamBaseURL, mode, `relay (${label})`, context.clientFlags);
    const running = { label, child, baseURL: `http://127.0.0.1:${child.ready.port}/v1` };
    started.push(running);
    return running;
  };
  try {
    const plain = await relay('off', 'without resume mode');
    const memory = await relay('memory', 'resume mode, memory store');
    const [redisA, redisB] = redis
      ? [await relay({ redisUrl: redis.url }, 'resume mode, Redis store'), await relay({ redisUrl: redis.url }, 'resume mode, Redis store, instance B')]
      : [];
    const throughput = await measureThroughput(context, [plain, memory, ...(redisA ? [redisA] : [])]);
    const reps = context.sizes.cancelReps * 4;
    const reattachMemory = await measureReattach(context, memory, memory, reps);
    const reattachRedis = redisA && redisB ? await measureReattach(context, redisA, redisB, reps) : undefined;
    const cancelRedis = redisA && redisB ? await measureCancel(context, redisA, redisB, reps) : undefined;
    const memoryPerStream = redis && redisA ? await measureRedisMemory(redisA, redis.url) : undefined;
    await context.upstream.call('forget');
    return report({ plain, memory, redisA }, { throughput, reattachMemory, reattachRedis, cancelRedis, memoryPerStream, reps });
  } finally {
    await Promise.all(started.map((each) => each.child.stop()));
    await redis?.stop();
  }
}

async function redisIfInstalled(): Promise<RedisServer | undefined> {
  try {
    return await startRedisServer();
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('redis-server not found')) throw error;
    process.stderr.write(' (redis-server not installed: the Redis figures are skipped)');
    return undefined;
  }
}

interface Throughput {
  rates: Map<Relay, number[]>;
  /** Relay CPU per relayed event, µs. */
  cpuPerEventUs: Map<Relay, number>;
  events: number;
}

/** The judged client through each relay, interleaved: events per second, and each relay's CPU per event. */
async function measureThroughput(context: BenchContext, relays: Relay[]): Promise<Throughput> {
  const { sizes } = context;
  const events = Math.min(sizes.throughputEvents, MAX_THROUGHPUT_EVENTS);
  const worker = await context.worker(JUDGED);
  const stream = (relay: Relay, count: number) =>
    worker.call<ThroughputResult>('throughput', { client: JUDGED, baseURL: relay.baseURL, events: count } satisfies ThroughputArgs);
  for (const relay of relays) await stream(relay, Math.min(sizes.warmupEvents, events));
  const rates = new Map<Relay, number[]>(relays.map((relay) => [relay, []]));
  const cpu = new Map<Relay, number>();
  for (const relay of relays) cpu.set(relay, -(await cpuMsOf(relay.child)));
  for (let rep = 0; rep < sizes.relayReps; rep++) {
    for (const relay of rotate(relays, rep)) rates.get(relay)!.push((await stream(relay, events)).eventsPerSecond);
  }
  const cpuPerEventUs = new Map<Relay, number>();
  for (const relay of relays) cpuPerEventUs.set(relay, (((await cpuMsOf(relay.child)) + cpu.get(relay)!) * 1000) / (sizes.relayReps * events));
  return { rates, cpuPerEventUs, events };
}

interface Timings {
  ms: number[];
  /** Runs whose answer was wrong (another first event; no single stream_cancelled frame), with what was seen. */
  wrong: string[];
}

/**
 * A client reads an endless generation on `owner` to event {@link DROP_AFTER} and drops; {@link MISSED_MS} later it
 * re-attaches on `reader` with `Last-Event-ID`: the time until the first missed event arrives. Each run's
 * generation is cancelled after it.
 */
async function measureReattach(context: BenchContext, owner: Relay, reader: Relay, reps: number): Promise<Timings> {
  const timings: Timings = { ms: [], wrong: [] };
  for (let rep = 0; rep <= reps; rep++) {
    const runId = `resume-reattach-${owner.child.pid}-${reader.child.pid}-${rep}`;
    const { response, streamId } = await startStream(owner.baseURL, ENDLESS, runId);
    await response.until((text) => text.includes(idLine(DROP_AFTER)), `event ${DROP_AFTER}`);
    response.drop();
    await sleep(MISSED_MS);
    const { ms: took, firstEvent } = await reattach(reader.baseURL, streamId, DROP_AFTER);
    await cancelStream(owner.baseURL, streamId);
    await upstreamClosedAt(context, runId);
    // The first run warms the path up.
    if (rep === 0) continue;
    timings.ms.push(took);
    if (firstEvent !== DROP_AFTER + 1) timings.wrong.push(`first event ${firstEvent}`);
  }
  return timings;
}

/** A generation runs on `owner`, its client reading; the cancel goes to `other`: the time until the upstream socket closed. */
async function measureCancel(context: BenchContext, owner: Relay, other: Relay, reps: number): Promise<Timings> {
  const timings: Timings = { ms: [], wrong: [] };
  for (let rep = 0; rep <= reps; rep++) {
    const runId = `resume-cancel-${owner.child.pid}-${rep}`;
    const { response, streamId } = await startStream(owner.baseURL, ENDLESS, runId);
    await response.until((text) => text.includes(idLine(3)), 'event 3');
    const cancelAtUs = nowUs();
    const status = await cancelStream(other.baseURL, streamId);
    const closedAtUs = await upstreamClosedAt(context, runId);
    const text = await response.ended();
    if (rep === 0) continue;
    timings.ms.push((closedAtUs - cancelAtUs) / 1000);
    const cancelledFrames = text.split('"code":"stream_cancelled"').length - 1;
    if (status !== 202 || cancelledFrames !== 1) timings.wrong.push(`cancel ${status}, ${cancelledFrames} stream_cancelled frames`);
  }
  return timings;
}

interface RedisMemory {
  /** MEMORY USAGE of each key the finished stream left, by key kind (frames, meta, …). */
  keys: Array<{ kind: string; bytes: number; ttlMs: number }>;
  /** The answer's own bytes, as upstream sent them. */
  answerBytes: number;
}

/** A {@link MEMORY_FRAMES}-frame answer through a Redis relay, read to its end: what its keys hold in Redis afterwards. */
async function measureRedisMemory(relay: Relay, redisUrl: string): Promise<RedisMemory> {
  const { response, streamId } = await startStream(relay.baseURL, { mode: 'burst', events: MEMORY_FRAMES - 2 }, `resume-memory-${relay.child.pid}`);
  const text = await response.ended();
  if (!text.includes(`${idLine(MEMORY_FRAMES)}\n`)) throw new Error(`the ${MEMORY_FRAMES}-frame answer did not arrive whole`);
  const admin = createClient({ url: redisUrl }) as RedisClientType;
  await admin.connect();
  try {
    const prefix = `openai-rx:{${streamId}}:`;
    const names = await admin.keys(`${prefix}*`);
    const keys = await Promise.all(
      names.map(async (name) => ({
        kind: name.slice(prefix.length),
        bytes: Number(await admin.memoryUsage(name, { SAMPLES: 0 })),
        ttlMs: await admin.pTTL(name),
      })),
    );
    return { keys, answerBytes: Buffer.byteLength(text.replace(/\nid: \d+\n/g, '\n')) };
  } finally {
    await admin.close();
  }
}

/** Polls the upstream until it saw the socket of `runId` close (its generation stopped); bounded. */
async function upstreamClosedAt(context: BenchContext, runId: string): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const stats = await context.upstream.call<StreamStats | undefined>('stream', { runId });
    if (stats?.closedAtUs !== undefined) return stats.closedAtUs;
    await sleep(2);
  }
  throw new Error(`the upstream socket of ${runId} did not close within 5 s of its cancel`);
}

interface Figures {
  throughput: Throughput;
  reattachMemory: Timings;
  reattachRedis: Timings | undefined;
  cancelRedis: Timings | undefined;
  memoryPerStream: RedisMemory | undefined;
  reps: number;
}

const SKIPPED = 'skipped: redis-server not installed';

interface Relays {
  plain: Relay;
  memory: Relay;
  redisA: Relay | undefined;
}

function report(relays: Relays, figures: Figures): Section {
  const { throughput, reattachMemory, reattachRedis, cancelRedis, memoryPerStream, reps } = figures;
  const wrong = [reattachMemory, reattachRedis, cancelRedis].flatMap((timings) => timings?.wrong ?? []);
  return {
    title: 'Resume mode',
    setup:
      `The relay of the relay scenario, in its own process, without resume mode, in resume mode on the memory store, and ` +
      `on a Redis store (a local redis-server, persistence off; a second relay process on the same Redis is instance B). ` +
      `Throughput: ${JUDGED} reads ${int(throughput.events)} chunks through each, ${throughput.rates.get(relays.plain)!.length} ` +
      `repetitions interleaved. Re-attach: a client reads an endless generation (a chunk per millisecond) to event ` +
      `${DROP_AFTER} and drops its connection; ${MISSED_MS} ms later a new connection sends \`GET /v1/streams/{id}\` with ` +
      `\`Last-Event-ID: ${DROP_AFTER}\`: the time from sending it to the arrival of event ${DROP_AFTER + 1}. Cancel: a ` +
      `generation on instance A, its client reading, \`POST /v1/streams/{id}/cancel\` sent to instance B: the time from ` +
      `just before sending it to the moment the upstream saw its socket close (the clock both processes share). ` +
      `${reps} runs each after one warm-up run.`,
    tables: [
      throughputTable(relays, throughput),
      {
        head: ['measurement', 'runs', 'p50', 'p90', 'max'],
        rows: [
          latencyRow('re-attach → first missed frame (memory store, same process)', reattachMemory),
          latencyRow('re-attach on instance B → first missed frame (Redis store)', reattachRedis),
          latencyRow('cancel on instance B → upstream socket closed on A (Redis store)', cancelRedis),
        ],
      },
      ...(memoryPerStream ? [memoryTable(memoryPerStream)] : []),
    ],
    notes: [
      ...(memoryPerStream ? [] : ['redis-server not installed: the Redis figures were skipped (`apt-get install redis-server`).']),
      'Relay CPU is the relay process alone; in Redis mode Redis does part of the work in its own process. ' +
        'In resume mode the generation reads upstream at its own pace into the store and each client reads it back from the store; ' +
        'on Redis at most at the pace of the writes (two out at once; past 256 KiB waiting the relay stops reading upstream until one lands).',
      ...wrong.slice(0, 5).map((what) => `wrong run: ${what}`),
    ],
    checks: resumeChecks(relays, figures),
  };
}

function resumeChecks(relays: Relays, figures: Figures): Check[] {
  const { throughput, reattachMemory, reattachRedis, cancelRedis, memoryPerStream } = figures;
  const ratioCheck = (relay: Relay | undefined, store: string, target: number): Check => {
    const figure = `events/s in resume mode (${store} store) ÷ without`;
    if (!relay) return { scenario: SCENARIO, figure, measured: SKIPPED, target: `≥ ${target}`, verdict: 'info' };
    const measured = ratioTo(throughput, relay, relays.plain);
    return { scenario: SCENARIO, figure, measured: ratio(measured), target: `≥ ${target}`, ...judge(measured, target, 'higher') };
  };
  const p50Check = (timings: Timings | undefined, figure: string, target: number): Check => {
    if (!timings) return { scenario: SCENARIO, figure, measured: SKIPPED, target: `≤ ${target} ms`, verdict: 'info' };
    const p50 = percentile(sortedAscending(timings.ms), 50);
    return { scenario: SCENARIO, figure, measured: ms(p50), target: `≤ ${target} ms`, ...judge(p50, target, 'lower') };
  };
  const measured = [reattachMemory, reattachRedis, cancelRedis].flatMap((timings) => (timings ? [timings] : []));
  const wrong = measured.reduce((sum, timings) => sum + timings.wrong.length, 0);
  const runs = measured.reduce((sum, timings) => sum + timings.ms.length, 0);
  const streamBytes = memoryPerStream?.keys.reduce((sum, key) => sum + key.bytes, 0);
  return [
    ratioCheck(relays.memory, 'memory', TARGETS.memoryThroughput),
    ratioCheck(relays.redisA, 'Redis', TARGETS.redisThroughput),
    p50Check(reattachMemory, 're-attach → first missed frame delivered, p50 (memory store)', TARGETS.memoryReattachMs),
    p50Check(reattachRedis, 're-attach on another instance → first missed frame delivered, p50 (Redis store)', TARGETS.redisReattachMs),
    p50Check(cancelRedis, 'cancel on another instance → upstream socket closed, p50 (Redis store)', TARGETS.cancelMs),
    { scenario: SCENARIO, figure: 'runs with a wrong first frame or ending', measured: `${wrong} of ${runs}`, target: '0', verdict: wrong === 0 ? 'pass' : 'FAIL' },
    {
      scenario: SCENARIO,
      figure: `Redis memory per finished stream (${int(MEMORY_FRAMES)} frames)`,
      measured: streamBytes === undefined ? SKIPPED : `${bytes(streamBytes)} (${int(streamBytes / MEMORY_FRAMES)} B per frame)`,
      target: 'reference',
      verdict: 'info',
    },
  ];
}

/** Median events/s through `relay` ÷ through `baseline`. */
function ratioTo(throughput: Throughput, relay: Relay, baseline: Relay): number {
  const median = (each: Relay) => spread(throughput.rates.get(each)!).median;
  return median(relay) / median(baseline);
}

function throughputTable(relays: Relays, throughput: Throughput): Table {
  const all = [relays.plain, relays.memory, ...(relays.redisA ? [relays.redisA] : [])];
  return {
    head: ['relay', 'events/s median (min – max)', '÷ without resume mode', 'relay CPU per event'],
    rows: all.map((relay) => [
      relay.label,
      spreadText(spread(throughput.rates.get(relay)!), int),
      ratio(ratioTo(throughput, relay, relays.plain)),
      `${throughput.cpuPerEventUs.get(relay)!.toFixed(2)} µs`,
    ]),
  };
}

function latencyRow(label: string, timings: Timings | undefined): string[] {
  if (!timings) return [label, SKIPPED, '', '', ''];
  const sorted = sortedAscending(timings.ms);
  return [label, int(sorted.length), ms(percentile(sorted, 50)), ms(percentile(sorted, 90)), ms(sorted[sorted.length - 1])];
}

function memoryTable(memory: RedisMemory): Table {
  return {
    head: ['Redis key of a finished stream', 'MEMORY USAGE', 'TTL left'],
    rows: [
      ...memory.keys.map((key) => [`\`openai-rx:{id}:${key.kind}\``, bytes(key.bytes), `${(key.ttlMs / 1000).toFixed(0)} s`]),
      ['the answer as upstream sent it', bytes(memory.answerBytes), ''],
    ],
  };
}
