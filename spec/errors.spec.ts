import { runInNewContext } from 'node:vm';
import { inspect } from 'node:util';
import {
  APIConnectionError,
  APIError,
  OpenAIRxError,
  StreamAbortError,
  StreamProtocolError,
  StreamTimeoutError,
  StreamTruncatedError,
  excerpt,
  redactSecret,
} from '../src/errors';

const KEY = 'sk-live-abcdef0123456789';

describe('error classes', () => {
  test.each([
    ['APIError', new APIError({ message: 'm', status: 400 })],
    ['APIConnectionError', new APIConnectionError('m')],
    ['StreamTimeoutError', new StreamTimeoutError('idle', 100)],
    ['StreamProtocolError', new StreamProtocolError('m', 'invalid-json', 'raw')],
    ['StreamTruncatedError', new StreamTruncatedError('m', { chunks: 1 })],
    ['StreamAbortError', new StreamAbortError('why')],
  ])('%s is an OpenAIRxError with its own name', (name, error) => {
    expect(error).toBeInstanceOf(OpenAIRxError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(String(error)).toMatch(new RegExp(`^${name}: `));
  });

  test('what each keeps', () => {
    expect(new StreamTimeoutError('first-event', 250)).toMatchObject({ phase: 'first-event', timeoutMs: 250, message: "Stream timed out in phase 'first-event' after 250 ms" });
    expect(new StreamProtocolError('m', 'event-too-large')).toMatchObject({ problem: 'event-too-large', data: undefined });
    expect(new APIError({ message: 'm' })).toMatchObject({ headers: {}, inStream: false, status: undefined });
    expect(new StreamAbortError('reason').reason).toBe('reason');
  });
});

describe('excerpt', () => {
  test('cuts long text and marks the cut', () => {
    expect(excerpt('abcdef', 3)).toBe('abc…');
    expect(excerpt('abc', 3)).toBe('abc');
  });
});

describe('redactSecret', () => {
  test('removes the secret from every string the error holds, in place', () => {
    const cause = new Error(`socket to ${KEY}`);
    const error = new APIError({
      message: `401 Bad key ${KEY}`,
      body: { error: { message: `key ${KEY}`, list: [KEY, 1, null] } },
      headers: { 'x-echo': KEY },
    });
    Object.defineProperty(error, 'cause', { value: cause, enumerable: false });
    expect(redactSecret(error, KEY)).toBe(error);
    expect(error.message).toBe('401 Bad key [redacted]');
    expect(error.stack).not.toContain(KEY);
    expect(error.body).toEqual({ error: { message: 'key [redacted]', list: ['[redacted]', 1, null] } });
    expect(error.headers['x-echo']).toBe('[redacted]');
    expect(cause.message).toBe('socket to [redacted]');
    expect(inspect(error, { depth: 10 })).not.toContain(KEY);
  });

  test('also the beginning of a secret that an excerpt cut short', () => {
    const message = `Bad data: ${excerpt(`${'x'.repeat(20)}${KEY}`, 30)}`;
    expect(message).toContain(KEY.slice(0, 10));
    const error = new StreamProtocolError(message, 'invalid-json', KEY);
    redactSecret(error, KEY);
    expect(error.message).toBe(`Bad data: ${'x'.repeat(20)}[redacted]…`);
    expect(error.data).toBe('[redacted]');
    // A cut that leaves only a few characters of the secret reveals nothing and is left as it is.
    expect(redactSecret(new OpenAIRxError('ends with sk-l…'), KEY).message).toBe('ends with sk-l…');
  });

  test('errors from another realm, as causes or as the error itself', () => {
    const ForeignError = runInNewContext('Error') as ErrorConstructor;
    const foreign = new ForeignError(`connect to ${KEY}`);
    expect(foreign instanceof Error).toBe(false);
    const error = new APIConnectionError('failed', { cause: foreign });
    redactSecret(error, KEY);
    expect(foreign.message).toBe('connect to [redacted]');
    expect(redactSecret(new ForeignError(KEY), KEY).message).toBe('[redacted]');
  });

  test('survives cycles and frozen objects; leaves non-errors and empty secrets alone', () => {
    const body: Record<string, unknown> = { text: KEY };
    body.self = body;
    const frozen = Object.freeze({ text: KEY });
    const error = new APIError({ message: 'm', body: { body, frozen } });
    expect(() => redactSecret(error, KEY)).not.toThrow();
    expect(body.text).toBe('[redacted]');
    const plain = { message: KEY };
    expect(redactSecret(plain, KEY)).toEqual({ message: KEY });
    expect(redactSecret(new OpenAIRxError(KEY), '').message).toBe(KEY);
    expect(redactSecret(new OpenAIRxError(KEY), undefined).message).toBe(KEY);
  });
});
