import type { ResumeStore } from '../resume/types.js';
import { UsageError } from './exitCodes.js';
import type { Stoppable } from './serveUntilStopped.js';

/** `--redis <url>`: the resume store every relay instance on this Redis shares, and what closes it on stop. */
export async function redisStoreFrom(url: string): Promise<{ store: ResumeStore; stoppable: Stoppable }> {
  if (!/^rediss?:\/\//.test(url)) throw new UsageError(`--redis takes a redis:// or rediss:// URL, not ${JSON.stringify(url.slice(0, 40))}`);
  let redisResumeStore: typeof import('../redis.js').redisResumeStore;
  try {
    // `redis` is an optional peer dependency: loaded only when asked for.
    ({ redisResumeStore } = await import('../redis.js'));
  } catch {
    throw new UsageError('--redis needs the redis package: npm install redis');
  }
  const store = redisResumeStore({ url });
  return { store, stoppable: { activeRequests: () => 0, close: () => store.close() } };
}
