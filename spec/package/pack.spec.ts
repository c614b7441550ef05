import { execFile, spawn, type ExecFileOptions } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { watchChanges } from '../helpers/changes';
import { chatData, sseHead, startServer, type TestServer } from '../helpers/server';
import { bundleForBrowser } from './bundleForBrowser';

// Builds the package, packs it as `npm publish` would, installs the tarball into a fresh project
// and uses it from there, so the exports map, the dist folders and the dependencies are what a
// user gets. The child processes run asynchronously because the server lives in this process.
jest.setTimeout(180_000);

const execFileAsync = promisify(execFile);

/** Runs a command; on failure the error carries its output (tsc reports on stdout, npm on stderr). */
async function run(command: string, args: string[], options: ExecFileOptions): Promise<{ stdout: string }> {
  try {
    const { stdout } = await execFileAsync(command, args, { ...options, encoding: 'utf8' });
    return { stdout };
  } catch (failure) {
    const { stdout = '', stderr = '' } = failure as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout}${stderr}`, { cause: failure });
  }
}
const repoRoot = join(__dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const quietNpm = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

let workDir: string;
let consumerDir: string;
let server: TestServer;

interface Exports {
  node: string[];
  testing: string[];
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'openai-rx-pack-'));
  consumerDir = join(workDir, 'consumer');
  await run(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], { cwd: repoRoot });
  await run(npm, ['pack', '--ignore-scripts', '--pack-destination', workDir, ...quietNpm], { cwd: repoRoot });
  const [tarball] = (await readdir(workDir)).filter((name) => name.endsWith('.tgz'));
  await mkdir(consumerDir);
  await writeFile(join(consumerDir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  // What a TypeScript consumer on Node has beside the package: Node's types, and the optional peers it imports.
  const consumerTypes = await Promise.all(['@types/node', '@opentelemetry/api', 'redis'].map(async (name) => `${name}@${await installedVersion(name)}`));
  await run(npm, ['install', join(workDir, tarball), ...consumerTypes, ...quietNpm], { cwd: consumerDir });

  server = await startServer((_req, res) => {
    sseHead(res);
    res.write(chatData('Hel'));
    res.write(chatData('lo, '));
    res.write(chatData('packed world', 'stop'));
    res.end('data: [DONE]\n\n');
  });
});

async function installedVersion(name: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

afterAll(async () => {
  await server?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function runConsumer(file: string, source: string, env: Record<string, string> = {}): Promise<unknown> {
  await writeFile(join(consumerDir, file), source);
  const { stdout } = await run(process.execPath, [file], {
    cwd: consumerDir,
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 30_000,
  });
  return JSON.parse(stdout);
}

test('ESM: import from openai-rx resolves the Node build and streams a completion (env defaults)', async () => {
  const result = await runConsumer(
    'esm.mjs',
    `import { lastValueFrom, toArray } from 'rxjs';
     import { createClient, contentDeltas } from 'openai-rx';
     const deltas = await lastValueFrom(
       createClient().chat.completions.stream({ model: 'm', messages: [] }).pipe(contentDeltas(), toArray()),
     );
     console.log(JSON.stringify({ deltas, entry: import.meta.resolve('openai-rx') }));`,
    { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'sk-pack-esm' },
  );

  expect(result).toEqual({
    deltas: ['Hel', 'lo, ', 'packed world'],
    entry: expect.stringMatching(/\/node_modules\/openai-rx\/dist\/esm\/index\.node\.js$/),
  });
  expect(server.requests.some((request) => request.headers.authorization === 'Bearer sk-pack-esm')).toBe(true);
});

test('CommonJS: require("openai-rx") resolves the Node build and streams a completion', async () => {
  const result = await runConsumer(
    'cjs.cjs',
    `const { lastValueFrom, toArray } = require('rxjs');
     const { createClient, contentDeltas } = require('openai-rx');
     const client = createClient({ baseURL: process.env.BASE_URL, apiKey: 'sk-pack-cjs' });
     lastValueFrom(client.chat.completions.stream({ model: 'm', messages: [] }).pipe(contentDeltas(), toArray())).then(
       (deltas) => console.log(JSON.stringify({ text: deltas.join(''), entry: require.resolve('openai-rx') })),
     );`,
    { BASE_URL: server.url },
  );

  expect(result).toEqual({
    text: 'Hello, packed world',
    entry: expect.stringMatching(/\/node_modules\/openai-rx\/dist\/cjs\/index\.node\.js$/),
  });
  expect(server.requests.some((request) => request.headers.authorization === 'Bearer sk-pack-cjs')).toBe(true);
});

// zod/v4/core, the narrowest entry zod offers, loads 82 modules (64 of them its locales); the build bundles the few
// pieces of it openai-rx uses (src/openai/zodRuntime.ts, zodJsonSchema.ts). Those pieces must still meet the
// consumer's zod where they share state: schema metadata in zod's registry, and z.config().
const RECORD_ESM_RESOLUTIONS = `
  import { register } from 'node:module';
  import { MessageChannel } from 'node:worker_threads';
  const { port1, port2 } = new MessageChannel();
  const urls = [];
  let sentinelSeen;
  const sentinel = new Promise((resolve) => (sentinelSeen = resolve));
  port1.on('message', (url) => (url.endsWith('#sentinel') ? sentinelSeen() : urls.push(url)));
  const hooks = 'let port; export function initialize(data) { port = data.port; }' +
    'export async function resolve(specifier, context, next) { const found = await next(specifier, context); port.postMessage(found.url); return found; }';
  register('data:text/javascript,' + encodeURIComponent(hooks), { data: { port: port2 }, transferList: [port2] });
  /**
   * Every module resolved while \`load\` ran: the hooks post in order, so the sentinel's comes after them all. A copy:
   * the port may still deliver what a later import resolves after \`close()\` (CI once saw zod's own import here).
   */
  async function resolvedWhile(load) {
    await load();
    await import('data:text/javascript,export default 1#sentinel');
    await sentinel;
    const resolved = [...urls];
    port1.close();
    return resolved;
  }
`;

test('the installed package loads no zod module (ESM and CommonJS), and the zod pieces it bundles meet the consumer\'s zod', async () => {
  const esm = await runConsumer(
    'no-zod.mjs',
    `${RECORD_ESM_RESOLUTIONS}
     const resolved = await resolvedWhile(() => import('openai-rx'));
     const { zodResponseFormat } = await import('openai-rx');
     const { z } = await import('zod');
     const format = zodResponseFormat(z.object({ city: z.string().describe('Where the trip ends') }), 'trip');
     console.log(JSON.stringify({
       packages: [...new Set(resolved.filter((url) => url.includes('/node_modules/')).map((url) => url.split('/node_modules/')[1].split('/')[0]))].sort(),
       zod: resolved.filter((url) => url.includes('/node_modules/zod/')),
       schema: format.json_schema.schema,
     }));`,
  );
  const cjs = await runConsumer(
    'no-zod.cjs',
    `require('openai-rx');
     const loaded = Object.keys(require.cache);
     console.log(JSON.stringify({ zod: loaded.filter((path) => path.includes('/node_modules/zod/')), openaiRx: loaded.filter((path) => path.includes('/node_modules/openai-rx/')).length }));`,
  );

  expect(esm).toEqual({
    packages: ['eventsource-parser', 'openai-rx', 'rxjs', 'undici'],
    zod: [],
    schema: {
      type: 'object',
      properties: { city: { type: 'string', description: 'Where the trip ends' } },
      required: ['city'],
      additionalProperties: false,
    },
  });
  expect(cjs).toEqual({ zod: [], openaiRx: expect.any(Number) });
  expect((cjs as { openaiRx: number }).openaiRx).toBeGreaterThan(50);
});

test('the openai-rx/node and openai-rx/testing subpaths resolve, with the same exports from ESM and CommonJS', async () => {
  const describeSubpaths = (load: (name: string) => string) =>
    `const node = ${load('openai-rx/node')};
     const testing = ${load('openai-rx/testing')};
     console.log(JSON.stringify({ node: Object.keys(node).sort(), testing: Object.keys(testing).sort() }));`;
  const esm = (await runConsumer('subpaths.mjs', describeSubpaths((name) => `await import('${name}')`))) as Exports;
  const cjs = (await runConsumer('subpaths.cjs', describeSubpaths((name) => `require('${name}')`))) as Exports;

  expect(esm.node).toContain('undiciTransport');
  expect(esm.testing.length).toBeGreaterThan(0);
  expect(cjs).toEqual(esm);
});

test('a browser bundler resolves the installed package to the fetch build, free of undici and node: modules', async () => {
  const bundle = await bundleForBrowser(`export { createClient, contentDeltas } from 'openai-rx';`, consumerDir);

  expect(bundle.errors).toEqual([]);
  expect(bundle.warnings).toEqual([]);
  expect(bundle.inputs).toContain('node_modules/openai-rx/dist/esm/index.js');
  expect(bundle.code).not.toContain('undici');
  expect(bundle.code).not.toContain('node:');
});

test("a browser bundler shares zod between the installed package and the app: the package's own bundle of it is for Node", async () => {
  const bundle = await bundleForBrowser(
    `import * as z from 'zod/mini';
     export { contentDeltas, structuredOutput, zodResponseFormat } from 'openai-rx';
     export const Trip = z.object({ city: z.string() });`,
    consumerDir,
  );

  expect(bundle.errors).toEqual([]);
  expect(bundle.inputs).toEqual(expect.arrayContaining(['node_modules/openai-rx/dist/esm/openai/zodRuntime.browser.js', 'node_modules/zod/v4/core/core.js']));
  expect(bundle.inputs).not.toContain('node_modules/openai-rx/dist/esm/openai/zodRuntime.js');
  // One copy of zod's core, as in a bundle of the app's zod alone: its global config's key as often as there.
  const zodAlone = await bundleForBrowser(`import * as z from 'zod/mini'; export const Trip = z.object({ city: z.string() });`, consumerDir);
  const globalConfigKeys = (code: string) => code.split('__zod_globalConfig').length - 1;
  expect(globalConfigKeys(zodAlone.code)).toBeGreaterThan(0);
  expect(globalConfigKeys(bundle.code)).toBe(globalConfigKeys(zodAlone.code));
});

// Bytes are deterministic for a given tree, so the budget is a test, not a benchmark: a change that pushes a
// typical browser import of the installed package into the margin under it (GZIP_MARGIN_BYTES) fails here.
// bench/bundle-size.ts is an ES module (import.meta), so it runs as the command it also is (and exits 1 then).
test('a typical browser import of the installed package stays 512 B under the min+gzip budget, with no bundler warning', async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/bundle-size.ts', '--installed-in', consumerDir], { cwd: repoRoot });

  expect(stdout).toMatch(/min\+gzip \d+ B \([\d.]+ KB, within the 15\.0 KB budget by \d+ B, margin of 512 B kept\); .*warnings: 0/);
  const gzipBytes = Number(/min\+gzip (\d+) B/.exec(stdout)?.[1]);
  expect(15 * 1024 - gzipBytes).toBeGreaterThanOrEqual(512);
  // Measured from the package's browser build (dist/esm), not from src.
  expect(stdout).toMatch(/^ +\d+ B {2}client$/m);
});

test('the installed openai-rx command streams from its embedded mock, and its demo serves the prebuilt page bundle', async () => {
  const bin = join(consumerDir, 'node_modules', '.bin', 'openai-rx');
  const env = { PATH: process.env.PATH ?? '', NO_COLOR: '1' };
  const chat = await execFileAsync(bin, ['chat', '--mock', '-q', 'Hi [[mock:text=From the packed CLI.]] [[mock:delay=1]]'], {
    cwd: consumerDir,
    env,
    timeout: 30_000,
  });
  expect(chat.stdout).toBe('From the packed CLI.\n');

  // No esbuild in the consumer: the demo must serve the bundle `npm run build` wrote.
  const demo = spawn(bin, ['demo', '--port', '0'], { cwd: consumerDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let stdout = '';
    let stderr = '';
    const changes = watchChanges();
    demo.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      changes.changed();
    });
    demo.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      changes.changed();
    });
    demo.on('exit', changes.changed);
    await changes.until(() => stdout.includes('→ upstream') || demo.exitCode !== null, 'the demo to listen', 30_000);
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(stdout)?.[0];
    expect(url).toBeDefined();
    const script = await fetch(`${url}/demo.js`);
    expect(script.status).toBe(200);
    expect((await script.text()).length).toBeGreaterThan(10_000);
    // stderr is a pipe of its own: its line may come after stdout's
    await changes.until(() => stderr.includes('page: ') || demo.exitCode !== null, 'the demo to say which page it serves', 30_000);
    expect(stderr).toMatch(/page: prebuilt bundle/);
  } finally {
    demo.kill('SIGKILL');
  }
});

// One export per entry of package.json "exports"; each must be typed, not `any`, under every module resolution.
const typedExports: Record<string, string> = {
  '.': 'createClient',
  './node': 'createRelay',
  './testing': 'startMockUpstream',
  './opentelemetry': 'openTelemetry',
  './redis': 'redisResumeStore',
};

test.each([
  { moduleResolution: 'nodenext', module: 'nodenext', files: ['entries.mts', 'entries.cts'] },
  { moduleResolution: 'bundler', module: 'esnext', files: ['entries.ts'] },
  { moduleResolution: 'node10', module: 'commonjs', files: ['entries.ts'] },
])('TypeScript resolves every entry to its types under moduleResolution $moduleResolution', async ({ moduleResolution, module, files }) => {
  const { exports: exportsMap } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
  const entries = Object.keys(exportsMap).filter((subpath) => subpath !== './package.json');
  expect(Object.keys(typedExports).sort()).toEqual(entries.sort());

  const specifier = (subpath: string) => `openai-rx${subpath.slice(1)}`;
  const source = [
    'type IsAny<T> = 0 extends 1 & T ? true : false;',
    ...Object.entries(typedExports).map(
      ([subpath, name], index) =>
        `import { ${name} as export${index} } from '${specifier(subpath)}';\n` +
        `export const typed${index}: IsAny<typeof export${index}> = false;`,
    ),
  ].join('\n');
  await Promise.all(files.map((file) => writeFile(join(consumerDir, file), source)));
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const options = ['--noEmit', '--strict', '--esModuleInterop', '--types', 'node', '--module', module, '--moduleResolution', moduleResolution];

  const { stdout } = await run(process.execPath, [tsc, ...options, ...files], { cwd: consumerDir });
  expect(stdout).toBe('');
});
