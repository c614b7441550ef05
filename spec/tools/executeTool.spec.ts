import { EMPTY, firstValueFrom, NEVER, Observable, of, throwError } from 'rxjs';
import { executeTool } from '../../src/tools/executeTool';

const call = { id: 'call_1', name: 'tool', arguments: '{}' };

describe('executeTool', () => {
  test('a value, a Promise and an Observable (its last value) each give one result', async () => {
    expect(await firstValueFrom(executeTool(() => 'value', {}, call))).toBe('value');
    expect(await firstValueFrom(executeTool(async () => 'promised', {}, call))).toBe('promised');
    expect(await firstValueFrom(executeTool(() => of('draft', 'final'), {}, call))).toBe('final');
    expect(await firstValueFrom(executeTool(() => EMPTY, {}, call))).toBeUndefined();
  });

  test('runs only when subscribed, with the arguments, the call and a signal', async () => {
    const seen: unknown[] = [];
    const result$ = executeTool((args: { city: string }, context) => seen.push(args, context.call, context.signal.aborted), { city: 'Oslo' }, call);
    expect(seen).toEqual([]);
    await firstValueFrom(result$);
    expect(seen).toEqual([{ city: 'Oslo' }, call, false]);
  });

  test('a throw, a rejection and an Observable error are the error', async () => {
    const boom = new Error('boom');
    const fail = (execute: () => unknown) => firstValueFrom(executeTool(execute, {}, call));
    await expect(
      fail(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    await expect(fail(() => Promise.reject(boom))).rejects.toBe(boom);
    await expect(fail(() => throwError(() => boom))).rejects.toBe(boom);
  });

  test('unsubscribing before the result aborts the signal and unsubscribes an Observable; after it, the signal stays', async () => {
    let pending: AbortSignal | undefined;
    let tornDown = false;
    const subscription = executeTool(
      (_args, { signal }) => {
        pending = signal;
        return new Observable(() => () => (tornDown = true));
      },
      {},
      call,
    ).subscribe();
    expect([pending?.aborted, tornDown]).toEqual([false, false]);
    subscription.unsubscribe();
    expect([pending?.aborted, tornDown]).toEqual([true, true]);

    let finished: AbortSignal | undefined;
    await firstValueFrom(executeTool((_args, { signal }) => ((finished = signal), 'done'), {}, call));
    expect(finished?.aborted).toBe(false);
    expect(executeTool(() => NEVER, {}, call).subscribe().closed).toBe(false);
  });
});
