import { of, type OperatorFunction } from 'rxjs';
import { accumulateChatCompletion } from '../../src/openai/accumulateChatCompletion';
import { accumulateCompletion } from '../../src/openai/accumulateCompletion';
import { accumulateResponse } from '../../src/openai/accumulateResponse';
import { arraysOf, GrowingArray, withArrays } from '../../src/openai/growingArray';
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
    },
  ],
];

/** Counts the array elements copied by `concat` and `slice` while `run` runs: the work of copying logprobs per chunk. */
function elementsCopied(run: () => void): number {
  const { concat, slice } = Array.prototype;
  let copied = 0;
  const spies = [
    jest.spyOn(Array.prototype, 'concat').mockImplementation(function (this: unknown[], ...items: unknown[]) {
      const result = concat.apply(this, items);
      copied += result.length;
      return result;
    }),
    jest.spyOn(Array.prototype, 'slice').mockImplementation(function (this: unknown[], start?: number, end?: number) {
      const result = slice.call(this, start, end);
      copied += result.length;
      return result;
    }),
  ];
  try {
    run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return copied;
}

describe.each(cases)('%s: logprobs', (_name, { value, operator, read, expected }) => {
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

  test('the work per chunk does not grow with the stream: no logprobs are copied until a snapshot is read', () => {
    const chunks = 2000;
    const values = range(chunks).map((i) => value(i) as never);
    let last: unknown;
    const copied = elementsCopied(() => {
      of(...values)
        .pipe(operator)
        .subscribe((snapshot) => (last = snapshot));
    });
    // Copying the logprobs so far on every chunk would be ~chunks²/2 = 2,000,000 elements.
    expect(copied).toBeLessThan(10 * chunks);
    expect(read(last)).toEqual(expected(chunks));
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

  test('a lazy array becomes a plain property when read, and can be assigned like one', () => {
    const view = arraysOf({ items: GrowingArray.from(['a']) });
    expect(Object.getOwnPropertyDescriptor(view, 'items')?.get).toBeDefined();
    const items = view.items;
    expect(view.items).toBe(items);
    expect(Object.getOwnPropertyDescriptor(view, 'items')).toEqual({ value: ['a'], writable: true, enumerable: true, configurable: true });
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
