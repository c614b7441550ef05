import { runInNewContext } from 'node:vm';
import { inspect } from 'node:util';
import { APIConnectionError, APIError, OpenAIRxError, StreamProtocolError, excerpt } from '../src/errors';
import { createRedactor, credentialsIn } from '../src/redaction';

const KEY = 'sk-live-abcdef0123456789';
const redact = <E>(error: E): E => createRedactor([KEY]).error(error);

describe('createRedactor(secrets).error', () => {
  test('removes the secret from every string the error holds, in place', () => {
    const cause = new Error(`socket to ${KEY}`);
    const error = new APIError({
      message: `401 Bad key ${KEY}`,
      body: { error: { message: `key ${KEY}`, list: [KEY, 1, null] } },
      headers: { 'x-echo': KEY },
    });
    Object.defineProperty(error, 'cause', { value: cause, enumerable: false });
    expect(redact(error)).toBe(error);
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
    const error = new StreamProtocolError({ message, problem: 'invalid-json', data: KEY });
    redact(error);
    expect(error.message).toBe(`Bad data: ${'x'.repeat(20)}[redacted]…`);
    expect(error.data).toBe('[redacted]');
    // A cut that leaves only a few characters of the secret reveals nothing and is left as it is.
    expect(redact(new OpenAIRxError({ message: 'ends with sk-l…' })).message).toBe('ends with sk-l…');
  });

  test('errors from another realm, as causes or as the error itself', () => {
    const ForeignError = runInNewContext('Error') as ErrorConstructor;
    const foreign = new ForeignError(`connect to ${KEY}`);
    expect(foreign instanceof Error).toBe(false);
    const error = new APIConnectionError({ message: 'failed', cause: foreign });
    redact(error);
    expect(foreign.message).toBe('connect to [redacted]');
    expect(redact(new ForeignError(KEY)).message).toBe('[redacted]');
  });

  test('survives cycles and frozen objects; leaves non-errors and empty secrets alone', () => {
    const body: Record<string, unknown> = { text: KEY };
    body.self = body;
    const frozen = Object.freeze({ text: KEY });
    const error = new APIError({ message: 'm', body: { body, frozen } });
    expect(() => redact(error)).not.toThrow();
    expect(body.text).toBe('[redacted]');
    const plain = { message: KEY };
    expect(redact(plain)).toEqual({ message: KEY });
    expect(createRedactor(['']).error(new OpenAIRxError({ message: KEY })).message).toBe(KEY);
    expect(createRedactor([undefined]).error(new OpenAIRxError({ message: KEY })).message).toBe(KEY);
  });
});

describe('createRedactor(secrets).error over hostile bodies', () => {
  test('a body nested 100,000 levels deep is walked without overflowing the stack', () => {
    let body: unknown = KEY;
    for (let depth = 0; depth < 100_000; depth++) body = depth % 2 ? [body] : { inner: body };
    const error = new APIError({ message: 'm', body });
    expect(() => redact(error)).not.toThrow();
    let inner: unknown = error.body;
    while (typeof inner === 'object' && inner !== null) inner = Array.isArray(inner) ? inner[0] : (inner as { inner: unknown }).inner;
    expect(inner).toBe('[redacted]');
  });
});

describe('createRedactor(secrets).text', () => {
  test('a secret containing another is covered by the inner one; empty secrets are ignored', () => {
    const redactor = createRedactor([`Bearer ${KEY}`, KEY, '', undefined]);
    expect(redactor.active).toBe(true);
    expect(redactor.text(`a Bearer ${KEY} b ${KEY}`)).toBe('a Bearer [redacted] b [redacted]');
    expect(createRedactor(['', undefined]).active).toBe(false);
  });
});

describe('credentialsIn', () => {
  test('every credential header, and a bearer or basic token alone', () => {
    expect(
      credentialsIn({ Authorization: `Bearer ${KEY}`, 'api-key': 'azure', 'x-api-key': 'anthropic', 'proxy-authorization': 'Basic dXNlcjpwYXNz', accept: 'x' }),
    ).toEqual([`Bearer ${KEY}`, KEY, 'azure', 'anthropic', 'Basic dXNlcjpwYXNz', 'dXNlcjpwYXNz']);
  });
});
