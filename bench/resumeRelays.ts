import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { buildDir, type ChildScript } from './build.js';
import { Child } from './children.js';
import type { RelayReady } from './relayServer.js';

/*
 * Relay processes for the resume scenario (bench/resumeRelayServer.ts), bundled like the other child scripts
 * (build.ts) into the same folder, once per run.
 */

const SCRIPT = 'resumeRelayServer';
let built: Promise<unknown> | undefined;

/** How the relay keeps streams: not at all, in its memory, or in the Redis at this URL. */
export type ResumeRelayMode = 'off' | 'memory' | { redisUrl: string };

export async function startResumeRelay(upstreamBaseURL: string, mode: ResumeRelayMode, name: string, nodeFlags: string[] = []): Promise<Child<RelayReady>> {
  built ??= build({
    entryPoints: [fileURLToPath(new URL(`./${SCRIPT}.ts`, import.meta.url))],
    outdir: fileURLToPath(buildDir),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
  await built;
  const arg = typeof mode === 'string' ? mode : mode.redisUrl;
  // Bundled beside the scripts build.ts lists, so that Child finds it by name.
  return Child.start<RelayReady>(SCRIPT as ChildScript, { name, args: [upstreamBaseURL, arg], nodeFlags });
}
