import type { Observable } from 'rxjs';
import { accumulateChatCompletion, contentDeltas, createClient, paceText, type ChatCompletionCreateParams } from '../../src/index.node.js';
import { API_KEY, type OpenStream } from './types.js';

export type RxClientName = 'rx-raw' | 'rx-chat' | 'rx-accumulate' | 'rx-content' | 'rx-pace';

/** openai-rx as users write it: subscribe to the client's Observable, unsubscribe to stop. */
export function rxOpener(name: RxClientName, baseURL: string): OpenStream {
  const client = createClient({ baseURL, apiKey: API_KEY });
  const observe = (params: ChatCompletionCreateParams): Observable<unknown> => {
    const completions = client.chat.completions;
    if (name === 'rx-raw') return completions.events(params);
    if (name === 'rx-accumulate') return completions.stream(params).pipe(accumulateChatCompletion());
    if (name === 'rx-content') return completions.stream(params).pipe(contentDeltas());
    if (name === 'rx-pace') return completions.stream(params).pipe(contentDeltas(), paceText());
    return completions.stream(params);
  };
  return (body, sink) => {
    const subscription = observe(body as unknown as ChatCompletionCreateParams).subscribe({
      next: (value) => sink.next(value),
      error: (error: unknown) => sink.end(error),
      complete: () => sink.end(),
    });
    return { cancel: () => subscription.unsubscribe() };
  };
}
