// The stream timeouts of sseFrames in virtual time: each limit fires at its exact frame with its phase, and the
// scripted transport sees the request cancelled. No real time passes: `TestScheduler.run` puts asyncScheduler (the
// default of sseFrames and of scriptedTransport) in virtual time.
import { map, type Observable } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { APIError, StreamTimeoutError, type TimeoutPhase } from '../../src/errors';
import { eventStream, sseFrames } from '../../src/sse/sseFrames';
import { pausedBy } from '../../src/sse/pausedBy';
import type { SseFrame, StreamTimeouts } from '../../src/sse/types';
import { scriptedTransport, wait, type ScriptedResponse, type ScriptedTransport } from '../../src/testing';
import { marbleScheduler } from '../helpers/marbles';

const url = 'https://api.test/v1/chat/completions';
const comment = ': keep-alive\n\n';
/** A data event whose data is `name`: it shows as `name` in the marbles. */
const event = (name: string) => `data: ${name}\n\n`;
/** A comment shows as `c`, a data event as its data. */
const letters = (frames$: Observable<SseFrame>) => frames$.pipe(map((frame) => (frame.type === 'comment' ? 'c' : frame.data)));
const timedOut = (phase: TimeoutPhase, timeoutMs: number) => new StreamTimeoutError({ phase, timeoutMs });

let testScheduler: TestScheduler;
beforeEach(() => {
  testScheduler = marbleScheduler();
});

/** The scripted answer as letters, with `timeout`; the transport shows what became of the request. */
function scripted(response: ScriptedResponse, timeout: StreamTimeouts): { transport: ScriptedTransport; frames$: Observable<string> } {
  const transport = scriptedTransport(response);
  return { transport, frames$: letters(sseFrames({ transport, url, timeout })) };
}

const states = (transport: ScriptedTransport) => transport.requests.map((request) => request.state);

describe('headersMs', () => {
  test('fires headersMs after subscribe when no headers come, and cancels the request', () => {
    const { transport, frames$ } = scripted({ headersDelayMs: Infinity }, { headersMs: 100, firstEventMs: 1000, totalMs: 1000 });
    testScheduler.run(({ expectObservable }) => {
      expectObservable(frames$).toBe('100ms #', undefined, timedOut('headers', 100));
    });
    expect(states(transport)).toEqual(['cancelled']);
  });

  test('headers that come in time stop it', () => {
    const { transport, frames$ } = scripted({ headersDelayMs: 99, body: [event('a')], end: 'hang' }, { headersMs: 100 });
    testScheduler.run(({ expectObservable }) => {
      expectObservable(frames$, '^ 1000ms !').toBe('99ms a');
    });
    expect(states(transport)).toEqual(['cancelled']);
  });
});

describe('firstEventMs', () => {
  test('counts from the headers, and comments do not stop it', () => {
    const { transport, frames$ } = scripted(
      { headersDelayMs: 10, body: [comment, wait(30), comment], end: 'hang' },
      { headersMs: 50, firstEventMs: 100, idleMs: 20 },
    );
    testScheduler.run(({ expectObservable }) => {
      expectObservable(frames$).toBe('10ms c 29ms c 69ms #', undefined, timedOut('first-event', 100));
    });
    expect(states(transport)).toEqual(['cancelled']);
  });

  test('a data event in time stops it', () => {
    const { frames$ } = scripted({ headersDelayMs: 10, body: [wait(99), event('a')], end: 'hang' }, { firstEventMs: 100 });
    testScheduler.run(({ expectObservable }) => {
      expectObservable(frames$, '^ 1000ms !').toBe('109ms a');
    });
  });
});

describe('idleMs', () => {
  test('counts from the last data event, and comments do not reset it', () => {
    const { transport, frames$ } = scripted({ body: [event('a'), wait(60), comment, wait(30), comment], end: 'hang' }, { idleMs: 100 });
    testScheduler.run(({ expectObservable }) => {
      expectObservable(frames$).toBe('a 59ms c 29ms c 9ms #', undefined, timedOut('idle', 100));
    });
    expect(states(transport)).toEqual(['cancelled']);
  });

  test('each data event starts it again', () => {
    const { transport, frames$ } = scripted({ body: [event('a'), wait(90), event('b'), wait(90), event('c')], end: 'hang' }, { idleMs: 100 });
    testScheduler.run(({ expectObservable }) => {
      expectObservable(frames$).toBe('a 89ms b 89ms c 99ms #', undefined, timedOut('idle', 100));
    });
    expect(states(transport)).toEqual(['cancelled']);
  });

  test('starts at the first data event: the wait for it is firstEventMs’s', () => {
    const { frames$ } = scripted({ body: [comment, wait(500), event('a')], end: 'hang' }, { idleMs: 100 });
    testScheduler.run(({ expectObservable }) => {
      expectObservable(frames$).toBe('c 499ms a 99ms #', undefined, timedOut('idle', 100));
    });
  });

  describe('while the reader pauses the stream (the relay with a slow client)', () => {
    /** The answer as letters, read while `pause` (a marble of `t` for pause, `f` for resume) allows; call it inside `run`. */
    const readWhile = (pause: string, transport: ScriptedTransport) => {
      const pause$ = testScheduler.createColdObservable(pause, { t: true, f: false });
      return letters(eventStream({ transport, url, timeout: { idleMs: 100 } }, pausedBy(pause$)));
    };

    test('silence does not fire it, however long', () => {
      const transport = scriptedTransport({ body: [event('a')], end: 'hang' });
      testScheduler.run(({ expectObservable }) => {
        expectObservable(readWhile('10ms t', transport), '^ 5000ms !').toBe('a');
      });
    });

    test('it counts again from the resume', () => {
      const transport = scriptedTransport({ body: [event('a')], end: 'hang' });
      testScheduler.run(({ expectObservable }) => {
        expectObservable(readWhile('10ms t 299ms f', transport)).toBe('a 409ms #', undefined, timedOut('idle', 100));
      });
      expect(states(transport)).toEqual(['cancelled']);
    });

    test('what arrived meanwhile is delivered at the resume and counts as data', () => {
      const transport = scriptedTransport({ body: [event('a'), wait(50), event('b')], end: 'hang' });
      testScheduler.run(({ expectObservable }) => {
        expectObservable(readWhile('10ms t 299ms f', transport)).toBe('a 309ms b 99ms #', undefined, timedOut('idle', 100));
      });
    });
  });
});

describe('totalMs', () => {
  const flowing = [event('a'), wait(30), event('b'), wait(30), event('c'), wait(30), event('d'), wait(30), event('e')];

  test('counts from subscribe, across the headers and a stream that keeps flowing', () => {
    const { transport, frames$ } = scripted({ headersDelayMs: 20, body: flowing, end: 'hang' }, { headersMs: 50, idleMs: 50, totalMs: 100 });
    testScheduler.run(({ expectObservable }) => {
      expectObservable(frames$).toBe('20ms a 29ms b 29ms c 19ms #', undefined, timedOut('total', 100));
    });
    expect(states(transport)).toEqual(['cancelled']);
  });

  test('a stream that ends in time completes, and no limit fires after it', () => {
    const { transport, frames$ } = scripted({ body: [event('a'), wait(50), event('b')] }, { headersMs: 10, firstEventMs: 10, idleMs: 60, totalMs: 100 });
    testScheduler.run(({ expectObservable }) => {
      expectObservable(frames$).toBe('a 49ms (b|)');
      // Nothing left to run once the stream completed: no limit can fire.
      testScheduler.schedule(() => expect(testScheduler.actions).toHaveLength(0), 51);
    });
    expect(states(transport)).toEqual(['completed']);
  });
});

describe('error statuses in virtual time', () => {
  const rateLimited = '{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}';

  test('429 with a JSON body: the APIError comes once its body has arrived', () => {
    const { transport, frames$ } = scripted(
      {
        status: 429,
        headers: { 'retry-after-ms': '1500', 'x-request-id': 'req_1' },
        headersDelayMs: 20,
        body: [rateLimited.slice(0, 30), wait(30), rateLimited.slice(30)],
      },
      { headersMs: 100, idleMs: 100 },
    );
    const expected = new APIError({
      status: 429,
      message: '429 Rate limit reached',
      type: 'requests',
      code: 'rate_limit_exceeded',
      param: null,
      requestId: 'req_1',
      headers: { 'content-type': 'application/json', 'retry-after-ms': '1500', 'x-request-id': 'req_1' },
      body: JSON.parse(rateLimited),
      retryAfterMs: 1500,
    });
    testScheduler.run(({ expectObservable }) => {
      expectObservable(frames$).toBe('50ms #', undefined, expected);
    });
    expect(states(transport)).toEqual(['completed']);
  });

  test('an error body that stalls is cut at idleMs, and the APIError carries what arrived', () => {
    const { transport, frames$ } = scripted({ status: 503, headersDelayMs: 5, body: ['<html>Service Unavailable'], end: 'hang' }, { idleMs: 200 });
    testScheduler.run(({ expectObservable }) => {
      expectObservable(frames$).toBe(
        '205ms #',
        undefined,
        new APIError({
          status: 503,
          message: '503 Server Error: <html>Service Unavailable',
          headers: { 'content-type': 'application/json' },
          body: '<html>Service Unavailable',
        }),
      );
    });
    expect(states(transport)).toEqual(['cancelled']);
  });
});
