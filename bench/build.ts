import { build, type Plugin } from 'esbuild';
import { readFileSync } from 'node:fs';
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
 * The modules openai-rx's build bundles zod's pieces into (scripts/build.mjs): those package.json's "browser" map
 * swaps back for bundlers, as sources (`./dist/esm/openai/zodRuntime.js` → src/openai/zodRuntime.ts).
 */
const ZOD_PIECES = new Set(
  Object.keys((JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { browser: Record<string, string> }).browser).map(
    (compiled) => fileURLToPath(new URL(compiled.replace(/^\.\/dist\/[^/]+\//, '../src/').replace(/\.js$/, '.ts'), import.meta.url)),
  ),
);

/**
 * Every package external, as `packages: 'external'` makes it, except what openai-rx's own build bundles: the zod
 * pieces. A child then loads what a process using the published package loads.
 */
const packagesAsPublished: Plugin = {
  name: 'packages-as-published',
  setup(plugin) {
    plugin.onResolve({ filter: /^[^./]/ }, ({ importer }) => (ZOD_PIECES.has(importer) ? undefined : { external: true }));
  },
};
