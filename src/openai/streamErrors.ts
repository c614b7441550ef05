import { APIError } from '../errors.js';
import { readErrorBody, readErrorObject } from '../sse/httpErrors.js';

/**
 * Finds an error inside a stream, in the shapes providers send: `event: error`
 * with any data (llama.cpp's bare `error: {"code":500,"message":…}` line arrives
 * as one), `data: {"error":{...}}` (OpenAI, OpenRouter; also beside
 * `choices`, with a numeric `code`), a flat `{"object":"error",…}` (vLLM) and
 * Responses' `{"type":"error",…}`. `json` is the parsed data, or `undefined`
 * when it was not JSON.
 */
export function streamErrorOf(event: string | undefined, json: unknown, data: string): APIError | undefined {
  const read =
    event === 'error'
      ? (readErrorBody(json) ?? { message: data || 'The server sent an error event' })
      : readErrorObject(json);
  if (!read) return undefined;
  return new APIError({ ...read, status: statusOf(read.code), body: json ?? data, inStream: true });
}

/** Some providers put the HTTP status in `code` (a number); that is the closest status there is. */
function statusOf(code: string | number | null | undefined): number | undefined {
  return typeof code === 'number' && code >= 400 && code < 600 ? code : undefined;
}
