import { Observable, type OperatorFunction } from 'rxjs';
import { StreamTruncatedError } from '../errors.js';
import type {
  ChatCompletion,
  ChatCompletionChoice,
  ChatCompletionChunk,
  ChatCompletionChunkChoice,
  ChatCompletionMessageToolCall,
  ChatCompletionTokenLogprob,
  ChatCompletionToolCallDelta,
} from './chatTypes.js';
import { toolCallIndexer } from './toolCallDeltas.js';

/**
 * Chunks → a snapshot of the whole completion after every chunk, shaped like a
 * non-streaming `ChatCompletion`; the last one is the final result. Each
 * snapshot is a new object, and a choice is rebuilt only when a chunk changed
 * it, so the cost per chunk does not grow with the length of the answer.
 *
 * If the stream is cut short, the `StreamTruncatedError` carries the last
 * snapshot as `partial`.
 *
 * @example
 * const final = await lastValueFrom(client.chat.completions.stream(params).pipe(accumulateChatCompletion()));
 */
export function accumulateChatCompletion(): OperatorFunction<ChatCompletionChunk, ChatCompletion> {
  return (source) =>
    new Observable<ChatCompletion>((subscriber) => {
      const accumulator = new ChatAccumulator();
      return source.subscribe({
        next(chunk) {
          accumulator.add(chunk);
          subscriber.next(accumulator.snapshot());
        },
        error(error: unknown) {
          subscriber.error(
            error instanceof StreamTruncatedError
              ? new StreamTruncatedError<ChatCompletion>(error.message, accumulator.snapshot())
              : error,
          );
        },
        complete: () => subscriber.complete(),
      });
    });
}

class ChoiceState {
  role = 'assistant';
  content: string | null = null;
  refusal: string | null = null;
  reasoningContent: string | undefined;
  reasoning: string | undefined;
  readonly toolCalls: ChatCompletionMessageToolCall[] = [];
  readonly indexOf = toolCallIndexer();
  finishReason: string | null = null;
  contentLogprobs: ChatCompletionTokenLogprob[] | null = null;
  refusalLogprobs: ChatCompletionTokenLogprob[] | null = null;
  sawLogprobs = false;
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
      if (delta.tool_calls) for (const call of delta.tool_calls) this.addToolCall(call);
    }
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    const logprobs = choice.logprobs;
    if (logprobs) {
      this.sawLogprobs = true;
      if (logprobs.content) this.contentLogprobs = (this.contentLogprobs ?? []).concat(logprobs.content);
      if (logprobs.refusal) this.refusalLogprobs = (this.refusalLogprobs ?? []).concat(logprobs.refusal);
    }
  }

  private addToolCall(fragment: ChatCompletionToolCallDelta): void {
    const index = this.indexOf(fragment);
    const previous = this.toolCalls[index];
    const call: ChatCompletionMessageToolCall = previous
      ? { ...previous, function: { ...previous.function } }
      : { id: '', type: 'function', function: { name: '', arguments: '' } };
    if (fragment.id) call.id = fragment.id;
    if (fragment.function?.name) call.function.name = previous ? previous.function.name || fragment.function.name : fragment.function.name;
    if (fragment.function?.arguments) call.function.arguments += fragment.function.arguments;
    this.toolCalls[index] = call;
  }

  snapshot(): ChatCompletionChoice {
    if (this.cached) return this.cached;
    const message: ChatCompletionChoice['message'] = { role: this.role, content: this.content, refusal: this.refusal };
    if (this.toolCalls.length > 0) message.tool_calls = this.toolCalls.filter(Boolean).slice();
    if (this.reasoningContent !== undefined) message.reasoning_content = this.reasoningContent;
    if (this.reasoning !== undefined) message.reasoning = this.reasoning;
    this.cached = {
      index: this.index,
      message,
      finish_reason: this.finishReason,
      logprobs: this.sawLogprobs ? { content: this.contentLogprobs, refusal: this.refusalLogprobs } : null,
    };
    return this.cached;
  }
}

class ChatAccumulator {
  private id = '';
  private created = 0;
  private model = '';
  private systemFingerprint: string | undefined;
  private usage: ChatCompletion['usage'];
  private readonly choices: ChoiceState[] = [];

  add(chunk: ChatCompletionChunk): void {
    // Azure's first chunk has an empty id and model and `created: 0`: the first real values win.
    if (!this.id && chunk.id) this.id = chunk.id;
    if (!this.model && chunk.model) this.model = chunk.model;
    if (!this.created && chunk.created) this.created = chunk.created;
    if (chunk.system_fingerprint) this.systemFingerprint = chunk.system_fingerprint;
    const usage = chunk.usage ?? chunk.x_groq?.usage;
    if (usage) this.usage = usage;
    for (const choice of chunk.choices) this.choiceAt(choice.index ?? 0).add(choice);
  }

  private choiceAt(index: number): ChoiceState {
    let position = this.choices.findIndex((choice) => choice.index >= index);
    if (position === -1) position = this.choices.length;
    else if (this.choices[position].index === index) return this.choices[position];
    const state = new ChoiceState(index);
    this.choices.splice(position, 0, state);
    return state;
  }

  snapshot(): ChatCompletion {
    const completion: ChatCompletion = {
      id: this.id,
      object: 'chat.completion',
      created: this.created,
      model: this.model,
      choices: this.choices.map((choice) => choice.snapshot()),
    };
    if (this.systemFingerprint !== undefined) completion.system_fingerprint = this.systemFingerprint;
    if (this.usage) completion.usage = this.usage;
    return completion;
  }
}
