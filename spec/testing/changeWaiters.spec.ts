import { changeWaiters } from '../../src/testing/changeWaiters';

describe('changeWaiters', () => {
  test('a wait ends at the change that makes its condition hold, and the condition is not checked after', async () => {
    const changes = changeWaiters();
    let value = 0;
    let checks = 0;
    const reached = changes.until(() => (checks++, value === 2), 1000, () => new Error('not reached'));
    value = 1;
    changes.changed();
    value = 2;
    changes.changed();
    changes.changed();
    await reached;
    expect(checks).toBe(3);
  });

  test('a condition that throws rejects its wait with what it threw, not the code that reported the change', async () => {
    const changes = changeWaiters();
    const thrown = new Error('the response ended first');
    let ended = false;
    const wait = changes.until(
      () => {
        if (ended) throw thrown;
        return false;
      },
      1000,
      () => new Error('timed out'),
    );
    ended = true;
    expect(() => changes.changed()).not.toThrow();
    await expect(wait).rejects.toBe(thrown);
  });

  test('a condition that never holds rejects with the timeout error after timeoutMs', async () => {
    jest.useFakeTimers();
    try {
      const changes = changeWaiters();
      const wait = changes.until(() => false, 500, () => new Error('never'));
      jest.advanceTimersByTime(499);
      changes.changed();
      jest.advanceTimersByTime(1);
      await expect(wait).rejects.toThrow('never');
    } finally {
      jest.useRealTimers();
    }
  });
});
