import type { RedisClientType } from 'redis';

/** Every key under `prefix` (SCAN, bounded). */
export async function keysUnder(redis: RedisClientType, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of redis.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 })) {
    keys.push(...page);
    if (keys.length > 1_000_000) throw new Error('too many keys');
  }
  return keys;
}

/** Keys under `prefix` without a TTL (a key gone since the SCAN is not one). */
export async function keysWithoutTtl(redis: RedisClientType, prefix: string): Promise<string[]> {
  const keys = await keysUnder(redis, prefix);
  const ttls = await Promise.all(keys.map((key) => redis.pTTL(key)));
  return keys.filter((_key, index) => ttls[index] === -1);
}
