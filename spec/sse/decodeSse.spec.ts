import { createSseDecoder } from '../../src/sse/decodeSse';
import type { SseFrame } from '../../src/sse/types';
import { SSE_FIXTURES as fixtures } from '../helpers/sseFixtures';

const encoder = new TextEncoder();

/** Decodes `chunks` in order and returns every frame, oversize report and cut line. */
function decode(chunks: Uint8Array[], maxEventSize = 1024 * 1024): { frames: SseFrame[]; oversize: number; cut: string[] } {
  const frames: SseFrame[] = [];
  let oversize = 0;
  const cut: string[] = [];
  const decoder = createSseDecoder(
    { frame: (frame) => frames.push(frame), oversize: () => oversize++, cut: (line) => cut.push(line) },
    maxEventSize,
  );
  for (const chunk of chunks) decoder.feed(chunk);
  decoder.end();
  return { frames, oversize, cut };
}

describe('createSseDecoder', () => {
  test('a body that ends mid-line reports the partial line as cut, at every split, and never delivers it', () => {
    const bytes = encoder.encode('data: done\n\n: ping\ndata: {"choices":[{"delta":{"content":"caf\u00e9');
    for (let offset = 0; offset <= bytes.length; offset++) {
      const result = decode([bytes.subarray(0, offset), bytes.subarray(offset)]);
      expect({ offset, ...result }).toEqual({
        offset,
        frames: [{ type: 'event', data: 'done' }, { type: 'comment', text: 'ping' }],
        oversize: 0,
        cut: ['data: {"choices":[{"delta":{"content":"caf\u00e9'],
      });
    }
  });


  describe.each(fixtures)('$name', ({ text, frames }) => {
    const bytes = encoder.encode(text);

    test('in one chunk', () => {
      expect(decode([bytes])).toEqual({ frames, oversize: 0, cut: [] });
    });

    test('split in two at every byte offset', () => {
      for (let offset = 0; offset <= bytes.length; offset++) {
        const result = decode([bytes.subarray(0, offset), bytes.subarray(offset)]);
        if (!equal(result.frames, frames)) expect({ offset, frames: result.frames }).toEqual({ offset, frames });
      }
    });

    test('split in three at every pair of offsets', () => {
      for (let first = 0; first <= bytes.length; first++) {
        for (let second = first; second <= bytes.length; second++) {
          const result = decode([bytes.subarray(0, first), bytes.subarray(first, second), bytes.subarray(second)]);
          if (!equal(result.frames, frames)) expect({ first, second, frames: result.frames }).toEqual({ first, second, frames });
        }
      }
    });

    test('one byte at a time', () => {
      const chunks = Array.from(bytes, (byte) => Uint8Array.of(byte));
      expect(decode(chunks).frames).toEqual(frames);
    });
  });

  test('the splits really cut multi-byte characters and CRLF pairs', () => {
    const bytes = encoder.encode(fixtures[1].text);
    const crlf = bytes.findIndex((byte, i) => byte === 13 && bytes[i + 1] === 10);
    const multiByte = bytes.findIndex((byte) => byte >= 0xf0);
    expect(crlf).toBeGreaterThan(0);
    expect(multiByte).toBeGreaterThan(0);
    // A split inside a 4-byte character leaves an invalid sequence on either side …
    expect(new TextDecoder().decode(bytes.subarray(0, multiByte + 2))).toContain('\uFFFD');
    // … and yet the frames are intact.
    expect(decode([bytes.subarray(0, multiByte + 2), bytes.subarray(multiByte + 2)]).frames).toEqual(fixtures[1].frames);
    expect(decode([bytes.subarray(0, crlf + 1), bytes.subarray(crlf + 1)]).frames).toEqual(fixtures[1].frames);
  });

  test('a BOM split across chunks is still removed, and only at the start', () => {
    const bytes = encoder.encode('\uFEFFdata: a\n\ndata: \uFEFFb\n\n');
    expect(decode([bytes.subarray(0, 1), bytes.subarray(1, 2), bytes.subarray(2)]).frames).toEqual([
      { type: 'event', data: 'a' },
      { type: 'event', data: '\uFEFFb' },
    ]);
  });

  describe('maximum event size', () => {
    test('an event larger than the limit inside one chunk is reported, not delivered', () => {
      const { frames, oversize } = decode([encoder.encode(`data: small\n\ndata: ${'x'.repeat(200)}\n\ndata: after\n\n`)], 100);
      expect(frames).toEqual([{ type: 'event', data: 'small' }]);
      expect(oversize).toBe(1);
    });

    test('a line that keeps growing over many chunks is reported once it passes the limit', () => {
      const chunks = [encoder.encode('data: ok\n\ndata: ')];
      for (let i = 0; i < 50; i++) chunks.push(encoder.encode('y'.repeat(10)));
      const { frames, oversize } = decode(chunks, 100);
      expect(frames).toEqual([{ type: 'event', data: 'ok' }]);
      expect(oversize).toBe(1);
    });

    test('multi-line data over the limit is reported', () => {
      const chunks = Array.from({ length: 30 }, () => encoder.encode('data: 0123456789\n'));
      const { frames, oversize } = decode(chunks, 100);
      expect(frames).toEqual([]);
      expect(oversize).toBe(1);
    });

    test('an event of exactly the limit passes', () => {
      const { frames, oversize } = decode([encoder.encode(`data: ${'z'.repeat(100)}\n\n`)], 100);
      expect(frames).toEqual([{ type: 'event', data: 'z'.repeat(100) }]);
      expect(oversize).toBe(0);
    });
  });
});

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
