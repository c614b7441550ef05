// Builds dist/esm (ES modules) and dist/cjs (CommonJS), each with declarations, using plain tsc.
// Each output folder gets its own package.json "type" so Node and TypeScript read every .js and
// .d.ts file in the module format it was actually compiled to, and the root's "sideEffects" for
// bundlers. Each subpath export (`openai-rx/node`) also gets a folder with a package.json pointing
// into dist/cjs, for resolvers that predate "exports" (TypeScript's `moduleResolution: node10`,
// older bundlers); the package.json "exports" is the source.
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

const outputs = [
  { project: 'tsconfig.build.json', dir: 'dist/esm', type: 'module' },
  { project: 'tsconfig.build.cjs.json', dir: 'dist/cjs', type: 'commonjs' },
];

function compile(project) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, '-p', project], { cwd: root, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`tsc -p ${project} failed (${signal ?? `exit code ${code}`})`)),
    );
  });
}

const writeJson = (path, value) => writeFile(path, `${JSON.stringify(value, null, 2)}\n`);

/** Walks an "exports" target the way Node does, with the given conditions (in the map's order, "default" always matching). */
function resolveTarget(target, conditions) {
  if (typeof target === 'string') return target;
  for (const [condition, next] of Object.entries(target)) {
    if (condition === 'default' || conditions.includes(condition)) return resolveTarget(next, conditions);
  }
  return undefined;
}

/**
 * `{ "./testing": { node: { require: … }, require: … } }` → folder `testing/` with a package.json for resolvers
 * without "exports": `main` is the plain `require` build (an old bundler may be building for a browser), `types`
 * what TypeScript reads under the `node` condition (node10 is Node's own resolution), so that it names
 * everything the entry exports on Node (`startMockUpstream` in `openai-rx/testing`).
 */
function legacySubpaths(exportsMap) {
  return Object.entries(exportsMap)
    .filter(([subpath, target]) => subpath.startsWith('./') && typeof target === 'object')
    .map(([subpath, target]) => ({
      dir: join(root, subpath),
      main: resolveTarget(target, ['require']),
      types: resolveTarget(target, ['types', 'node', 'require'])?.replace(/\.js$/, '.d.ts'),
    }))
    .filter(({ main, types }) => main && types);
}

/** Refuses to overwrite a folder that holds anything but a generated package.json (say, a real source folder). */
async function assertGenerated(dir) {
  const entries = await readdir(dir).catch(() => []);
  if (entries.some((entry) => entry !== 'package.json')) {
    throw new Error(`${relative(root, dir)}/ holds more than a generated package.json; rename the subpath export`);
  }
}

/**
 * Modules that re-export pieces of `zod/v4/core` (see src/openai/zodRuntime.ts for why): each is replaced, compiled,
 * by a bundle of just those pieces, all of it zod's own code, for Node; browser bundlers get the re-export as tsc
 * wrote it, through package.json's "browser" map, which names them (`./dist/esm/openai/zodRuntime.js` →
 * `….browser.js`): the one list of them.
 */
async function bundleZodPieces(browserMap, { dir, type }) {
  const { build } = await import('esbuild');
  const pieces = Object.entries(browserMap).filter(([compiled]) => compiled.startsWith(`./${dir}/`));
  for (const [compiled, forBrowsers] of pieces) {
    const outfile = join(root, compiled);
    const source = join('src', relative(join(root, dir), outfile)).replace(/\.js$/, '.ts');
    // For browser bundlers: the plain re-export, which they tree-shake and share with the app's own zod, where a
    // second copy of zod's code would cost the bundle.
    await copyFile(outfile, join(root, forBrowsers));
    await build({
      entryPoints: [join(root, source)],
      outfile,
      allowOverwrite: true,
      bundle: true,
      format: type === 'module' ? 'esm' : 'cjs',
      platform: 'neutral',
      target: 'es2022',
      banner: { js: `// zod (MIT, https://github.com/colinhacks/zod): the pieces ${source} names.` },
      logLevel: 'warning',
    });
    // A bundle that still imports something (a piece of zod that stayed external) would load it unnoticed.
    const code = (await readFile(outfile, 'utf8')).replace(/^\/\/.*$/gm, '');
    if (/\bimport\s*[\s{*("']|\brequire\s*\(/.test(code)) throw new Error(`${relative(root, outfile)} still imports a module`);
  }
}

const { exports: exportsMap, sideEffects, browser: browserMap } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
const subpaths = legacySubpaths(exportsMap);

await Promise.all(subpaths.map(({ dir }) => assertGenerated(dir)));
await rm(join(root, 'dist'), { recursive: true, force: true });
await Promise.all(outputs.map(({ project }) => compile(project)));
// Bundlers read "sideEffects" from the package.json nearest to a file, which for dist is this one: without
// it a browser bundle keeps every module the entry re-exports (the relay, the resume store) unused.
for (const { dir, type } of outputs) {
  await mkdir(join(root, dir), { recursive: true });
  await writeJson(join(root, dir, 'package.json'), { type, sideEffects });
}
await Promise.all(outputs.map((output) => bundleZodPieces(browserMap, output)));
// The demo page's browser bundle, next to the compiled CLI: an installed package has no esbuild to make it.
const { writePrebuiltDemoBundle } = await import('../dist/esm/cli/demo/pageBundle.js');
await writePrebuiltDemoBundle();
for (const { dir, main, types } of subpaths) {
  await mkdir(dir, { recursive: true });
  await writeJson(join(dir, 'package.json'), { main: relative(dir, join(root, main)), types: relative(dir, join(root, types)) });
}
console.log(`built ${outputs.map(({ dir, type }) => `${dir} (${type})`).join(', ')}`);
