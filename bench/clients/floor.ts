import { createParser } from 'eventsource-parser';
import { Agent, request } from 'undici';
import { API_KEY, type OpenStream } from './types.js';

/** The practical floor: undici `request()`, eventsource-parser and `JSON.parse` per event, nothing else. */
export function floorOpener(baseURL: string): OpenStream {
  const dispatcher = new Agent({ keepAliveTimeout: 10_000 });
  const url = `${baseURL}/chat/completions`;
  const headers = { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${API_KEY}` };
  return (body, sink) => {
    const controller = new AbortController();
    let cancelled = false;
    request(url, { method: 'POST', headers, body: JSON.stringify(body), signal: controller.signal, dispatcher }).then(
      (response) => {
        const parser = createParser({
          onEvent(message) {
            if (!cancelled && message.data !== '[DONE]') sink.next(JSON.parse(message.data));
          },
        });
        const decoder = new TextDecoder();
        response.body.on('data', (chunk: Uint8Array) => parser.feed(decoder.decode(chunk, { stream: true })));
        response.body.once('end', () => sink.end());
        response.body.once('error', (error) => {
          if (!cancelled) sink.end(error);
        });
      },
      (error: unknown) => {
        if (!cancelled) sink.end(error);
      },
    );
    return {
      cancel() {
        cancelled = true;
        controller.abort();
      },
    };
  };
}
