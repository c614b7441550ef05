import { build, type Metafile } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/**
 * How much a browser app pays for a typical `openai-rx` import: the browser
 * entry bundled by esbuild (platform browser, rxjs external, minified), then
 * gzipped at level 9.
 */
export interface BundleSizeReport {
  /** The names imported from the browser entry. */
  imports: readonly string[];
  minifiedBytes: number;
  gzipBytes: number;
  /** esbuild's warnings (e.g. a Node built-in that slipped into the browser build); empty when clean. */
  warnings: string[];
  /** Bytes of minified output per package (`openai-rx` for our own sources), largest first. */
  byPackage: Array<{ name: string; bytes: number }>;
}

export interface BundleSizeConfig {
  /** Defaults to {@link TYPICAL_IMPORTS}. */
  imports?: readonly string[];
  /** The browser entry to import from; defaults to this repository's `src/index.ts`. */
  entry?: string;
}

export const TYPICAL_IMPORTS = ['createClient', 'chatChunks', 'contentDeltas', 'accumulateChatCompletion'] as const;

/** The size budget for {@link TYPICAL_IMPORTS}, min+gzip. */
export const GZIP_BUDGET_BYTES = 15 * 1024;

const defaultEntry = fileURLToPath(new URL('../src/index.ts', import.meta.url));

export async function measureBundleSize(config: BundleSizeConfig = {}): Promise<BundleSizeReport> {
  const imports = config.imports ?? TYPICAL_IMPORTS;
  const entry = config.entry ?? defaultEntry;
  const result = await build({
    stdin: {
      contents: `export { ${imports.join(', ')} } from ${JSON.stringify(entry)};`,
      resolveDir: process.cwd(),
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    external: ['rxjs', 'rxjs/*'],
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  return {
    imports,
    minifiedBytes: code.byteLength,
    gzipBytes: gzipSync(code, { level: 9 }).byteLength,
    warnings: result.warnings.map((warning) => warning.text),
    byPackage: bytesByPackage(result.metafile),
  };
}

function bytesByPackage(metafile: Metafile): Array<{ name: string; bytes: number }> {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? 'openai-rx';
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/** One line for logs and bench output. */
export function formatBundleSize(report: BundleSizeReport): string {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  const parts = report.byPackage.map(({ name, bytes }) => `${name} ${kb(bytes)}`).join(', ');
  const verdict = report.gzipBytes <= GZIP_BUDGET_BYTES ? 'within' : 'OVER';
  return (
    `bundle-size { ${report.imports.join(', ')} }: min ${report.minifiedBytes} B (${kb(report.minifiedBytes)}), ` +
    `min+gzip ${report.gzipBytes} B (${kb(report.gzipBytes)}, ${verdict} the ${kb(GZIP_BUDGET_BYTES)} budget); ` +
    `minified by package: ${parts}; warnings: ${report.warnings.length}`
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const report = await measureBundleSize();
  console.log(formatBundleSize(report));
  for (const warning of report.warnings) console.warn(`warning: ${warning}`);
  // Bytes, unlike timings, are the same on every machine: over budget is a failure (spec/package runs this).
  if (report.warnings.length > 0 || report.gzipBytes > GZIP_BUDGET_BYTES) process.exitCode = 1;
}
