import { of } from 'rxjs';
import type { LogEntry } from '../../src/relay/frameLog';
import { startGeneration, type GenerationEvents } from '../../src/relay/generation';
import { buildRelayRuntime } from '../../src/relay/relayRuntime';
import type { UpstreamRead } from '../../src/relay/upstreamBlocks';
import { sseBlockSplitter } from '../../src/sse/sseBlocks';
import type { SseFrame } from '../../src/sse/types';
import { chatData } from '../helpers/server';

const KEY = 'sk-generation-spec-key';
const decoder = new TextDecoder();

/** One network read of `text`, cut into blocks as the relay's upstream cuts it. */
function readOf(text: string): UpstreamRead {
  const { blocks, bytes, text: decoded } = sseBlockSplitter(1 << 20).feed(new TextEncoder().encode(text));
  return { blocks, bytes, text: decoded, finishedAt: -1, tail: false };
}

/** Runs a generation over `read` and returns what it appended to its log, entry by entry, and the frames it read. */
function generate(read: UpstreamRead, perBlock: boolean): { entries: LogEntry[]; frames: SseFrame[] } {
  const runtime = buildRelayRuntime({ apiKey: KEY, baseURL: 'http://127.0.0.1:1/v1', transport: () => Promise.reject(new Error('not sent')) });
  const relay = {
    ...runtime,
    streamUpstream: (_path: string, _body: unknown, head: Parameters<typeof runtime.streamUpstream>[2]) => {
      head({ status: 200, headers: { 'content-type': 'text/event-stream' }, requestId: undefined, streamId: undefined });
      return of(read);
    },
  };
  const entries: LogEntry[] = [];
  const frames: SseFrame[] = [];
  const events: GenerationEvents = {
    head: () => undefined,
    failedBeforeHead: (error) => {
      throw error;
    },
    failedUnexpectedly: (error) => {
      throw error;
    },
    frame: (frame) => frames.push(frame),
    counted: () => undefined,
    inspectsEveryFrame: true,
    perBlock,
  };
  startGeneration(relay, { path: '/chat/completions', body: {} }, { append: (appended) => entries.push(...appended), finish: () => undefined }, of(false), events);
  return { entries, frames };
}

const THREE_EVENTS = chatData('a') + chatData('b') + chatData('c');

test('every frame read (onFrame), a read is still one log entry: its own bytes, not copied', () => {
  const read = readOf(THREE_EVENTS);
  const { entries, frames } = generate(read, false);

  expect(entries).toHaveLength(1);
  expect(entries[0].bytes).toBe(read.bytes);
  expect(entries[0].events).toBe(3);
  expect(frames.map((frame) => frame.type === 'event' && JSON.parse(frame.data).choices[0].delta.content)).toEqual(['a', 'b', 'c']);
});

test('in resume mode each block is an entry of its own, its event numbered', () => {
  const read = readOf(THREE_EVENTS);
  const { entries } = generate(read, true);

  expect(entries.map((entry) => entry.events)).toEqual([1, 1, 1]);
  expect(entries.map((entry) => entry.bytes)).toEqual(read.blocks.map((block) => block.bytes));
});

test('a block whose error echoes the key is redacted in an entry of its own; the others go as they came', () => {
  const leaking = `data: ${JSON.stringify({ error: { message: `Incorrect API key provided: ${KEY}`, type: 'invalid_request_error' } })}\n\n`;
  const read = readOf(chatData('a') + leaking + chatData('c'));
  const { entries, frames } = generate(read, false);

  expect(entries).toHaveLength(3);
  expect(entries[0].bytes).toBe(read.blocks[0].bytes);
  expect(entries[2].bytes).toBe(read.blocks[2].bytes);
  expect(decoder.decode(entries[1].bytes)).toContain('Incorrect API key provided: [redacted]');
  expect(entries.map((entry) => decoder.decode(entry.bytes)).join('')).not.toContain(KEY);
  expect(JSON.stringify(frames)).not.toContain(KEY);
});
