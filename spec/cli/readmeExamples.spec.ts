import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliEnv, killLeftovers, REPO_ROOT, runCli } from './cliProcess';

// The README's `$ openai-rx …` examples whose stdout is deterministic (the embedded mock, --help), run for
// real: what the README shows on stdout is what the command prints. The stats line (stderr, with timings) and
// the `created` time of chunks are left out of the comparison; examples piped or chained in a shell are not run.

interface Example {
  line: number;
  args: string[];
  stdout: string[];
}

/** `chat --mock "What is …"` → ['chat', '--mock', 'What is …']: words, and double-quoted strings without escapes. */
function words(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2]);
}

function examples(markdown: string): Example[] {
  const lines = markdown.split('\n');
  const found: Example[] = [];
  let inText = false;
  for (let at = 0; at < lines.length; at++) {
    if (lines[at].startsWith('```')) inText = !inText && lines[at] === '```text';
    const command = inText ? /^\$ openai-rx (.+)$/.exec(lines[at])?.[1] : undefined;
    if (!command || /[;|#]/.test(command) || !/--mock|--help/.test(command)) continue;
    const stdout: string[] = [];
    for (let next = at + 1; !lines[next].startsWith('$ ') && lines[next] !== '```'; next++) stdout.push(lines[next]);
    found.push({ line: at + 1, args: words(command), stdout: stdout.filter((line) => !line.startsWith('stats: ')) });
  }
  return found;
}

const normalized = (text: string) => text.replace(/"created":\d+/g, '"created":0').replace(/\n+$/, '').split('\n');
const readmeExamples = examples(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'));

afterEach(() => killLeftovers());

test('the README has examples to run', () => {
  expect(readmeExamples.map(({ args }) => args[args.length - 1])).toEqual(
    expect.arrayContaining(['--help', 'Hi [[mock:text=Hello there]]', 'What is a cold observable?']),
  );
});

test.each(readmeExamples.map((example) => [`README.md:${example.line}: openai-rx ${example.args.join(' ')}`, example] as const))(
  '%s prints what the README shows',
  async (_name, { args, stdout }) => {
    const result = await runCli(args, cliEnv());

    expect(result.code).toBe(0);
    expect(normalized(result.stdout.toString())).toEqual(normalized(stdout.join('\n')));
  },
);
