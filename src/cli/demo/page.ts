import { Subscription, animationFrameScheduler, map, share, tap } from 'rxjs';
import {
  chatChunks,
  contentDeltas,
  createClient,
  encodeSse,
  paceText,
  toolCallDeltas,
  type ChatCompletionChunk,
  type ChatCompletionCreateParams,
  type ToolCallDelta,
} from '../../index.js';

/*
 * The demo page (bundled for the browser, served by `openai-rx demo`). One
 * request, two pipelines: `share()` hands the raw frames of
 * `chat.completions.events()` both to the raw panel (encodeSse, the wire text)
 * and to the parsed pipeline (chatChunks → contentDeltas / toolCallDeltas),
 * whose text is paced to at most one render per animation frame (paceText).
 * Stop unsubscribes; the relay sees the browser leave and aborts upstream.
 */

/** A stall longer than this ends the stream with StreamTimeoutError (phase 'idle'). */
const IDLE_TIMEOUT_MS = 4000;
const HEADERS_TIMEOUT_MS = 30_000;

const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'The current weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city'],
    },
  },
};

type State = 'idle' | 'waiting' | 'streaming' | 'done' | 'stopped' | 'error';

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const prompt = element<HTMLTextAreaElement>('prompt');
const send = element<HTMLButtonElement>('send');
const stop = element<HTMLButtonElement>('stop');
const tools = element<HTMLInputElement>('tools');
const status = element<HTMLParagraphElement>('status');
const text = element<HTMLDivElement>('text');
const toolCalls = element<HTMLPreElement>('tool-calls');
const frames = element<HTMLOListElement>('frames');
const stats = element<HTMLParagraphElement>('stats');
const model = document.body.dataset.model ?? 'gpt-4o-mini';
const client = createClient({ baseURL: '/v1' });

let current: Subscription | undefined;

function setState(state: State, message: string): void {
  status.dataset.state = state;
  status.textContent = message;
  const running = state === 'waiting' || state === 'streaming';
  stop.disabled = !running;
  send.textContent = running ? 'Restart' : 'Send';
}

function start(): void {
  current?.unsubscribe();
  text.replaceChildren();
  toolCalls.replaceChildren();
  toolCalls.hidden = true;
  frames.replaceChildren();
  setState('waiting', `waiting for ${model}…`);

  const startedAt = performance.now();
  let firstTokenMs: number | undefined;
  let deltas = 0;
  let renders = 0;
  let frameCount = 0;
  let finish: string | undefined;
  let usage = '';
  const showStats = () => {
    stats.textContent = [
      `first token ${firstTokenMs === undefined ? '—' : `${Math.round(firstTokenMs)} ms`}`,
      `${deltas} deltas`,
      `${renders} renders`,
      `${frameCount} frames`,
      `finish ${finish ?? '—'}`,
      usage,
    ]
      .filter(Boolean)
      .join(' · ');
  };
  const arrived = () => {
    if (firstTokenMs === undefined) {
      firstTokenMs = performance.now() - startedAt;
      setState('streaming', 'streaming…');
    }
    deltas++;
    showStats();
  };
  showStats();

  const params: ChatCompletionCreateParams = {
    model,
    messages: [{ role: 'user', content: prompt.value }],
    stream_options: { include_usage: true },
    ...(tools.checked ? { tools: [WEATHER_TOOL] } : {}),
  };
  // The one request: both pipelines below subscribe to this shared source.
  const frames$ = client.chat.completions
    .events(params, { timeout: { headersMs: HEADERS_TIMEOUT_MS, idleMs: IDLE_TIMEOUT_MS } })
    .pipe(share());
  const chunks$ = frames$.pipe(chatChunks(), share());

  const run = new Subscription();
  run.add(
    frames$.pipe(map(encodeSse)).subscribe({
      next(wire) {
        frameCount++;
        const item = document.createElement('li');
        item.className = wire.startsWith(':') ? 'frame comment' : 'frame';
        item.textContent = wire;
        frames.append(item);
        frames.scrollTop = frames.scrollHeight;
        showStats();
      },
      error: () => frames.append(endMark('the stream ended with an error')),
      complete: () => frames.append(endMark('end of stream')),
    }),
  );
  run.add(
    chunks$.subscribe({
      next(chunk: ChatCompletionChunk) {
        const choice = chunk.choices.find((candidate) => (candidate.index ?? 0) === 0);
        if (choice?.finish_reason) finish = choice.finish_reason;
        if (chunk.usage) usage = `usage ${chunk.usage.prompt_tokens ?? '?'} in → ${chunk.usage.completion_tokens ?? '?'} out tokens`;
        showStats();
      },
      error: () => undefined,
    }),
  );
  run.add(
    chunks$.pipe(toolCallDeltas()).subscribe({
      next(delta: ToolCallDelta) {
        arrived();
        toolCalls.hidden = false;
        if (delta.name) toolCalls.append(`${toolCalls.textContent ? '\n' : ''}tool call ${delta.name}: `);
        toolCalls.append(delta.arguments);
      },
      error: () => undefined,
    }),
  );
  // Deltas are counted as they arrive; the text renders at most once per animation frame.
  run.add(
    chunks$.pipe(contentDeltas(), tap(arrived), paceText({ scheduler: animationFrameScheduler, intervalMs: 0 })).subscribe({
      next(batch) {
        renders++;
        text.append(batch);
        showStats();
      },
      error(error: unknown) {
        const name = error instanceof Error ? error.name : 'Error';
        setState('error', `${name}: ${error instanceof Error ? error.message : String(error)}`);
      },
      complete: () => setState('done', 'done'),
    }),
  );
  current = run;
}

function endMark(label: string): HTMLLIElement {
  const item = document.createElement('li');
  item.className = 'end';
  item.textContent = label;
  return item;
}

element<HTMLFormElement>('chat').addEventListener('submit', (event) => {
  event.preventDefault();
  start();
});

prompt.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.metaKey || event.ctrlKey)) {
    event.preventDefault();
    start();
  }
});

stop.addEventListener('click', () => {
  current?.unsubscribe();
  current = undefined;
  setState('stopped', 'stopped: the request was aborted');
});

// Presets (embedded mock only): the directive goes into the prompt, the mock acts on it.
for (const button of document.querySelectorAll<HTMLButtonElement>('#presets button')) {
  button.addEventListener('click', () => {
    const base = prompt.value.replace(/\s*\[\[mock:[^\]]*\]\]/g, '').trim();
    const directive = button.dataset.directive ?? '';
    prompt.value = directive ? `${base} ${directive}` : base;
    tools.checked = button.dataset.tools === 'true';
    start();
  });
}

setState('idle', 'idle');
