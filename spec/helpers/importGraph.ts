import { build, type Metafile } from 'esbuild';
import { join } from 'node:path';

const repoRoot = join(__dirname, '..', '..');

/** What a set of entries loads in Node: every source file its static imports reach, and the packages they import. */
export interface ImportGraph {
  /** Repository-relative paths (`src/client.ts`). */
  files: string[];
  /** Package specifiers as imported (`zod/v4/core`), each once, sorted. */
  packages: string[];
}

/**
 * The static import graph of `entries` (repository-relative), packages left external as Node would load them.
 * Tree-shaking aside: a module reached by an import is loaded, whatever of it is used.
 *
 * @example
 * const { packages } = await importGraph(['src/index.node.ts']);
 */
export async function importGraph(entries: readonly string[]): Promise<ImportGraph> {
  const result = await build({
    entryPoints: entries.map((entry) => join(repoRoot, entry)),
    absWorkingDir: repoRoot,
    bundle: true,
    write: false,
    outdir: 'out',
    platform: 'node',
    format: 'esm',
    packages: 'external',
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.entries((result.metafile as Metafile).inputs);
  return {
    files: inputs.map(([file]) => file),
    packages: [...new Set(inputs.flatMap(([, input]) => input.imports.filter((imported) => imported.external).map((imported) => imported.path)))].sort(),
  };
}
