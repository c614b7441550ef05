import { BehaviorSubject, lastValueFrom, toArray } from 'rxjs';
import { StreamTimeoutError } from '../../src/errors';
import { eventStream, sseFrames } from '../../src/sse/sseFrames';
import { pausedBy } from '../../src/sse/pausedBy';
import { chatData, sseHead, startServer, type TestServer } from '../helpers/server';
import { SSE_FIXTURES } from '../helpers/sseFixtures';
import { TRANSPORTS, chunkRecordingTransport, record } from '../helpers/streams';
import { VirtualClock } from '../helpers/virtualClock';
import { STACK_TRANSPORTS, watchedStack, type WatchedStack } from '../helpers/watchedStack';

/** Split points that cut a multi-byte character or a CRLF pair where the fixture has one, else its middle. */
function awkwardSplit(bytes: Uint8Array): number {
  const crlf = bytes.findIndex((byte, i) => byte === 13 && bytes[i + 1] === 10);
  if (crlf > 0) return crlf + 1;
  const multiByte = bytes.findIndex((byte) => byte >= 0xc0);
  if (multiByte > 0) return multiByte + 1;
  return bytes.length >> 1;
}

describe.each(TRANSPORTS)('sseFrames over %s: framing through a real server', (_name, transport) => {
  let server: TestServer;
  afterEach(() => server?.close());

  test.each(SSE_FIXTURES)('$name, written in two writes at an awkward split', async ({ text, frames }) => {
    const bytes = Buffer.from(text);
    const split = awkwardSplit(bytes);
    const spy = chunkRecordingTransport(transport);
    server = await startServer(async (_req, res) => {
      sseHead(res);
      res.write(bytes.subarray(0, split));
      // The second half goes out only once the first reached the client, so they arrive in separate reads.
      await spy.chunks.reaches(1, 'the first half at the client');
      res.end(bytes.subarray(split));
    });
    const received = await lastValueFrom(sseFrames({ transport: spy.transport, url: server.url }).pipe(toArray()));
    expect(received).toEqual(frames);
    expect(spy.chunks[0]).toBe(split);
  });
});

describe('sseFrames: pause$, on a stack that tells when it handed the body on', () => {
  let server: TestServer;
  let stack: WatchedStack;
  beforeEach(() => {
    stack = watchedStack();
  });
  afterEach(async () => {
    await server?.close();
    await stack.close();
  });

  test.each(STACK_TRANSPORTS)('over %s: while paused no more reads are delivered and the idle timeout waits; resuming continues', async (name) => {
    const first = chatData('first');
    const second = chatData('second');
    let write: (text: string) => void = () => undefined;
    server = await startServer((_req, res) => {
      sseHead(res);
      write = (text) => res.write(text);
      res.write(first);
    });
    const clock = new VirtualClock();
    const pause$ = new BehaviorSubject(false);
    const recording = record(eventStream({ transport: stack.transports[name], url: server.url, timeout: { idleMs: 150 }, scheduler: clock }, pausedBy(pause$)));
    await recording.until(() => recording.values.length === 1, 'the first frame');
    pause$.next(true);
    write(second);
    // The HTTP stack handed the second frame on: a reader that was not paused would have delivered it.
    await stack.received(Buffer.byteLength(first + second));
    // Well past the idle limit, paused: nothing is read and nothing times out.
    clock.advanceBy(400);
    expect(recording.values).toHaveLength(1);
    expect(recording.errored).toBe(false);
    pause$.next(false);
    await recording.until(() => recording.values.length === 2, 'the second frame after resuming');
    // Resumed and quiet again: the idle timeout counts from the resume and fires once more.
    clock.advanceBy(149);
    expect(recording.errored).toBe(false);
    clock.advanceBy(1);
    expect(recording.error).toBeInstanceOf(StreamTimeoutError);
    expect(pause$.observed).toBe(false);
  });
});
