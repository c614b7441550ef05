import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';

// `redis` (node-redis) is an optional peer: only `openai-rx/redis` may load it, so `openai-rx` works without it.

const repoRoot = join(__dirname, '..');

/** Every package and source file an entry loads (packages left external, as Node would load them). */
async function loads(entry: string): Promise<{ packages: string[]; files: string[] }> {
  const result = await build({
    entryPoints: [join(repoRoot, entry)],
    absWorkingDir: repoRoot,
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.entries((result.metafile as Metafile).inputs);
  return {
    packages: inputs.flatMap(([, input]) => input.imports.filter((imported) => imported.external).map((imported) => imported.path)),
    files: inputs.map(([file]) => file),
  };
}

test.each(['src/index.ts', 'src/index.node.ts', 'src/node.ts'])('%s loads neither redis nor the Redis store', async (entry) => {
  const { packages, files } = await loads(entry);
  expect(packages.filter((name) => name === 'redis' || name.startsWith('@redis/'))).toEqual([]);
  expect(files.filter((file) => file.includes('resume/redis'))).toEqual([]);
});

test('src/redis.ts (openai-rx/redis) loads redis', async () => {
  const { packages } = await loads('src/redis.ts');
  expect(packages).toContain('redis');
});
