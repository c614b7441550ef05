import { heartbeat } from '../../src/relay/heartbeat';

/* Fake timers drive the clock; the assertions are about what happens, not how long it takes. */

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

function setup(intervalMs: number) {
  const state = { lastWriteAt: 0, paused: false, beats: 0 };
  const stop = heartbeat({
    intervalMs,
    lastWriteAt: () => state.lastWriteAt,
    paused: () => state.paused,
    beat: () => {
      state.beats++;
      state.lastWriteAt = Date.now();
    },
    now: () => Date.now(),
  });
  state.lastWriteAt = Date.now();
  return { state, stop };
}

test('beats once per quiet interval', () => {
  const { state, stop } = setup(100);
  jest.advanceTimersByTime(350);
  expect(state.beats).toBe(3);
  stop();
});

test('a write postpones the next beat to a full interval after it', () => {
  const { state, stop } = setup(100);
  jest.advanceTimersByTime(90);
  state.lastWriteAt = Date.now();
  jest.advanceTimersByTime(90);
  expect(state.beats).toBe(0);
  jest.advanceTimersByTime(20);
  expect(state.beats).toBe(1);
  stop();
});

test('no beat while paused; none after stop; 0 turns it off', () => {
  const paused = setup(100);
  paused.state.paused = true;
  jest.advanceTimersByTime(500);
  expect(paused.state.beats).toBe(0);
  paused.stop();
  paused.state.paused = false;
  jest.advanceTimersByTime(500);
  expect(paused.state.beats).toBe(0);

  const off = setup(0);
  jest.advanceTimersByTime(500);
  expect(off.state.beats).toBe(0);
  expect(jest.getTimerCount()).toBe(0);
});
