import { buildClient, type ClientOptions, type OpenAIRxClient } from './client.js';
import { buildFetchRelay, type FetchRelay, type FetchRelayOptions } from './relay/fetchRelay.js';
import { withNodeDefaults } from './nodeDefaults.js';

export * from './api.js';

/**
 * A client whose requests are cold Observables. On Node the default transport
 * is undici, and `apiKey` / `baseURL` default to `OPENAI_API_KEY` /
 * `OPENAI_BASE_URL`.
 *
 * @example
 * const client = createClient();
 * client.chat.completions.stream({ model, messages }).pipe(contentDeltas()).subscribe(write);
 */
export function createClient(options: ClientOptions = {}): OpenAIRxClient {
  return buildClient(withNodeDefaults(options));
}

/**
 * The relay as a fetch handler, `(Request) => Promise<Response>`. On Node the
 * upstream transport is undici, and `apiKey` / `baseURL` default to
 * `OPENAI_API_KEY` / `OPENAI_BASE_URL`.
 *
 * @example
 * const relay = createFetchRelay({ allowModels: ['gpt-4o-mini'] });
 * export const POST = (request: Request) => relay(request);
 */
export function createFetchRelay(options: FetchRelayOptions = {}): FetchRelay {
  return buildFetchRelay(withNodeDefaults(options));
}
