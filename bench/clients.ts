import type { OpenStream } from './clients/types.js';

export type { OpenStream, RunningStream, StreamSink } from './clients/types.js';

/*
 * The clients compared side by side. Each is loaded only into the process that runs it, so that a process's
 * memory holds one client's modules and no other's.
 */

export const CLIENTS = {
  floor: 'undici `request()` + eventsource-parser + `JSON.parse` per event, no validation',
  openai: 'the official SDK, `chat.completions.create({ stream: true })` read with `for await`, cancelled with `break`',
  'openai-abort': 'the official SDK cancelled with `stream.controller.abort()` while the loop keeps reading',
  'rx-raw': 'openai-rx raw frames, `chat.completions.events()` (SSE frames, no JSON parsing)',
  'rx-chat': 'openai-rx chat chunks, `chat.completions.stream()` (parsed and validated)',
  'rx-accumulate': 'openai-rx `stream().pipe(accumulateChatCompletion())` (a snapshot per chunk)',
  'rx-content': 'openai-rx `stream().pipe(contentDeltas())` (the text of each chunk)',
  'rx-pace': 'openai-rx `stream().pipe(contentDeltas(), paceText())` (text batched at most every 50 ms)',
} as const;

export type ClientName = keyof typeof CLIENTS;

/** Builds the client once per process (agents and SDK instances are reused across streams, as apps do). */
export async function openerFor(name: ClientName, baseURL: string): Promise<OpenStream> {
  switch (name) {
    case 'floor':
      return (await import('./clients/floor.js')).floorOpener(baseURL);
    case 'openai':
    case 'openai-abort':
      return (await import('./clients/openaiSdk.js')).openaiOpener(baseURL, name === 'openai' ? 'break' : 'abort');
    default:
      return (await import('./clients/openaiRx.js')).rxOpener(name, baseURL);
  }
}
