import type { SseFrame } from '../../index.js';
import { isRecord } from '../../sse/httpErrors.js';

/** What a raw frame is, for the colour of its label. */
export type FrameKind = 'role' | 'content' | 'tool' | 'finish' | 'usage' | 'done' | 'error' | 'comment' | 'other';

export interface FrameSummary {
  kind: FrameKind;
  /** A few words: the delta's text, `finish stop`, `usage 12 → 40`, … */
  label: string;
}

const LABEL_LENGTH = 14;

/**
 * One raw frame in a few words, for the raw panel's label column: a chat
 * chunk's content, tool arguments, finish reason or usage; `[DONE]`; an error
 * event; a comment. Foreign data: anything else is `other`, never a throw.
 *
 * @example
 * summarizeFrame({ type: 'event', data: '{"choices":[{"delta":{"content":" cold"}}]}' }); // { kind: 'content', label: '" cold"' }
 */
export function summarizeFrame(frame: SseFrame): FrameSummary {
  if (frame.type === 'comment') return { kind: 'comment', label: 'comment' };
  if (frame.data === '[DONE]') return { kind: 'done', label: '[DONE]' };
  let value: unknown;
  try {
    value = JSON.parse(frame.data);
  } catch {
    return { kind: 'other', label: frame.event ?? 'data' };
  }
  return chunkSummary(value) ?? { kind: 'other', label: frame.event ?? 'data' };
}

function chunkSummary(value: unknown): FrameSummary | undefined {
  if (!isRecord(value)) return undefined;
  if (value.error !== undefined) return { kind: 'error', label: 'error' };
  const choice = Array.isArray(value.choices) && isRecord(value.choices[0]) ? value.choices[0] : undefined;
  const delta = choice && isRecord(choice.delta) ? choice.delta : undefined;
  if (typeof delta?.content === 'string' && delta.content) return { kind: 'content', label: short(JSON.stringify(delta.content)) };
  const call = Array.isArray(delta?.tool_calls) && isRecord(delta.tool_calls[0]) ? delta.tool_calls[0] : undefined;
  const fn = call && isRecord(call.function) ? call.function : undefined;
  if (typeof fn?.name === 'string' && fn.name) return { kind: 'tool', label: short(`call ${fn.name}`) };
  if (typeof fn?.arguments === 'string') return { kind: 'tool', label: short(`args ${fn.arguments}`) };
  if (typeof choice?.finish_reason === 'string') return { kind: 'finish', label: short(`finish ${choice.finish_reason}`) };
  if (isRecord(value.usage)) return { kind: 'usage', label: `usage ${String(value.usage.prompt_tokens ?? '?')} → ${String(value.usage.completion_tokens ?? '?')}` };
  if (typeof delta?.role === 'string') return { kind: 'role', label: short(`role ${delta.role}`) };
  return undefined;
}

function short(text: string): string {
  return text.length > LABEL_LENGTH ? `${text.slice(0, LABEL_LENGTH - 1)}…` : text;
}
