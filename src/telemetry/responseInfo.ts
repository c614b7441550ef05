import { usageOf } from '../openai/usage.js';
import { isRecord } from '../sse/httpErrors.js';
import type { ResponseInfo, TelemetryEndpoint, TokenUsage } from './types.js';

/** Longest model name, id or finish reason kept: foreign text bounded before it becomes an attribute. */
const MAX_TEXT = 256;

/**
 * The object that describes the answer in a parsed frame or body: a chunk or
 * a JSON body is it; a Responses event carries it in `response`.
 */
export function answerOf(json: unknown, endpoint: TelemetryEndpoint): Record<string, unknown> | undefined {
  if (!isRecord(json)) return undefined;
  return endpoint === 'responses' && isRecord(json.response) ? json.response : json;
}

/**
 * Model, id, usage and (for Responses) the finish reason of an answer object;
 * the finish reasons of chat and legacy completions are per choice, see
 * {@link choiceFinishReasons}.
 *
 * @example
 * responseInfoOf({ id: 'chatcmpl-1', model: 'gpt-4o-mini', usage: { prompt_tokens: 9, completion_tokens: 2 } }, 'chat/completions')
 * // { model: 'gpt-4o-mini', id: 'chatcmpl-1', usage: { inputTokens: 9, outputTokens: 2 } }
 */
export function responseInfoOf(answer: Record<string, unknown>, endpoint: TelemetryEndpoint): ResponseInfo {
  const info: ResponseInfo = {};
  const model = boundedText(answer.model);
  if (model) info.model = model;
  const id = boundedText(answer.id);
  if (id) info.id = id;
  const usage = usageOf(answer);
  if (usage) info.usage = tokenUsageOf(usage);
  const reason = endpoint === 'responses' ? responsesFinishReason(answer) : undefined;
  if (reason) info.finishReasons = [reason];
  return info;
}

/** `[index, finish_reason]` of each choice of a chunk or body that has one. */
export function choiceFinishReasons(answer: Record<string, unknown>): Array<[number, string]> {
  if (!Array.isArray(answer.choices)) return [];
  const reasons: Array<[number, string]> = [];
  answer.choices.forEach((choice: unknown, position) => {
    if (!isRecord(choice)) return;
    const reason = boundedText(choice.finish_reason);
    const index = Number.isSafeInteger(choice.index) ? (choice.index as number) : position;
    if (reason) reasons.push([index, reason]);
  });
  return reasons;
}

/**
 * A Responses answer's finish reason in the words chat uses: `stop` (or
 * `tool_calls` when it ends in a function call), `length` for
 * `max_output_tokens`, `content_filter`; `undefined` while it is in progress.
 */
function responsesFinishReason(response: Record<string, unknown>): string | undefined {
  if (response.status === 'completed') return endsInFunctionCall(response.output) ? 'tool_calls' : 'stop';
  if (response.status !== 'incomplete') return undefined;
  const reason = isRecord(response.incomplete_details) ? boundedText(response.incomplete_details.reason) : undefined;
  return reason === 'max_output_tokens' ? 'length' : (reason ?? 'incomplete');
}

function endsInFunctionCall(output: unknown): boolean {
  return Array.isArray(output) && output.some((item: unknown) => isRecord(item) && item.type === 'function_call');
}

/** Chat's `prompt_tokens`/`completion_tokens` or Responses' `input_tokens`/`output_tokens`, with their cached and reasoning parts. */
export function tokenUsageOf(usage: Record<string, unknown>): TokenUsage {
  const inputDetails = details(usage.prompt_tokens_details ?? usage.input_tokens_details);
  const outputDetails = details(usage.completion_tokens_details ?? usage.output_tokens_details);
  return {
    inputTokens: tokenCount(usage.prompt_tokens ?? usage.input_tokens),
    outputTokens: tokenCount(usage.completion_tokens ?? usage.output_tokens),
    cachedInputTokens: tokenCount(inputDetails.cached_tokens),
    reasoningTokens: tokenCount(outputDetails.reasoning_tokens),
  };
}

function details(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function tokenCount(value: unknown): number | undefined {
  return Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : undefined;
}

function boundedText(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value.slice(0, MAX_TEXT) : undefined;
}
