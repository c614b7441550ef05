import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startMockUpstream, type MockUpstream } from '../../src/testing/index.node';

/*
 * The TypeScript blocks of the README and of every guide in docs/*.md, read from the files themselves. A marker on
 * the line before a ```ts block says what is done with it (HTML comments: the rendered page does not show them):
 *
 *   <!-- runnable -->             type-checked and run, as a program of its own
 *   <!-- runnable: continued -->  appended to the program of the runnable block before it (blocks that share
 *                                 its imports: pasted together, they must still work)
 *   <!-- compiles -->             type-checked only (a server that listens until stopped)
 *   <!-- fragment -->             type-checked only, as a module of its own, against DOCUMENT_CONTEXT: the names a
 *                                 fragment takes from the reader's app (`client`, `ask`, `render` …) and the
 *                                 rxjs and openai-rx functions it uses without importing them
 *
 * Every TypeScript block (```ts, ```typescript or ```tsx, indented or not) carries a marker, so that a new one
 * cannot go unchecked; a marked block is a ```ts one at the start of its line.
 * `openai-rx` and its subpaths resolve to src/ through tsconfig paths (the Node entries), rxjs and the rest
 * from this repository's node_modules. Programs run with Node and tsx, OPENAI_BASE_URL pointing at a local mock
 * upstream, and `expect` (jest's, which marble examples call) as a global.
 */
jest.setTimeout(120_000);

type Marker = 'runnable' | 'runnable: continued' | 'compiles' | 'fragment';

/** The documents whose ```ts blocks are checked: the README and every guide in docs/. */
async function documentNames(): Promise<string[]> {
  const guides = (await readdir(join(repoRoot, 'docs'))).filter((name) => name.endsWith('.md')).sort();
  return ['README.md', ...guides.map((name) => `docs/${name}`)];
}

interface Program {
  /** Where its first block begins: `README.md:382`. */
  place: string;
  run: boolean;
  code: string;
  /** How many README blocks it is made of. */
  blocks: number;
}

const repoRoot = join(__dirname, '..', '..');

/** The marked ```ts blocks of `markdown` (the text of `document`), as programs. */
function documentPrograms(document: string, markdown: string): Program[] {
  const lines = markdown.split('\n');
  const programs: Program[] = [];
  for (let at = 0; at < lines.length; at++) {
    const marker = /^<!-- (runnable|runnable: continued|compiles|fragment) -->$/.exec(lines[at])?.[1] as Marker | undefined;
    if (/^\s*```(ts|typescript|tsx)\b/.test(lines[at])) throw new Error(`${document}:${at + 1}: a TypeScript block without a marker on the line before it`);
    if (!marker) continue;
    if (lines[at + 1] !== '```ts') throw new Error(`${document}:${at + 1}: <!-- ${marker} --> is not followed by a \`\`\`ts block`);
    const end = lines.indexOf('```', at + 2);
    const code = lines.slice(at + 2, end).join('\n');
    const previous = programs.at(-1);
    if (marker === 'runnable: continued') {
      if (!previous?.run) throw new Error(`${document}:${at + 1}: a continued block follows no runnable one`);
      previous.code += `\n\n${code}`;
      previous.blocks++;
    } else {
      // `export {}` makes a fragment without imports a module too: its names stay its own
      const moduleCode = marker === 'fragment' ? `${code}\n\nexport {};` : code;
      programs.push({ place: `${document}:${at + 2}`, run: marker === 'runnable', code: moduleCode, blocks: 1 });
    }
    at = end;
  }
  return programs;
}

const entries: Record<string, string> = {
  'openai-rx': 'src/index.node.ts',
  'openai-rx/node': 'src/node.ts',
  'openai-rx/testing': 'src/testing/index.node.ts',
  'openai-rx/opentelemetry': 'src/opentelemetry.ts',
  'openai-rx/redis': 'src/redis.ts',
};

/**
 * What the documents' fragments take as given, written as document-context.ts: a global script (a fragment's own
 * imports shadow its names) that tsc checks like the fragments, skipLibCheck notwithstanding, so a name in it that
 * stops resolving is an error, not a silent `any` (the controls below prove both). What it guarantees:
 * - the openai-rx and rxjs names are `typeof` / `import()` of the real packages, so fragments meet their real types;
 * - the app's own values and functions (`client`, `ask`, `render`, `save`, `showError`, `log` …) are typed by what
 *   the documents do with them: a view is text, a completion, a chunk or a plain object (never an Observable or a
 *   Promise), `showError` takes an Error, `log.info` a relay summary. A fragment that hands them something else fails;
 * - Angular, Hono and Deno are declared only as far as the documents use them (they are not dependencies here), so
 *   these check the documents against each other, not against those packages' real APIs.
 */
const DOCUMENT_CONTEXT = `
type OpenAIRx = typeof import('openai-rx');
type Rx = typeof import('rxjs');
type Observable<T> = import('rxjs').Observable<T>;
type ChatCompletionCreateParams = import('openai-rx').ChatCompletionCreateParams;
type ChatCompletionChunk = import('openai-rx').ChatCompletionChunk;
type ResponseHead = import('openai-rx').ResponseHead;

declare const client: import('openai-rx').OpenAIRxClient;
declare const params: ChatCompletionCreateParams;
declare const model: string;
declare const input: string;
declare const messages: import('openai-rx').ChatCompletionMessageParam[];
declare const guided_json: object;
declare const provider: { order: string[] };
declare const chunk: ChatCompletionChunk;
declare const stream$: Observable<ChatCompletionChunk>;
declare const input$: Observable<string>;
declare const res: import('node:http').ServerResponse;
declare const stopButton: HTMLButtonElement;
declare const suggestion: HTMLElement;
declare function ask(content: string): ChatCompletionCreateParams;
declare function append(text: string): void;
declare function appendText(text: string): void;
declare function appendRawFrame(frame: import('openai-rx').SseFrame): void;
declare function write(text: string): void;
declare function done(usage: import('openai-rx').ResponseUsage | null | undefined): void;
declare function render(view: string | import('openai-rx').ChatCompletion | ChatCompletionChunk | Readonly<Record<string, unknown>>): void;
declare function save(value: import('openai-rx').ChatCompletion | Readonly<Record<string, unknown>>): void;
declare function showStatus(text: string): void;
declare function showDone(): void;
declare function showError(error: Error): void;
declare function keepStreamId(head: ResponseHead): void;
declare const output: HTMLElement;
declare const OpenAI: typeof import('openai').default;
declare const express: typeof import('express');
declare const requireLogin: import('express').RequestHandler;
declare const log: { info(summary: import('openai-rx').RelaySummary<unknown>): void };
declare const metrics: { refusals: { inc(labels: { model?: string }): void } };
declare const tenants: { allows(origin: string): Promise<boolean> };
declare const server: import('node:http').Server;
declare const apiKey: string;
declare const store: import('openai-rx').ResumeStore;
declare const createRelay: typeof import('openai-rx/node').createRelay;
declare const createClient: OpenAIRx['createClient'];
declare function userIdOf(request: import('node:http').IncomingMessage): string | undefined;
declare const sessions: { get(request: import('node:http').IncomingMessage): Promise<{ userId: string } | undefined> };
declare const relay: (request: Request) => Promise<Response>;
/* Deno's and Hono's, as much as the relay guide uses */
declare const Deno: { serve(handler: (request: Request) => Promise<Response>): unknown };
declare const app: { on(methods: string[], path: string, handler: (c: { req: { raw: Request } }) => Promise<Response>): void };
declare class ChatService {
  stream(params: ChatCompletionCreateParams): Observable<ChatCompletionChunk>;
}

declare const animationFrameScheduler: Rx['animationFrameScheduler'];
declare const Subject: Rx['Subject'];
declare const connect: Rx['connect'];
declare const debounceTime: Rx['debounceTime'];
declare const distinctUntilChanged: Rx['distinctUntilChanged'];
declare const finalize: Rx['finalize'];
declare const ignoreElements: Rx['ignoreElements'];
declare const last: Rx['last'];
declare const map: Rx['map'];
declare const merge: Rx['merge'];
declare const scan: Rx['scan'];
declare const share: Rx['share'];
declare const shareReplay: Rx['shareReplay'];
declare const switchMap: Rx['switchMap'];
declare const takeUntil: Rx['takeUntil'];
declare const tap: Rx['tap'];
declare const timeout: Rx['timeout'];

declare const accumulateChatCompletion: OpenAIRx['accumulateChatCompletion'];
declare const chatChunks: OpenAIRx['chatChunks'];
declare const contentDeltas: OpenAIRx['contentDeltas'];
declare const encodeSse: OpenAIRx['encodeSse'];
declare const paceText: OpenAIRx['paceText'];
declare const retryStream: OpenAIRx['retryStream'];
declare const StreamNotFoundError: OpenAIRx['StreamNotFoundError'];

/* Angular, as much of it as the README's component uses (the package is not a dependency of this repository). */
declare module '@angular/core' {
  interface WritableSignal<T> {
    (): T;
    update(change: (value: T) => T): void;
  }
  export function Component(metadata: { selector: string; template: string }): (target: abstract new (...args: never[]) => unknown, context: ClassDecoratorContext) => void;
  export function inject<T>(token: abstract new (...args: never[]) => T): T;
  export function signal<T>(initial: T): WritableSignal<T>;
}
declare module '@angular/core/rxjs-interop' {
  export function takeUntilDestroyed<T>(): import('rxjs').MonoTypeOperatorFunction<T>;
}
`;

/*
 * Negative controls, checked with the context by a tsconfig of their own: each line here must be an error, so the
 * check above can fail. A fragment with a misspelt field and a view that is an Observable; a context name whose
 * type does not exist and one from a package that does not exist (each would be a silent `any` in a .d.ts under
 * skipLibCheck).
 */
const CONTROL_FRAGMENT = `client.chat.completions.stream({ model, mesages: [] });
render(client.chat.completions.stream(params));

export {};
`;
const CONTROL_CONTEXT = `declare const misspeltStore: import('openai-rx').ResumeStoreTypo;
declare const absentPackage: typeof import('openai-rx-no-such-package');
`;
/** tsc's errors for the controls, in its order: each line of them, where it is and what it says. */
const CONTROL_ERRORS = [
  /^controls\/context\.ts\(1,\d+\): error TS2694: .* has no exported member 'ResumeStoreTypo'/,
  /^controls\/context\.ts\(2,\d+\): error TS2307: Cannot find module 'openai-rx-no-such-package'/,
  /^controls\/fragment\.mts\(1,\d+\): error TS2561: .*'mesages' does not exist .* Did you mean to write 'messages'\?/,
  /^controls\/fragment\.mts\(2,\d+\): error TS2345: Argument of type 'Observable<ChatCompletionChunk>' is not assignable/,
];

/** `README.md:382` → `README.md-382.mts` */
const fileOf = (program: Program) => `${program.place.replace(/^docs\//, '').replace(':', '-')}.mts`;

let workDir: string;
let upstream: MockUpstream;
let programs: Program[];
let documents: string[];

beforeAll(async () => {
  documents = await documentNames();
  const texts = await Promise.all(documents.map((document) => readFile(join(repoRoot, document), 'utf8')));
  programs = documents.flatMap((document, at) => documentPrograms(document, texts[at]));
  workDir = await mkdtemp(join(tmpdir(), 'openai-rx-documents-'));
  await symlink(join(repoRoot, 'node_modules'), join(workDir, 'node_modules'), 'dir');
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      // NodeNext implies 'force', which would make document-context.ts a module; under 'auto' it is a global
      // script, and every .mts file is a module still.
      moduleDetection: 'auto',
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      types: ['node', 'jest'],
      paths: Object.fromEntries(Object.entries(entries).map(([name, path]) => [name, [join(repoRoot, path)]])),
    },
    include: ['*.mts', 'document-context.ts'],
  };
  await writeFile(join(workDir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  await writeFile(join(workDir, 'tsconfig.controls.json'), JSON.stringify({ extends: './tsconfig.json', include: ['controls/*', 'document-context.ts'] }));
  await writeFile(join(workDir, 'document-context.ts'), DOCUMENT_CONTEXT);
  await mkdir(join(workDir, 'controls'));
  await writeFile(join(workDir, 'controls', 'fragment.mts'), CONTROL_FRAGMENT);
  await writeFile(join(workDir, 'controls', 'context.ts'), CONTROL_CONTEXT);
  await writeFile(join(workDir, 'expect-global.mjs'), "import { expect } from 'expect';\nglobalThis.expect = expect;\n");
  await Promise.all(programs.map((program) => writeFile(join(workDir, fileOf(program)), `${program.code}\n`)));
  upstream = await startMockUpstream({ apiKey: 'sk-readme-spec', tokenDelayMs: 1 });
});

afterAll(async () => {
  await upstream?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Runs a command in the work folder; resolves with its output and exit code, whatever the code. */
async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, {
      cwd: workDir,
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 60_000,
      encoding: 'utf8',
    });
    return { code: 0, output: stdout + stderr };
  } catch (failure) {
    const { code, stdout = '', stderr = '' } = failure as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof code === 'number' ? code : 1, output: stdout + stderr };
  }
}

test('the README and every guide in docs/ are read', () => {
  expect(documents).toEqual(expect.arrayContaining(['README.md', 'docs/browser.md', 'docs/relay.md', 'docs/resume.md']));
  expect(documents.every((document) => document === 'README.md' || /^docs\/[^/]+\.md$/.test(document))).toBe(true);
});

test('a TypeScript block without a marker is refused, however it is fenced', () => {
  for (const fence of ['```ts', '```typescript', '```tsx', '  ```ts', '```ts title="x.ts"']) {
    expect(() => documentPrograms('x.md', `Text.\n\n${fence}\nconst a = 1;\n\`\`\`\n`)).toThrow('x.md:3: a TypeScript block without a marker');
  }
  expect(documentPrograms('x.md', 'Text.\n\n```text\nnot code\n```\n```tsv\na\tb\n```\n')).toEqual([]);
});

test('the README marks blocks to run, one continuing another, and blocks to compile', () => {
  expect(programs.filter((program) => program.run).length).toBeGreaterThanOrEqual(3);
  expect(programs.filter((program) => !program.run).length).toBeGreaterThanOrEqual(2);
  expect(Math.max(...programs.map((program) => program.blocks))).toBeGreaterThan(1);
});

const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');

test('every marked block type-checks', async () => {
  const result = await run([tsc, '-p', 'tsconfig.json']);

  expect(result).toEqual({ code: 0, output: '' });
});

test('the check can fail: a wrong fragment and a context name that does not resolve are errors, each named', async () => {
  const result = await run([tsc, '-p', 'tsconfig.controls.json', '--pretty', 'false']);
  const errors = result.output.split('\n').filter((line) => line.includes(': error TS'));

  expect(result.code).not.toBe(0);
  expect(errors).toHaveLength(CONTROL_ERRORS.length);
  for (const [at, expected] of CONTROL_ERRORS.entries()) expect(errors[at]).toMatch(expected);
});

test('every runnable program runs to its end against the local mock upstream, without an error', async () => {
  const failures: string[] = [];
  for (const program of programs.filter(({ run: runnable }) => runnable)) {
    const result = await run(['--import', 'tsx', '--import', './expect-global.mjs', fileOf(program)], {
      OPENAI_BASE_URL: upstream.baseURL,
      OPENAI_API_KEY: 'sk-readme-spec',
    });
    if (result.code !== 0) failures.push(`${program.place} exited with ${result.code}:\n${result.output}`);
  }

  expect(failures).toEqual([]);
  expect(upstream.requests.length).toBeGreaterThanOrEqual(2);
});
