import {
  animationFrameScheduler,
  connect,
  finalize,
  ignoreElements,
  interval,
  merge,
  pipe,
  Subscription,
  tap,
  timeout,
  type MonoTypeOperatorFunction,
  type Observable,
} from 'rxjs';
import {
  chatChunks,
  contentDeltas,
  contentOrRefusal,
  createClient,
  OutputValidationError,
  paceText,
  RefusalError,
  structuredOutput,
  toolCallDeltas,
  type ChatCompletionChunk,
  type ChatCompletionCreateParams,
  type ChatToolRunEvent,
  type ResponseHead,
  type SseFrame,
  type ToolCallDelta,
} from '../../index.js';
import { answerPanel } from './answerPanel.js';
import { explainError } from './explainError.js';
import { DEFAULT_PROMPT, PIPELINES, presetById, type DemoPreset } from './presets.js';
import { rawPanel } from './rawPanel.js';
import { runStats, type RunStats } from './runStats.js';
import { statusBar, type DemoState } from './statusBar.js';
import { forgetStream, keepStream, storedStream } from './storedStream.js';
import { structuredPanel } from './structuredPanel.js';
import { toolRunPanel } from './toolRunPanel.js';
import { toolsRun } from './toolsRun.js';
import { TripPlan } from './tripPlan.js';

/*
 * The demo page (bundled for the browser, served by `openai-rx demo`). One
 * request, two pipelines: connect() hands the frames of
 * `chat.completions.events()` to the raw panel and to the parsed pipeline
 * (chatChunks → contentDeltas / toolCallDeltas), whose text is drawn at most
 * once per animation frame (paceText); the structured scenario parses the
 * text into a form instead (contentOrRefusal → structuredOutput), and the
 * tools scenario runs the tool loop (runTools) over the same events, step
 * after step. Everything lives in one subscription:
 * Stop unsubscribes, which closes the connection and sends the relay the
 * cancel. The relay runs in resume mode: the stream id from the response head
 * is kept in sessionStorage while the answer streams, so a reload picks the
 * answer up with client.resumeStream(id), from its first frame.
 */

/** The model silent this long after a frame: the page stops waiting, which cancels the generation. */
const SILENCE_LIMIT_MS = 4000;
const FIRST_FRAME_LIMIT_MS = 30_000;
/** Silent this long: the status line says so and counts towards the limit. */
const QUIET_AFTER_MS = 1000;
const TICK_MS = 100;
/*
 * The relay runs beside the page, its streams in its memory: a broken
 * connection means the relay is gone, so re-attaching would only delay the
 * error. `attempts: 0` keeps the rest of resume mode: the stream id, and the
 * cancel when the page unsubscribes.
 */
const RESUME = { attempts: 0 };

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const promptBox = element<HTMLTextAreaElement>('prompt');
const stop = element<HTMLButtonElement>('stop');
const history = element<HTMLDivElement>('history');
const scenarioChip = element<HTMLSpanElement>('scenario');
const raw = rawPanel(element<HTMLOListElement>('frames'), element('frame-count'));
const answer = answerPanel({
  body: element('answer'),
  text: element('text'),
  toolCalls: element('tool-calls'),
  ending: element('ending'),
  resumed: element('resumed'),
});
const form = structuredPanel(element('structured'));
const toolSteps = toolRunPanel(element('steps'), element('answer'));
const status = statusBar({ root: element('status'), text: element('status-text'), detail: element('status-detail'), meter: element('meter') });
const model = document.body.dataset.model ?? 'gpt-4o-mini';
const mockUpstream = document.body.dataset.upstream === 'mock';
const client = createClient({ baseURL: '/v1' });

interface Run {
  subscription: Subscription;
  stats: RunStats;
  resumed: boolean;
  state: DemoState;
  /** The tool loop's running tools and steps; absent for a single answer. */
  tools?: () => { steps: number; calls: number; running: number };
}

/** How an answer's chunks are shown: the pipeline that draws them, subscribed for the run. */
type AnswerView = (chunks$: Observable<ChatCompletionChunk>, stats: RunStats) => Observable<unknown>;

let current: Run | undefined;
let scenario: DemoPreset | undefined;

/** Sends the prompt (with the scenario's history, request fields and, for the mock, directives). */
function ask(): void {
  const prompt = promptBox.value.trim() || DEFAULT_PROMPT;
  const preset = scenario;
  if (preset?.kind === 'tools') return playTools(requestFor(prompt, preset));
  if (preset?.kind === 'structured') {
    return play(client.chat.completions.events(requestFor(prompt, preset), { resume: RESUME }), false, () => undefined, structuredView);
  }
  let streamId: string | undefined;
  const keep = (head: ResponseHead) => {
    if (head.streamId === undefined) return;
    streamId = head.streamId;
    keepStream({ streamId, prompt, presetId: preset?.id });
  };
  const frames$ = client.chat.completions.events(requestFor(prompt, preset), { resume: RESUME, head: keep });
  play(
    frames$,
    false,
    () => {
      if (streamId !== undefined) forgetStream(streamId);
    },
    textView,
  );
}

/** After a reload: the answer that was streaming, rebuilt from its first frame, then the rest as it is generated. */
function pickUp(): void {
  const stored = storedStream();
  if (!stored) return;
  promptBox.value = stored.prompt;
  choose(presetById(stored.presetId));
  play(client.resumeStream(stored.streamId, { after: 0, resume: RESUME }), true, () => forgetStream(stored.streamId), textView);
}

function requestFor(prompt: string, preset: DemoPreset | undefined): ChatCompletionCreateParams {
  const content = mockUpstream && preset?.mock ? `${prompt} ${preset.mock}` : prompt;
  return {
    model,
    ...preset?.request,
    messages: [...(preset?.history ?? []), { role: 'user', content }],
    stream_options: { include_usage: true },
  };
}

/** A new run of `kind`: both panels cleared, the status line ticking. */
function begin(resumed: boolean, kind: keyof typeof PIPELINES): Run {
  current?.subscription.unsubscribe();
  raw.clear();
  answer.clear(resumed);
  form.clear();
  toolSteps.clear();
  element('pipeline').textContent = PIPELINES[kind];
  const run: Run = { subscription: new Subscription(), stats: runStats({ resumed }), resumed, state: 'waiting' };
  current = run;
  show(run);
  run.subscription.add(interval(TICK_MS).subscribe(() => show(run)));
  return run;
}

/** Every frame: counted, held to the page's limits (a model that falls silent is dropped, which cancels it), shown raw. */
function rawFrames(stats: RunStats): MonoTypeOperatorFunction<SseFrame> {
  return pipe(tap(stats.frame), timeout({ first: FIRST_FRAME_LIMIT_MS, each: SILENCE_LIMIT_MS }), tap(raw.append));
}

/** Shows one answer's frames in both panels, in one subscription. */
function play(frames$: Observable<SseFrame>, resumed: boolean, ended: () => void, view: AnswerView): void {
  const run = begin(resumed, view === structuredView ? 'structured' : 'text');
  // The caret follows streaming text; a form or a tool loop shows progress its own way.
  answer.live(view === textView);
  const drawn$ = frames$.pipe(
    rawFrames(run.stats),
    chatChunks(),
    connect((chunks$) => merge(chunks$.pipe(tap(run.stats.chunk), ignoreElements()), view(chunks$, run.stats).pipe(ignoreElements()))),
    finalize(ended),
  );
  run.subscription.add(drawn$.subscribe({ error: (error: unknown) => failed(run, error), complete: () => done(run) }));
}

/** The answer as text (and tool calls as they stream), drawn at most once per animation frame. */
const textView: AnswerView = (chunks$, stats) => {
  const countArguments = (delta: ToolCallDelta) => {
    if (delta.arguments) stats.delta();
  };
  return merge(
    chunks$.pipe(toolCallDeltas(), tap(countArguments), tap(answer.appendToolCall)),
    chunks$.pipe(contentDeltas(), tap(stats.delta), paceText({ scheduler: animationFrameScheduler, intervalMs: 0 }), tap(stats.render), tap(answer.appendText)),
  );
};

/** The answer as a trip plan: the form fills in as the JSON streams, and is validated by the zod schema at the end. */
const structuredView: AnswerView = (chunks$, stats) =>
  chunks$.pipe(contentOrRefusal(), tap(stats.delta), structuredOutput(TripPlan), tap(form.update));

/** The tool loop: each step's frames in the raw panel, its text and tool calls in the answer panel. */
function playTools(params: ChatCompletionCreateParams): void {
  const run = begin(false, 'tools');
  run.tools = toolSteps.counts;
  const count = (event: ChatToolRunEvent) => {
    if (event.type === 'completion') raw.end('done', `end of step ${event.step}`);
    if (event.type !== 'chunk') return;
    run.stats.chunk(event.chunk);
    if (event.chunk.choices[0]?.delta?.content) run.stats.delta();
  };
  const loop$ = toolsRun({ client, params, frames: rawFrames(run.stats), request: { resume: RESUME }, cancelled: toolSteps.cancelled });
  run.subscription.add(
    loop$.pipe(tap(count), tap(toolSteps.show)).subscribe({ error: (error: unknown) => failed(run, error), complete: () => done(run) }),
  );
}

/** The status line of a running answer: waiting, streaming or silent, with its figures. */
function show(run: Run): void {
  const silence = run.stats.silenceMs();
  const tools = run.tools?.();
  if (tools && tools.running > 0) {
    setState(run, 'streaming', `Running ${tools.running === 1 ? 'a tool' : `${tools.running} tools`}…`, `step ${tools.steps} · ${tools.calls} tool ${tools.calls === 1 ? 'call' : 'calls'} · ${run.stats.progress()}`);
  } else if (!run.stats.heard()) {
    setState(run, 'waiting', run.resumed ? 'Picking the answer up after the reload…' : `Waiting for ${model}…`, seconds(silence));
  } else if (silence >= QUIET_AFTER_MS) {
    setState(run, 'stalled', 'The model has gone quiet', `no data for ${seconds(silence)}; the page stops waiting at ${seconds(SILENCE_LIMIT_MS)}`);
  } else {
    setState(run, 'streaming', run.resumed ? 'Streaming, resumed after reload' : 'Streaming…', run.stats.progress());
  }
  status.meter(run.state === 'stalled' ? silence / SILENCE_LIMIT_MS : undefined);
}

function done(run: Run): void {
  end(run);
  const tools = run.tools?.();
  const loop = tools ? `${tools.steps} steps, ${tools.calls} tool ${tools.calls === 1 ? 'call' : 'calls'}. ` : '';
  setState(run, 'done', 'Done', loop + run.stats.summary());
  // A tool loop's raw panel already marks the end of each step's stream.
  if (!tools) raw.end('done', 'end of stream');
}

function failed(run: Run, error: unknown): void {
  end(run);
  const { message, detail } = explainError(error, { silenceMs: SILENCE_LIMIT_MS });
  setState(run, 'error', message, detail);
  if (error instanceof OutputValidationError || error instanceof RefusalError) form.failed(message);
  answer.end('error', run.stats.tokens() > 0 ? 'The answer broke off here.' : message);
  raw.end('error', 'the stream ended with an error');
}

function stopped(run: Run): void {
  const toolsRunning = run.tools?.().running ?? 0;
  end(run);
  const why = toolsRunning > 0
    ? `The page unsubscribed from the tool loop: the running ${toolsRunning === 1 ? "tool's signal" : "tools' signals"} aborted, and no further request was sent.`
    : 'The page unsubscribed: its connection closed and the relay cancelled the generation.';
  setState(run, 'stopped', 'Stopped', `You stopped the answer ${run.stats.stoppedAfter()}. ${why}`);
  answer.end('stopped', 'Stopped by you');
  raw.end('stopped', 'stopped: the page closed the connection and sent the cancel');
}

function end(run: Run): void {
  run.subscription.unsubscribe();
  answer.live(false);
  status.meter(undefined);
}

function setState(run: Run, state: DemoState, text: string, detail: string): void {
  run.state = state;
  status.show(state, text, detail);
  const running = state === 'waiting' || state === 'streaming' || state === 'stalled';
  stop.disabled = !running;
}

/** The scenario the next request is sent with; `undefined`: a plain prompt. */
function choose(preset: DemoPreset | undefined): void {
  scenario = preset;
  scenarioChip.hidden = !preset;
  element('scenario-name').textContent = preset?.label ?? '';
  element('scenario-mock').textContent = mockUpstream ? (preset?.mock ?? '') : '';
  history.hidden = !preset?.history;
  history.replaceChildren(...(preset?.history ?? []).map(turn));
}

function turn(message: { role: string; content?: unknown }): HTMLElement {
  const line = document.createElement('div');
  line.className = 'turn';
  const who = document.createElement('b');
  who.textContent = message.role === 'user' ? 'You' : 'Assistant';
  line.append(who, typeof message.content === 'string' ? message.content : '');
  return line;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

element<HTMLFormElement>('chat').addEventListener('submit', (event) => {
  event.preventDefault();
  ask();
});

promptBox.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.metaKey || event.ctrlKey)) {
    event.preventDefault();
    ask();
  }
});

stop.addEventListener('click', () => {
  if (current && !current.subscription.closed) stopped(current);
});

element('clear-scenario').addEventListener('click', () => choose(undefined));

for (const button of document.querySelectorAll<HTMLButtonElement>('#presets [data-preset]')) {
  button.addEventListener('click', () => {
    const preset = presetById(button.dataset.preset);
    if (!preset) return;
    choose(preset);
    if (preset.prompt) promptBox.value = preset.prompt;
    ask();
  });
}

pickUp();
