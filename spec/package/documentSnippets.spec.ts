import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startMockUpstream, type MockUpstream } from '../../src/testing/index.node';

/*
 * The TypeScript blocks of the README and the guides in docs/, read from the files themselves. A marker on the
 * line before a ```ts block says what is done with it (HTML comments: the rendered page does not show them):
 *
 *   <!-- runnable -->             type-checked and run, as a program of its own
 *   <!-- runnable: continued -->  appended to the program of the runnable block before it (blocks that share
 *                                 its imports: pasted together, they must still work)
 *   <!-- compiles -->             type-checked only (a server that listens until stopped)
 *   <!-- fragment -->             type-checked only, as a module of its own, against DOCUMENT_CONTEXT: the names a
 *                                 fragment takes from the reader's app (`client`, `ask`, `render` …) and the
 *                                 rxjs and openai-rx functions it uses without importing them
 *
 * Every ```ts block carries a marker, so that a new one cannot go unchecked.
 * `openai-rx` and its subpaths resolve to src/ through tsconfig paths (the Node entries), rxjs and the rest
 * from this repository's node_modules. Programs run with Node and tsx, OPENAI_BASE_URL pointing at a local mock
 * upstream, and `expect` (jest's, which marble examples call) as a global.
 */
jest.setTimeout(120_000);

type Marker = 'runnable' | 'runnable: continued' | 'compiles' | 'fragment';

/** The documents whose ```ts blocks are checked. */
const DOCUMENTS = ['README.md', 'docs/browser.md', 'docs/relay.md', 'docs/resume.md'];

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
    if (lines[at] === '```ts') throw new Error(`${document}:${at + 1}: a \`\`\`ts block without a marker on the line before it`);
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
 * What the documents' fragments take as given (a global script: a fragment's own imports shadow these). The app's
 * own functions have the narrowest type their uses allow, so a fragment that hands them something else fails.
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
declare function render(view: unknown): void;
declare function save(value: unknown): void;
declare function showStatus(text: string): void;
declare function showDone(): void;
declare function showError(error: unknown): void;
declare function keepStreamId(head: ResponseHead): void;
declare const output: HTMLElement;
declare const OpenAI: typeof import('openai').default;
declare const express: typeof import('express');
declare const requireLogin: import('express').RequestHandler;
declare const log: { info(value: unknown): void };
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

/** `README.md:382` → `README.md-382.mts` */
const fileOf = (program: Program) => `${program.place.replace(/^docs\//, '').replace(':', '-')}.mts`;

let workDir: string;
let upstream: MockUpstream;
let programs: Program[];

beforeAll(async () => {
  const texts = await Promise.all(DOCUMENTS.map((document) => readFile(join(repoRoot, document), 'utf8')));
  programs = DOCUMENTS.flatMap((document, at) => documentPrograms(document, texts[at]));
  workDir = await mkdtemp(join(tmpdir(), 'openai-rx-documents-'));
  await symlink(join(repoRoot, 'node_modules'), join(workDir, 'node_modules'), 'dir');
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      types: ['node', 'jest'],
      paths: Object.fromEntries(Object.entries(entries).map(([name, path]) => [name, [join(repoRoot, path)]])),
    },
    include: ['*.mts', 'document-context.d.ts'],
  };
  await writeFile(join(workDir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  await writeFile(join(workDir, 'document-context.d.ts'), DOCUMENT_CONTEXT);
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

test('the README marks blocks to run, one continuing another, and blocks to compile', () => {
  expect(programs.filter((program) => program.run).length).toBeGreaterThanOrEqual(3);
  expect(programs.filter((program) => !program.run).length).toBeGreaterThanOrEqual(2);
  expect(Math.max(...programs.map((program) => program.blocks))).toBeGreaterThan(1);
});

test('every marked block type-checks', async () => {
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = await run([tsc, '-p', 'tsconfig.json']);

  expect(result).toEqual({ code: 0, output: '' });
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
