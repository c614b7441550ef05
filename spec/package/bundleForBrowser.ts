import { build, type Metafile } from 'esbuild';

export interface BrowserBundle {
  code: string;
  /** Every file esbuild pulled into the bundle, relative to `resolveDir`. */
  inputs: string[];
  warnings: string[];
  errors: string[];
}

/**
 * Bundles `source` (ESM text importing the library) the way a browser app's bundler would:
 * platform browser, so no `node` export condition, with rxjs left external as a peer.
 * Failures are returned, not thrown, so a test can show esbuild's own messages.
 */
export async function bundleForBrowser(source: string, resolveDir: string): Promise<BrowserBundle> {
  try {
    const result = await build({
      stdin: { contents: source, resolveDir, loader: 'ts' },
      absWorkingDir: resolveDir,
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      external: ['rxjs', 'rxjs/*'],
      metafile: true,
      logLevel: 'silent',
    });
    return {
      code: result.outputFiles.map((file) => file.text).join('\n'),
      inputs: Object.keys((result.metafile as Metafile).inputs),
      warnings: result.warnings.map((warning) => warning.text),
      errors: result.errors.map((error) => error.text),
    };
  } catch (failure) {
    const errors = (failure as { errors?: Array<{ text: string }> }).errors;
    if (!errors) throw failure;
    return { code: '', inputs: [], warnings: [], errors: errors.map((error) => error.text) };
  }
}
