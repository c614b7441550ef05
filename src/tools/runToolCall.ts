import { catchError, concat, defer, map, of, type Observable } from 'rxjs';
import type * as z from 'zod/v4/core';
import { parseToolArguments } from '../operators/parseToolArguments.js';
import { executeTool, type RunToolContext } from './executeTool.js';
import { toolResultContent } from './toolResultContent.js';
import type { ToolCall, ToolOutcome, ToolRunEvent } from './toolRunEvents.js';

/** A tool as the loop runs it: found by name, its arguments checked by `schema`, run by `execute`. */
export interface LoopTool {
  name: string;
  schema: z.$ZodType;
  execute: (args: never, context: RunToolContext) => unknown;
}

/** The events of one call: `tool-call`, then `tool-result`. */
export type ToolCallEvent = Extract<ToolRunEvent<unknown, unknown, unknown, unknown>, { type: 'tool-call' | 'tool-result' }>;

/**
 * Takes up one call of step `step`: a `tool-call` event, then the tool runs
 * (only when it is one of `tools` and its arguments pass its schema) and a
 * `tool-result` event carries what goes back to the model. Never errors: a
 * failure is the call's outcome. Unsubscribing cancels the running tool.
 *
 * @example
 * runToolCall(call, new Map([['get_weather', weatherTool]]), 1).subscribe(show);
 */
export function runToolCall(call: ToolCall, tools: ReadonlyMap<string, LoopTool>, step: number): Observable<ToolCallEvent> {
  return defer(() => {
    const result = (outcome: ToolOutcome): ToolCallEvent => ({
      type: 'tool-result',
      step,
      call,
      outcome,
      content: toolResultContent(call, outcome, [...tools.keys()]),
    });
    const taken = (args: unknown): ToolCallEvent => ({ type: 'tool-call', step, call, args });
    const tool = tools.get(call.name);
    if (!tool) return of(taken(undefined), result({ kind: 'unknown-tool' }));
    const parsed = parseToolArguments(tool, call.arguments);
    if (!parsed.success) return of(taken(undefined), result({ kind: 'invalid-arguments', error: parsed.error }));
    return concat(
      of(taken(parsed.data)),
      executeTool(tool.execute, parsed.data as never, call).pipe(
        // A result that cannot be written as JSON throws here, and is reported as the tool failing.
        map((value) => result({ kind: 'result', value })),
        catchError((error: unknown) => of(result({ kind: 'failed', error }))),
      ),
    );
  });
}
