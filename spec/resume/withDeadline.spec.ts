import { withDeadline } from '../../src/resume/withDeadline';

// Virtual time (Jest's fake clock: setTimeout, setImmediate and Date.now), so that seconds of deadlines take none.
beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
afterEach(() => jest.useRealTimers());

/** Where a promise stands, read without waiting for it. */
function watch(promise: Promise<unknown>): { state(): 'pending' | 'resolved' | 'rejected'; error(): unknown } {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  let error: unknown;
  promise.then(
    () => (state = 'resolved'),
    (reason: unknown) => {
      state = 'rejected';
      error = reason;
    },
  );
  return { state: () => state, error: () => error };
}

/** Moves the clock on by `ms`, running what falls due and the promise callbacks they settle. */
async function advance(ms: number): Promise<void> {
  await jest.advanceTimersByTimeAsync(ms);
}

test('without a connection: rejects `ms` after the command was sent, naming what waited', async () => {
  const command = watch(withDeadline(new Promise(() => undefined), 5000, 'append'));
  await advance(4999);
  expect(command.state()).toBe('pending');
  // The verdict comes in the immediate after the timer, which the fake clock runs a millisecond on.
  await advance(2);
  expect(command.state()).toBe('rejected');
  expect(String(command.error())).toContain('Redis did not answer within 5000 ms (append)');
});

test('a command queued behind others on a connection that keeps answering waits its turn, past `ms`', async () => {
  const connection = { lastAnswerAt: Date.now() };
  let answer!: (value: string) => void;
  const command = watch(withDeadline(new Promise<string>((resolve) => (answer = resolve)), 5000, 'append', connection));
  // The commands ahead of it are answered, one every second, for twelve seconds.
  for (let second = 0; second < 12; second++) {
    await advance(1000);
    connection.lastAnswerAt = Date.now();
  }
  expect(command.state()).toBe('pending');
  answer('OK');
  await advance(0);
  expect(command.state()).toBe('resolved');
});

test('a connection that stops answering: rejects `ms` after its last answer', async () => {
  const connection = { lastAnswerAt: Date.now() };
  const command = watch(withDeadline(new Promise(() => undefined), 5000, 'append', connection));
  await advance(3000);
  connection.lastAnswerAt = Date.now();
  await advance(4999);
  expect(command.state()).toBe('pending');
  // The verdict comes in the immediate after the timer, which the fake clock runs a millisecond on.
  await advance(2);
  expect(command.state()).toBe('rejected');
});

test('a last answer older than the command counts from the command: `ms` after it was sent', async () => {
  const connection = { lastAnswerAt: Date.now() - 60_000 };
  const command = watch(withDeadline(new Promise(() => undefined), 5000, 'append', connection));
  await advance(4999);
  expect(command.state()).toBe('pending');
  // The verdict comes in the immediate after the timer, which the fake clock runs a millisecond on.
  await advance(2);
  expect(command.state()).toBe('rejected');
});

test('an answer read in the same turn as the deadline wins: the verdict waits for the replies already received', async () => {
  const command = watch(withDeadline(new Promise((resolve) => setTimeout(() => resolve('OK'), 5000)), 5000, 'append'));
  await advance(5000);
  expect(command.state()).toBe('resolved');
});
