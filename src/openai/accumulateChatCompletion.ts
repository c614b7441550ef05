import type { OperatorFunction } from 'rxjs';
import { accumulateSnapshots, ChoicesAccumulator } from './accumulateSnapshots.js';
import type {
  ChatCompletion,
  ChatCompletionChoice,
  ChatCompletionChunk,
  ChatCompletionChunkChoice,
  ChatCompletionMessageToolCall,
  ChatCompletionTokenLogprob,
  ChatCompletionToolCallDelta,
} from './chatTypes.js';
import { arraysOf, GrowingArray, IndexedArray } from './growingArray.js';
import { toolCallIndexer } from './toolCallDeltas.js';

/**
 * Chunks → a snapshot of the whole completion after every chunk, shaped like a
 * non-streaming `ChatCompletion`; the last one is the final result. Each
 * snapshot is a new object that later chunks never change; a choice is rebuilt
 * only when a chunk changed it, and text grows by concatenation. Tool calls and
 * choices are kept in versioned arrays and logprobs in a store the snapshots
 * share, each snapshot's arrays copied out when first read, so the cost per
 * chunk is that of what it brought, however long the answer and however many
 * calls or choices came before.
 *
 * If the stream is cut short, the `StreamTruncatedError` carries the last
 * snapshot as `partial`.
 *
 * @example
 * const final = await lastValueFrom(client.chat.completions.stream(params).pipe(accumulateChatCompletion()));
 */
export function accumulateChatCompletion(): OperatorFunction<ChatCompletionChunk, ChatCompletion> {
  return accumulateSnapshots(
    () =>
      new ChoicesAccumulator<'chat.completion', ChatCompletionChunk, ChatCompletionChunkChoice, ChatCompletionChoice>(
        'chat.completion',
        (index) => new ChoiceState(index),
        (chunk) => chunk.usage ?? chunk.x_groq?.usage,
      ),
  );
}

class ChoiceState {
  role = 'assistant';
  content: string | null = null;
  refusal: string | null = null;
  reasoningContent: string | undefined;
  reasoning: string | undefined;
  readonly toolCalls = new IndexedArray<ChatCompletionMessageToolCall>();
  readonly indexOf = toolCallIndexer();
  finishReason: string | null = null;
  contentLogprobs: GrowingArray<ChatCompletionTokenLogprob> | null = null;
  refusalLogprobs: GrowingArray<ChatCompletionTokenLogprob> | null = null;
  /** What snapshots show until more logprobs arrive: read once, copied once. */
  logprobs: ChatCompletionChoice['logprobs'] = null;
  cached: ChatCompletionChoice | undefined;

  constructor(readonly index: number) {}

  add(choice: ChatCompletionChunkChoice): void {
    this.cached = undefined;
    const delta = choice.delta;
    if (delta) {
      if (delta.role) this.role = delta.role;
      if (typeof delta.content === 'string') this.content = (this.content ?? '') + delta.content;
      if (typeof delta.refusal === 'string') this.refusal = (this.refusal ?? '') + delta.refusal;
      if (typeof delta.reasoning_content === 'string') this.reasoningContent = (this.reasoningContent ?? '') + delta.reasoning_content;
      if (typeof delta.reasoning === 'string') this.reasoning = (this.reasoning ?? '') + delta.reasoning;
      if (delta.tool_calls) for (const fragment of delta.tool_calls) this.toolCalls.update(this.indexOf(fragment), (call) => withFragment(call, fragment));
    }
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    const logprobs = choice.logprobs;
    if (logprobs) {
      if (logprobs.content) this.contentLogprobs = (this.contentLogprobs ?? GrowingArray.from()).concat(logprobs.content);
      if (logprobs.refusal) this.refusalLogprobs = (this.refusalLogprobs ?? GrowingArray.from()).concat(logprobs.refusal);
      this.logprobs = arraysOf({ content: this.contentLogprobs, refusal: this.refusalLogprobs });
    }
  }

  snapshot(): ChatCompletionChoice {
    if (this.cached) return this.cached;
    const message: ChatCompletionChoice['message'] = { role: this.role, content: this.content, refusal: this.refusal };
    if (this.toolCalls.length > 0) this.toolCalls.defineOn(message, 'tool_calls');
    if (this.reasoningContent !== undefined) message.reasoning_content = this.reasoningContent;
    if (this.reasoning !== undefined) message.reasoning = this.reasoning;
    this.cached = {
      index: this.index,
      message,
      finish_reason: this.finishReason,
      logprobs: this.logprobs,
    };
    return this.cached;
  }
}

/**
 * The call after one more of its fragments; a new object, as earlier snapshots
 * hold the previous one. The first fragment decides the kind: `custom` (by its
 * `type` or a `custom` payload; the text is `custom.input`) or `function` (the
 * text is `function.arguments`). Texts are concatenated, the first non-empty
 * name is kept, the latest non-empty id, and fields openai-rx does not know are
 * kept as the latest fragment sent them.
 */
function withFragment(
  previous: ChatCompletionMessageToolCall | undefined,
  fragment: ChatCompletionToolCallDelta,
): ChatCompletionMessageToolCall {
  const { index: _index, id, type, function: functionPart, custom, ...unknown } = fragment;
  const kind = previous?.type ?? (type === 'custom' || custom ? 'custom' : 'function');
  const [sent, textKey] = kind === 'custom' ? [custom, 'input'] : [functionPart, 'arguments'];
  const before = (previous?.[kind] ?? { name: '', [textKey]: '' }) as Record<string, string>;
  const payload = {
    ...before,
    ...sent,
    name: before.name || sent?.name || '',
    [textKey]: before[textKey] + ((sent as Record<string, unknown> | null | undefined)?.[textKey] ?? ''),
  };
  return { ...previous, ...unknown, id: id || previous?.id || '', type: kind, [kind]: payload } as ChatCompletionMessageToolCall;
}
