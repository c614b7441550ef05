import {
  APIConnectionError,
  APIError,
  InvalidRequestError,
  StreamAbortError,
  StreamProtocolError,
  StreamTimeoutError,
  StreamTruncatedError,
} from '../../src/index.node';
import { errorTypeOf, isCancellation } from '../../src/telemetry/errorType';

test.each([
  ['an HTTP error: its status', new APIError({ message: 'Rate limited', status: 429, code: 'rate_limit_exceeded' }), '429'],
  ['an in-stream error with a status in its code', new APIError({ message: 'bad', status: 400, inStream: true }), '400'],
  ["an in-stream error: the provider's code", new APIError({ message: 'x', code: 'server_error', inStream: true }), 'server_error'],
  ['an in-stream error without a usable code', new APIError({ message: 'x', code: 'not a label, has spaces', inStream: true }), 'APIError'],
  ['a timeout', new StreamTimeoutError({ phase: 'idle', timeoutMs: 10 }), 'StreamTimeoutError'],
  ['a broken connection', new APIConnectionError({ message: 'reset' }), 'APIConnectionError'],
  ['a protocol error', new StreamProtocolError({ message: 'bad JSON', problem: 'invalid-json' }), 'StreamProtocolError'],
  ['a cut stream', new StreamTruncatedError({ message: 'cut', partial: undefined }), 'StreamTruncatedError'],
  ['a request that cannot be sent', new InvalidRequestError({ message: 'CR in header' }), 'InvalidRequestError'],
  ['a foreign error', new TypeError('boom'), '_OTHER'],
  ['something thrown that is no error', 'boom', '_OTHER'],
])('%s', (_name, error, errorType) => {
  expect(errorTypeOf(error)).toBe(errorType);
});

test("only the caller's AbortSignal is a cancellation", () => {
  expect(isCancellation(new StreamAbortError())).toBe(true);
  expect(isCancellation(new StreamTimeoutError({ phase: 'total', timeoutMs: 1 }))).toBe(false);
  expect(isCancellation(undefined)).toBe(false);
});
