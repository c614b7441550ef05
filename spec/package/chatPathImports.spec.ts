import { importGraph } from '../helpers/importGraph';

/** What a chat stream is made of, imported module by module rather than through the entry points (which re-export everything). */
const CHAT_PATH = ['client', 'nodeDefaults', 'openai/chatChunks', 'openai/contentDeltas', 'openai/accumulateChatCompletion'].map(
  (module) => `src/${module}.ts`,
);

/**
 * Modules a chat stream never needs, which every process that streams chat would load and keep: the relay, the
 * tool loop, structured output and its JSON Schema conversion, the CLI, the test helpers, the Redis store.
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
  const { files } = await importGraph(CHAT_PATH);

  expect(files).toEqual(expect.arrayContaining(['src/client.ts', 'src/openai/chatChunks.ts', 'src/sse/sseFrames.ts', 'src/transport/undiciTransport.ts']));
  expect(files.filter((file) => NOT_ON_THE_CHAT_PATH.some((pattern) => pattern.test(file)))).toEqual([]);
});

// zod/v4/core only through src/openai/zodRuntime.ts, which the build replaces with the pieces it names (pack.spec.ts
// shows that the installed package loads no zod module).
test('a chat stream loads only the packages it needs: zod core (not zod classic or zod/mini), rxjs, eventsource-parser, undici', async () => {
  const { packages } = await importGraph(CHAT_PATH);

  expect(packages).toEqual(['eventsource-parser', 'rxjs', 'undici', 'zod/v4/core']);
});

test('the check sees a module that does not belong (it is not vacuous)', async () => {
  // The CLI's chat command uses zod/mini: a module and a package the chat path must not load.
  const { files, packages } = await importGraph([...CHAT_PATH, 'src/cli/chat.ts']);

  expect(files.filter((file) => NOT_ON_THE_CHAT_PATH.some((pattern) => pattern.test(file)))).toContain('src/cli/chat.ts');
  expect(packages).toContain('zod/mini');
});
