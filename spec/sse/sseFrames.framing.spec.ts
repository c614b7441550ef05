import { BehaviorSubject, lastValueFrom, toArray } from 'rxjs';
import { StreamTimeoutError } from '../../src/errors';
import { eventStream, sseFrames } from '../../src/sse/sseFrames';
import { chatData, sseHead, startServer, type TestServer } from '../helpers/server';
import { SSE_FIXTURES } from '../helpers/sseFixtures';
import { TRANSPORTS, chunkRecordingTransport, record, settle, waitUntil } from '../helpers/streams';

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
    server = await startServer((_req, res) => {
      sseHead(res);
      res.write(bytes.subarray(0, split));
      // The second half goes out only after the first reached the client, so they arrive in separate reads.
      setTimeout(() => res.end(bytes.subarray(split)), 30);
    });
    const spy = chunkRecordingTransport(transport);
    const received = await lastValueFrom(sseFrames({ transport: spy.transport, url: server.url }).pipe(toArray()));
    expect(received).toEqual(frames);
    expect(spy.chunks[0]).toBe(split);
  });
});

describe.each(TRANSPORTS)('sseFrames over %s: pause$', (_name, transport) => {
  let server: TestServer;
  afterEach(() => server?.close());

  test('while paused no more reads are delivered and the idle timeout waits; resuming continues', async () => {
    let write: (text: string) => void = () => undefined;
    server = await startServer((_req, res) => {
      sseHead(res);
      write = (text) => res.write(text);
      res.write(chatData('first'));
    });
    const pause$ = new BehaviorSubject(false);
    const recording = record(eventStream({ transport, url: server.url, timeout: { idleMs: 150 } }, { pause$ }));
    await waitUntil(() => recording.values.length === 1, 'the first frame');
    pause$.next(true);
    await settle();
    write(chatData('second'));
    // Well past the idle limit, paused: nothing is read and nothing times out.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(recording.values).toHaveLength(1);
    expect(recording.errored).toBe(false);
    pause$.next(false);
    await waitUntil(() => recording.values.length === 2, 'the second frame after resuming');
    // Resumed and quiet again: the idle timeout fires once more.
    await recording.done;
    expect(recording.error).toBeInstanceOf(StreamTimeoutError);
    expect(pause$.observed).toBe(false);
  });
});
