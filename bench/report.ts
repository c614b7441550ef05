import { readFileSync } from 'node:fs';
import os from 'node:os';
import { spread, type Spread } from './stats.js';

/*
 * What a run produces, and its markdown. Every figure in the output comes from the run; the text around them is
 * fixed.
 */

/** `pass`/`miss` judge a target; `FAIL` is a correctness failure (the run exits non-zero); `info` has no target. */
export type Verdict = 'pass' | 'miss' | 'FAIL' | 'info';

export interface Check {
  scenario: string;
  figure: string;
  measured: string;
  target: string;
  verdict: Verdict;
  /** For a miss: measured ÷ target (or target ÷ measured when lower is better), to say by how much. */
  shortfall?: string;
}

export interface Table {
  head: string[];
  rows: string[][];
}

export interface Section {
  title: string;
  /** What was run, in one or two sentences. */
  setup: string;
  tables: Table[];
  notes: string[];
  checks: Check[];
}

export interface Environment {
  mode: 'quick' | 'full';
  command: string;
  startedAt: Date;
  cpu: string;
  cores: number;
  memoryBytes: number;
  os: string;
  node: string;
  packages: Array<[string, string]>;
  loadStart: number[];
  loadEnd: number[];
  durationMs: number;
}

const PACKAGES = ['openai', 'undici', 'rxjs', 'zod', 'eventsource-parser'];

export function environment(mode: 'quick' | 'full', command: string, root: URL): Omit<Environment, 'loadEnd' | 'durationMs'> {
  const versionOf = (path: string) => (JSON.parse(readFileSync(new URL(path, root), 'utf8')) as { version: string }).version;
  return {
    mode,
    command,
    startedAt: new Date(),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    packages: [['openai-rx', versionOf('package.json')], ...PACKAGES.map((name): [string, string] => [name, versionOf(`node_modules/${name}/package.json`)])],
    loadStart: os.loadavg(),
  };
}

/**
 * The markdown of a run of one or more rounds: the summary and tables of the last round, and with several rounds
 * each summary figure of every round with its median.
 */
export function renderMarkdown(env: Environment, rounds: Section[][], failures: string[]): string {
  const sections = rounds.at(-1) ?? [];
  const out: string[] = [];
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(' / ');
  out.push('## Run', '');
  out.push(
    table({
      head: ['', ''],
      rows: [
        ['mode', `${env.mode} (\`${env.command}\`)`],
        ['date', env.startedAt.toISOString()],
        ['machine', `${env.cpu}, ${env.cores} cores, ${bytes(env.memoryBytes)} RAM`],
        ['OS', env.os],
        ['Node', env.node],
        ['packages', env.packages.map(([name, version]) => `${name} ${version}`).join(', ')],
        ['load average (1 / 5 / 15 min)', `start ${load(env.loadStart)}; end ${load(env.loadEnd)}`],
        ['duration', seconds(env.durationMs)],
      ],
    }),
    '',
  );
  const checks = sections.flatMap((section) => section.checks);
  out.push('## Summary', '');
  out.push(
    table({
      head: ['scenario', 'figure', 'measured', 'target', 'result'],
      rows: checks.map((check) => [check.scenario, check.figure, check.measured, check.target, verdictText(check)]),
    }),
    '',
  );
  if (rounds.length > 1) out.push(...spreadOfRounds(rounds));
  if (failures.length > 0) out.push('**The harness failed:**', '', ...failures.map((failure) => `- ${failure}`), '');
  for (const section of sections) {
    out.push(`## ${section.title}`, '', section.setup, '');
    for (const each of section.tables) out.push(table(each), '');
    for (const note of section.notes) out.push(`- ${note}`);
    if (section.notes.length > 0) out.push('');
  }
  return out.join('\n');
}

/** Every summary figure of every round and their median (figures with one number and a unit); judged on the median. */
function spreadOfRounds(rounds: Section[][]): string[] {
  const rows = rounds[0].flatMap((section) => section.checks).map((first, at) => {
    const each = rounds.map((sections) => sections.flatMap((section) => section.checks)[at]);
    const numbers = each.map((check) => numberAndUnit(check?.measured));
    const unit = numbers[0]?.unit;
    const comparable = numbers.every((number) => number !== undefined && number.unit === unit);
    const median = comparable ? spread(numbers.map((number) => number!.value)).median : undefined;
    const decimals = Math.max(...each.map((check) => check?.measured.match(/\.(\d+)/)?.[1].length ?? 0));
    const bound = /^([≥≤<])\s*([\d,.]+)\s*([a-zA-Z]*)/.exec(first.target);
    const judged = median !== undefined && bound && bound[3] === (unit === '×' ? '' : unit)
      ? verdictText({ ...first, ...judge(median, Number(bound[2].replace(/,/g, '')), bound[1] === '≥' ? 'higher' : 'lower') })
      : '';
    return [
      first.scenario,
      first.figure,
      ...each.map((check) => check?.measured ?? ''),
      median === undefined ? '' : `${median.toFixed(decimals)}${unit === '×' ? '×' : unit ? ` ${unit}` : ''}`,
      first.target,
      judged,
    ];
  });
  return [
    `## Spread over ${rounds.length} rounds`,
    '',
    `Every summary figure in each of ${rounds.length} full rounds of every scenario, run one after another in this run, and the median of the rounds, judged against the target. The tables below are the last round's.`,
    '',
    table({ head: ['scenario', 'figure', ...rounds.map((_, at) => `round ${at + 1}`), 'median', 'target', 'median result'], rows }),
    '',
  ];
}

/** `0.73×` → 0.73 and `×`; `1.53 ms` → 1.53 and `ms`; anything else (several numbers, words) → undefined. */
function numberAndUnit(measured: string | undefined): { value: number; unit: string } | undefined {
  const match = measured === undefined ? null : /^([\d,]+(?:\.\d+)?)\s*(×|[a-zA-Z]+)?$/.exec(measured);
  return match ? { value: Number(match[1].replace(/,/g, '')), unit: match[2] ?? '' } : undefined;
}

function verdictText(check: Check): string {
  if (check.verdict === 'miss') return `**miss**${check.shortfall ? ` (${check.shortfall})` : ''}`;
  if (check.verdict === 'FAIL') return '**FAIL** (correctness)';
  return check.verdict === 'info' ? '—' : 'pass';
}

export function table({ head, rows }: Table): string {
  const line = (cells: string[]) => `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A check of "at least" / "at most" a target: pass or miss, with the shortfall as a ratio. */
export function judge(measured: number, target: number, better: 'higher' | 'lower'): Pick<Check, 'verdict' | 'shortfall'> {
  const ok = better === 'higher' ? measured >= target : measured <= target;
  if (ok) return { verdict: 'pass' };
  const off = better === 'higher' ? measured / target : target / measured;
  return { verdict: 'miss', shortfall: `${(off * 100).toFixed(0)}% of target` };
}

export const int = (value: number) => Math.round(value).toLocaleString('en-US');
export const ms = (value: number, digits = 2) => `${value.toFixed(digits)} ms`;
export const ratio = (value: number) => `${value.toFixed(2)}×`;
export const seconds = (milliseconds: number) => `${(milliseconds / 1000).toFixed(1)} s`;

export function bytes(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1024 ** 3) return `${(value / 1024 ** 3).toFixed(1)} GB`;
  if (abs >= 1024 ** 2) return `${(value / 1024 ** 2).toFixed(1)} MB`;
  if (abs >= 1024) return `${(value / 1024).toFixed(1)} KB`;
  return `${value} B`;
}

/** `median (min – max)` */
export function spreadText(value: Spread, format: (n: number) => string): string {
  return `${format(value.median)} (${format(value.min)} – ${format(value.max)})`;
}
