import type { OutputValidationError } from '../errors.js';

/** A call the model made, the same for every API: chat's `tool_calls[i].id`, Responses' `call_id`. */
export interface ToolCall {
  /** What the result answers: chat's `tool_call_id`, Responses' `call_id`. */
  id: string;
  name: string;
  /** The arguments' JSON as the model wrote it. */
  arguments: string;
}

/**
 * How one call went, as `tool-result` reports it. Every outcome goes back to
 * the model as the call's result: the value, or an error text it can act on.
 */
export type ToolOutcome =
  /** The tool ran; `value` is what it returned (an Observable's last value). */
  | { kind: 'result'; value: unknown }
  /** The arguments were not JSON or failed the tool's schema: the tool did not run. */
  | { kind: 'invalid-arguments'; error: OutputValidationError }
  /** The model named a tool the loop was not given: nothing ran. */
  | { kind: 'unknown-tool' }
  /** The tool threw, rejected or errored. */
  | { kind: 'failed'; error: unknown };

/** Why the loop ended: the model answered without tool calls, or `maxSteps` completions were made. */
export type ToolRunEndReason = 'answered' | 'max-steps';

/**
 * What a tool loop emits, in order, for each step (one completion request):
 * `chunk` for every streamed chunk (with the completion so far), `completion`
 * once it is complete, then for each tool call it asks for a `tool-call` when
 * the loop takes the call up and a `tool-result` when its result is known
 * (calls run concurrently, so results come in the order they finish). After
 * the last step, `done`.
 */
export type ToolRunEvent<Chunk, Completion, Item, Usage> =
  | { readonly type: 'chunk'; readonly step: number; readonly chunk: Chunk; readonly snapshot: Completion }
  | { readonly type: 'completion'; readonly step: number; readonly completion: Completion }
  | {
      readonly type: 'tool-call';
      readonly step: number;
      readonly call: ToolCall;
      /** The arguments validated by the tool's schema; `undefined` when they failed it or the tool is unknown. */
      readonly args: unknown;
    }
  | {
      readonly type: 'tool-result';
      readonly step: number;
      readonly call: ToolCall;
      readonly outcome: ToolOutcome;
      /** The text sent back to the model as the call's result. */
      readonly content: string;
    }
  | ToolRunDone<Completion, Item, Usage>;

/** The last event of a tool loop. */
export interface ToolRunDone<Completion, Item, Usage> {
  readonly type: 'done';
  /** The last step: how many completions were requested. */
  readonly step: number;
  readonly reason: ToolRunEndReason;
  /**
   * The whole conversation: what the loop was given, then each step's answer
   * and tool results. Send it (with a new user message) to continue. At
   * `max-steps` it ends with the last tool results: the unanswered calls of
   * the last completion are in `pending`, not here, so it is a valid request as it is.
   */
  readonly messages: readonly Item[];
  /** The last completion. */
  readonly completion: Completion;
  /** Token usage summed over every step; `undefined` when no step reported usage. */
  readonly usage: Usage | undefined;
  /** At `max-steps`: the calls the last completion asked for, which did not run. Empty otherwise. */
  readonly pending: readonly ToolCall[];
}
