import { buildClient, type ClientOptions, type OpenAIRxClient } from './client.js';
import { buildFetchRelay, type FetchRelay, type FetchRelayOptions } from './relay/fetchRelay.js';
import { fetchTransport } from './transport/fetchTransport.js';

export * from './api.js';

/**
 * A client whose requests are cold Observables. In this (browser and
 * non-Node) build the default transport is the platform's `fetch`.
 *
 * @example
 * const client = createClient({ baseURL: '/v1' });
 * client.chat.completions.stream({ model, messages }).pipe(contentDeltas()).subscribe(append);
 */
export function createClient(options: ClientOptions = {}): OpenAIRxClient {
  return buildClient({ ...options, transport: options.transport ?? fetchTransport() });
}

/**
 * The relay as a fetch handler, `(Request) => Promise<Response>`, for Next.js
 * route handlers, Hono, Deno, Bun and workers. In this build the upstream
 * transport defaults to the platform's `fetch`.
 *
 * @example
 * const relay = createFetchRelay({ apiKey: env.OPENAI_API_KEY, prefix: '/api/v1' });
 * export const POST = (request: Request) => relay(request);
 */
export function createFetchRelay(options: FetchRelayOptions = {}): FetchRelay {
  return buildFetchRelay({ ...options, transport: options.transport ?? fetchTransport() });
}
