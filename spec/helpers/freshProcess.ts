import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const execFileAsync = promisify(execFile);
const REPO_ROOT = join(__dirname, '..', '..');

/**
 * A probe (a spec helper that prints one JSON line) bundled by esbuild, as the bench's children are, to run in a
 * fresh `node --expose-gc`: in a jest worker, what earlier spec files left is freed between a probe's heap readings.
 * tsx would not do either: it gives every function an own `name` property, kilobytes more per stream.
 */
export interface Probe {
  run<T>(...args: string[]): Promise<T>;
  remove(): Promise<void>;
}

export async function bundleProbe(entry: string): Promise<Probe> {
  const dir = await mkdtemp(join(tmpdir(), 'openai-rx-probe-'));
  const outfile = join(dir, `${basename(entry, '.ts')}.cjs`);
  await build({ entryPoints: [entry], outfile, bundle: true, format: 'cjs', platform: 'node', target: 'node20', packages: 'external', logLevel: 'warning' });
  return {
    async run<T>(...args: string[]) {
      const { stdout } = await execFileAsync(process.execPath, ['--expose-gc', outfile, ...args], {
        // The bundle lives outside the checkout; its packages resolve from the checkout's node_modules.
        env: { PATH: process.env.PATH ?? '', NODE_PATH: join(REPO_ROOT, 'node_modules') },
        encoding: 'utf8',
      });
      return JSON.parse(stdout) as T;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
