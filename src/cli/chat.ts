import { EMPTY, catchError, identity, ignoreElements, merge, share, tap, type Observable, type OperatorFunction } from 'rxjs';
import { Agent } from 'undici';
import { unknown } from 'zod/mini';
import type { OpenAIRxClient, RequestOptions } from '../client.js';
import { createClient } from '../index.node.js';
import { chatChunks } from '../openai/chatChunks.js';
import type { ChatCompletionChunk } from '../openai/chatTypes.js';
import { contentOrRefusal } from '../openai/contentOrRefusal.js';
import { outputTextOrRefusal } from '../openai/outputTextOrRefusal.js';
import { responseEvents } from '../openai/responseEvents.js';
import { isKnownResponseEvent, type ResponseStreamEvent } from '../openai/responseTypes.js';
import { structuredOutput, type RefusalDelta, type StructuredOutputEvent } from '../operators/structuredOutput.js';
import { OutputValidationError, RefusalError } from '../errors.js';
import { encodeSse } from '../sse/encodeSse.js';
import type { SseFrame, StreamTimeouts } from '../sse/types.js';
import { errorInFrame } from '../openai/streamErrors.js';
import { startMockUpstream, type MockUpstream } from '../testing/mockUpstream.js';
import { undiciTransport } from '../transport/undiciTransport.js';
import { jsonSchemaFile, parseCommand, printableUrl, type NamedJsonSchema } from './args.js';
import { chatTimeouts, describeTimeouts } from './chatTimeouts.js';
import { describeError } from './errorReport.js';
import { escapeForTerminal, escapeJsonForTerminal, escapeTerminalControls } from './escapeForTerminal.js';
import { ExitCode, UsageError, exitCodeOf, exitCodeOfSignal } from './exitCodes.js';
import type { CliOutput } from './io.js';
import { onStopSignal, type StopSignal } from './signals.js';
import { displayWidth, StatusLine } from './statusLine.js';
import { StreamStats } from './streamStats.js';
import { MOCK_TOKEN_DELAY_MS, resolveUpstream, type Upstream } from './upstream.js';

const DEFAULT_MODEL = 'gpt-4o-mini';
/** The model name as the status and `--verbose` show it. */
const MODEL_LABEL_CHARS = 100;
/** Longer prompts from stdin are refused rather than read without bound. */
const MAX_STDIN_PROMPT_BYTES = 4 * 1024 * 1024;

type Format = 'text' | 'raw' | 'json';

interface ChatOptions {
  prompt: string;
  model: string;
  system: string | undefined;
  format: Format;
  responses: boolean;
  timeout: StreamTimeouts | undefined;
  quiet: boolean;
  verbose: boolean;
  /** `--schema`: structured output, and the answer shown as JSON. */
  schema: NamedJsonSchema | undefined;
}

/** One endpoint as the chat command uses it: the request, the parser, and what each parsed event means. */
interface Endpoint<Event> {
  path: string;
  events(client: OpenAIRxClient, options: ChatOptions, request: RequestOptions): Observable<SseFrame>;
  parse(): OperatorFunction<SseFrame, Event>;
  /** Records the event in `stats`; returns the answer text it adds, if any. */
  read(event: Event, stats: StreamStats): string | undefined;
  /** The answer's text and refusal deltas, for `--schema`. */
  deltas(): OperatorFunction<Event, string | RefusalDelta>;
}

const chatEndpoint: Endpoint<ChatCompletionChunk> = {
  path: '/chat/completions',
  events: (client, options, request) =>
    client.chat.completions.events(
      {
        model: options.model,
        messages: [
          ...(options.system === undefined ? [] : [{ role: 'system' as const, content: options.system }]),
          { role: 'user', content: options.prompt },
        ],
        stream_options: { include_usage: true },
        ...(options.schema && { response_format: { type: 'json_schema', json_schema: { ...options.schema, strict: true } } }),
      },
      request,
    ),
  parse: chatChunks,
  deltas: contentOrRefusal,
  read(chunk, stats) {
    stats.usage(chunk.usage?.completion_tokens);
    let text = '';
    for (const choice of chunk.choices) {
      if ((choice.index ?? 0) !== 0) continue;
      if (choice.delta?.content || choice.delta?.tool_calls?.length) stats.delta();
      text += choice.delta?.content ?? '';
      stats.finish(choice.finish_reason);
    }
    return text;
  },
};

const responsesEndpoint: Endpoint<ResponseStreamEvent> = {
  path: '/responses',
  events: (client, options, request) =>
    client.responses.events(
      {
        model: options.model,
        input: options.prompt,
        ...(options.system === undefined ? {} : { instructions: options.system }),
        ...(options.schema && { text: { format: { type: 'json_schema', ...options.schema, strict: true } } }),
      },
      request,
    ),
  parse: responseEvents,
  deltas: outputTextOrRefusal,
  read(event, stats) {
    if (!isKnownResponseEvent(event)) return undefined;
    switch (event.type) {
      case 'response.output_text.delta':
        stats.delta();
        return event.delta;
      case 'response.function_call_arguments.delta':
        stats.delta();
        return undefined;
      case 'response.completed':
      case 'response.incomplete':
        stats.usage(event.response.usage?.output_tokens);
        stats.finish(event.response.incomplete_details?.reason ?? event.response.status);
        return undefined;
      default:
        return undefined;
    }
  },
};

/** `openai-rx chat`: streams one answer to stdout; resolves with the exit code. */
export async function chatCommand(argv: string[], output: CliOutput, env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parseCommand('chat', argv, {
    model: { type: 'string', short: 'm' },
    system: { type: 'string', short: 's' },
    'base-url': { type: 'string' },
    'api-key': { type: 'string' },
    mock: { type: 'boolean' },
    raw: { type: 'boolean' },
    json: { type: 'boolean' },
    responses: { type: 'boolean' },
    schema: { type: 'string' },
    timeout: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    verbose: { type: 'boolean', short: 'v' },
  }, output);
  if (!parsed) return ExitCode.ok;
  const { values, positionals } = parsed;
  output.addSecrets(values['api-key'], env.OPENAI_API_KEY);
  if (values.raw && values.json) throw new UsageError('chat: --raw and --json exclude each other');
  if (values.mock && (values['base-url'] !== undefined || values['api-key'] !== undefined)) {
    throw new UsageError('chat: --mock answers from the embedded mock; it takes no --base-url or --api-key');
  }
  const options: ChatOptions = {
    prompt: positionals.length > 0 && positionals.join('') !== '-' ? positionals.join(' ') : await readPromptFromStdin(),
    model: values.model ?? DEFAULT_MODEL,
    system: values.system,
    format: values.raw ? 'raw' : values.json ? 'json' : 'text',
    responses: values.responses ?? false,
    timeout: chatTimeouts(values.timeout),
    quiet: values.quiet ?? false,
    verbose: values.verbose ?? false,
    schema: values.schema === undefined ? undefined : await jsonSchemaFile(values.schema),
  };
  if (!options.prompt.trim()) throw new UsageError('chat: the prompt is empty');

  let mock: MockUpstream | undefined;
  try {
    let upstream: Upstream;
    if (values.mock) {
      mock = await startMockUpstream({ tokenDelayMs: MOCK_TOKEN_DELAY_MS });
      upstream = { baseURL: mock.baseURL, apiKey: undefined, keySource: undefined };
    } else {
      upstream = resolveUpstream({
        url: values['base-url'],
        urlFlag: '--base-url',
        apiKey: values['api-key'],
        env,
        withoutKey: 'use the embedded mock (--mock)',
      });
    }
    const endpoint: Endpoint<unknown> = (options.responses ? responsesEndpoint : chatEndpoint) as Endpoint<unknown>;
    return await streamAnswer(endpoint, upstream, options, output, values.mock ? 'embedded mock' : undefined);
  } finally {
    await mock?.close();
  }
}

type Outcome =
  | { kind: 'done' }
  | { kind: 'error'; error: unknown }
  | { kind: 'signal'; signal: StopSignal }
  | { kind: 'output-closed' };

async function streamAnswer(
  endpoint: Endpoint<unknown>,
  upstream: Upstream,
  options: ChatOptions,
  output: CliOutput,
  upstreamLabel: string | undefined,
): Promise<number> {
  // The command's timeouts are the limits: undici's own (5 minutes for the headers and between body chunks)
  // would cut a reasoning model's silence short of them, and no limit at all with `--timeout 0`.
  const transport = undiciTransport({ dispatcher: new Agent({ headersTimeout: 0, bodyTimeout: 0 }) });
  const client = createClient({ apiKey: upstream.apiKey, baseURL: upstream.baseURL, transport });
  const stats = new StreamStats();
  const model = escapeForTerminal(options.model, MODEL_LABEL_CHARS);
  const status =
    output.stderrIsTTY && !options.quiet
      ? new StatusLine(output, (compact) => stats.live(model, compact), () => process.stdout.columns || 80)
      : undefined;
  let requestId: string | undefined;
  let lastOutput = '';
  // On a terminal the upstream's text must not drive it; into a pipe or a file it goes byte for byte.
  const forStdout = output.stdoutIsTTY ? escapeTerminalControls : (text: string) => text;
  /** Writes text that is safe for stdout as it is. */
  const print = (text: string) => {
    if (!text) return;
    if (status) status.text(text);
    else output.out(text);
    lastOutput = text;
  };
  const write = (text: string) => print(forStdout(text));
  const view = options.schema && options.format === 'text' ? jsonView(output.stdoutIsTTY, print) : undefined;
  const info = (line: string) => (status ? status.line(line) : output.err(line));

  if (options.verbose) {
    const key = upstream.keySource ? `API key from ${upstream.keySource}` : 'no API key';
    output.err(`POST ${printableUrl(client.baseURL)}${endpoint.path} · model ${model} · ${upstreamLabel ?? key}`);
    output.err(describeTimeouts(options.timeout));
  }
  const frames$ = endpoint
    .events(client, options, {
      timeout: options.timeout,
      head(response) {
        requestId = response.requestId;
        if (options.verbose) {
          info(`HTTP ${response.status} ${response.headers['content-type'] ?? ''}${requestId ? ` · request ${requestId}` : ''}`);
        }
      },
    })
    .pipe(share());
  const parsed$: Observable<unknown> = frames$.pipe(
    endpoint.parse(),
    tap((event) => {
      const text = endpoint.read(event, stats);
      if (options.format === 'text' && text && !view) write(text);
      if (options.format === 'json') write(`${escapeJsonForTerminal(JSON.stringify(event))}\n`);
    }),
    view ? (events$) => events$.pipe(endpoint.deltas(), structuredOutput(ANY_JSON), tap(view)) : identity,
  );
  // --raw prints every frame up to the end of the stream even when parsing (for the stats) failed early.
  let parseError: unknown;
  const work$ =
    options.format === 'raw'
      ? merge(
          frames$.pipe(tap((frame) => write(rawFrameText(frame, output))), ignoreElements()),
          parsed$.pipe(ignoreElements(), catchError((error: unknown) => ((parseError = error), EMPTY))),
        )
      : parsed$.pipe(ignoreElements());

  status?.start();
  const outcome = await new Promise<Outcome>((resolve) => {
    const cleanups: Array<() => void> = [];
    const finish = (result: Outcome) => {
      for (const cleanup of cleanups) cleanup();
      resolve(result);
    };
    const subscription = work$.subscribe({
      complete: () => finish(parseError === undefined ? { kind: 'done' } : { kind: 'error', error: parseError }),
      error: (error: unknown) => finish({ kind: 'error', error }),
    });
    // Unsubscribing aborts the request and destroys its socket: the upstream sees the close at once.
    cleanups.push(
      onStopSignal((signal) => {
        subscription.unsubscribe();
        finish({ kind: 'signal', signal });
      }),
      output.onClosed(() => {
        subscription.unsubscribe();
        finish({ kind: 'output-closed' });
      }),
    );
  });
  stats.end();
  status?.stop();
  if (options.format === 'text' && lastOutput && !lastOutput.endsWith('\n')) write('\n');

  const statsLine = (ending?: string) => {
    if (!options.quiet) output.err(`stats: ${stats.summary(ending)}`);
  };
  switch (outcome.kind) {
    case 'done':
      statsLine();
      return ExitCode.ok;
    case 'signal':
      statsLine(outcome.signal === 'SIGINT' ? 'interrupted' : 'terminated');
      return exitCodeOfSignal(outcome.signal);
    case 'output-closed':
      statsLine('output closed');
      return ExitCode.ok;
    case 'error': {
      const failure = structuredOutputFailure(outcome.error);
      if (failure) {
        output.err(`openai-rx: ${failure.message}`);
        if (options.verbose) statsLine('error');
        return failure.code;
      }
      for (const line of describeError(outcome.error, { requestId, verbose: options.verbose, redact: (text) => output.redact(text) })) {
        output.err(line);
      }
      if (options.verbose) statsLine('error');
      return exitCodeOf(outcome.error);
    }
  }
}

/** `--schema` checks that the answer is JSON; the provider's strict mode makes it fit the schema. */
const ANY_JSON = unknown();
/** Marks a partial answer cut to the terminal's width. */
const ELLIPSIS = '…';

/**
 * How `--schema` shows the answer. On a terminal: the object as it grows, as
 * one line of compact JSON redrawn in place (its tail when it is wider than
 * the terminal), then the complete value pretty-printed. Into a pipe or a
 * file: only the complete value, as one line of JSON.
 */
function jsonView(onTerminal: boolean, print: (text: string) => void): (event: StructuredOutputEvent<unknown>) => void {
  const json = (value: unknown, indent?: number) => escapeJsonForTerminal(JSON.stringify(value, null, indent) ?? 'null');
  if (!onTerminal) {
    return (event) => {
      if (event.done) print(`${JSON.stringify(event.value)}\n`);
    };
  }
  return (event) => {
    if (event.done) print(`\r\x1b[K${json(event.value, 2)}\n`);
    else print(`\r${tailThatFits(json(event.partial), (process.stdout.columns || 80) - 1)}\x1b[K`);
  };
}

/** The end of `text` that fits in `columns` terminal cells, marked with … when cut. */
function tailThatFits(text: string, columns: number): string {
  const chars = Array.from(text);
  let width = 0;
  let start = chars.length;
  while (start > 0 && width + displayWidth(chars[start - 1]) <= columns - 1) width += displayWidth(chars[--start]);
  return start === 0 ? text : ELLIPSIS + chars.slice(start).join('');
}

/** What the CLI says, and its exit code, when a `--schema` answer is not JSON (6) or is a refusal (1). */
function structuredOutputFailure(error: unknown): { message: string; code: ExitCode } | undefined {
  if (error instanceof OutputValidationError) return { message: `the answer is not the JSON asked for: ${error.message}`, code: ExitCode.protocol };
  if (error instanceof RefusalError) return { message: error.message, code: ExitCode.unexpected };
  return undefined;
}

/**
 * What `--raw` prints for a frame: an ordinary event as it came (the answer is
 * never altered, even where it happens to contain a short key such as
 * `ollama`); an error event, in any provider's shape, and a comment with every
 * secret removed, as the stderr error line has them.
 */
export function rawFrameText(frame: SseFrame, output: CliOutput): string {
  const text = encodeSse(frame);
  return frame.type === 'event' && !errorInFrame(frame) ? text : output.redact(text);
}

async function readPromptFromStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('chat: no prompt: openai-rx chat "your question" (or pipe it into stdin)');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_STDIN_PROMPT_BYTES) throw new UsageError(`chat: the prompt on stdin is larger than ${MAX_STDIN_PROMPT_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8').trim();
}
