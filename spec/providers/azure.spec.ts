/*
 * Azure OpenAI, as its content-filtering and streaming documentation
 * describes the stream: a first chunk with `choices: []`, empty `id`, `model`
 * and `object`, `created: 0` and the prompt's `prompt_filter_results`;
 * `content_filter_results` on every choice; with the asynchronous filter,
 * annotation chunks whose choice has no `delta` (also after the stop chunk);
 * and `finish_reason: "content_filter"` when the output is cut by the filter.
 * Authentication is the `api-key` header against the v1 base URL.
 */
import { APIError } from '../../src/index.node';
import type { TestServer } from '../helpers/server';
import {
  chunkFactory,
  clientFor,
  deltaChoice,
  expectFaithfulFrames,
  expectNoApiKey,
  finalChat,
  runChat,
  runCompletion,
  serveStream,
  wire,
} from './fixtures';

let server: TestServer;
afterEach(() => server?.close());

const AZURE_KEY = 'azure-key-5f0c1e2d3b4a';
const azureClient = (target: TestServer) => clientFor(target, { path: '/openai/v1', apiKey: '', headers: { 'api-key': AZURE_KEY } });

const safe = { filtered: false, severity: 'safe' };
const filterResults = { hate: safe, self_harm: safe, sexual: safe, violence: safe };
const promptFilter = {
  id: '',
  object: '',
  created: 0,
  model: '',
  choices: [],
  prompt_filter_results: [{ prompt_index: 0, content_filter_results: { ...filterResults, jailbreak: { filtered: false, detected: false } } }],
};
const base = { id: 'chatcmpl-AzR7yK2b', object: 'chat.completion.chunk', created: 1741571000, model: 'gpt-4o-2024-11-20', system_fingerprint: 'fp_ee1d74bde0' };
const chunk = chunkFactory(base);
const choice = (delta: Record<string, unknown>, finishReason: string | null = null) =>
  deltaChoice(delta, finishReason, { logprobs: null, content_filter_results: filterResults });
/** An asynchronous-filter annotation: a choice with no delta, only filter results for an offset range. */
const annotation = (start: number, end: number, results: Record<string, unknown> = filterResults) => ({
  id: '',
  object: '',
  created: 0,
  model: '',
  choices: [
    {
      index: 0,
      finish_reason: null,
      content_filter_offsets: { check_offset: 0, start_offset: start, end_offset: end },
      content_filter_results: results,
    },
  ],
});

describe('Azure OpenAI chat completions', () => {
  test('prompt filter chunk first, filter results on choices, annotations after the stop chunk', async () => {
    const parts = [
      wire.data(promptFilter),
      wire.data(chunk([deltaChoice({ role: 'assistant', content: '' }, null, { logprobs: null, content_filter_results: {} })])),
      wire.data(chunk([choice({ content: 'Azure' })])),
      wire.data(annotation(0, 5)),
      wire.data(chunk([choice({ content: ' says hi.' })])),
      wire.data(chunk([deltaChoice({}, 'stop', { logprobs: null, content_filter_results: {} })])),
      wire.data(annotation(5, 14)),
      wire.done,
    ];
    server = await serveStream(parts);
    const run = await runChat(azureClient(server), server);

    expectFaithfulFrames(run.frames, parts);
    expect(run.requests[1].url).toBe('/openai/v1/chat/completions');
    expect(run.requests[1].headers['api-key']).toBe(AZURE_KEY);
    expect(run.requests[1].headers.authorization).toBeUndefined();
    expect(run.chunks.completed).toBe(true);
    expect(run.chunks.values[0]).toEqual(promptFilter);
    expect(run.chunks.values[2].choices[0]).toMatchObject({ content_filter_results: filterResults });
    expect(run.chunks.values[6].choices[0]).toMatchObject({ content_filter_offsets: { start_offset: 5, end_offset: 14 } });
    expect(run.text).toBe('Azure says hi.');
    expect(run.snapshots.values[0]).toEqual({ id: '', object: 'chat.completion', created: 0, model: '', choices: [] });
    expect(run.final).toEqual(finalChat(base, { content: 'Azure says hi.' }));

  });

  test('without [DONE], trailing annotations do not reopen a finished choice', async () => {
    const parts = [
      wire.data(promptFilter),
      wire.data(chunk([choice({ role: 'assistant', content: 'Done' })])),
      wire.data(chunk([choice({}, 'stop')])),
      wire.data(annotation(0, 4)),
    ];
    server = await serveStream(parts);
    const run = await runChat(azureClient(server), server);

    expect(run.chunks.completed).toBe(true);
    expect(run.final?.choices[0]).toMatchObject({ message: { content: 'Done' }, finish_reason: 'stop' });
  });

  test('finish_reason "content_filter" ends the answer where the filter cut it', async () => {
    const filtered = { ...filterResults, violence: { filtered: true, severity: 'medium' } };
    const parts = [
      wire.data(promptFilter),
      wire.data(chunk([choice({ role: 'assistant', content: 'Once upon' })])),
      wire.data(chunk([deltaChoice({}, 'content_filter', { logprobs: null, content_filter_results: filtered })])),
      wire.data(annotation(0, 9, filtered)),
      wire.done,
    ];
    server = await serveStream(parts);
    const run = await runChat(azureClient(server), server);

    expect(run.chunks.completed).toBe(true);
    expect(run.text).toBe('Once upon');
    expect(run.final?.choices[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: 'Once upon', refusal: null },
      finish_reason: 'content_filter',
      logprobs: null,
    });
    expect(run.chunks.values[2].choices[0]).toMatchObject({ content_filter_results: { violence: { filtered: true } } });
  });

  test('an in-stream error that echoes the api-key keeps it out of the error', async () => {
    const parts = [
      wire.data(promptFilter),
      wire.data({ error: { code: 'content_filter', message: 'The response was filtered', param: 'prompt', status: 400, key: AZURE_KEY } }),
    ];
    server = await serveStream(parts);
    const run = await runChat(azureClient(server), server);

    expect(run.chunks.error).toBeInstanceOf(APIError);
    expect(run.chunks.error).toMatchObject({ code: 'content_filter', param: 'prompt', message: 'The response was filtered' });
    expectNoApiKey(run.chunks.error, AZURE_KEY);
  });
});

describe('Azure OpenAI legacy completions', () => {
  test('an empty first chunk with prompt_filter_results, then text with filter results', async () => {
    const completionBase = { id: 'cmpl-AzC1', object: 'text_completion', created: 1741571100, model: 'gpt-35-turbo-instruct' };
    const completionChunk = chunkFactory(completionBase);
    const text = (value: string, finishReason: string | null = null) => ({
      text: value,
      index: 0,
      finish_reason: finishReason,
      logprobs: null,
      content_filter_results: filterResults,
    });
    const parts = [
      wire.data({ ...promptFilter }),
      wire.data(completionChunk([text('Azure')])),
      wire.data(completionChunk([text(' legacy', 'stop')])),
      wire.done,
    ];
    server = await serveStream(parts);
    const run = await runCompletion(azureClient(server), server);

    expectFaithfulFrames(run.frames, parts);
    expect(run.requests[1].url).toBe('/openai/v1/completions');
    expect(run.text).toBe('Azure legacy');
    expect(run.chunks.values[1].choices[0]).toMatchObject({ content_filter_results: filterResults });
    expect(run.final).toEqual({
      ...completionBase,
      choices: [{ index: 0, text: 'Azure legacy', finish_reason: 'stop', logprobs: null }],
    });
  });
});

describe('Azure OpenAI deployment URLs with ?api-version=', () => {
  test('the query string of the base URL goes after the endpoint path', async () => {
    server = await serveStream([wire.data(chunk([choice({ role: 'assistant', content: 'Hi' }, 'stop')])), wire.done]);
    const client = clientFor(server, {
      path: '/openai/deployments/gpt-4o?api-version=2024-10-21',
      apiKey: '',
      headers: { 'api-key': AZURE_KEY },
    });
    const result = await runChat(client, server);
    expect(result.text).toBe('Hi');
    for (const request of result.requests) {
      expect(request.url).toBe('/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21');
      expect(request.headers['api-key']).toBe(AZURE_KEY);
    }
  });
});
