import { map, type Observable } from 'rxjs';
import {
  accumulateChatCompletion,
  extras,
  type ChatCompletion,
  type ChatCompletionChunk,
  type CompletionChunk,
  type Response,
} from '../../src/api';
import { assertType, type Equal } from './expect';

/* Chunks name the fields openai-rx validated, typed as validated; a misspelt field does not compile. */

export function chatChunkFields(chunk: ChatCompletionChunk): void {
  // @ts-expect-error a misspelt field: chunks have no index signature
  void chunk.choises;
  const choice = chunk.choices[0];
  // @ts-expect-error a misspelt field of a choice
  void choice.delat;
  // @ts-expect-error a misspelt field of a delta
  void choice.delta?.contnet;
  // @ts-expect-error a misspelt field of a tool-call fragment
  void choice.delta?.tool_calls?.[0].function?.argumens;

  assertType<Equal<typeof choice.delta, ChatCompletionChunk['choices'][number]['delta']>>();
  assertType<Equal<NonNullable<typeof choice.delta>['content'], string | null | undefined>>();
  assertType<Equal<typeof choice.finish_reason, string | null | undefined>>();
  assertType<Equal<typeof chunk.usage, { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null | undefined>>();
  // Groq's usage is validated, so it is typed.
  assertType<Equal<NonNullable<typeof chunk.x_groq>['usage'], ChatCompletionChunk['usage']>>();
}

export function completionChunkFields(chunk: CompletionChunk): void {
  // @ts-expect-error a misspelt field of a legacy choice
  void chunk.choices[0].txt;
  assertType<Equal<typeof chunk.choices[number]['text'], string | null | undefined>>();
}

/* Everything else a provider sent stays on the object, reached through `extras(value)`, typed as unknown. */

export function providerExtras(chunk: ChatCompletionChunk): void {
  const timings = extras(chunk).timings; // llama.cpp
  const filter = extras(chunk.choices[0]).content_filter_results; // Azure
  const provider = extras(chunk).provider; // OpenRouter
  assertType<Equal<typeof timings | typeof filter | typeof provider, unknown>>();
  void [timings, filter];
  // @ts-expect-error an extra is unknown until checked
  const name: string = provider;
  if (typeof provider === 'string') void provider.toUpperCase();
  // @ts-expect-error extras are read-only: the object is the chunk itself
  extras(chunk).provider = 'x';
  void name;
}

export function snapshotExtras(response: Response, completion: ChatCompletion): void {
  const call = completion.choices[0].message.tool_calls?.[0];
  if (call?.type === 'function') {
    void call.function.arguments;
    // @ts-expect-error a function call has no `custom`
    void call.custom.input;
  }
  // @ts-expect-error a misspelt field of the Response snapshot
  void response.ouput;
  void extras(response.output[0]).encrypted_content;
}

/* Operators keep the strict types: what accumulateChatCompletion() emits is a ChatCompletion. */

export function operatorsKeepTypes(chunks$: Observable<ChatCompletionChunk>): Observable<string | null> {
  return chunks$.pipe(
    accumulateChatCompletion(),
    // @ts-expect-error a misspelt field of the snapshot's message
    map((completion) => completion.choices[0].mesage.content),
  );
}
