import { performance } from 'node:perf_hooks';
import { createClient } from 'redis';
import { redisResumeStore } from '../src/resume/redisResumeStore.js';
import type { ResumeStore, StoreReader } from '../src/resume/types.js';
import { startRedisServer } from '../spec/helpers/redisServer.js';

/*
 * Figures of the Redis resume store against a local redis-server (started here, persistence off):
 * `node --import tsx bench/redisResumeStore.ts`. Needs `redis-server` on PATH. Not part of `npm run bench`.
 *
 * - memory: MEMORY USAGE of a finished stream's keys, 2,000 blocks of 100 bytes
 * - append: blocks per second one generation writes (the relay appends as upstream reads arrive: here 50 blocks
 *   per turn of the event loop), until finish() says everything is stored; alone, then with a reader on the
 *   owner's instance and one on another instance reading along
 * - cancel: cancel() on one instance → onCancel on the owner's (another store), p50 / p90 over 100 tries
 * - latency: append → a reader on the owner's instance / on another instance has it, p50 over 200 blocks
 */

const BLOCK = Buffer.alloc(100, 'x');
const id = (name: string, n: number) => `bench-${name}-${n}-${Math.random().toString(36).slice(2)}`;
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * p)];
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Reads to the end: how many blocks, and how it ended. */
async function drain(reader: StoreReader): Promise<string> {
  let entries = 0;
  for (;;) {
    const read = await reader.next();
    entries += read.entries.length;
    if (read.ending) return `${entries} (${read.ending === 'lost' ? 'lost' : read.ending.outcome})`;
  }
}

async function memory(store: ResumeStore, url: string): Promise<string> {
  const stream = id('memory', 0);
  const recording = await store.create(stream, { createdAt: Date.now(), user: 'user-1' });
  for (let n = 1; n <= 2000; n++) recording.append([{ event: n, bytes: BLOCK }]);
  await recording.finish({ outcome: 'completed' });
  recording.release();
  const admin = createClient({ url });
  await admin.connect();
  const keys = [`openai-rx:{${stream}}:frames`, `openai-rx:{${stream}}:meta`];
  const usage = await Promise.all(keys.map((key) => admin.memoryUsage(key, { SAMPLES: 0 })));
  await admin.close();
  const total = usage.reduce<number>((sum, bytes) => sum + Number(bytes), 0);
  return `memory: ${total} bytes for 2,000 × 100-byte blocks (frames ${usage[0]}, meta ${usage[1]}): ${(total / 2000).toFixed(1)} bytes per block`;
}

async function append(owner: ResumeStore, other: ResumeStore, withReaders: boolean): Promise<string> {
  // Below the 16 MiB a recording may have waiting: the producer here outruns any upstream.
  const count = 50_000;
  const stream = id('append', Number(withReaders));
  const recording = await owner.create(stream, { createdAt: Date.now() });
  let failure: Error | undefined;
  recording.onFailure((error) => (failure = error));
  const readers = withReaders ? [await owner.read(stream, 0), await other.read(stream, 0)].map((reader) => reader as StoreReader) : [];
  const reading = readers.map(drain);
  const started = performance.now();
  for (let n = 1; n <= count; n++) {
    recording.append([{ event: n, bytes: BLOCK }]);
    if (n % 50 === 0) await turn();
  }
  await recording.finish({ outcome: 'completed' });
  if (failure) throw failure;
  const stored = performance.now() - started;
  const read = await Promise.all(reading);
  const allRead = performance.now() - started;
  recording.release();
  for (const reader of readers) reader.close();
  const rate = (ms: number) => Math.round(count / (ms / 1000)).toLocaleString('en-US');
  return withReaders
    ? `append with 2 readers: ${rate(stored)} blocks/s stored, ${rate(allRead)} blocks/s to the readers' ends: the owner's instance's ${read[0]}, the other's ${read[1]}`
    : `append: ${rate(stored)} blocks/s stored (${count.toLocaleString('en-US')} × 100 bytes, one stream)`;
}

async function cancel(owner: ResumeStore, other: ResumeStore): Promise<string> {
  const times: number[] = [];
  for (let n = 0; n < 100; n++) {
    const stream = id('cancel', n);
    const recording = await owner.create(stream, { createdAt: Date.now() });
    const cancelled = new Promise<number>((resolve) => recording.onCancel(() => resolve(performance.now())));
    const started = performance.now();
    await other.cancel(stream);
    times.push((await cancelled) - started);
    await recording.finish({ outcome: 'cancelled' });
    recording.release();
  }
  return `cancel → onCancel on another instance: p50 ${percentile(times, 0.5).toFixed(2)} ms, p90 ${percentile(times, 0.9).toFixed(2)} ms`;
}

async function latency(owner: ResumeStore, other: ResumeStore): Promise<string> {
  const stream = id('latency', 0);
  const recording = await owner.create(stream, { createdAt: Date.now() });
  const readers = [(await owner.read(stream, 0)) as StoreReader, (await other.read(stream, 0)) as StoreReader];
  const times: number[][] = [[], []];
  for (let n = 1; n <= 200; n++) {
    const waiting = readers.map((reader) => reader.next());
    const started = performance.now();
    recording.append([{ event: n, bytes: BLOCK }]);
    await Promise.all(waiting.map(async (read, which) => (await read, times[which].push(performance.now() - started))));
  }
  await recording.finish({ outcome: 'completed' });
  recording.release();
  for (const reader of readers) reader.close();
  return `append → reader has it: p50 ${percentile(times[0], 0.5).toFixed(2)} ms on the owner's instance, ${percentile(times[1], 0.5).toFixed(2)} ms on another`;
}

const server = await startRedisServer();
const owner = redisResumeStore({ url: server.url });
const other = redisResumeStore({ url: server.url });
try {
  console.log(await memory(owner, server.url));
  console.log(await append(owner, other, false));
  console.log(await append(owner, other, true));
  console.log(await cancel(owner, other));
  console.log(await latency(owner, other));
} finally {
  await owner.close();
  await other.close();
  await server.stop();
}
