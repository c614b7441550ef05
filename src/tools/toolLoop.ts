import { concat, defer, EMPTY, expand, filter, from, map, mergeMap, of, tap, throwError, type Observable } from 'rxjs';
import { InvalidRequestError, StreamTruncatedError } from '../errors.js';
import { runToolCall, type LoopTool, type ToolCallEvent } from './runToolCall.js';
import { sumUsage } from './sumUsage.js';
import type { ToolCall, ToolRunEndReason, ToolRunEvent } from './toolRunEvents.js';

/** A chunk of a step's streamed completion, with the completion so far. */
export interface StreamedChunk<Chunk, Completion> {
  chunk: Chunk;
  snapshot: Completion;
}

/** What the loop needs of one API (chat completions, Responses). */
export interface ToolLoopApi<Chunk, Completion, Item, Usage> {
  /** One step's request for `conversation`, streamed; retries, if any, happen inside it. */
  stream(conversation: readonly Item[]): Observable<StreamedChunk<Chunk, Completion>>;
  /** The function calls a completion asks for, in order. */
  calls(completion: Completion): ToolCall[];
  /** What a completion adds to the conversation (chat: the assistant message; Responses: its output items). */
  reply(completion: Completion): Item[];
  /** The item that gives one call's result back to the model. */
  result(call: ToolCall, content: string): Item;
  usage(completion: Completion): Usage | null | undefined;
}

/** The options every tool loop shares. */
export interface ToolLoopConfig {
  /** The tools the model may call; each has a zod `schema` and an `execute` (`zodFunction` makes them). */
  tools: readonly LoopTool[];
  /** The most completion requests; default {@link DEFAULT_MAX_STEPS}, as openai-node's runTools. */
  maxSteps?: number;
  /** The most tools running at once; default: every call of a step at once. */
  concurrency?: number;
}

export const DEFAULT_MAX_STEPS = 10;

interface LoopState<Item, Usage> {
  step: number;
  conversation: readonly Item[];
  usage: Usage | undefined;
}

/** The loop's own marker between steps: what the next step starts from. Never emitted. */
class NextStep<Item, Usage> {
  constructor(readonly state: LoopState<Item, Usage>) {}
}

/**
 * The tool loop over one API, cold: stream a completion; if it asks for
 * tools, run them (up to `concurrency` at once), add the answer and the
 * results (in call order) to the conversation and stream the next completion;
 * until a completion asks for none, or `maxSteps` completions were made
 * (`done` then says `max-steps` and holds the calls that did not run).
 * Unsubscribing ends the request in flight and cancels the running tools;
 * no request is sent and no tool starts afterwards.
 *
 * @example
 * toolLoop(chatApi, params.messages, { tools: [getWeather] }).subscribe(render);
 */
export function toolLoop<Chunk, Completion, Item, Usage>(
  api: ToolLoopApi<Chunk, Completion, Item, Usage>,
  conversation: readonly Item[],
  config: ToolLoopConfig,
): Observable<ToolRunEvent<Chunk, Completion, Item, Usage>> {
  type Event = ToolRunEvent<Chunk, Completion, Item, Usage>;
  return defer(() => {
    const tools = toolsByName(config.tools);
    const maxSteps = countOption(config.maxSteps ?? DEFAULT_MAX_STEPS, 'maxSteps');
    const concurrency = config.concurrency === undefined || config.concurrency === Infinity ? Infinity : countOption(config.concurrency, 'concurrency');

    const runStep = ({ step, conversation, usage }: LoopState<Item, Usage>) =>
      defer(() => {
        let completion: Completion | undefined;
        const chunks$ = api.stream(conversation).pipe(
          map(({ chunk, snapshot }): Event => {
            completion = snapshot;
            return { type: 'chunk', step, chunk, snapshot };
          }),
        );
        return concat(chunks$, defer(() => (completion === undefined ? throwError(() => noCompletion(step)) : afterCompletion(step, conversation, usage, completion))));
      });

    const afterCompletion = (step: number, conversation: readonly Item[], usageBefore: Usage | undefined, completion: Completion) => {
      const usage = sumUsage(usageBefore, api.usage(completion));
      const calls = api.calls(completion);
      const completed: Event = { type: 'completion', step, completion };
      const done = (reason: ToolRunEndReason, messages: readonly Item[], pending: readonly ToolCall[]): Event => ({
        type: 'done',
        step,
        reason,
        messages,
        completion,
        usage,
        pending,
      });
      if (calls.length === 0) return of(completed, done('answered', [...conversation, ...api.reply(completion)], []));
      if (step >= maxSteps) return of(completed, done('max-steps', conversation, calls));
      const contents: string[] = [];
      const ran$ = from(calls.map((call, index) => [index, call] as const)).pipe(
        mergeMap(
          ([index, call]) =>
            runToolCall(call, tools, step).pipe(
              tap((event: ToolCallEvent) => {
                if (event.type === 'tool-result') contents[index] = event.content;
              }),
            ),
          concurrency,
        ),
      );
      const next = defer(() => {
        const results = calls.map((call, index) => api.result(call, contents[index]));
        return of(new NextStep({ step: step + 1, conversation: [...conversation, ...api.reply(completion), ...results], usage }));
      });
      return concat(of(completed), ran$ as Observable<Event>, next);
    };

    return runStep({ step: 1, conversation, usage: undefined }).pipe(
      expand((event) => (event instanceof NextStep ? runStep(event.state) : EMPTY)),
      filter((event): event is Event => !(event instanceof NextStep)),
    );
  });
}

function toolsByName(tools: readonly LoopTool[]): ReadonlyMap<string, LoopTool> {
  const byName = new Map<string, LoopTool>();
  for (const tool of tools) {
    if (typeof tool.schema !== 'object' || tool.schema === null) {
      throw new InvalidRequestError({ message: `runTools: the tool ${JSON.stringify(tool.name)} has no zod schema for its arguments (make it with zodFunction)` });
    }
    if (typeof tool.execute !== 'function') throw new InvalidRequestError({ message: `runTools: the tool ${JSON.stringify(tool.name)} has no execute function` });
    if (byName.has(tool.name)) throw new InvalidRequestError({ message: `runTools: two tools are named ${JSON.stringify(tool.name)}` });
    byName.set(tool.name, tool);
  }
  return byName;
}

function countOption(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidRequestError({ message: `runTools: '${name}' must be a whole number of at least 1, got ${String(value)}` });
  return value;
}

function noCompletion(step: number): StreamTruncatedError<undefined> {
  return new StreamTruncatedError({ message: `The stream of step ${step} ended without a single chunk`, partial: undefined });
}
