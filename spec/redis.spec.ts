import { importGraph } from './helpers/importGraph';

// `redis` (node-redis) is an optional peer: only `openai-rx/redis` may load it, so `openai-rx` works without it.

test.each(['src/index.ts', 'src/index.node.ts', 'src/node.ts'])('%s loads neither redis nor the Redis store', async (entry) => {
  const { packages, files } = await importGraph([entry]);
  expect(packages.filter((name) => name === 'redis' || name.startsWith('@redis/'))).toEqual([]);
  expect(files.filter((file) => file.includes('resume/redis'))).toEqual([]);
});

test('src/redis.ts (openai-rx/redis) loads redis', async () => {
  const { packages } = await importGraph(['src/redis.ts']);
  expect(packages).toContain('redis');
});
