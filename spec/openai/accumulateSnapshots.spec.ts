import { of, Subject, type OperatorFunction } from 'rxjs';
import { accumulateChatCompletion } from '../../src/openai/accumulateChatCompletion';
import { accumulateCompletion } from '../../src/openai/accumulateCompletion';
import { accumulateResponse } from '../../src/openai/accumulateResponse';
import { EAGER_ENTRIES } from '../../src/openai/growingArray';
import { levelsFor, placementWork, type PlacementWork } from './indexedArrayCost';

/*
 * What every accumulator does with entries placed by a provider's index (chat
 * tool calls, chat and legacy choices, Responses output items and content
 * parts): each chunk costs what it brought, however many entries came before.
 * The work is counted (placements and entries copied, see ./indexedArrayCost),
 * not timed: a regression fails here, however busy the machine.
 */

const range = (count: number) => Array.from({ length: count }, (_, i) => i);
const toolCall = (index: number) => ({ index, id: `call_${index}`, type: 'function', function: { name: 'f', arguments: '{}' } });
const textPart = (text: string) => ({ type: 'output_text', text, annotations: [] });
const created = (output: unknown[] = []) => ({
  type: 'response.created',
  response: { id: 'resp_1', object: 'response', created_at: 1, status: 'in_progress', model: 'm', output },
});

interface Case {
  operator: () => OperatorFunction<never, any>;
  /** Values that bring entries at indexes 0..count-1 together. */
  many(count: number): unknown[];
  /** Values that change the entry at `index` and add one at `added`. */
  step(index: number, added: number): unknown[];
  /** Values that bring entries at `indexes`, one value each, then change each. */
  oneByOne(indexes: readonly number[]): unknown[];
  /** The object holding the entries in a snapshot, and their key. */
  at(snapshot: any): [object, string];
  /** An entry as it reads in the snapshot after `oneByOne` brought and changed it (`changed`) or only brought it. */
  entry(index: number, changed: boolean): unknown;
}

const cases: Array<[string, Case]> = [
  [
    'accumulateChatCompletion: tool calls',
    {
      operator: accumulateChatCompletion,
      many: (count) => [{ choices: [{ index: 0, delta: { tool_calls: range(count).map(toolCall) } }] }],
      step: (index, added) => [{ choices: [{ index: 0, delta: { tool_calls: [{ index, function: { arguments: ' ' } }, toolCall(added)] } }] }],
      oneByOne: (indexes) =>
        [...indexes.map(toolCall), ...indexes.map((index) => ({ index, function: { arguments: '!' } }))].map((call) => ({
          choices: [{ index: 0, delta: { tool_calls: [call] } }],
        })),
      at: (snapshot) => [snapshot.choices[0].message, 'tool_calls'],
      entry: (index, changed) => ({ id: `call_${index}`, type: 'function', function: { name: 'f', arguments: changed ? '{}!' : '{}' } }),
    },
  ],
  [
    'accumulateChatCompletion: choices',
    {
      operator: accumulateChatCompletion,
      many: (count) => [{ choices: range(count).map((index) => ({ index, delta: { content: 'a' } })) }],
      step: (index, added) => [{ choices: [{ index, delta: { content: 'b' } }, { index: added, delta: { content: 'a' } }] }],
      oneByOne: (indexes) => [
        ...indexes.map((index) => ({ choices: [{ index, delta: { content: 'a' } }] })),
        ...indexes.map((index) => ({ choices: [{ index, delta: {}, finish_reason: 'stop' }] })),
      ],
      at: (snapshot) => [snapshot, 'choices'],
      entry: (index, changed) => ({
        index,
        message: { role: 'assistant', content: 'a', refusal: null },
        finish_reason: changed ? 'stop' : null,
        logprobs: null,
      }),
    },
  ],
  [
    'accumulateCompletion: choices',
    {
      operator: accumulateCompletion,
      many: (count) => [{ choices: range(count).map((index) => ({ index, text: 'a' })) }],
      step: (index, added) => [{ choices: [{ index, text: 'b' }, { index: added, text: 'a' }] }],
      oneByOne: (indexes) => [
        ...indexes.map((index) => ({ choices: [{ index, text: 'a' }] })),
        ...indexes.map((index) => ({ choices: [{ index, text: '!' }] })),
      ],
      at: (snapshot) => [snapshot, 'choices'],
      entry: (index, changed) => ({ index, text: changed ? 'a!' : 'a', finish_reason: null, logprobs: null }),
    },
  ],
  [
    'accumulateResponse: output items',
    {
      operator: accumulateResponse,
      many: (count) => [created(range(count).map(() => ({ type: 'function_call', arguments: '' })))],
      step: (index, added) => [
        { type: 'response.function_call_arguments.delta', output_index: index, delta: ' ' },
        { type: 'response.output_item.added', output_index: added, item: { type: 'function_call', arguments: '' } },
      ],
      oneByOne: (indexes) => [
        created(),
        ...indexes.map((index) => ({ type: 'response.output_item.added', output_index: index, item: { type: 'function_call', arguments: '' } })),
        ...indexes.map((index) => ({ type: 'response.function_call_arguments.delta', output_index: index, delta: '!' })),
      ],
      at: (snapshot) => [snapshot, 'output'],
      entry: (_index, changed) => ({ type: 'function_call', arguments: changed ? '!' : '' }),
    },
  ],
  [
    'accumulateResponse: content parts',
    {
      operator: accumulateResponse,
      many: (count) => [
        created(),
        { type: 'response.output_item.added', output_index: 0, item: { type: 'message', content: range(count).map(() => textPart('')) } },
      ],
      step: (index, added) => [
        { type: 'response.output_text.delta', output_index: 0, content_index: index, delta: ' ' },
        { type: 'response.content_part.added', output_index: 0, content_index: added, part: textPart('') },
      ],
      oneByOne: (indexes) => [
        created(),
        ...indexes.map((index) => ({ type: 'response.content_part.added', output_index: 0, content_index: index, part: textPart('') })),
        ...indexes.map((index) => ({ type: 'response.output_text.delta', output_index: 0, content_index: index, delta: '!' })),
      ],
      at: (snapshot) => [snapshot.output[0], 'content'],
      entry: (_index, changed) => textPart(changed ? '!' : ''),
    },
  ],
];

/** Every snapshot of `values` through a fresh accumulator, in a synchronous run. */
function snapshotsOf(operator: OperatorFunction<never, any>, values: unknown[]): any[] {
  const snapshots: any[] = [];
  of(...(values as never[]))
    .pipe(operator)
    .subscribe((snapshot) => snapshots.push(snapshot));
  return snapshots;
}

describe.each(cases)('%s', (_name, { operator, many, step, oneByOne, at, entry }) => {
  test('sparse, huge and late indexes: every snapshot dense and in index order, unchanged by later values', () => {
    const indexes = [30_000_000, 5, 4_000_000_000, 0, 6];
    const copies: unknown[] = [];
    const snapshots: any[] = [];
    of(...(oneByOne(indexes) as never[]))
      .pipe(operator())
      .subscribe((snapshot) => {
        copies.push(structuredClone(snapshot));
        snapshots.push(snapshot);
      });
    expect(snapshots).toEqual(copies);
    const sorted = [...indexes].sort((a, b) => a - b);
    const [holder, key] = at(snapshots.at(-1));
    expect((holder as Record<string, unknown>)[key]).toEqual(sorted.map((index) => entry(index, true)));
    const [broughtHolder] = at(snapshots.at(-1 - indexes.length));
    expect((broughtHolder as Record<string, unknown>)[key]).toEqual(sorted.map((index) => entry(index, false)));
  });

  /** The most work of one value that changes an entry and adds one, after `count` entries. */
  function workPerValue(count: number): PlacementWork {
    const values = new Subject<never>();
    const snapshots: any[] = [];
    values.pipe(operator()).subscribe((snapshot) => snapshots.push(snapshot));
    for (const value of many(count)) values.next(value as never);
    const steps = 20;
    const stepAt = (i: number) => {
      for (const value of step(Math.max(count - 1 - i, 0), count + i)) values.next(value as never);
    };
    // (The first part event of a Responses item places the parts the item brought: once, not per value.)
    stepAt(0);
    const work = range(steps).map((i) => placementWork(() => stepAt(i + 1)));
    const [holder, key] = at(snapshots.at(-1));
    expect((holder as Record<string, unknown[]>)[key]).toHaveLength(count + steps + 1);
    return { placements: Math.max(...work.map((w) => w.placements)), copied: Math.max(...work.map((w) => w.copied)) };
  }

  test('a value that changes an entry and adds one places two entries and copies a bounded number, with 1 entry or 100,000', () => {
    // 1 and 11 entries (growing to 21 and 31) are shown as plain arrays, 1,000 and 100,000 as shared versions.
    const work = [1, 11, 1_000, 100_000].map(workPerValue);
    // Each change is a placement; an item of a Responses message is placed again when one of its parts changes.
    for (const { placements } of work) expect(placements).toBeLessThanOrEqual(4);
    expect(new Set(work.map(({ placements }) => placements)).size).toBe(1);
    // A version of a few entries is copied whole when shown (at most EAGER_ENTRIES, then the tree's
    // root), more are shared: each change copies the nodes on its path, ⌈log₃₂ n⌉ of at most 32 entries,
    // plus the one entry of an enclosing array. Copying every entry would be 100,000.
    for (const { copied } of work) expect(copied).toBeLessThanOrEqual(2 * 32 * levelsFor(100_000) + EAGER_ENTRIES);
  });

  test('40,000 values each adding an entry: each places it and copies a bounded number of entries, not those before it', () => {
    const values = oneByOne(range(40_000)).slice(0, -40_000);
    let snapshots: any[] = [];
    const work = placementWork(() => (snapshots = snapshotsOf(operator(), values)));
    const [holder, key] = at(snapshots.at(-1));
    expect((holder as Record<string, unknown[]>)[key]).toHaveLength(40_000);
    // A new array per snapshot would copy 800 million entries; here each value copies the nodes on one path.
    expect(work.placements).toBeLessThanOrEqual(2 * values.length);
    expect(work.copied).toBeLessThanOrEqual(values.length * 32 * levelsFor(40_000) + EAGER_ENTRIES ** 2);
  });
});

test('accumulateChatCompletion: 320,000 tool calls in one chunk are placed once each and copied about once', () => {
  const chunk = { choices: [{ index: 0, delta: { tool_calls: range(320_000).map(toolCall) } }] };
  let snapshot: any;
  const work = placementWork(() => ([snapshot] = snapshotsOf(accumulateChatCompletion(), [chunk])));
  expect(snapshot.choices[0].message.tool_calls).toHaveLength(320_000);
  expect(snapshot.choices[0].message.tool_calls[319_999].id).toBe('call_319999');
  // One placement per call and one for the choice; nodes made within one version are changed in place.
  expect(work.placements).toBe(320_000 + 1);
  expect(work.copied).toBeLessThanOrEqual(320_000);
});
