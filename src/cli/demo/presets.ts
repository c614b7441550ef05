import type { ChatCompletionCreateParams, ChatCompletionMessageParam } from '../../index.js';
import { TRIP_PLAN_FORMAT } from './tripPlan.js';

/**
 * One scenario the demo page offers as a button. The server renders the
 * buttons (html.ts) and the page builds the request (page.ts) from the same
 * entry, so a new scenario is one more entry in {@link DEMO_PRESETS}.
 *
 * @example
 * { id: 'structured', label: 'Structured output', hint: 'The answer as JSON matching a schema',
 *   group: 'answer', prompt: 'List three rxjs operators', request: { response_format: … } }
 */
export interface DemoPreset {
  /** Stable id: the button's `data-preset`, what the page keeps across a reload. */
  id: string;
  label: string;
  /** One sentence: the button's tooltip. */
  hint: string;
  /** `answer`: works with any model; `fault`: shown only with the embedded mock, whose directives make the fault. */
  group: 'answer' | 'fault';
  /** The prompt put into the prompt box; without one the box keeps what it holds. */
  prompt?: string;
  /** Earlier turns, sent before the prompt (and shown above the prompt box). */
  history?: readonly ChatCompletionMessageParam[];
  /** The embedded mock's `[[mock:…]]` directives, appended to the prompt only when the upstream is the mock. */
  mock?: string;
  /** Request fields added to the chat request: `tools`, `response_format`, … */
  request?: Partial<Omit<ChatCompletionCreateParams, 'model' | 'messages'>>;
  /**
   * How the page runs it and shows the answer: `text` (default) streams one request as text;
   * `structured` fills a form from the JSON as it streams (`structuredOutput(TripPlan)`, see tripPlan.ts);
   * `tools` runs the tool loop (`runTools`) with the page's own slow `get_weather` (toolsRun.ts).
   */
  kind?: 'text' | 'structured' | 'tools';
}

export const DEFAULT_PROMPT = 'Explain cold observables in a few sentences.';

/** What the answer panel's header says the page does with the stream, per kind of scenario. */
export const PIPELINES = {
  text: 'chatChunks() → contentDeltas() → paceText()',
  structured: 'chatChunks() → contentOrRefusal() → structuredOutput(TripPlan)',
  tools: 'runTools(client, params, { tools: [getWeather] })',
} as const;


const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The current weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city'],
    },
  },
} as const;

export const DEMO_PRESETS: readonly DemoPreset[] = [
  {
    id: 'long',
    label: 'Long answer',
    hint: 'A few paragraphs: watch the raw frames and the text keep pace',
    group: 'answer',
    prompt: 'Explain cold observables in detail.',
    mock: '[[mock:tokens=160]]',
  },
  {
    id: 'slow',
    label: 'Reload mid-answer',
    hint: 'A long, slow answer: reload the page while it streams and it picks up where it was',
    group: 'answer',
    prompt: 'Write a long, careful essay on cancelling streams.',
    mock: '[[mock:tokens=400]] [[mock:delay=60]]',
  },
  {
    id: 'tool-call',
    label: 'Tool call',
    hint: 'The request offers a get_weather tool; the model calls it with the city you named',
    group: 'answer',
    history: [
      { role: 'user', content: "What's the weather like right now?" },
      { role: 'assistant', content: 'Which city are you in?' },
    ],
    prompt: 'Paris',
    request: { tools: [WEATHER_TOOL] },
  },
  {
    id: 'structured',
    label: 'Structured output',
    hint: 'The answer is JSON for a zod schema: a form fills in as it streams, and is validated at the end',
    group: 'answer',
    kind: 'structured',
    prompt: 'Lisbon weekend: trams, tiles, pastries, fado. Plan it.',
    request: { response_format: TRIP_PLAN_FORMAT },
  },
  {
    id: 'tools',
    label: 'Tool loop',
    hint: 'runTools: the model calls get_weather (a tool in this page that takes a second), gets the results and answers; Stop cancels the tool',
    group: 'answer',
    kind: 'tools',
    history: [
      { role: 'user', content: 'Should I pack an umbrella?' },
      { role: 'assistant', content: 'Where are you going?' },
    ],
    prompt: 'Paris and Oslo',
    mock: '[[mock:parallel]]',
  },
  {
    id: 'rate-limit',
    label: 'Rate limited',
    hint: 'The provider answers HTTP 429 before any text',
    group: 'fault',
    mock: '[[mock:error=429]]',
  },
  {
    id: 'error-mid-stream',
    label: 'Error mid-answer',
    hint: 'The provider sends an error event halfway through the answer',
    group: 'fault',
    mock: '[[mock:error-mid-stream]]',
  },
  {
    id: 'stall',
    label: 'Model goes quiet',
    hint: 'Eight tokens, then silence: the page stops waiting after 4 s and cancels the generation',
    group: 'fault',
    mock: '[[mock:stall=8]]',
  },
  {
    id: 'cut',
    label: 'Connection cut',
    hint: "The provider's connection breaks halfway through the answer",
    group: 'fault',
    mock: '[[mock:cut]]',
  },
];

/** The presets a page with this upstream offers. */
export function presetsFor(mock: boolean): readonly DemoPreset[] {
  return DEMO_PRESETS.filter((preset) => mock || preset.group === 'answer');
}

export function presetById(id: string | undefined): DemoPreset | undefined {
  return DEMO_PRESETS.find((preset) => preset.id === id);
}
