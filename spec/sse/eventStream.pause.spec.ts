import { Subject, tap } from 'rxjs';
import { OpenAIRxError } from '../../src/errors';
import { eventStream } from '../../src/sse/sseFrames';
import { pausedBy } from '../../src/sse/pausedBy';
import { chatData, sseHead, startServer, type TestServer } from '../helpers/server';
import { TRANSPORTS, record } from '../helpers/streams';

describe.each(TRANSPORTS)('eventStream over %s: the pause signal', (_name, transport) => {
  let server: TestServer;
  afterEach(() => server?.close());

  test('an erroring pause$ ends the stream with a typed error, closes the socket and crashes nothing', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      server = await startServer((_req, res) => {
        sseHead(res);
        res.write(chatData('a'));
      });
      const pause$ = new Subject<boolean>();
      let firstFrame!: () => void;
      const framed = new Promise<void>((resolve) => (firstFrame = resolve));
      const recording = record(eventStream({ transport, url: server.url }, pausedBy(pause$)).pipe(tap(() => firstFrame())));
      // The pause signal is watched once the body is read.
      await framed;
      const broken = new Error('pause source failed');
      pause$.error(broken);
      await recording.done;
      expect(recording.error).toBeInstanceOf(OpenAIRxError);
      expect((recording.error as OpenAIRxError).message).toBe('The pause signal of the stream failed');
      expect((recording.error as OpenAIRxError).cause).toBe(broken);
      await server.waitForClosedSockets(1);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
