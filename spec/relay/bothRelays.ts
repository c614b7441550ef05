import { createFetchRelay, type RelayOptions } from '../../src/index.node';
import { createRelay } from '../../src/node';
import { serveFetch } from '../helpers/serveFetch';
import { listen, type Listening } from './relayHelpers';

/** A relay entry point served on 127.0.0.1:0, for specs that hold both to the same behaviour. */
export interface RelayKind {
  name: string;
  serve(options: RelayOptions<unknown>): Promise<Listening>;
}

/**
 * `createRelay` on node:http, and `createFetchRelay` served on node:http the
 * way fetch frameworks serve it.
 *
 * @example
 * describe.each(bothRelays)('$name', ({ serve }) => { ... await serve({ baseURL: upstream.url }) ... });
 */
export const bothRelays: readonly RelayKind[] = [
  { name: 'createRelay', serve: (options) => listen(createRelay(options)) },
  { name: 'createFetchRelay', serve: (options) => listen(serveFetch(createFetchRelay(options))) },
];
