// watchIdle in virtual time: the one quiet-period watch behind sseFrames' idleMs, the relay's heartbeat and its
// JSON deadlines. Its default scheduler is asyncScheduler, which TestScheduler.run makes virtual.
import { Observable } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { watchIdle } from '../../src/sse/watchIdle';
import { marbleScheduler } from '../helpers/marbles';
import { trackedScheduler } from '../helpers/timers';

let testScheduler: TestScheduler;
beforeEach(() => {
  testScheduler = marbleScheduler();
});

/** Each idle call as `k`, while subscribed (unsubscribing stops the watch); each value of `touches$` touches it. */
const idleCalls = (idleMs: number, touches$: Observable<unknown>) =>
  new Observable<string>((subscriber) => {
    const watch = watchIdle(idleMs, () => subscriber.next('k'));
    const touching = touches$.subscribe(() => watch.touch());
    return () => {
      touching.unsubscribe();
      watch.stop();
    };
  });

test('calls onIdle after every idleMs of quiet', () => {
  testScheduler.run(({ cold, expectObservable }) => {
    expectObservable(idleCalls(100, cold('-')), '^ 350ms !').toBe('100ms k 99ms k 99ms k');
  });
});

test('a touch starts the quiet period again', () => {
  testScheduler.run(({ cold, expectObservable }) => {
    // Touched at 50 and 120: quiet from 120, so the first call is at 220, then every 100.
    expectObservable(idleCalls(100, cold('50ms t 69ms t')), '^ 400ms !').toBe('220ms k 99ms k');
  });
});

test('touches keep it from ever firing', () => {
  testScheduler.run(({ cold, expectObservable }) => {
    expectObservable(idleCalls(100, cold('t 98ms t 98ms t 98ms t 98ms t')), '^ 450ms !').toBe('');
  });
});

test('stop ends it: nothing stays scheduled, so it cannot fire again', () => {
  const calls: number[] = [];
  testScheduler.run(() => {
    const watch = watchIdle(100, () => calls.push(testScheduler.now()));
    testScheduler.schedule(() => watch.stop(), 250);
    // A watch that went on would re-arm forever: bound the run, and look at what is left.
    testScheduler.maxFrames = 10_000;
  });
  expect(calls).toEqual([100, 200]);
  expect(testScheduler.actions).toHaveLength(0);
});

test('stop from inside onIdle ends it too', () => {
  const calls: number[] = [];
  testScheduler.run(() => {
    const watch = watchIdle(100, () => {
      calls.push(testScheduler.now());
      watch.stop();
    });
    testScheduler.maxFrames = 10_000;
  });
  expect(calls).toEqual([100]);
  expect(testScheduler.actions).toHaveLength(0);
});

test('a touch costs no timer: one scheduled action per quiet period, however many touches', () => {
  const calls: number[] = [];
  const scheduler = trackedScheduler(testScheduler);
  testScheduler.run(() => {
    const watch = watchIdle(100, () => calls.push(testScheduler.now()), scheduler);
    for (let at = 0; at < 1000; at++) testScheduler.schedule(() => watch.touch(), at);
    testScheduler.schedule(() => watch.stop(), 1150);
  });
  // Quiet from 999: one call at 1099. Re-armed about once per 100 ms of touches, not once per touch.
  expect(calls).toEqual([1099]);
  expect(scheduler.started()).toBeLessThanOrEqual(1000 / 100 + 3);
  expect(scheduler.live()).toBe(0);
});
