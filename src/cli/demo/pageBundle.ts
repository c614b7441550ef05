import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DemoBundleError } from '../exitCodes.js';

/*
 * The demo page's script is src/cli/demo/page.ts bundled for the browser
 * (openai-rx's browser entry and rxjs in one file). Run from source (tsx,
 * `npm start`), it is bundled with esbuild at start-up, so an edit shows on the
 * next start. `npm run build` writes the bundle next to the compiled CLI
 * (dist/esm/cli/demo/page.bundle.js), and the built CLI serves that file: an
 * installed package has no esbuild (a devDependency). Without the file the
 * built CLI bundles dist/esm/cli/demo/page.js if esbuild can be found.
 */

const here = dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
const PAGE_ENTRY = join(here, fromSource ? 'page.ts' : 'page.js');
export const PREBUILT_BUNDLE = join(here, 'page.bundle.js');

export interface DemoBundle {
  code: string;
  /** `esbuild`: bundled now; `prebuilt`: the file `npm run build` wrote. */
  origin: 'esbuild' | 'prebuilt';
}

export async function loadDemoBundle(): Promise<DemoBundle> {
  if (!fromSource) {
    const code = await readFile(PREBUILT_BUNDLE, 'utf8').catch(() => undefined);
    if (code !== undefined) return { code, origin: 'prebuilt' };
  }
  return { code: await bundleDemoPage(), origin: 'esbuild' };
}

/** Bundles the page script with esbuild, for the browser, minified. */
export async function bundleDemoPage(): Promise<string> {
  const esbuild = await import('esbuild').catch(() => undefined);
  if (!esbuild) {
    throw new DemoBundleError(
      `the demo page bundle ${PREBUILT_BUNDLE} is missing and esbuild is not installed: run \`npm run build\` in the openai-rx checkout, or install esbuild`,
    );
  }
  try {
    const result = await esbuild.build({
      entryPoints: [PAGE_ENTRY],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      legalComments: 'none',
      logLevel: 'silent',
    });
    return result.outputFiles[0].text;
  } finally {
    // esbuild keeps a service process for later builds; there are none.
    await esbuild.stop();
  }
}

/** Called by `npm run build` (scripts/build.mjs) after compiling: writes {@link PREBUILT_BUNDLE}. */
export async function writePrebuiltDemoBundle(): Promise<string> {
  await writeFile(PREBUILT_BUNDLE, await bundleDemoPage());
  return PREBUILT_BUNDLE;
}
