import type { SseFrame } from '../../src/sse/types';

/*
 * SSE wire texts and the frames each must decode to, whatever the chunking:
 * every line ending, `data:` spellings, multi-line data, a BOM, raw line
 * separators inside JSON, comments, and what the SSE spec drops at the end.
 */

const json = '{"id":"c1","choices":[{"index":0,"delta":{"content":"héllo € 𝄞 ✓"}}]}';
// A raw U+2028 inside a JSON string: valid JSON, and not a line break for SSE.
const lineSeparatorJson = '{"text":"a\u2028b\u2029c"}';

export interface SseFixture {
  name: string;
  text: string;
  frames: SseFrame[];
}

export const SSE_FIXTURES: SseFixture[] = [
  {
    name: 'LF endings with comments',
    text: `: keep-alive\n\ndata: ${json}\n\n:ping\n\ndata: [DONE]\n\n`,
    frames: [
      { type: 'comment', text: 'keep-alive' },
      { type: 'event', data: json },
      { type: 'comment', text: 'ping' },
      { type: 'event', data: '[DONE]' },
    ],
  },
  {
    name: 'CRLF endings',
    text: `data: ${json}\r\n\r\n: c\r\n\r\nevent: update\r\nid: 7\r\ndata: x\r\n\r\n`,
    frames: [
      { type: 'event', data: json },
      { type: 'comment', text: 'c' },
      { type: 'event', event: 'update', id: '7', data: 'x' },
    ],
  },
  {
    name: 'CR endings, including the last event of the stream',
    text: `data: ${json}\r\r: c\r\rdata: last\r\r`,
    frames: [
      { type: 'event', data: json },
      { type: 'comment', text: 'c' },
      { type: 'event', data: 'last' },
    ],
  },
  {
    name: 'mixed endings',
    text: `data: a\r\n\ndata: b\n\r\ndata: c\r\rdata: d\n\rdata: e\r\n\r\n`,
    frames: [
      { type: 'event', data: 'a' },
      { type: 'event', data: 'b' },
      { type: 'event', data: 'c' },
      { type: 'event', data: 'd' },
      { type: 'event', data: 'e' },
    ],
  },
  {
    name: '`data:` without a space, and with two',
    text: `data:${json}\n\ndata:  two\n\nevent:error\ndata:{}\n\n`,
    frames: [
      { type: 'event', data: json },
      { type: 'event', data: ' two' },
      { type: 'event', event: 'error', data: '{}' },
    ],
  },
  {
    name: 'multi-line data',
    text: 'data: first\ndata:\ndata: third ✓\n\ndata: one\r\ndata: two\r\n\r\n',
    frames: [
      { type: 'event', data: 'first\n\nthird ✓' },
      { type: 'event', data: 'one\ntwo' },
    ],
  },
  {
    name: 'a byte order mark',
    text: `\uFEFFdata: ${json}\n\n`,
    frames: [{ type: 'event', data: json }],
  },
  {
    name: 'raw U+2028 and U+2029 inside a JSON string',
    text: `data: ${lineSeparatorJson}\n\ndata: ${lineSeparatorJson}\r\n\r\n`,
    frames: [
      { type: 'event', data: lineSeparatorJson },
      { type: 'event', data: lineSeparatorJson },
    ],
  },
  {
    name: "a comment inside an event, and llama.cpp's bare error field",
    text: 'data: a\n: inside\ndata: b\n\nerror: {"code":500,"message":"boom"}\n\n',
    frames: [
      { type: 'comment', text: 'inside' },
      { type: 'event', data: 'a\nb' },
      { type: 'event', event: 'error', data: '{"code":500,"message":"boom"}' },
    ],
  },
  {
    name: 'a body that ends without the last blank line (some servers omit it): the event is delivered',
    text: 'data: done\r\n\r\ndata: [DONE]\r\n',
    frames: [
      { type: 'event', data: 'done' },
      { type: 'event', data: '[DONE]' },
    ],
  },
];
