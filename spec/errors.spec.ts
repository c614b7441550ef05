import {
  APIConnectionError,
  APIError,
  OpenAIRxError,
  StreamAbortError,
  StreamProtocolError,
  StreamTimeoutError,
  StreamTruncatedError,
  excerpt,
} from '../src/errors';


describe('error classes', () => {
  test.each([
    ['APIError', new APIError({ message: 'm', status: 400 })],
    ['APIConnectionError', new APIConnectionError({ message: 'm' })],
    ['StreamTimeoutError', new StreamTimeoutError({ phase: 'idle', timeoutMs: 100 })],
    ['StreamProtocolError', new StreamProtocolError({ message: 'm', problem: 'invalid-json', data: 'raw' })],
    ['StreamTruncatedError', new StreamTruncatedError({ message: 'm', partial: { chunks: 1 } })],
    ['StreamAbortError', new StreamAbortError({ reason: 'why' })],
  ])('%s is an OpenAIRxError with its own name', (name, error) => {
    expect(error).toBeInstanceOf(OpenAIRxError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(String(error)).toMatch(new RegExp(`^${name}: `));
  });

  test('what each keeps', () => {
    expect(new StreamTimeoutError({ phase: 'first-event', timeoutMs: 250 })).toMatchObject({ phase: 'first-event', timeoutMs: 250, message: "Stream timed out in phase 'first-event' after 250 ms" });
    expect(new StreamProtocolError({ message: 'm', problem: 'event-too-large' })).toMatchObject({ problem: 'event-too-large', data: undefined });
    expect(new APIError({ message: 'm' })).toMatchObject({ headers: {}, inStream: false, status: undefined });
    expect(new StreamAbortError({ reason: 'reason' }).reason).toBe('reason');
  });
});

describe('excerpt', () => {
  test('cuts long text and marks the cut', () => {
    expect(excerpt('abcdef', 3)).toBe('abc…');
    expect(excerpt('abc', 3)).toBe('abc');
  });
});
