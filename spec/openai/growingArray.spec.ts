import { of, type OperatorFunction } from 'rxjs';
import { accumulateChatCompletion } from '../../src/openai/accumulateChatCompletion';
import { accumulateCompletion } from '../../src/openai/accumulateCompletion';
import { accumulateResponse } from '../../src/openai/accumulateResponse';
import { arraysOf, GrowingArray, IndexedArray, indexedArrayOf, withArrays } from '../../src/openai/growingArray';
import { entriesCopied, levelsFor } from './indexedArrayCost';
import { record } from '../helpers/streams';

const range = (count: number) => Array.from({ length: count }, (_, i) => i);
const tokenLogprob = (i: number) => ({ token: `t${i}`, logprob: -(i + 1), top_logprobs: [] });
const logprobOf = (i: number) => -(i + 1);

interface Case {
  /** The stream value that adds token `i` with its logprob. */
  value(i: number): unknown;
  operator: OperatorFunction<never, unknown>;
  /** The object holding the logprobs in a snapshot. */
  read(snapshot: any): object;
  /** What `read` gives after tokens 0..count-1, as plain JSON. */
  expected(count: number): unknown;
  /** The fields of what `read` gives that hold logprobs. */
  logprobKeys: string[];
}

const cases: Array<[string, Case]> = [
  [
    'accumulateChatCompletion',
    {
      value: (i) => ({
        choices: [{ index: 0, delta: { content: `t${i}` }, logprobs: { content: [tokenLogprob(i)], refusal: i === 1 ? [tokenLogprob(99)] : null } }],
      }),
      operator: accumulateChatCompletion(),
      read: (snapshot) => snapshot.choices[0].logprobs,
      expected: (count) => ({ content: range(count).map(tokenLogprob), refusal: count > 1 ? [tokenLogprob(99)] : null }),
      logprobKeys: ['content', 'refusal'],
    },
  ],
  [
    'accumulateCompletion',
    {
      value: (i) => ({
        choices: [{ index: 0, text: `t${i}`, logprobs: { tokens: [`t${i}`], token_logprobs: [logprobOf(i)], top_logprobs: [{ [`t${i}`]: logprobOf(i) }], text_offset: [i] } }],
      }),
      operator: accumulateCompletion(),
      read: (snapshot) => snapshot.choices[0].logprobs,
      expected: (count) => ({
        tokens: range(count).map((i) => `t${i}`),
        token_logprobs: range(count).map(logprobOf),
        top_logprobs: range(count).map((i) => ({ [`t${i}`]: logprobOf(i) })),
        text_offset: range(count),
      }),
      logprobKeys: ['tokens', 'token_logprobs', 'top_logprobs', 'text_offset'],
    },
  ],
  [
    'accumulateResponse',
    {
      value: (i) => ({ type: 'response.output_text.delta', output_index: 0, content_index: 0, delta: `t${i}`, logprobs: [tokenLogprob(i)] }),
      operator: accumulateResponse(),
      read: (snapshot) => snapshot.output[0].content[0],
      expected: (count) => ({
        type: 'output_text',
        text: range(count).map((i) => `t${i}`).join(''),
        annotations: [],
        logprobs: range(count).map(tokenLogprob),
      }),
      logprobKeys: ['logprobs'],
    },
  ],
];

/**
 * Counts the entries GrowingArray writes while `run` runs, by watching its two writers: `from` (a copy of its
 * items) and `concat` (the items appended, plus the entries copied when a version that is not the newest grows).
 * Counted inside the structure, a copy is seen however it is written; an accumulator that copied logprobs
 * itself instead shows in the snapshot, whose arrays would be plain values rather than versions read lazily.
 */
function entriesWritten(run: () => void): number {
  type Store = { store: unknown[]; length: number };
  const { from } = GrowingArray;
  const { concat } = GrowingArray.prototype;
  let written = 0;
  const spies = [
    jest.spyOn(GrowingArray, 'from').mockImplementation(<T>(items: readonly T[] = []) => {
      written += items.length;
      return from.call(GrowingArray, items) as GrowingArray<T>;
    }),
    jest.spyOn(GrowingArray.prototype, 'concat').mockImplementation(function (this: GrowingArray<unknown>, items: readonly unknown[]) {
      const result = concat.call(this, items);
      const before = this as unknown as Store;
      const after = result as unknown as Store;
      if (after.store !== before.store) written += before.length;
      if (result !== this) written += items.length;
      return result;
    }),
  ];
  try {
    run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return written;
}

/** The own properties of `value` that are still accessors: arrays a snapshot shows lazily, not yet copied out. */
const lazyKeys = (value: object) =>
  Object.entries(Object.getOwnPropertyDescriptors(value))
    .filter(([, descriptor]) => descriptor.get !== undefined)
    .map(([key]) => key);

describe.each(cases)('%s: logprobs', (_name, { value, operator, read, expected, logprobKeys }) => {
  test('each snapshot keeps its own when read after later chunks, frozen or not, as plain arrays (equality, JSON, spread)', () => {
    const recording = record(of(...range(5).map((i) => value(i) as never)).pipe(operator));
    expect(recording.completed).toBe(true);
    const snapshots = recording.values;
    Object.freeze(read(snapshots[2]));
    snapshots.forEach((snapshot, k) => {
      expect(read(snapshot)).toEqual(expected(k + 1));
      expect(JSON.parse(JSON.stringify(read(snapshot)))).toEqual(expected(k + 1));
      expect({ ...read(snapshot) }).toEqual(expected(k + 1));
    });
  });

  test('a snapshot read while the stream goes on shows what had arrived', () => {
    const seen: unknown[] = [];
    const source = of(...range(4).map((i) => value(i) as never)).pipe(operator);
    source.subscribe((snapshot) => seen.push(structuredClone(read(snapshot))));
    expect(seen).toEqual(range(4).map((k) => expected(k + 1)));
  });

  test('the work per chunk does not grow with the stream: each logprob is stored once, none is copied until a snapshot is read', () => {
    const chunks = 2000;
    const values = range(chunks).map((i) => value(i) as never);
    const snapshots: unknown[] = [];
    const written = entriesWritten(() => {
      of(...values)
        .pipe(operator)
        .subscribe((snapshot) => snapshots.push(snapshot));
    });
    // Each logprob went into the structure once; copying the logprobs so far on every chunk would be ~chunks²/2 per array.
    const final = expected(chunks) as Record<string, unknown[] | null>;
    const logprobs = logprobKeys.reduce((sum, key) => sum + (final[key]?.length ?? 0), 0);
    expect(logprobs).toBeGreaterThanOrEqual(chunks);
    expect(written).toBe(logprobs);
    // Every snapshot shows versions of the structure, copied out only when read: the accumulator made no copy of its own.
    for (const snapshot of [snapshots[1], snapshots[chunks / 2], snapshots.at(-1)]) {
      expect(lazyKeys(read(snapshot))).toEqual(expect.arrayContaining(logprobKeys));
    }
    expect(read(snapshots.at(-1))).toEqual(expected(chunks));
  });
});

describe('GrowingArray', () => {
  test('every version keeps its items when an older one grows again', () => {
    const first = GrowingArray.from([1]);
    const second = first.concat([2]);
    const branch = first.concat([3]);
    const third = second.concat([4]);
    expect(arraysOf({ first, second, branch, third, none: null })).toEqual({
      first: [1],
      second: [1, 2],
      branch: [1, 3],
      third: [1, 2, 4],
      none: null,
    });
  });

  test('from() copies, so the source array is never written to', () => {
    const source = [1];
    GrowingArray.from(source).concat([2]);
    expect(source).toEqual([1]);
  });

  test('a lazy array becomes a plain property when read (one copy, frozen or not), and can be assigned like one', () => {
    const view = arraysOf({ items: GrowingArray.from(['a']) });
    expect(Object.getOwnPropertyDescriptor(view, 'items')?.get).toBeDefined();
    const items = view.items;
    expect(view.items).toBe(items);
    expect(Object.getOwnPropertyDescriptor(view, 'items')).toEqual({ value: ['a'], writable: true, enumerable: true, configurable: true });
    const frozen = Object.freeze(arraysOf({ items: GrowingArray.from(['a']) }));
    expect(frozen.items).toEqual(['a']);
    expect(frozen.items).toBe(frozen.items);
    const other = arraysOf({ items: GrowingArray.from(['b']) });
    other.items = ['c'];
    expect(other).toEqual({ items: ['c'] });
  });

  test('withArrays copies the other fields without reading the old array', () => {
    const source = arraysOf({ items: GrowingArray.from([1]) }) as { items: number[]; label?: string };
    source.label = 'x';
    const copy = withArrays(source, { items: GrowingArray.from([1, 2]) });
    expect(Object.getOwnPropertyDescriptor(source, 'items')?.get).toBeDefined();
    expect(copy).toEqual({ label: 'x', items: [1, 2] });
  });
});

describe('IndexedArray', () => {
  /** What `array` shows now, read later (as a snapshot is). */
  function version<T>(array: IndexedArray<T>): { items: T[] } {
    const target = {} as { items: T[] };
    array.defineOn(target, 'items');
    return target;
  }

  test('a version keeps its entries when later changes replace them or add more, frozen or not', () => {
    const array = new IndexedArray<string>();
    array.update(0, () => 'a');
    array.update(1, () => 'b');
    const first = version(array);
    array.update(1, (entry) => `${entry}2`);
    array.update(2, () => 'c');
    const second = version(array);
    array.update(0, (entry) => `${entry}3`);
    array.update(0, (entry) => `${entry}!`);
    const third = version(array);
    Object.freeze(first);
    expect([first.items, second.items, third.items]).toEqual([['a', 'b'], ['a', 'b2', 'c'], ['a3!', 'b2', 'c']]);
    expect(JSON.parse(JSON.stringify(second))).toEqual({ items: ['a', 'b2', 'c'] });
    expect(array.length).toBe(3);
  });

  test('entries are dense and in index order, however sparse, huge or late their indexes', () => {
    const array = new IndexedArray<string>();
    for (const index of [4_000_000_000, 30_000_000, 5]) array.update(index, () => `at ${index}`);
    const before = version(array);
    array.update(0, () => 'at 0');
    array.update(30_000_000, (entry) => `${entry}!`);
    expect(version(array).items).toEqual(['at 0', 'at 5', 'at 30000000!', 'at 4000000000']);
    expect(before.items).toEqual(['at 5', 'at 30000000', 'at 4000000000']);
  });

  test('every version of a long random history reads as a plain copy taken at the time would', () => {
    // A deterministic generator (Park–Miller), so a failure replays; 3,000 entries make a tree three levels deep.
    let seed = 7;
    const random = (below: number) => (seed = (seed * 48_271) % 2_147_483_647) % below;
    const array = new IndexedArray<number>();
    const model = new Map<number, number>();
    const versions: Array<[{ items: number[] }, string]> = [];
    for (let step = 0; step < 8_000; step++) {
      const index = random(4) === 0 ? random(2 ** 31) : random(3_000);
      array.update(index, (entry) => (entry ?? 0) + step);
      model.set(index, (model.get(index) ?? 0) + step);
      if (random(40) === 0) versions.push([version(array), [...model].sort(([a], [b]) => a - b).map(([, value]) => value).join()]);
    }
    expect(versions.length).toBeGreaterThan(150);
    expect(array.length).toBeGreaterThan(32 ** 2);
    for (const [shown, expected] of versions) expect(shown.items.join()).toBe(expected);
  });

  test.each([1_000, 100_000])(
    'with %i entries a change copies at most 32 entries per tree level, not every entry',
    (count) => {
      const array = indexedArrayOf(Array.from({ length: count }, (_, i) => i));
      version(array);
      const copied = [count - 1, count >> 1, 0, count].map((index) => entriesCopied(() => {
        array.update(index, (entry) => (entry ?? 0) + 1);
        version(array);
      }));
      // Each change copies the nodes on its path once: ⌈log₃₂ n⌉ nodes of at most 32 entries.
      for (const entries of copied) expect(entries).toBeLessThanOrEqual(32 * levelsFor(count + 1));
      expect(levelsFor(count + 1)).toBeLessThanOrEqual(4);
    },
  );

  test('changes between two versions copy each node once', () => {
    const array = indexedArrayOf(Array.from({ length: 1_000 }, (_, i) => i));
    version(array);
    const copied = entriesCopied(() => {
      for (let i = 0; i < 100; i++) array.update(999, (entry) => (entry ?? 0) + 1);
    });
    expect(copied).toBeLessThanOrEqual(32 * 2);
  });
});
