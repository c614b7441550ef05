import { isFinishingFrame, mayFinish } from '../../src/sse/finishingFrame';

const chatChunk = '{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"[DONE"},"finish_reason":null}]}';

describe('mayFinish', () => {
  test.each([
    ['[DONE]', 'data: [DONE]\n\n'],
    ['response.completed', `data: ${chatChunk}\n\nevent: response.completed\ndata: {"type":"response.completed"}\n\n`],
    ['response.incomplete', 'data: {"type":"response.incomplete","response":{}}'],
    ['response.failed', 'data: {"type":"response.failed"}'],
  ])('finds %s anywhere in a read', (_, text) => {
    expect(mayFinish(text)).toBe(true);
  });

  test.each([
    ['chat chunks', `data: ${chatChunk}\n\n`.repeat(500)],
    ['a delta that names a finishing type in its text', 'data: {"type":"response.output_text.delta","delta":"after response.completed arrives"}'],
    ['a type that only starts like a finishing one', 'data: {"type":"response.completed_partially"}'],
    ['an empty read', ''],
  ])('is false for %s', (_, text) => {
    expect(mayFinish(text)).toBe(false);
  });
});

describe('isFinishingFrame', () => {
  test('is true for [DONE] and the Responses events that end a response, and for nothing else', () => {
    const event = (data: string) => ({ type: 'event' as const, data });
    expect(isFinishingFrame(event('[DONE]'))).toBe(true);
    for (const type of ['response.completed', 'response.incomplete', 'response.failed']) {
      expect(isFinishingFrame(event(JSON.stringify({ type, response: {} })))).toBe(true);
    }
    expect(isFinishingFrame(event(chatChunk))).toBe(false);
    expect(isFinishingFrame(event('{"type":"response.output_text.delta","delta":"\\"response.completed\\""}'))).toBe(false);
    expect(isFinishingFrame(event('"response.completed" but not JSON'))).toBe(false);
    expect(isFinishingFrame({ type: 'comment', text: '[DONE]' })).toBe(false);
    expect(isFinishingFrame(undefined)).toBe(false);
  });
});
