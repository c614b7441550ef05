import { APIError } from '../../src/index.node';
import { errorInFrame } from '../../src/openai/streamErrors';
import { usageIn } from '../../src/openai/usage';

describe('usageIn', () => {
  test('finds usage in a chat chunk, in a Responses final event, and in a JSON body with spaces after colons', () => {
    expect(usageIn('{"choices":[],"usage":{"total_tokens":3}}')).toEqual({ total_tokens: 3 });
    expect(usageIn('{"type":"response.completed","response":{"usage":{"input_tokens":1}}}')).toEqual({ input_tokens: 1 });
    expect(usageIn('{"usage": {"total_tokens": 4}}')).toEqual({ total_tokens: 4 });
  });

  test('ignores chunks without usage or with usage null, and text that is not JSON', () => {
    expect(usageIn('{"choices":[{"delta":{"content":"usage"}}],"usage":null}')).toBeUndefined();
    expect(usageIn('{"choices":[]}')).toBeUndefined();
    expect(usageIn('"usage":{ not json')).toBeUndefined();
  });
});

describe('errorInFrame', () => {
  test.each([
    ['OpenAI', undefined, '{"error":{"message":"boom","type":"server_error","code":null}}', 'boom'],
    ['a plain string error', undefined, '{"error":"overloaded"}', 'overloaded'],
    ['vLLM', undefined, '{"object":"error","message":"bad","type":"BadRequestError","code":400}', 'bad'],
    ['Responses error event', 'error', '{"type":"error","message":"rate limited","code":"rate_limit_exceeded"}', 'rate limited'],
    [
      'Responses response.failed',
      'response.failed',
      '{"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"failed hard"}}}',
      'failed hard',
    ],
    ['event: error with text', 'error', 'upstream exploded', 'upstream exploded'],
  ])('%s', (_name, event, data, message) => {
    const error = errorInFrame({ type: 'event', event, data });
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ message, inStream: true });
  });

  test('ordinary events are not errors, even when they carry "error": null or the word error', () => {
    expect(errorInFrame({ type: 'event', data: '{"choices":[{"delta":{"content":"an error"}}]}' })).toBeUndefined();
    expect(errorInFrame({ type: 'event', data: '{"type":"response.created","response":{"error":null}}' })).toBeUndefined();
    expect(errorInFrame({ type: 'event', data: '[DONE]' })).toBeUndefined();
  });
});
