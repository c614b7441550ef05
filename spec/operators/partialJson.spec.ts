import { from, lastValueFrom, Subject, toArray } from 'rxjs';
import { partialJson, PartialJsonError, type JsonValue } from '../../src/index.node';
import { randomDeltas, randomJsonValue, seededRandom, writeJson } from '../helpers/randomJson';

interface Run {
  values: JsonValue[];
  /** Each value deep-copied when it was emitted: the value must still equal its copy at the end. */
  copies: JsonValue[];
  error: unknown;
}

/** Feeds `deltas` to partialJson through a Subject and records every emission and the error. */
function run(deltas: readonly string[], config?: Parameters<typeof partialJson>[0]): Run {
  const result: Run = { values: [], copies: [], error: undefined };
  const source = new Subject<string>();
  source.pipe(partialJson(config)).subscribe({
    next: (value) => {
      result.values.push(value);
      result.copies.push(structuredClone(value));
    },
    error: (error: unknown) => (result.error = error),
  });
  for (const delta of deltas) source.next(delta);
  source.complete();
  return result;
}

/** Whether `partial` is what a streaming parser may show of `final` so far. */
function isPartialOf(partial: unknown, final: unknown): boolean {
  if (typeof partial === 'string') return typeof final === 'string' && final.startsWith(partial);
  if (partial === null || typeof partial !== 'object') return Object.is(partial, final);
  if (Array.isArray(partial)) {
    if (!Array.isArray(final) || partial.length > final.length) return false;
    return partial.every((element, index) => (index < partial.length - 1 ? deepEqual(element, final[index]) : isPartialOf(element, final[index])));
  }
  if (final === null || typeof final !== 'object' || Array.isArray(final)) return false;
  const keys = Object.keys(partial);
  const finalKeys = Object.keys(final);
  return keys.every((key, index) => {
    if (finalKeys[index] !== key) return false;
    const [value, finalValue] = [(partial as Record<string, unknown>)[key], (final as Record<string, unknown>)[key]];
    return index < keys.length - 1 ? deepEqual(value, finalValue) : isPartialOf(value, finalValue);
  });
}

function deepEqual(a: unknown, b: unknown): boolean {
  try {
    expect(a).toStrictEqual(b);
    return true;
  } catch {
    return false;
  }
}

function errorOf(result: Run): PartialJsonError {
  expect(result.error).toBeInstanceOf(PartialJsonError);
  return result.error as PartialJsonError;
}

describe('partialJson', () => {
  test('shows keys once their value begins, strings as they grow, numbers and literals once complete', () => {
    const { values, error } = run(['{"name": "Ad', 'a", "age": 3', '6, "tags": [tr', 'ue, nu', 'll], "x": {}}']);
    expect(error).toBeUndefined();
    expect(values).toEqual([
      { name: 'Ad' },
      { name: 'Ada' },
      { name: 'Ada', age: 36, tags: [] },
      { name: 'Ada', age: 36, tags: [true] },
      { name: 'Ada', age: 36, tags: [true, null], x: {} },
    ]);
  });

  test('emits nothing for a delta that changes nothing (whitespace, half a number or keyword, a key, a colon)', () => {
    const { values } = run(['[', '  ', '12', '3', ', fal', 's', 'e', ', {"ke', 'y"', ':', ' "v"}]']);
    expect(values).toEqual([[], [123], [123, false], [123, false, {}], [123, false, { key: 'v' }]]);
  });

  test('a number at the top level appears when the text ends', () => {
    expect(run(['-1', '2.5', 'e+3']).values).toEqual([-12500]);
    expect(run(['0']).values).toEqual([0]);
  });

  test('property: every emission is a prefix of the final value, none repeats, the last equals JSON.parse, nothing emitted changes later', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const random = seededRandom(seed);
      const text = writeJson(random, randomJsonValue(random));
      const deltas = randomDeltas(random, text, random.pick([1, 3, 8, 40]));
      const result = run(deltas);
      const expected = JSON.parse(text) as unknown;
      const context = `seed ${seed}: ${JSON.stringify(text)}`;
      expect({ context, error: result.error }).toEqual({ context, error: undefined });
      expect({ context, last: result.values.at(-1) }).toStrictEqual({ context, last: expected });
      result.values.forEach((value, index) => {
        expect({ context, index, prefix: isPartialOf(value, expected) }).toEqual({ context, index, prefix: true });
        if (index > 0) expect({ context, index, repeats: deepEqual(value, result.values[index - 1]) }).toEqual({ context, index, repeats: false });
      });
      expect({ context, values: result.values }).toStrictEqual({ context, values: result.copies });
    }
  });

  test('shares what did not change with the previous emission: a finished element is the same object', () => {
    const { values } = run(['[{"a": [1, 2]}, {"b": "x', 'y"}, {"c"', ': 3}]']);
    expect(values).toHaveLength(3);
    const [first, second, third] = values as Array<Array<Record<string, unknown>>>;
    expect(second[0]).toBe(first[0]);
    expect(third[0]).toBe(first[0]);
    expect(third).not.toBe(second);
    expect(second[1]).toEqual({ b: 'xy' });
  });

  test('escapes and surrogate pairs come out exact wherever the text is cut, and no partial string ends in half a pair', () => {
    const text = '{"s": "a\\u00e9\\n\\"\\\\\\/\\b\\f\\r\\t😀\\ud83d\\ude00\\uD83D\\uDE00x\\u2028é中", "k\\u0041y": "\\ud83d😀"}';
    const expected = JSON.parse(text) as Record<string, string>;
    for (let cut = 0; cut <= text.length; cut++) {
      for (const deltas of [[text.slice(0, cut), text.slice(cut)], [text.slice(0, cut), ...text.slice(cut).split('')]]) {
        const { values, error } = run(deltas);
        expect({ cut, error }).toEqual({ cut, error: undefined });
        expect(values.at(-1)).toStrictEqual(expected);
        for (const value of values) {
          for (const [key, string] of Object.entries(value as Record<string, string>)) {
            // A high surrogate whose low one follows in the final string: a pair cut in half.
            const last = string.charCodeAt(string.length - 1);
            const after = expected[key].charCodeAt(string.length);
            const halfPair = last >= 0xd800 && last <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
            expect({ cut, key, string, halfPair }).toEqual({ cut, key, string, halfPair: false });
          }
        }
      }
    }
  });

  test('a __proto__ key becomes an own property, as JSON.parse makes it', () => {
    const value = run(['{"__proto__": {"polluted": true}, "a": 1}']).values.at(-1) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(value).toStrictEqual(JSON.parse('{"__proto__": {"polluted": true}, "a": 1}'));
  });

  test('a byte order mark before the text is ignored; anywhere else it is invalid', () => {
    expect(run(['\ufeff', '{"a": 1}']).values.at(-1)).toEqual({ a: 1 });
    expect(errorOf(run([' \ufeff{}'])).position).toBe(1);
  });

  test.each([
    ['{"a" 1}', 5],
    ['[1,]', 3],
    ['[1 2]', 3],
    ['01', 1],
    ['-a', 1],
    ['1.e5', 2],
    ['1e}', 2],
    ['{"a": tru}', 9],
    ['"\\x"', 2],
    ['"\\u12G4"', 5],
    ['"a\nb"', 2],
    ['{} x', 3],
    ['{"a": 1]', 7],
    ['[1}', 2],
    [']', 0],
    ['{,}', 1],
    ['{"a":}', 5],
    ['nul!', 3],
    ['"a" "b"', 4],
    ['[NaN]', 1],
  ])('invalid JSON %j fails at position %i, wherever the text is cut', (text, position) => {
    for (let cut = 0; cut <= text.length; cut++) {
      const deltas = [text.slice(0, cut), text.slice(cut)];
      const result = run(deltas);
      const error = errorOf(result);
      expect({ cut, problem: error.problem, position: error.position }).toEqual({ cut, problem: 'invalid', position });
      // The error comes with the delta holding the bad character, and carries the text up to that delta.
      expect(error.text).toBe(cut > position ? deltas[0] : text);
      expect(error.message).toContain(`position ${position}`);
    }
  });

  test.each(['', '   ', '{"a":', '[1, 2', '"abc', '"ab\\', '"\\u00', 'tru', '-', '1.', '1e+', '{"a"', '[{}, {'])(
    'unfinished JSON %j fails only when the text ends, at its end',
    (text) => {
      const source = new Subject<string>();
      let error: unknown;
      source.pipe(partialJson()).subscribe({ error: (e: unknown) => (error = e) });
      source.next(text);
      expect(error).toBeUndefined();
      source.complete();
      expect(error).toBeInstanceOf(PartialJsonError);
      expect(error).toMatchObject({ problem: 'unfinished', position: text.length, text });
    },
  );

  test('a depth bomb fails with too-deep at the first bracket past maxDepth, without a stack overflow', () => {
    const bomb = errorOf(run(['['.repeat(200_000)]));
    expect(bomb).toMatchObject({ problem: 'too-deep', position: 128 });
    const deepest = `${'['.repeat(128)}${']'.repeat(128)}`;
    expect(run([deepest]).values.at(-1)).toEqual(JSON.parse(deepest));
    expect(errorOf(run(['{"a": {"b": [', '{}]}}'], { maxDepth: 3 }))).toMatchObject({ problem: 'too-deep', position: 13 });
  });

  test('a 10 MB string passes within the default limit; a smaller maxLength stops it with too-long', async () => {
    const text = `"${'abcdefgh'.repeat(1_310_720)}"`;
    const deltas = randomDeltas(seededRandom(1), text, 128 * 1024);
    // Not `run`: a deep copy of every emission would hold gigabytes.
    const lengths = async (config?: { maxLength: number }) => lastValueFrom(from(deltas).pipe(partialJson(config), toArray())).then((values) => values.map((value) => (value as string).length));
    const emitted = await lengths();
    expect(emitted.at(-1)).toBe(10 * 1024 * 1024);
    expect(emitted.length).toBeGreaterThan(50);
    await expect(lengths({ maxLength: 1024 * 1024 })).rejects.toMatchObject({ problem: 'too-long', position: 1024 * 1024 });
  });

  test('an error after thousands of one-character deltas carries the whole text, exact, however the parser stored it', () => {
    // Past several blocks of deltas and several doublings of the stored text, with a multi-delta block left open.
    const text = `[${'"ab\\u00e9",'.repeat(3_000)}1}`;
    const deltas = text.split('');
    const error = errorOf(run(deltas));
    expect(error).toMatchObject({ problem: 'invalid', position: text.length - 1 });
    expect(error.text).toBe(text);
    // Ended unfinished: the text ends with the last delta, of several characters, in a block still open.
    const unfinished = errorOf(run([...deltas.slice(0, -1), ', 2']));
    expect(unfinished).toMatchObject({ problem: 'unfinished', text: `${text.slice(0, -1)}, 2` });
  });

  test('each subscription parses on its own; an error from the source passes through', async () => {
    const parsed$ = from(['{"a": [1', ', 2]}']).pipe(partialJson());
    const [first, second] = await Promise.all([lastValueFrom(parsed$.pipe(toArray())), lastValueFrom(parsed$.pipe(toArray()))]);
    expect(first).toEqual([{ a: [] }, { a: [1, 2] }]);
    expect(second).toEqual(first);

    const source = new Subject<string>();
    const failure = new Error('connection reset');
    let error: unknown;
    source.pipe(partialJson()).subscribe({ error: (e: unknown) => (error = e) });
    source.next('{"a": 1');
    source.error(failure);
    expect(error).toBe(failure);
  });
});
