import { build, type Metafile } from 'esbuild';
import { join } from 'node:path';

const repoRoot = join(__dirname, '..', '..');

/** Every module and package a source's static imports reach (tree-shaking aside: what Node loads). */
async function importGraph(source: string): Promise<{ modules: string[]; packages: string[] }> {
  const result = await build({
    stdin: { contents: source, resolveDir: repoRoot, loader: 'ts' },
    absWorkingDir: repoRoot,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.entries((result.metafile as Metafile).inputs);
  return {
    modules: inputs.map(([path]) => path).filter((path) => path.startsWith('src/')),
    packages: [...new Set(inputs.flatMap(([, input]) => input.imports.filter((imported) => imported.external).map((imported) => imported.path)))].sort(),
  };
}

/** What a chat stream is made of, imported module by module rather than through the entry points (which re-export everything). */
const CHAT_PATH = ['client', 'nodeDefaults', 'openai/chatChunks', 'openai/contentDeltas', 'openai/accumulateChatCompletion']
  .map((module) => `export * from './src/${module}';`)
  .join('\n');

/**
 * Modules a chat stream never needs, each with what it would cost every process that streams chat: the relay,
 * the tool loop, structured output and its JSON Schema conversion, the CLI, the test helpers, the Redis store.
 */
const NOT_ON_THE_CHAT_PATH = [
  /^src\/relay\//,
  /^src\/tools\//,
  /^src\/cli\//,
  /^src\/testing\//,
  /^src\/resume\/(?!client)/,
  /^src\/operators\/(?!retryStream\.ts$)/,
  /^src\/openai\/(zodFormats|strictJsonSchema)\.ts$/,
  /^src\/(opentelemetry|redis)\.ts$/,
  /^src\/telemetry\/(?!observeOperation\.ts$)/,
];

test('a chat stream loads only the modules it needs: no relay, tools, structured output, CLI or test helpers', async () => {
  const { modules } = await importGraph(CHAT_PATH);

  expect(modules).toEqual(expect.arrayContaining(['src/client.ts', 'src/openai/chatChunks.ts', 'src/sse/sseFrames.ts', 'src/transport/undiciTransport.ts']));
  expect(modules.filter((module) => NOT_ON_THE_CHAT_PATH.some((pattern) => pattern.test(module)))).toEqual([]);
});

test('a chat stream loads only the packages it needs: zod core (not zod classic or zod/mini), rxjs, eventsource-parser, undici', async () => {
  const { packages } = await importGraph(CHAT_PATH);

  expect(packages).toEqual(['eventsource-parser', 'rxjs', 'undici', 'zod/v4/core']);
});

test('the check sees a module that does not belong (it is not vacuous)', async () => {
  const { modules, packages } = await importGraph(`${CHAT_PATH}\nexport * from './src/tools/runTools';`);

  expect(modules.filter((module) => NOT_ON_THE_CHAT_PATH.some((pattern) => pattern.test(module)))).toContain('src/tools/runTools.ts');
  expect(packages).toContain('zod/mini');
});
