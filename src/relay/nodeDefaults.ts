import type { Transport } from '../transport/types.js';
import { undiciTransport } from '../transport/undiciTransport.js';
import type { RelayOptions } from './types.js';

/** On Node a relay talks to upstream through undici, with the key and base URL from `OPENAI_API_KEY` / `OPENAI_BASE_URL`. */
export function withNodeDefaults<Req>(options: RelayOptions<Req>): RelayOptions<Req> & { transport: Transport } {
  return {
    ...options,
    apiKey: options.apiKey ?? process.env.OPENAI_API_KEY,
    baseURL: options.baseURL ?? (process.env.OPENAI_BASE_URL || undefined),
    transport: options.transport ?? undiciTransport(),
  };
}
