import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../json.js';
import { UsageError } from './exitCodes.js';
import type { HttpServerLimits } from './httpServer.js';
import type { CliOutput } from './io.js';
import { HELP, type CommandName } from './usage.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type StrictConfig<T extends Options> = { args: string[]; options: T; strict: true; allowPositionals: true };
export type ParsedCommandArgs<T extends Options> = ReturnType<typeof parseArgs<StrictConfig<T>>>;

/**
 * `node:util` parseArgs, strict, with its errors turned into {@link UsageError}s naming the command. A value
 * that starts with a dash but is no option (`--timeout -5`) is taken as the option's value, so that the
 * option's own check words what is wrong with it.
 */
export function parseCommandArgs<T extends Options>(command: string, argv: string[], options: T): ParsedCommandArgs<T> {
  try {
    return parseArgs({ args: withDashValues(argv, options), options, strict: true, allowPositionals: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/\. To specify a positional argument.*$/s, '').replace(/\s*\n\s*/g, ' ') : String(error);
    throw new UsageError(`${command}: ${message}`);
  }
}

/** `['--timeout', '-5']` → `['--timeout=-5']` (and `-p -1` → `--port=-1`), for options that take a value. */
function withDashValues(argv: string[], options: Options): string[] {
  const byShort = new Map(Object.entries(options).flatMap(([name, option]) => (option.short ? [[option.short, name] as const] : [])));
  const nameOf = (arg: string) => (arg.startsWith('--') ? arg.slice(2).split('=')[0] : /^-[^-]$/.test(arg) ? byShort.get(arg[1]) : undefined);
  const isOption = (arg: string) => arg.startsWith('--') ? Object.hasOwn(options, nameOf(arg) ?? '') : arg.length > 1 && byShort.has(arg[1]);
  const args: string[] = [];
  for (let at = 0; at < argv.length; at++) {
    const arg = argv[at];
    const next = argv[at + 1];
    if (arg === '--') return [...args, ...argv.slice(at)];
    const name = arg.includes('=') ? undefined : nameOf(arg);
    if (name !== undefined && options[name]?.type === 'string' && next?.startsWith('-') && next !== '-' && !isOption(next)) {
      args.push(`--${name}=${next}`);
      at++;
    } else args.push(arg);
  }
  return args;
}

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/** A command's options plus `-h, --help`; `undefined` once the help was printed (exit code 0). */
export function parseCommand<T extends Options>(
  command: CommandName,
  argv: string[],
  options: T,
  output: CliOutput,
): ParsedCommandArgs<T & typeof HELP_OPTION> | undefined {
  const parsed = parseCommandArgs(command, argv, { ...options, ...HELP_OPTION });
  // parseArgs' result type does not resolve for a generic T; `help` is always there.
  if (!(parsed.values as { help?: boolean }).help) return parsed;
  output.out(HELP[command]);
  return undefined;
}

/** `-p, --port` and `--host` (default 127.0.0.1) of the server commands. */
export const LISTEN_OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string', default: '127.0.0.1' },
} as const;

/** `--headers-timeout` and `--request-timeout` of the servers the CLI builds (relay, demo). */
export const SERVER_LIMIT_OPTIONS = {
  'headers-timeout': { type: 'string' },
  'request-timeout': { type: 'string' },
} as const;

/** The limits the flags set; the others keep their defaults. */
export function serverLimitsFrom(values: { 'headers-timeout'?: string; 'request-timeout'?: string }): Partial<HttpServerLimits> {
  const headers = values['headers-timeout'];
  const request = values['request-timeout'];
  return {
    ...(headers === undefined ? {} : { headersTimeoutMs: millisecondsOption(headers, '--headers-timeout') }),
    ...(request === undefined ? {} : { requestTimeoutMs: millisecondsOption(request, '--request-timeout') }),
  };
}

/** `--port`, else the `PORT` environment variable, else `fallback`. */
export function portFrom(flag: string | undefined, env: NodeJS.ProcessEnv, fallback: number): number {
  if (flag !== undefined) return portOption(flag);
  return env.PORT ? portOption(env.PORT, 'PORT') : fallback;
}

/** A TCP port: 0 (any free port) to 65535. */
export function portOption(value: string, name = '--port'): number {
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port > 65_535) throw new UsageError(`${name} takes a port number from 0 to 65535, not '${value}'`);
  return port;
}

/** A count of milliseconds, at least `min`. */
export function millisecondsOption(value: string, name: string, min = 1): number {
  const ms = Number(value);
  if (!/^\d+$/.test(value.trim()) || ms < min) throw new UsageError(`${name} takes milliseconds (an integer of at least ${min}), not '${value}'`);
  return ms;
}

/** An http(s) URL; its user-info (a password in the URL) is never printed. */
export function urlOption(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${name} takes an http(s) URL, not '${value}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${name} takes an http(s) URL, not '${value}'`);
  return value.replace(/\/+$/, '');
}

/**
 * The URL as it may be printed: origin and path, every query value replaced
 * (a provider key often rides in `?key=…`), no user name, password or fragment.
 *
 * @example
 * printableUrl('https://user:pw@host/v1?key=SECRET&v=2') // 'https://host/v1?key=[redacted]&v=[redacted]'
 */
export function printableUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return '[not a URL]';
  }
  const names = [...url.searchParams.keys()].map((name) => `${encodeURIComponent(name)}=[redacted]`);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '') + (names.length > 0 ? `?${names.join('&')}` : '');
}

/** A JSON Schema read from a file, with the name the request gives it. */
export interface NamedJsonSchema {
  /** The schema's `title` if it is a valid name, else the file's name made into one. */
  name: string;
  schema: Record<string, unknown>;
}

/** Larger schema files are refused rather than read without bound. */
const MAX_SCHEMA_FILE_BYTES = 1024 * 1024;
const FORMAT_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * `--schema <file>`: a JSON Schema object, as structured output sends it.
 *
 * @example
 * await jsonSchemaFile('person.json') // { name: 'person', schema: { type: 'object', … } }
 */
export async function jsonSchemaFile(path: string, flag = '--schema'): Promise<NamedJsonSchema> {
  let text: string;
  try {
    const file = await stat(path);
    if (!file.isFile()) throw new UsageError(`${flag}: ${path} is not a file`);
    if (file.size > MAX_SCHEMA_FILE_BYTES) throw new UsageError(`${flag}: ${path} is larger than ${MAX_SCHEMA_FILE_BYTES} bytes`);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${flag}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (nestsDeeperThan(text)) throw new UsageError(`${flag}: ${path} nests deeper than ${MAX_JSON_DEPTH} levels`);
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${flag}: ${path} is not JSON: ${(error as Error).message}`);
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new UsageError(`${flag}: ${path} must hold a JSON Schema object`);
  const title = (schema as { title?: unknown }).title;
  const fromFile = basename(path).replace(/\.json$/i, '').replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 64);
  const name = typeof title === 'string' && FORMAT_NAME.test(title) ? title : FORMAT_NAME.test(fromFile) ? fromFile : 'output';
  return { name, schema: schema as Record<string, unknown> };
}
