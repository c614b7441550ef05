import { sseBlockSplitter, type SseBlock } from '../../src/sse/sseBlocks';
import type { SseFrame } from '../../src/sse/types';
import { createSseDecoder } from '../../src/sse/decodeSse';

const encoder = new TextEncoder();
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

/** Splits `body` into the chunks cut at `offsets` and runs them through a splitter. */
function split(body: Uint8Array, offsets: number[], maxEventSize = 1 << 20) {
  let oversize = 0;
  const splitter = sseBlockSplitter(maxEventSize);
  const blocks: SseBlock[] = [];
  let text = '';
  let start = 0;
  for (const offset of [...offsets, body.length]) {
    const read = splitter.feed(body.subarray(start, offset));
    blocks.push(...read.blocks);
    text += read.text;
    if (read.oversize) oversize++;
    start = offset;
  }
  const end = splitter.end();
  if (end.oversize) oversize++;
  return { blocks, end, oversize, text };
}

/**
 * What a split body comes to: every byte in order, the frames in order, and the events of the complete blocks
 * before the end block. Block boundaries may move by the LF of a CRLF split between two reads.
 */
function outcomeOf({ blocks, end }: ReturnType<typeof split>) {
  const all = [...blocks, ...(end.block ? [end.block] : [])];
  return {
    bytes: text(Buffer.concat(all.map((block) => block.bytes))),
    frames: all.flatMap((block) => block.frames),
    events: blocks.map((block) => block.frames.filter((frame) => frame.type === 'event')).filter((events) => events.length > 0),
  };
}

/** What the client's own decoder makes of the same body, for comparison. */
function framesOf(body: Uint8Array): SseFrame[] {
  const frames: SseFrame[] = [];
  const decoder = createSseDecoder({ frame: (frame) => frames.push(frame), oversize: () => undefined, cut: () => undefined }, 1 << 20);
  decoder.feed(body);
  decoder.end();
  return frames;
}

const BODIES: Record<string, string> = {
  'OpenAI framing with keep-alives': ': keep-alive\n\ndata: {"a":1}\n\ndata: {"a":2}\n\ndata: [DONE]\n\n',
  CRLF: 'data: a\r\n\r\nevent: x\r\ndata: b\r\n\r\n',
  CR: 'data: a\r\rdata: b\r\r',
  'mixed endings': 'data: a\r\n\ndata: b\n\r\ndata: c\r\r\n',
  'retry and id-only blocks': 'retry: 1000\n\nid: 7\n\ndata: x\nid: 8\n\n',
  'comments with and without a space, data without a space': ':no space\n\n: with space\n\ndata:tight\n\n',
  'unknown fields and field order': 'id: 1\nfoo: bar\ndata: x\nevent: late\n\n',
  'multi-line data': 'data: line 1\ndata: line 2\n\n',
  'NUL and U+2028': 'data: a\u0000b\u2028c\n\n',
  'llama.cpp error line': 'error: {"code":500,"message":"boom"}\n\n',
  'a comment inside an event block': ': note\ndata: x\n\n',
  'leading blank lines': '\n\n\ndata: x\n\n',
};

describe('sseBlockSplitter', () => {
  test.each(Object.entries(BODIES))('%s: the blocks hold every byte in order, split anywhere, with the same frames as the decoder', (_name, source) => {
    const body = encoder.encode(source);
    const whole = split(body, []);
    const joined = [...whole.blocks.map((block) => block.bytes), ...(whole.end.block ? [whole.end.block.bytes] : [])];
    expect(text(Buffer.concat(joined))).toBe(text(body));
    // The reads' text is the complete blocks' text, decoded once (a BOM at the start left out).
    expect(whole.text).toBe(new TextDecoder().decode(Buffer.concat(whole.blocks.map((block) => block.bytes))));
    // What a relay counts without parsing agrees with the frames.
    for (const block of whole.blocks) {
      expect(block.hasData).toBe(block.frames.some((frame) => frame.type === 'event') && !block.frames.some((frame) => frame.type === 'event' && frame.event === 'error' && text(block.bytes).startsWith('error')));
      expect(block.comments).toBe(block.frames.filter((frame) => frame.type === 'comment').length);
    }
    expect([...whole.blocks, ...(whole.end.block ? [whole.end.block] : [])].flatMap((block) => block.frames)).toEqual(framesOf(body));
    for (let offset = 0; offset <= body.length; offset++) expect(outcomeOf(split(body, [offset]))).toEqual(outcomeOf(whole));
  });

  test('each pair of offsets too, for CRLF and CR bodies (a CR and its LF in two reads)', () => {
    for (const source of [BODIES.CRLF, BODIES.CR, BODIES['mixed endings']]) {
      const body = encoder.encode(source);
      const whole = outcomeOf(split(body, []));
      for (let a = 0; a <= body.length; a++) {
        for (let b = a; b <= body.length; b++) expect(outcomeOf(split(body, [a, b]))).toEqual(whole);
      }
    }
  });

  test('a CR that ends a read and a blank line ends the block there: a complete event is not held for the LF', () => {
    const first = split(encoder.encode('data: a\r\r'), []);
    expect(first.blocks.map((block) => block.frames)).toEqual([[{ type: 'event', data: 'a' }]]);
    // The LF that then arrives starts the next block and makes no frame.
    const splitter = sseBlockSplitter(1 << 20);
    expect(splitter.feed(encoder.encode('data: a\r\r')).blocks).toHaveLength(1);
    const next = splitter.feed(encoder.encode('\ndata: b\r\n\r\n')).blocks;
    expect(next.flatMap((block) => block.frames)).toEqual([{ type: 'event', data: 'b' }]);
  });

  test('a block is exactly its event: "data: x\\n\\n" then the next one', () => {
    const { blocks } = split(encoder.encode('data: x\n\n: c\n\n'), []);
    expect(blocks.map((block) => text(block.bytes))).toEqual(['data: x\n\n', ': c\n\n']);
    expect(blocks.map((block) => block.frames)).toEqual([[{ type: 'event', data: 'x' }], [{ type: 'comment', text: 'c' }]]);
  });

  test('a last event without its blank line is the end block, with its frames; a cut line is said so', () => {
    const complete = split(encoder.encode('data: a\n\ndata: [DONE]\n'), []).end;
    expect([text(complete.block!.bytes), complete.block!.frames, complete.cutMidLine]).toEqual(['data: [DONE]\n', [{ type: 'event', data: '[DONE]' }], false]);
    const cut = split(encoder.encode('data: a\n\ndata: [DONE]'), []).end;
    expect([text(cut.block!.bytes), cut.block!.frames, cut.cutMidLine]).toEqual(['data: [DONE]', [{ type: 'event', data: '[DONE]' }], true]);
  });

  test('a BOM at the start is kept in the bytes and left out of the frames; BOM-looking characters are data', () => {
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...encoder.encode('data: x\n\n')]);
    const [block] = split(withBom, [1]).blocks;
    expect([block.bytes, block.frames]).toEqual([withBom, [{ type: 'event', data: 'x' }]]);
    const lookalike = encoder.encode('\u00ef\u00bb\u00bfdata: y\n\ndata: z\n\n');
    for (let offset = 0; offset <= lookalike.length; offset++) {
      expect(split(lookalike, [offset]).blocks.flatMap((block) => block.frames)).toEqual([{ type: 'event', data: 'z' }]);
    }
  });

  test('behind a BOM the first block is read as it is without one: its data line counts, its oversize event is found', () => {
    const bom = [0xef, 0xbb, 0xbf];
    const withData = new Uint8Array([...bom, ...encoder.encode('data: x\n\n')]);
    for (let offset = 0; offset <= withData.length; offset++) {
      expect(split(withData, [offset]).blocks.map((block) => block.hasData)).toEqual([true]);
    }
    // Found by the upstream fuzz (seed 3): behind a BOM, an oversize first event went on, and so did what followed.
    const oversize = new Uint8Array([...bom, ...encoder.encode(`data: ${'x'.repeat(300)}\n\ndata: [DONE]\n\n`)]);
    for (const offsets of [[], [1], [200], [310]]) {
      const { blocks, oversize: found } = split(oversize, offsets, 100);
      expect([blocks.length, found > 0]).toEqual([0, true]);
    }
  });

  test('multi-byte characters split across reads come out whole', () => {
    const body = encoder.encode('data: wörld 👋\n\n');
    for (let offset = 0; offset <= body.length; offset++) {
      expect(split(body, [offset]).blocks[0].frames).toEqual([{ type: 'event', data: 'wörld 👋' }]);
    }
  });

  test('each block of a read has its own frames, whether its characters are one byte each or more', () => {
    for (const first of ['a'.repeat(40), '€'.repeat(40)]) {
      const { blocks } = split(encoder.encode(`data: ${first}\n\ndata: c\n\n: note\n\n`), []);
      expect(blocks.map((block) => block.frames)).toEqual([[{ type: 'event', data: first }], [{ type: 'event', data: 'c' }], [{ type: 'comment', text: 'note' }]]);
    }
  });

  test('bytes that are not UTF-8 read as U+FFFD in the frames, however the reads cut them', () => {
    // One character per byte: the read's text is lent to its blocks; a cut sequence gives fewer: each decodes its own.
    const bodies = [[0xff], [0xe2, 0x82], [0x80, 0x80]].map((bad) => Buffer.concat([encoder.encode('data: a'), Buffer.from(bad), encoder.encode('b\n\ndata: c\n\n')]));
    for (const body of bodies) {
      const expected = framesOf(body);
      expect(expected[0]).toEqual({ type: 'event', data: expect.stringContaining('\ufffd') });
      for (let offset = 0; offset <= body.length; offset++) expect(outcomeOf(split(body, [offset])).frames).toEqual(expected);
    }
  });

  test('more than maxEventSize characters without a blank line is oversize', () => {
    expect(split(encoder.encode(`data: ${'x'.repeat(500)}`), [100, 200, 300, 400], 100).oversize).toBeGreaterThan(0);
    expect(split(encoder.encode(`data: ${'x'.repeat(50)}\n\n`), [], 100).oversize).toBe(0);
  });

  test('an oversize event inside one read: the whole blocks before it come out, it and what follows do not', () => {
    const body = encoder.encode(`data: {"a":1}\n\ndata: ${'x'.repeat(600)}\n\ndata: {"b":2}\n\n`);
    const splitter = sseBlockSplitter(100);
    const read = splitter.feed(body);
    expect([read.blocks.map((block) => text(block.bytes)), text(read.bytes), read.oversize]).toEqual([['data: {"a":1}\n\n'], 'data: {"a":1}\n\n', true]);
    expect(splitter.feed(encoder.encode('data: more\n\n'))).toMatchObject({ blocks: [], oversize: true });
  });

  test('an oversize last block without its blank line is not handed out', () => {
    const splitter = sseBlockSplitter(100);
    splitter.feed(encoder.encode(`data: ${'x'.repeat(300)}`));
    expect(splitter.end()).toEqual({ block: undefined, cutMidLine: false, oversize: true });
  });
});
