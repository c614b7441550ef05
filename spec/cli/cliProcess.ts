import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { watchChanges } from '../helpers/changes';

/*
 * The real `openai-rx` process, run from source as `node --import tsx
 * src/cli/main.ts …` (what `npm start` and a checkout use). Every wait is
 * bounded; a process still running when a spec ends is killed by its pid.
 */

export const REPO_ROOT = join(__dirname, '..', '..');
export const CLI_ARGS = ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts')];

/** The parent's PATH and HOME, never its OPENAI_* variables; NO_COLOR keeps stderr plain. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...extra };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  stdout(): Buffer;
  stderr(): string;
  /** Resolves when `condition` holds for the output so far; rejects after `timeoutMs` or if the process exits first. */
  waitFor(condition: (stdout: string, stderr: string) => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** The exit; rejects (after killing the process) when it takes longer than `timeoutMs`. */
  exited(timeoutMs?: number): Promise<CliResult>;
}

/** Started processes still running, with whether they lead a process group of their own. */
const running = new Map<ChildProcess, boolean>();

/** Kills every process a spec started and left running (with its group, if it has one); call from `afterEach`. */
export function killLeftovers(): void {
  for (const [child, group] of running) {
    try {
      if (group && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  running.clear();
}

/** Spawns `command args` (the CLI by default) with pipes for stdout and stderr. */
export function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv, options: { detached?: boolean } = {}): CliProcess {
  const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached });
  running.set(child, options.detached === true);
  const out: Buffer[] = [];
  let err = '';
  let exitedFirst = false;
  const changes = watchChanges();
  child.stdout?.on('data', (chunk: Buffer) => {
    out.push(chunk);
    changes.changed();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
    changes.changed();
  });
  const closed = new Promise<CliResult>((resolve) => {
    child.once('close', (code, signal) => {
      running.delete(child);
      exitedFirst = true;
      changes.changed();
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err });
    });
  });
  const stdout = () => Buffer.concat(out);

  return {
    child,
    stdout,
    stderr: () => err,
    async waitFor(condition, what, timeoutMs = 20_000) {
      const holds = () => condition(stdout().toString('utf8'), err);
      try {
        // Checked again on every write of the process, and when it exits.
        await changes.until(() => holds() || exitedFirst, what, timeoutMs);
      } catch {
        throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.\nstdout: ${stdout()}\nstderr: ${err}`);
      }
      if (!holds()) throw new Error(`The process exited before ${what}.\nstdout: ${stdout()}\nstderr: ${err}`);
    },
    async exited(timeoutMs = 20_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`The process did not exit within ${timeoutMs} ms.\nstdout: ${stdout()}\nstderr: ${err}`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([closed, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Starts `openai-rx args…`. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = cliEnv()): CliProcess {
  return startProcess(process.execPath, [...CLI_ARGS, ...args], env);
}

/** Runs `openai-rx args…` to its end. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = cliEnv(), timeoutMs = 30_000): Promise<CliResult> {
  return startCli(args, env).exited(timeoutMs);
}

/** The shell command line that runs the CLI (for `sh -c '… | head -c 10'`). */
export function cliCommandLine(args: string[]): string {
  return [process.execPath, ...CLI_ARGS, ...args].map(shellQuote).join(' ');
}

export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The first `http://host:port` a server command printed. */
export function listeningUrl(stdout: string): string {
  const match = /http:\/\/127\.0\.0\.1:\d+/.exec(stdout);
  if (!match) throw new Error(`No listening URL in: ${stdout}`);
  return match[0];
}
