import {
  batchFields,
  decodeEntry,
  endingFields,
  ENTRY_BLOCKS,
  ENTRY_BYTES,
  entryBlocks,
  EntryNumbering,
  entrySize,
  indexAfterEvent,
  type RawEntry,
} from '../../src/resume/redisStreamLayout';
import type { StoredEntry } from '../../src/resume/types';
import { comment, event, shown } from './storeContract';

/** Blocks numbered and encoded as the owner writes them: one entry per group. */
function written(groups: StoredEntry[][]): RawEntry[] {
  const numbering = new EntryNumbering();
  return groups.map((blocks) => {
    numbering.accept(blocks);
    const bytes = blocks.reduce((sum, block) => sum + block.bytes.byteLength, 0);
    const { id, index, afterEvent } = numbering.next(blocks);
    return { id, message: batchFields(index, blocks, bytes, afterEvent) };
  });
}

const blocksOf = (raw: RawEntry) => {
  const decoded = decodeEntry(raw);
  if (!('blocks' in decoded)) throw new Error('not a batch entry');
  return decoded.blocks;
};

describe('entry ids and fields', () => {
  const groups = [[comment('before 1'), comment('again')], [event(1), event(2), comment('a'), event(3), comment('b')], [comment('c')], [comment('d')], [event(4)]];

  test('an entry is named after its last event (`L-0`), the entries after it without one `L-1`, `L-2` …', () => {
    expect(written(groups).map((raw) => raw.id)).toEqual(['0-1', '3-0', '3-1', '3-2', '4-0']);
  });

  test('each entry gives back its blocks, their event numbers and their bytes, and its first block position', () => {
    const raws = written(groups);
    expect(raws.map((raw) => decodeEntry(raw).index)).toEqual([0, 2, 7, 8, 9]);
    raws.forEach((raw, at) => expect(shown(blocksOf(raw))).toEqual(shown(groups[at])));
  });

  test('bytes that are not UTF-8 come back as they went, in node-redis Buffers or in strings', () => {
    const binary: StoredEntry = { event: 1, bytes: Uint8Array.from([0xff, 0x00, 0xfe, 0x0a, 0x0a]) };
    const [raw] = written([[binary, comment('x')]]);
    expect(shown(blocksOf(raw))).toEqual(shown([binary, comment('x')]));
    const text = { id: '0-1', message: { i: '0', b: ': a\n\n: é\n\n', n: '-5,-6' } };
    expect(shown(blocksOf(text))).toEqual(shown([comment('a'), comment('é')]));
  });

  test('the ending is an entry of its own with the outcome and the frame', () => {
    const decoded = decodeEntry({ id: '3-3', message: endingFields(10, { outcome: 'cancelled', frame: Buffer.from('data: x\n\n') }) });
    expect(decoded).toEqual({ id: '3-3', index: 10, ending: { outcome: 'cancelled', frame: Buffer.from('data: x\n\n') } });
  });

  test('the position after event n: the block after it, in the entry that holds it', () => {
    const [, entry] = written(groups);
    const decoded = decodeEntry(entry);
    expect([1, 2, 3].map((n) => indexAfterEvent(decoded, n))).toEqual([3, 4, 6]);
    expect(indexAfterEvent(decoded, 4)).toBeUndefined();
    expect(indexAfterEvent(decodeEntry({ id: '3-3', message: endingFields(10, { outcome: 'completed' }) }), 3)).toBeUndefined();
  });

  test('after an entry whose last block is an event, the next entry gives the position after that event (its own first block)', () => {
    const raws = written([[event(1), event(2)], [comment('a')], [event(3)], [event(4), comment('b')], [event(5)], [comment('c'), event(6)]]);
    const decoded = raws.map(decodeEntry);
    expect(raws.map((raw) => raw.message.a)).toEqual([undefined, '1', undefined, '1', undefined, '1']);
    // After event 2 (its entry trimmed): the comment's entry `2-1` starts at block 2; after event 4 its comment is in the entry holding 4.
    expect(indexAfterEvent(decoded[1], 2)).toBe(2);
    expect(indexAfterEvent(decoded[2], 2)).toBeUndefined();
    expect(indexAfterEvent(decoded[4], 4)).toBeUndefined();
    expect(indexAfterEvent(decoded[5], 5)).toBe(7);
    expect(indexAfterEvent(decoded[5], 6)).toBe(9);
  });

  test('event numbers are consecutive: an entry tells its events by their count; an append with a gap is refused whole', () => {
    const numbering = new EntryNumbering();
    numbering.accept([event(1), comment('a')]);
    expect(() => numbering.accept([event(3)])).toThrow('Event 3 appended after event 1');
    expect(() => numbering.accept([event(1)])).toThrow('Event 1 appended after event 1');
    // Events 2 and 3 of the refused append were not counted: 2 is still the next.
    expect(() => numbering.accept([event(2), event(3), event(5)])).toThrow('Event 5 appended after event 3');
    numbering.accept([event(2)]);
  });
});

describe('entry size', () => {
  const blocks = (count: number, bytes: number) => Array.from({ length: count }, (_, at) => ({ event: at + 1, bytes: new Uint8Array(bytes) }));

  test(`up to ${ENTRY_BLOCKS} blocks and ${ENTRY_BYTES / 1024} KiB, from where the last one ended`, () => {
    expect(entrySize(blocks(2000, 10), 0, ENTRY_BLOCKS)).toEqual({ count: ENTRY_BLOCKS, bytes: ENTRY_BLOCKS * 10 });
    expect(entrySize(blocks(2000, 10), 1800, ENTRY_BLOCKS)).toEqual({ count: 200, bytes: 2000 });
    expect(entrySize(blocks(100, 1024), 0, ENTRY_BLOCKS)).toEqual({ count: ENTRY_BYTES / 1024, bytes: ENTRY_BYTES });
  });

  test('a block larger than the byte cap goes alone', () => {
    const big = [...blocks(1, ENTRY_BYTES * 3), ...blocks(3, 10)];
    expect(entrySize(big, 0, ENTRY_BLOCKS)).toEqual({ count: 1, bytes: ENTRY_BYTES * 3 });
    expect(entrySize(blocks(3, 10).concat(big), 0, ENTRY_BLOCKS)).toEqual({ count: 3, bytes: 30 });
  });

  test('a stream that keeps few blocks gets small entries: a tenth of them, at least one', () => {
    expect([20_000, 1000, 100, 5].map(entryBlocks)).toEqual([ENTRY_BLOCKS, 100, 10, 1]);
  });
});

describe('an entry the store did not write is refused, whatever it holds', () => {
  const valid = { i: '4', b: 'data: 1\n\n: c\n\n', n: '9,-5' };
  test.each<[string, string, Record<string, string | undefined>]>([
    ['no position', '1-0', { ...valid, i: undefined }],
    ['a position that is not a number', '1-0', { ...valid, i: 'x' }],
    ['a negative position', '1-0', { ...valid, i: '-1' }],
    ['a fractional position', '1-0', { ...valid, i: '1.5' }],
    ['a position past the safe integers', '1-0', { ...valid, i: '9007199254740993' }],
    ['an empty position', '1-0', { ...valid, i: '' }],
    ['a position with spaces', '1-0', { ...valid, i: ' 7' }],
    ['a position in exponent notation', '1-0', { ...valid, i: '1e3' }],
    ['a hexadecimal position', '1-0', { ...valid, i: '0x10' }],
    ['a binary position', '1-0', { ...valid, i: '0b1' }],
    ['a position with a sign', '1-0', { ...valid, i: '+4' }],
    ['bytes without lengths', '1-0', { i: '4', b: valid.b }],
    ['lengths without bytes', '1-0', { i: '4', n: valid.n }],
    ['blocks and an outcome', '1-0', { ...valid, o: 'completed' }],
    ['neither blocks nor an outcome', '1-0', { i: '4' }],
    ['lengths short of the bytes', '1-0', { ...valid, n: '9,-4' }],
    ['lengths past the bytes', '1-0', { ...valid, n: '9,-6' }],
    ['an empty list of lengths', '1-0', { ...valid, n: '' }],
    ['a length in exponent notation', '1-0', { ...valid, n: '9e0,-5' }],
    ['a hexadecimal length', '1-0', { ...valid, n: '0x9,-5' }],
    ['a length with spaces', '1-0', { ...valid, n: ' 9,-5' }],
    ['a length with two signs', '1-0', { ...valid, n: '9,--5' }],
    ['a length of ten digits', '1-0', { ...valid, n: '0000000009,-5' }],
    ['an empty length', '1-0', { ...valid, n: '9,,-5' }],
    ['no event in an entry whose id says it holds one', '1-0', { ...valid, n: '-9,-5' }],
    ['an event in an entry whose id says it holds none', '1-1', valid],
    ['more events than the id accounts for', '1-0', { ...valid, n: '9,5' }],
    ['an id whose event number is past the safe integers', '9007199254740993-0', valid],
    ['an after-an-event mark that is not 1', '3-0', { ...valid, a: 'yes' }],
    ['an after-an-event mark on the first entry', '1-0', { ...valid, a: '1' }],
    ['an after-an-event mark on the ending', '3-1', { i: '4', o: 'completed', a: '1' }],
    ['an outcome longer than any of ours', '3-1', { i: '4', o: 'x'.repeat(65) }],
    ['a 1 MB after-an-event mark', '3-0', { ...valid, a: '1'.repeat(1 << 20) }],
    ['a 1 MB position', '1-0', { ...valid, i: '1'.repeat(1 << 20) }],
  ])('%s', (_what, id, message) => {
    expect(() => decodeEntry({ id, message })).toThrow('The resume store found an entry it did not write');
  });

  test('a huge count of blocks is refused before it is walked', () => {
    const many = Array.from({ length: 10_001 }, () => '-0').join(',');
    // Walking the lengths splits them and matches each: splits are counted and capped, and no length is matched.
    const split = jest.spyOn(String.prototype, 'split');
    const exec = jest.spyOn(RegExp.prototype, 'exec');
    const decode = (n: string) => () => decodeEntry({ id: '0-1', message: { i: '0', b: '', n } });
    let refused: boolean[];
    let splitLimits: unknown[];
    let matched: unknown[];
    try {
      refused = [many, ','.repeat(5_000_000)].map((n) => {
        try {
          decode(n)();
          return false;
        } catch {
          return true;
        }
      });
      splitLimits = split.mock.calls.map(([, limit]) => limit);
      matched = exec.mock.calls.map(([text]) => text);
    } finally {
      split.mockRestore();
      exec.mockRestore();
    }
    expect(refused).toEqual([true, true]);
    // Split once, the count capped (the 5 MB string not at all); matched: the positions only, one per entry.
    expect(splitLimits).toEqual([10_001]);
    expect(matched).toEqual(['0', '0']);
    expect(decode(many)).toThrow('did not write');
    // As many as a reader accepts: blocks of no bytes are blocks still.
    expect(blocksOf({ id: '0-1', message: { i: '0', b: '', n: many.slice(3) } })).toHaveLength(10_000);
  });

  test('the valid entry these are made from is read', () => {
    expect(shown(blocksOf({ id: '1-0', message: valid }))).toEqual(shown([{ event: 1, bytes: Buffer.from('data: 1\n\n') }, comment('c')]));
  });
});
