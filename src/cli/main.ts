#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chatCommand } from './chat.js';
import { demoCommand } from './demoCommand.js';
import { describeError } from './errorReport.js';
import { ExitCode, UsageError, exitCodeOf } from './exitCodes.js';
import { CliOutput } from './io.js';
import { mockCommand } from './mockCommand.js';
import { relayCommand } from './relayCommand.js';
import { HELP, type CommandName } from './usage.js';

type Command = (argv: string[], output: CliOutput, env: NodeJS.ProcessEnv) => Promise<number>;

const COMMANDS: Record<CommandName, Command> = {
  chat: chatCommand,
  relay: relayCommand,
  mock: mockCommand,
  demo: demoCommand,
};

async function main(argv: string[], output: CliOutput): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    output.errRaw(HELP.main);
    return ExitCode.usage;
  }
  if (name === '--help' || name === '-h') {
    output.out(HELP.main);
    return ExitCode.ok;
  }
  if (name === '--version') {
    output.out(`${await packageVersion()}\n`);
    return ExitCode.ok;
  }
  if (name === 'help') {
    const topic = rest[0];
    if (topic === undefined) output.out(HELP.main);
    else if (isCommand(topic)) output.out(HELP[topic]);
    else throw new UsageError(`help: unknown command '${topic}'`);
    return ExitCode.ok;
  }
  if (!isCommand(name)) throw new UsageError(`unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
  return COMMANDS[name](rest, output, process.env);
}

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** The version in the package.json above this file: two levels up from src/cli, three from dist/esm/cli. */
async function packageVersion(): Promise<string> {
  for (let dir = dirname(fileURLToPath(import.meta.url)), depth = 0; depth < 4; dir = dirname(dir), depth++) {
    const manifest = await readFile(join(dir, 'package.json'), 'utf8').catch(() => undefined);
    const parsed = manifest === undefined ? undefined : (JSON.parse(manifest) as { name?: string; version?: string });
    if (parsed?.name === 'openai-rx' && parsed.version) return parsed.version;
  }
  return 'unknown';
}

const output = new CliOutput();
const verbose = process.argv.includes('--verbose') || process.argv.includes('-v');
let code: number;
try {
  code = await main(process.argv.slice(2), output);
} catch (error) {
  for (const line of describeError(error, { verbose, redact: (text) => output.redact(text) })) output.err(line);
  code = exitCodeOf(error);
}
await output.flush();
// Open keep-alive sockets or a closed server's last timers must not hold the exit back.
process.exit(code);
