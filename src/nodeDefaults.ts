import type { ClientOptions } from './client.js';
import type { Transport } from './transport/types.js';
import { undiciTransport } from './transport/undiciTransport.js';

/**
 * On Node a client or relay talks to upstream through undici, with the key and
 * base URL from `OPENAI_API_KEY` / `OPENAI_BASE_URL` unless given.
 */
export function withNodeDefaults<O extends Pick<ClientOptions, 'apiKey' | 'baseURL' | 'transport'>>(options: O): O & { transport: Transport } {
  return {
    ...options,
    apiKey: options.apiKey ?? process.env.OPENAI_API_KEY,
    baseURL: options.baseURL ?? (process.env.OPENAI_BASE_URL || undefined),
    transport: options.transport ?? undiciTransport(),
  };
}
