import {
  Subject,
  animationFrameScheduler,
  asyncScheduler,
  lastValueFrom,
  mergeMap,
  take,
  timer,
  toArray,
  type SchedulerAction,
  type SchedulerLike,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { contentDeltas, createClient, paceText } from '../../src/index.node';
import { startMockUpstream } from '../../src/testing/index.node';

let testScheduler: TestScheduler;
beforeEach(() => {
  testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
});

describe('paceText', () => {
  test('sends the first delta at once and joins the ones within each interval, in order', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const deltas$ = cold('a-b-c---------d|', { a: 'Hel', b: 'lo', c: ', ', d: 'world' });
      expectObservable(deltas$.pipe(paceText({ intervalMs: 10 }))).toBe('a 9ms b 4ms (c|)', { a: 'Hel', b: 'lo, ', c: 'world' });
    });
  });

  test('after a quiet interval the next delta goes out at once again', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const deltas$ = cold('a 20ms b|', { a: 'one', b: 'two' });
      expectObservable(deltas$.pipe(paceText({ intervalMs: 10 }))).toBe('a 20ms b|', { a: 'one', b: 'two' });
    });
  });

  test('emits at most once per interval however fast the deltas come', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const deltas$ = cold('abcdefghij|');
      expectObservable(deltas$.pipe(paceText({ intervalMs: 4 }))).toBe('a 3ms b 3ms c-(d|)', { a: 'a', b: 'bcde', c: 'fghi', d: 'j' });
    });
  });

  test('flushes the waiting text before an error', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const error = new Error('cut');
      const deltas$ = cold('a-b-#', { a: 'Hel', b: 'lo' }, error);
      expectObservable(deltas$.pipe(paceText({ intervalMs: 10 }))).toBe('a 3ms (b#)', { a: 'Hel', b: 'lo' }, error);
    });
  });

  test('drops empty deltas and emits nothing for them', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const deltas$ = cold('a-b 20ms c|', { a: '', b: 'x', c: '' });
      expectObservable(deltas$.pipe(paceText({ intervalMs: 10 }))).toBe('--a 20ms -|', { a: 'x' });
    });
  });

  test('unsubscribing cancels the interval: the waiting text is never emitted', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const deltas$ = cold('a-b-----------c|', { a: 'one', b: 'two', c: 'three' });
      expectObservable(deltas$.pipe(paceText({ intervalMs: 10 })), '^--!').toBe('a', { a: 'one' });
      expectSubscriptions(deltas$.subscriptions).toBe('^--!');
    });
  });

  test('a subscriber that leaves during an emission leaves no timer behind', () => {
    jest.useFakeTimers();
    try {
      const deltas = new Subject<string>();
      const received: string[] = [];
      let completed = false;
      deltas.pipe(paceText({ intervalMs: 5000 }), take(1)).subscribe({ next: (text) => received.push(text), complete: () => (completed = true) });
      deltas.next('a');
      expect(received).toEqual(['a']);
      expect(completed).toBe(true);
      expect(deltas.observed).toBe(false);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  test('a delta sent from inside an emission (a feedback loop) waits for the next interval like any other', () => {
    testScheduler.run(({ flush }) => {
      const deltas = new Subject<string>();
      const emitted: Array<[number, string]> = [];
      const subscription = deltas.pipe(paceText({ intervalMs: 10 })).subscribe((text) => {
        emitted.push([testScheduler.now(), text]);
        if (text === 'b') deltas.next('echo');
      });
      deltas.next('a');
      deltas.next('b');
      flush();
      expect(emitted).toEqual([
        [0, 'a'],
        [10, 'b'],
        [20, 'echo'],
      ]);
      subscription.unsubscribe();
    });
  });

  test('with animationFrameScheduler and intervalMs 0: at most once per animation frame', () => {
    testScheduler.run(({ animate, cold, expectObservable }) => {
      animate('---x---x---x');
      const deltas$ = cold('a-b-c-d-e|', { a: 'A', b: 'B', c: 'C', d: 'D', e: 'E' });
      const paced$ = deltas$.pipe(paceText({ scheduler: animationFrameScheduler, intervalMs: 0 }));
      expectObservable(paced$).toBe('a--b---c-(d|)', { a: 'A', b: 'B', c: 'CD', d: 'E' });
    });
  });

  test('work per delta is constant: one scheduled action per emission, however many deltas an interval joins', () => {
    testScheduler.run(() => {
      let scheduled = 0;
      const counting: SchedulerLike = {
        now: () => testScheduler.now(),
        schedule(work: (this: SchedulerAction<unknown>, state?: unknown) => void, delay?: number, state?: unknown) {
          scheduled++;
          return asyncScheduler.schedule(work, delay, state);
        },
      };
      const batches: string[] = [];
      // 10,000 deltas, 10 per millisecond for a second: 20 intervals of 50 ms.
      timer(0, 1)
        .pipe(
          take(1000),
          mergeMap(() => Array.from({ length: 10 }, () => 'x')),
          paceText({ intervalMs: 50, scheduler: counting }),
        )
        .subscribe((text) => batches.push(text));
      testScheduler.flush();
      expect(batches.join('')).toBe('x'.repeat(10_000));
      expect(batches.length).toBeLessThanOrEqual(1000 / 50 + 2);
      expect(scheduled).toBeLessThanOrEqual(batches.length);
    });
  });

  test('on a real stream: the batches join to exactly the answer', async () => {
    const upstream = await startMockUpstream({ tokenDelayMs: 0 });
    try {
      const client = createClient({ baseURL: upstream.baseURL, apiKey: 'sk-test' });
      const params = { model: 'm', messages: [{ role: 'user' as const, content: 'pace me [[mock:tokens=300]]' }] };
      const deltas = await lastValueFrom(client.chat.completions.stream(params).pipe(contentDeltas(), toArray()));
      const batches = await lastValueFrom(client.chat.completions.stream(params).pipe(contentDeltas(), paceText({ intervalMs: 20 }), toArray()));
      expect(batches.join('')).toBe(deltas.join(''));
      expect(deltas).toHaveLength(300);
      // 300 deltas sent back to back cannot all be 20 ms apart: some were joined.
      expect(batches.length).toBeLessThan(deltas.length);
    } finally {
      await upstream.close();
    }
  });
});
