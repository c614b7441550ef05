import { excerpt } from '../errors.js';
import type { ToolCall, ToolOutcome } from './toolRunEvents.js';

/** The longest error text sent back to the model: enough to act on, never a whole stack or body. */
const MAX_ERROR_CHARS = 1000;

/**
 * The text a call's outcome goes back to the model as: a string result as it
 * is, any other result as JSON (`undefined` as `null`); a failure as an
 * `Error: …` sentence saying what went wrong, so the model can call again or
 * answer without the tool. Throws when a result cannot be written as JSON (a
 * cycle, a BigInt): the loop reports that as the tool failing.
 *
 * @example
 * toolResultContent(call, { kind: 'result', value: { tempC: 21 } }, ['get_weather']) // '{"tempC":21}'
 */
export function toolResultContent(call: ToolCall, outcome: ToolOutcome, offered: readonly string[]): string {
  switch (outcome.kind) {
    case 'result':
      return typeof outcome.value === 'string' ? outcome.value : (JSON.stringify(outcome.value) ?? 'null');
    case 'invalid-arguments':
      return `Error: the arguments for ${call.name} are invalid, so it did not run. ${excerpt(outcome.error.message, MAX_ERROR_CHARS)} Call it again with arguments that match its parameters.`;
    case 'unknown-tool':
      return `Error: there is no tool named ${JSON.stringify(excerpt(call.name, MAX_ERROR_CHARS))}. The tools are: ${offered.join(', ') || 'none'}.`;
    case 'failed':
      return `Error: ${call.name} failed: ${excerpt(messageOf(outcome.error), MAX_ERROR_CHARS)}`;
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return typeof error === 'string' ? error : 'it raised an error without a message';
}
