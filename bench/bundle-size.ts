import { build, type Metafile } from 'esbuild';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

/**
 * How much a browser app pays for a typical `openai-rx` import, measured the way the app's bundler sees the
 * package: `import { … } from 'openai-rx'` resolved in a project where the package is installed (the browser
 * condition: dist/esm), bundled by esbuild (platform browser, rxjs external, minified), gzipped at level 9.
 */
export interface BundleSizeReport {
  /** The names imported from `openai-rx`. */
  imports: readonly string[];
  minifiedBytes: number;
  gzipBytes: number;
  /** esbuild's warnings (e.g. a Node built-in that slipped into the browser build); empty when clean. */
  warnings: string[];
  /** Bytes of minified output per package (`openai-rx` for the package itself), largest first. */
  byPackage: Array<{ name: string; bytes: number }>;
  /** Bytes of minified output per module of `openai-rx` (`sse/sseFrames`), largest first. */
  byModule: Array<{ name: string; bytes: number }>;
}

export interface BundleSizeConfig {
  /** Defaults to {@link TYPICAL_IMPORTS}. */
  imports?: readonly string[];
  /** Where `openai-rx` resolves from: a project with the package installed in its node_modules. */
  consumerDir: string;
  /** Folders searched for the package's own dependencies when the consumer has none installed. */
  nodePaths?: string[];
}

export const TYPICAL_IMPORTS = ['createClient', 'chatChunks', 'contentDeltas', 'accumulateChatCompletion'] as const;

/** The size budget for {@link TYPICAL_IMPORTS}, min+gzip. */
export const GZIP_BUDGET_BYTES = 15 * 1024;

/**
 * How far under {@link GZIP_BUDGET_BYTES} the typical import must stay: room for the next small feature, so that
 * a change which eats it fails here and is a decision, not a surprise found when the budget itself is crossed.
 */
export const GZIP_MARGIN_BYTES = 512;

/** The largest min+gzip size the typical import may have: the budget less the margin. */
export const GZIP_LIMIT_BYTES = GZIP_BUDGET_BYTES - GZIP_MARGIN_BYTES;

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export async function measureBundleSize(config: BundleSizeConfig): Promise<BundleSizeReport> {
  const imports = config.imports ?? TYPICAL_IMPORTS;
  const result = await build({
    stdin: { contents: `export { ${imports.join(', ')} } from 'openai-rx';`, resolveDir: config.consumerDir, loader: 'js' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    external: ['rxjs', 'rxjs/*'],
    nodePaths: config.nodePaths,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  const inputs = bytesByInput(result.metafile);
  return {
    imports,
    minifiedBytes: code.byteLength,
    gzipBytes: gzipSync(code, { level: 9 }).byteLength,
    warnings: result.warnings.map((warning) => warning.text),
    byPackage: totals(inputs.map(({ path, bytes }) => ({ name: packageOf(path), bytes }))),
    byModule: totals(
      inputs.flatMap(({ path, bytes }) => {
        const module = /node_modules\/openai-rx\/dist\/esm\/(.+)\.js$/.exec(path)?.[1];
        return module ? [{ name: module, bytes }] : [];
      }),
    ),
  };
}

/**
 * Packs this repository as `npm publish` would (the files `npm pack` lists, from the current build) into a
 * scratch project's node_modules, and measures the bundle there; the package's dependencies resolve from this
 * repository's node_modules. Run `npm run build` first: the measure is of dist/, not of src/.
 */
export async function measurePackedBundleSize(imports: readonly string[] = TYPICAL_IMPORTS): Promise<BundleSizeReport> {
  const consumerDir = await mkdtemp(join(tmpdir(), 'openai-rx-bundle-'));
  try {
    await installPackedFiles(join(consumerDir, 'node_modules', 'openai-rx'));
    return await measureBundleSize({ imports, consumerDir, nodePaths: [join(repoRoot, 'node_modules')] });
  } finally {
    await rm(consumerDir, { recursive: true, force: true });
  }
}

async function installPackedFiles(packageDir: string): Promise<void> {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const { stdout } = await promisify(execFile)(npm, ['pack', '--dry-run', '--json', '--ignore-scripts', '--loglevel=error'], {
    cwd: repoRoot,
    shell: process.platform === 'win32',
  });
  const [{ files }] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
  if (!files.some(({ path }) => path === 'dist/esm/index.js')) throw new Error('dist/esm/index.js is missing: run `npm run build` first');
  for (const { path } of files) {
    await mkdir(dirname(join(packageDir, path)), { recursive: true });
    await copyFile(join(repoRoot, path), join(packageDir, path));
  }
}

function bytesByInput(metafile: Metafile): Array<{ path: string; bytes: number }> {
  return Object.values(metafile.outputs).flatMap((output) =>
    Object.entries(output.inputs).map(([path, { bytesInOutput }]) => ({ path, bytes: bytesInOutput })),
  );
}

/** The package an input belongs to: the last `node_modules/<name>` in its path. */
function packageOf(path: string): string {
  return [...path.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)].at(-1)?.[1] ?? '(entry)';
}

function totals(entries: Array<{ name: string; bytes: number }>): Array<{ name: string; bytes: number }> {
  const byName = new Map<string, number>();
  for (const { name, bytes } of entries) byName.set(name, (byName.get(name) ?? 0) + bytes);
  return [...byName]
    .filter(([, bytes]) => bytes > 0)
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes);
}

/** One line for logs and bench output. */
export function formatBundleSize(report: BundleSizeReport): string {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  const parts = report.byPackage.map(({ name, bytes }) => `${name} ${kb(bytes)}`).join(', ');
  const verdict = report.gzipBytes <= GZIP_BUDGET_BYTES ? 'within' : 'OVER';
  const margin = report.gzipBytes <= GZIP_LIMIT_BYTES ? 'kept' : 'SHORT';
  return (
    `bundle-size { ${report.imports.join(', ')} }: min ${report.minifiedBytes} B (${kb(report.minifiedBytes)}), ` +
    `min+gzip ${report.gzipBytes} B (${kb(report.gzipBytes)}, ${verdict} the ${kb(GZIP_BUDGET_BYTES)} budget by ` +
    `${Math.abs(GZIP_BUDGET_BYTES - report.gzipBytes)} B, margin of ${GZIP_MARGIN_BYTES} B ${margin}); ` +
    `minified by package: ${parts}; warnings: ${report.warnings.length}`
  );
}

// `node --import tsx bench/bundle-size.ts` packs this repository; `… --installed-in <dir>` measures the package
// installed in that project instead (spec/package/pack.spec.ts installs the tarball and runs this).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { 'installed-in': { type: 'string' } } });
  const consumerDir = values['installed-in'];
  const report = consumerDir ? await measureBundleSize({ consumerDir }) : await measurePackedBundleSize();
  console.log(formatBundleSize(report));
  for (const { name, bytes } of report.byModule) console.log(`  ${String(bytes).padStart(6)} B  ${name}`);
  for (const warning of report.warnings) console.warn(`warning: ${warning}`);
  // Bytes, unlike timings, are the same on every machine: eating into the margin is a failure.
  if (report.warnings.length > 0 || report.gzipBytes > GZIP_LIMIT_BYTES) process.exitCode = 1;
}
