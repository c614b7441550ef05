import { createSseDecoder } from '../../src/sse/decodeSse';
import { encodeSse } from '../../src/sse/encodeSse';
import type { SseFrame } from '../../src/sse/types';

function decodeText(text: string): SseFrame[] {
  const frames: SseFrame[] = [];
  const decoder = createSseDecoder(
    {
      frame: (frame) => frames.push(frame),
      oversize: () => {
        throw new Error('unexpected oversize event');
      },
      cut: (line) => {
        throw new Error(`unexpected cut line ${line}`);
      },
    },
    1 << 20,
  );
  decoder.feed(new TextEncoder().encode(text));
  decoder.end();
  return frames;
}

const chunk = (content: string, finish: string | null = null) =>
  JSON.stringify({
    id: 'chatcmpl-9',
    object: 'chat.completion.chunk',
    created: 1718000000,
    model: 'gpt-4o-mini',
    system_fingerprint: 'fp_1',
    choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: finish }],
  });

describe('encodeSse', () => {
  test("OpenAI's chat stream comes back byte for byte", () => {
    const wire =
      `data: ${chunk('Hel')}\n\n` +
      `data: ${chunk('lo \u2028 € 𝄞')}\n\n` +
      ': OPENROUTER PROCESSING\n\n' +
      `data: ${chunk('', 'stop')}\n\n` +
      'data: [DONE]\n\n';
    expect(decodeText(wire).map(encodeSse).join('')).toBe(wire);
  });

  test("the Responses API's `event:` + `data:` frames come back byte for byte", () => {
    const wire =
      'event: response.created\ndata: {"type":"response.created","sequence_number":0}\n\n' +
      'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"Hi"}\n\n';
    expect(decodeText(wire).map(encodeSse).join('')).toBe(wire);
  });

  test('frames with id, multi-line data and empty data survive a round trip', () => {
    const frames: SseFrame[] = [
      { type: 'event', event: 'message', id: '42', data: 'line 1\nline 2\n\nline 4' },
      { type: 'event', data: '' },
      { type: 'comment', text: '' },
      { type: 'comment', text: 'keep-alive' },
    ];
    expect(decodeText(frames.map(encodeSse).join(''))).toEqual(frames);
  });

  test('other framings come out in canonical form', () => {
    expect(decodeText('data:x\r\n\r\n:ping\r\r').map(encodeSse).join('')).toBe('data: x\n\n: ping\n\n');
  });
});
