import { APIError } from '../errors.js';
import { readErrorObject } from '../sse/httpErrors.js';

/**
 * Finds an error inside a stream, in the shapes providers send: `event: error`
 * with any data, `data: {"error":{...}}` (OpenAI, OpenRouter; also beside
 * `choices`, with a numeric `code`), a flat `{"object":"error",…}` (vLLM) and
 * Responses' `{"type":"error",…}`. `json` is the parsed data, or `undefined`
 * when it was not JSON.
 */
export function streamErrorOf(event: string | undefined, json: unknown, data: string): APIError | undefined {
  const read = readErrorObject(json);
  if (read) return new APIError({ ...read, status: statusOf(read.code), body: json, inStream: true });
  if (event === 'error') {
    return new APIError({ message: data || 'The server sent an error event', body: json ?? data, inStream: true });
  }
  return undefined;
}

/** Some providers put the HTTP status in `code` (a number); that is the closest status there is. */
function statusOf(code: string | number | null | undefined): number | undefined {
  return typeof code === 'number' && code >= 400 && code < 600 ? code : undefined;
}
