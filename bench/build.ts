import { build, type Plugin } from 'esbuild';
import { fileURLToPath } from 'node:url';

/**
 * The bench's child processes (upstream, relays, client workers) are bundled once per run with esbuild and run on
 * plain `node`: no TypeScript loader in their memory, CPU time or start-up, so a client's figures are its own.
 * Packages stay external (resolved from node_modules); openai-rx's sources are bundled as they are, unminified,
 * so that CPU profiles name its functions.
 */
export const CHILD_SCRIPTS = ['upstream', 'relayServer', 'resumeRelayServer', 'worker'] as const;
export type ChildScript = (typeof CHILD_SCRIPTS)[number];

export const buildDir = new URL('../.bench-tmp/build/', import.meta.url);

export async function buildChildScripts(): Promise<void> {
  await build({
    entryPoints: CHILD_SCRIPTS.map((name) => fileURLToPath(new URL(`./${name}.ts`, import.meta.url))),
    outdir: fileURLToPath(buildDir),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    plugins: [packagesAsPublished],
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
}

export function childScriptPath(name: ChildScript): string {
  return fileURLToPath(new URL(`${name}.mjs`, buildDir));
}

/**
 * Every package external, as `packages: 'external'` makes it, except what openai-rx's own build bundles: the zod
 * pieces src/openai/zodRuntime.ts and zodJsonSchema.ts name (scripts/build.mjs). A child then loads what a process
 * using the published package loads.
 */
const packagesAsPublished: Plugin = {
  name: 'packages-as-published',
  setup(plugin) {
    plugin.onResolve({ filter: /^[^./]/ }, ({ importer }) => (/[\\/]src[\\/]openai[\\/]zod(Runtime|JsonSchema)\.ts$/.test(importer) ? undefined : { external: true }));
  },
};
