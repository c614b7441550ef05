import { buildClient, type ClientOptions, type OpenAIRxClient } from './client.js';
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
