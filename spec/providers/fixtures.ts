import { connectable, ReplaySubject, type Observable } from 'rxjs';
import {
  accumulateChatCompletion,
  accumulateCompletion,
  accumulateResponse,
  completionTextDeltas,
  contentDeltas,
  createClient,
  encodeSse,
  outputTextDeltas,
  reasoningDeltas,
  toolCallDeltas,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionMessage,
  type ClientOptions,
  type Completion,
  type CompletionChunk,
  type CompletionUsage,
  type OpenAIRxClient,
  type Response,
  type ResponseStreamEvent,
  type SseFrame,
  type ToolCallDelta,
} from '../../src/index.node';
import { sseHead, startServer, type RecordedRequest, type TestServer } from '../helpers/server';
import { record, type Recording } from '../helpers/streams';

/*
 * Builders for the conformance suite. Every stream here is written by hand
 * from the provider's published format (field names, framing, where usage and
 * errors go); none is a recording.
 */

export const API_KEY = 'sk-conformance-0123456789abcdef';

/** SSE wire text, one frame per call. */
export const wire = {
  data: (json: unknown): string => `data: ${JSON.stringify(json)}\n\n`,
  event: (event: string, json: unknown): string => `event: ${event}\ndata: ${JSON.stringify(json)}\n\n`,
  comment: (text: string): string => `: ${text}\n\n`,
  done: 'data: [DONE]\n\n',
};

/** The same frames with CRLF line endings (sse-starlette, some proxies). */
export function crlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

/**
 * A real node:http server that answers every request with `parts` as one
 * event stream, each part its own write (so frames reach the client in
 * separate reads as often as the network allows).
 */
export function serveStream(parts: readonly string[], headers: Record<string, string> = {}): Promise<TestServer> {
  return startServer(async (_req, res) => {
    sseHead(res, headers);
    for (const part of parts) {
      res.write(part);
      await new Promise((resolve) => setImmediate(resolve));
    }
    res.end();
  });
}

/** A client for `server`, as a user would configure it for the provider. */
export function clientFor(server: TestServer, options: Omit<ClientOptions, 'baseURL'> & { path?: string } = {}): OpenAIRxClient {
  const { path = '/v1', ...rest } = options;
  return createClient({ apiKey: API_KEY, ...rest, baseURL: server.url + path });
}

/** Chunks (chat or legacy) that share `base` (id, object, created, model, …); `extra` adds top-level fields. */
export function chunkFactory(base: Record<string, unknown>) {
  return (choices: ReadonlyArray<Record<string, unknown>>, extra: Record<string, unknown> = {}) => ({
    ...base,
    choices,
    ...extra,
  });
}

/** A chat choice with a delta. */
export function deltaChoice(
  delta: Record<string, unknown>,
  finishReason: string | null = null,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { index: 0, delta, finish_reason: finishReason, ...extra };
}

/** The completion a one-choice chat stream of chunks with `base`'s fields accumulates to. */
export function finalChat(
  base: { id: string; created: number; model: string; system_fingerprint?: string },
  message: Partial<ChatCompletionMessage>,
  { usage, finishReason = 'stop' }: { usage?: CompletionUsage; finishReason?: string } = {},
): ChatCompletion {
  return {
    id: base.id,
    object: 'chat.completion',
    created: base.created,
    model: base.model,
    ...(base.system_fingerprint !== undefined && { system_fingerprint: base.system_fingerprint }),
    choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: null, ...message }, finish_reason: finishReason, logprobs: null }],
    ...(usage && { usage }),
  };
}

/** Subscribes to one cold source several ways at once: one request, every pipeline sees the same values. */
function fanOut<T>(source: Observable<T>) {
  const shared = connectable(source, { connector: () => new ReplaySubject<T>(), resetOnDisconnect: false });
  return { shared, connect: () => shared.connect() };
}

async function settled(...recordings: Array<Recording<unknown>>): Promise<void> {
  await Promise.all(recordings.map((recording) => recording.done));
}

export interface ChatRun {
  /** What `events()` delivered (a request of its own). */
  frames: Recording<SseFrame>;
  /** What `stream()` delivered; `text`, `reasoning`, `toolCalls` and `snapshots` share its request. */
  chunks: Recording<ChatCompletionChunk>;
  text: string;
  reasoning: string;
  toolCalls: ToolCallDelta[];
  snapshots: Recording<ChatCompletion>;
  final: ChatCompletion | undefined;
  requests: RecordedRequest[];
}

/** Runs the raw and every parsed chat pipeline against `server`. */
export async function runChat(client: OpenAIRxClient, server: TestServer, params: Record<string, unknown> = {}): Promise<ChatRun> {
  const body = { model: 'test-model', messages: [{ role: 'user' as const, content: 'Hi' }], ...params };
  const frames = record(client.chat.completions.events(body));
  await frames.done;
  const { shared, connect } = fanOut(client.chat.completions.stream(body));
  const chunks = record(shared);
  const text = record(shared.pipe(contentDeltas()));
  const reasoning = record(shared.pipe(reasoningDeltas()));
  const toolCalls = record(shared.pipe(toolCallDeltas()));
  const snapshots = record(shared.pipe(accumulateChatCompletion()));
  connect();
  await settled(chunks, text, reasoning, toolCalls, snapshots);
  return {
    frames,
    chunks,
    text: text.values.join(''),
    reasoning: reasoning.values.join(''),
    toolCalls: toolCalls.values,
    snapshots,
    final: snapshots.values.at(-1),
    requests: server.requests,
  };
}

export interface CompletionRun {
  frames: Recording<SseFrame>;
  chunks: Recording<CompletionChunk>;
  text: string;
  snapshots: Recording<Completion>;
  final: Completion | undefined;
  requests: RecordedRequest[];
}

/** Runs the raw and every parsed legacy completion pipeline against `server`. */
export async function runCompletion(
  client: OpenAIRxClient,
  server: TestServer,
  params: Record<string, unknown> = {},
): Promise<CompletionRun> {
  const body = { model: 'test-model', prompt: 'Say hi', ...params };
  const frames = record(client.completions.events(body));
  await frames.done;
  const { shared, connect } = fanOut(client.completions.stream(body));
  const chunks = record(shared);
  const text = record(shared.pipe(completionTextDeltas()));
  const snapshots = record(shared.pipe(accumulateCompletion()));
  connect();
  await settled(chunks, text, snapshots);
  return { frames, chunks, text: text.values.join(''), snapshots, final: snapshots.values.at(-1), requests: server.requests };
}

export interface ResponsesRun {
  frames: Recording<SseFrame>;
  events: Recording<ResponseStreamEvent>;
  text: string;
  snapshots: Recording<Response>;
  final: Response | undefined;
  requests: RecordedRequest[];
}

/** Runs the raw and every parsed Responses pipeline against `server`. */
export async function runResponses(
  client: OpenAIRxClient,
  server: TestServer,
  params: Record<string, unknown> = {},
): Promise<ResponsesRun> {
  const body = { model: 'test-model', input: 'Hi', ...params };
  const frames = record(client.responses.events(body));
  await frames.done;
  const { shared, connect } = fanOut(client.responses.stream(body));
  const events = record(shared);
  const text = record(shared.pipe(outputTextDeltas()));
  const snapshots = record(shared.pipe(accumulateResponse()));
  connect();
  await settled(events, text, snapshots);
  return { frames, events, text: text.values.join(''), snapshots, final: snapshots.values.at(-1), requests: server.requests };
}

/** The raw pipeline gave back every frame, comments included, as the bytes the server sent (LF framing). */
export function expectFaithfulFrames(frames: Recording<SseFrame>, parts: readonly string[]): void {
  expect(frames.completed).toBe(true);
  expect(frames.values.map(encodeSse).join('')).toBe(parts.join(''));
}

/** Fails when `value` (an error, with its message, stack, body and cause) mentions the API key anywhere. */
export function expectNoApiKey(value: unknown, key: string = API_KEY): void {
  const seen = new Set<unknown>();
  const text = JSON.stringify(value, (_key, inner: unknown) => {
    if (typeof inner === 'object' && inner !== null) {
      if (seen.has(inner)) return undefined;
      seen.add(inner);
      if (inner instanceof Error) return { ...inner, message: inner.message, stack: inner.stack, cause: inner.cause };
    }
    return inner;
  });
  expect(text).not.toContain(key);
}

/* ---------- Responses API ---------- */

type Json = Record<string, unknown>;

/** A `Response` object as the lifecycle events carry it. */
export function responseObject(fields: Json = {}): Json {
  return {
    id: 'resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b',
    object: 'response',
    created_at: 1741476542,
    status: 'in_progress',
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model: 'gpt-4.1-2025-04-14',
    output: [],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage: null,
    user: null,
    metadata: {},
    ...fields,
  };
}

export const responseUsage = {
  input_tokens: 36,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: 87,
  output_tokens_details: { reasoning_tokens: 64 },
  total_tokens: 123,
};

/** The events of one assistant message whose text arrives in `deltas`, and the finished item. */
export function messageEvents(outputIndex: number, itemId: string, deltas: readonly string[]): { events: Json[]; item: Json } {
  const text = deltas.join('');
  const at = { item_id: itemId, output_index: outputIndex, content_index: 0 };
  const item = {
    id: itemId,
    type: 'message',
    status: 'completed',
    role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  };
  return {
    item,
    events: [
      {
        type: 'response.output_item.added',
        output_index: outputIndex,
        item: { id: itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
      },
      { type: 'response.content_part.added', ...at, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } },
      ...deltas.map((delta) => ({ type: 'response.output_text.delta', ...at, delta, logprobs: [] })),
      { type: 'response.output_text.done', ...at, text, logprobs: [] },
      { type: 'response.content_part.done', ...at, part: item.content[0] },
      { type: 'response.output_item.done', output_index: outputIndex, item },
    ],
  };
}

/** The events of one function call whose arguments arrive in `deltas`, and the finished item. */
export function functionCallEvents(
  outputIndex: number,
  itemId: string,
  callId: string,
  name: string,
  deltas: readonly string[],
): { events: Json[]; item: Json } {
  const args = deltas.join('');
  const at = { item_id: itemId, output_index: outputIndex };
  const item = { id: itemId, type: 'function_call', status: 'completed', arguments: args, call_id: callId, name };
  return {
    item,
    events: [
      {
        type: 'response.output_item.added',
        output_index: outputIndex,
        item: { ...item, status: 'in_progress', arguments: '' },
      },
      ...deltas.map((delta) => ({ type: 'response.function_call_arguments.delta', ...at, delta })),
      { type: 'response.function_call_arguments.done', ...at, name, arguments: args },
      { type: 'response.output_item.done', output_index: outputIndex, item },
    ],
  };
}

/** The events of one reasoning item with a summary of several parts, each arriving in deltas. */
export function reasoningEvents(outputIndex: number, itemId: string, parts: ReadonlyArray<readonly string[]>): { events: Json[]; item: Json } {
  const summary = parts.map((deltas) => ({ type: 'summary_text', text: deltas.join('') }));
  const item = { id: itemId, type: 'reasoning', summary };
  const events: Json[] = [
    { type: 'response.output_item.added', output_index: outputIndex, item: { id: itemId, type: 'reasoning', summary: [] } },
  ];
  parts.forEach((deltas, summaryIndex) => {
    const at = { item_id: itemId, output_index: outputIndex, summary_index: summaryIndex };
    events.push(
      { type: 'response.reasoning_summary_part.added', ...at, part: { type: 'summary_text', text: '' } },
      ...deltas.map((delta) => ({ type: 'response.reasoning_summary_text.delta', ...at, delta })),
      { type: 'response.reasoning_summary_text.done', ...at, text: summary[summaryIndex].text },
      { type: 'response.reasoning_summary_part.done', ...at, part: summary[summaryIndex] },
    );
  });
  events.push({ type: 'response.output_item.done', output_index: outputIndex, item });
  return { events, item };
}

/** The events of a refusal, and the finished item. */
export function refusalEvents(outputIndex: number, itemId: string, deltas: readonly string[]): { events: Json[]; item: Json } {
  const refusal = deltas.join('');
  const at = { item_id: itemId, output_index: outputIndex, content_index: 0 };
  const item = { id: itemId, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'refusal', refusal }] };
  return {
    item,
    events: [
      { type: 'response.output_item.added', output_index: outputIndex, item: { ...item, status: 'in_progress', content: [] } },
      { type: 'response.content_part.added', ...at, part: { type: 'refusal', refusal: '' } },
      ...deltas.map((delta) => ({ type: 'response.refusal.delta', ...at, delta })),
      { type: 'response.refusal.done', ...at, refusal },
      { type: 'response.content_part.done', ...at, part: item.content[0] },
      { type: 'response.output_item.done', output_index: outputIndex, item },
    ],
  };
}

/**
 * A whole Responses stream: created, in_progress, the items' events and the
 * terminal event carrying the finished response. `sequence_number`s are
 * added in order unless `numbered` is false.
 */
export function responseStream(
  items: ReadonlyArray<{ events: Json[]; item: Json }>,
  terminal: { type?: string; response?: Json } = {},
  numbered = true,
): Json[] {
  const events: Json[] = [
    { type: 'response.created', response: responseObject() },
    { type: 'response.in_progress', response: responseObject() },
    ...items.flatMap((item) => item.events),
    {
      type: terminal.type ?? 'response.completed',
      response: responseObject({ status: 'completed', output: items.map((item) => item.item), usage: responseUsage, ...terminal.response }),
    },
  ];
  return numbered ? events.map((event, sequence_number) => ({ ...event, sequence_number })) : events;
}

/** Responses events on the wire: `event: <type>` and the JSON data, as OpenAI frames them. */
export function responsesWire(events: readonly Json[]): string[] {
  return events.map((event) => wire.event(String(event.type), event));
}
