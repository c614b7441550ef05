import { withIdLines } from '../../src/relay/resumeMode.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (entry: { bytes: Uint8Array }) => new TextDecoder().decode(entry.bytes);

describe('withIdLines', () => {
  it('puts each event’s id line before its blank line, in the block’s own line ending, and leaves other blocks as they are', () => {
    const joined = withIdLines([
      { event: 0, bytes: bytes(': hello\n\n') },
      { event: 9, bytes: bytes('data: a\n\n') },
      { event: 10, bytes: bytes('data: b\r\n\r\n') },
      { event: 11, bytes: bytes('data: c\r\r') },
      { event: 0, bytes: bytes('retry: 5\n\n') },
      { event: 123456, bytes: bytes('data: d\n') },
    ]);
    expect(text(joined)).toBe(': hello\n\ndata: a\nid: 9\n\ndata: b\r\nid: 10\r\n\r\ndata: c\rid: 11\r\rretry: 5\n\ndata: d\nid: 123456\n');
    expect(joined.events).toBe(4);
  });

  it('ends a cut last line before the id line of a block without its blank line', () => {
    expect(text(withIdLines([{ event: 1, bytes: bytes('data: [DONE]') }]))).toBe('data: [DONE]\nid: 1\n');
    expect(text(withIdLines([{ event: 2, bytes: bytes('data: x\r') }]))).toBe('data: x\rid: 2\r');
  });
});
