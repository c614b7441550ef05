import type { MonoTypeOperatorFunction, Observable } from 'rxjs';
import * as z from 'zod/mini';
import {
  chatChunks,
  runTools,
  zodFunction,
  type ChatToolRunEvent,
  type OpenAIRxClient,
  type RequestOptions,
  type RunToolContext,
  type RunToolsParams,
  type SseFrame,
} from '../../index.js';

/** How long the page's weather tool takes: long enough to see it running, and to stop it. */
export const WEATHER_DELAY_MS = 1000;

export interface ToolsRunConfig {
  client: OpenAIRxClient;
  params: RunToolsParams;
  /** Applied to every step's raw frames before they are parsed: the raw panel, the silence limit. */
  frames: MonoTypeOperatorFunction<SseFrame>;
  /** Options of every request (resume mode, so that Stop cancels the generation on the relay). */
  request: RequestOptions;
  /** Told when a running tool's signal aborts. */
  cancelled(callId: string): void;
}

/**
 * The tools scenario: `runTools` with the page's own `get_weather`, which
 * takes a second and stops when its signal aborts. The loop is given a client
 * whose `stream()` is `events()` through `frames` and `chatChunks()`, so the
 * raw panel shows every step's frames as they came.
 *
 * @example
 * toolsRun({ client, params, frames: tap(raw.append), request: {}, cancelled: panel.cancelled }).subscribe(panel.show);
 */
export function toolsRun(config: ToolsRunConfig): Observable<ChatToolRunEvent> {
  const getWeather = zodFunction({
    name: 'get_weather',
    description: 'The weather in a city right now',
    parameters: z.object({ city: z.string() }),
    // The loop passes the call it answers too (RunToolContext); zodFunction's own type names only the signal.
    execute: ({ city }, context) => weatherIn(city, context as RunToolContext, config.cancelled),
  });
  const completions = config.client.chat.completions;
  const chat = {
    completions: {
      ...completions,
      stream: (params: RunToolsParams, options?: RequestOptions) => completions.events(params, options).pipe(config.frames, chatChunks()),
    },
  };
  return runTools({ chat }, config.params, { tools: [getWeather], request: config.request });
}

/** A made-up forecast after {@link WEATHER_DELAY_MS}; an aborted signal ends the wait and rejects. */
function weatherIn(city: string, { signal, call }: RunToolContext, cancelled: (callId: string) => void): Promise<{ city: string; sky: string; tempC: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(forecast(city)), WEATHER_DELAY_MS);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        cancelled(call.id);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

const SKIES = ['sunny', 'cloudy', 'light rain', 'windy'];

/** The same city always gets the same weather. */
function forecast(city: string): { city: string; sky: string; tempC: number } {
  const seed = [...city].reduce((sum, char) => sum + char.charCodeAt(0), 0);
  return { city, sky: SKIES[seed % SKIES.length], tempC: 8 + (seed % 17) };
}
