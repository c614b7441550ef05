import OpenAI from 'openai';
import { API_KEY, type OpenStream } from './types.js';

/**
 * The official SDK as its docs show it: `for await` over `chat.completions.create({ stream: true })`, stopped by
 * `break`, or by `stream.controller.abort()` while the loop keeps reading.
 */
export function openaiOpener(baseURL: string, cancelBy: 'break' | 'abort'): OpenStream {
  const client = new OpenAI({ baseURL, apiKey: API_KEY, maxRetries: 0 });
  return (body, sink) => {
    let breakNow = false;
    let controller: AbortController | undefined;
    let abortRequested = false;
    void (async () => {
      try {
        const stream = await client.chat.completions.create(body as unknown as OpenAI.ChatCompletionCreateParamsStreaming);
        controller = stream.controller;
        if (abortRequested) controller.abort();
        for await (const chunk of stream) {
          sink.next(chunk);
          if (breakNow) break;
        }
        sink.end();
      } catch (error) {
        sink.end(error);
      }
    })();
    return {
      cancel() {
        if (cancelBy === 'break') breakNow = true;
        else {
          abortRequested = true;
          controller?.abort();
        }
      },
    };
  };
}
