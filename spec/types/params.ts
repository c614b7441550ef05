import type {
  ChatCompletion,
  ChatCompletionCreateParams,
  ChatCompletionMessageParam,
  CompletionCreateParams,
  OpenAIRxClient,
  Response,
  ResponseCreateParams,
  ResponseInputItem,
} from '../../src/api';

/* Request parameters are precise: a misspelt field, role or part type is a compile error. */

export function chatParams(client: OpenAIRxClient): void {
  client.chat.completions.stream({
    model: 'gpt-4o-mini',
    messages: [
      { role: 'developer', content: 'Answer briefly.' },
      { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AA', detail: 'low' } }] },
      { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'UklG', format: 'wav' } }] },
      { role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '42' },
    ],
    max_completion_tokens: 5,
    temperature: 0.2,
    stream_options: { include_usage: true },
    response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' }, strict: true } },
    tool_choice: { type: 'function', function: { name: 'f' } },
    reasoning_effort: 'low',
  });

  // @ts-expect-error a misspelt role
  client.chat.completions.stream({ model: 'm', messages: [{ role: 'usr', content: 'hi' }] });
  // @ts-expect-error a misspelt message field
  client.chat.completions.stream({ model: 'm', messages: [{ role: 'user', contnet: 'hi' }] });
  // @ts-expect-error a misspelt top-level field
  client.chat.completions.stream({ model: 'm', messages: [], max_tokns: 5 });
  // @ts-expect-error another one
  client.chat.completions.events({ model: 'm', messages: [], temprature: 2 });
  // @ts-expect-error a tool message answers a call: `tool_call_id` is required
  client.chat.completions.stream({ model: 'm', messages: [{ role: 'tool', content: '42' }] });
  // @ts-expect-error a part type chat does not have (`input_text` is the Responses API's)
  client.chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }] });
  // @ts-expect-error a system message takes text parts only
  client.chat.completions.stream({ model: 'm', messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'u' } }] }] });
  // @ts-expect-error chat's json_schema nests the schema under `json_schema`
  client.chat.completions.stream({ model: 'm', messages: [], response_format: { type: 'json_schema', name: 'a', schema: {} } });
  // @ts-expect-error a tool definition with a misspelt field
  client.chat.completions.stream({ model: 'm', messages: [], tools: [{ type: 'function', function: { name: 'f', paramters: {} } }] });
}

export function messagesAsVariables(answer: ChatCompletion): ChatCompletionMessageParam[] {
  // A variable typed as messages keeps its literal roles, and an accumulated answer goes back in as it is.
  const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Paris?' }];
  messages.push(answer.choices[0].message);
  // @ts-expect-error an untyped variable widens `role` to string, which no message has: annotate it or use `as const`
  const widened: ChatCompletionMessageParam = { role: 'user' as string, content: 'hi' };
  void widened;
  return messages;
}

export function legacyCompletionParams(client: OpenAIRxClient): void {
  client.completions.stream({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hi', max_tokens: 5, echo: false, logprobs: 2 });
  // @ts-expect-error a misspelt field
  client.completions.stream({ model: 'm', promt: 'Say hi' });
  // @ts-expect-error `prompt` is required
  client.completions.stream({ model: 'm' });
}

export function responseParams(client: OpenAIRxClient, previous: Response): void {
  const input: ResponseInputItem[] = [
    { role: 'user', content: [{ type: 'input_text', text: 'Weather in Oslo?' }, { type: 'input_image', image_url: 'https://example.com/a.png' }] },
    { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
    { type: 'function_call_output', call_id: 'call_1', output: '{"temperature":4}' },
    { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'gAAA' },
    { type: 'item_reference', id: 'msg_1' },
    // An earlier response's output goes back in as it came, asserted: its items are typed loosely.
    ...(previous.output as ResponseInputItem[]),
  ];
  // @ts-expect-error without the assertion: a loosely typed item is not accepted as a checked one
  input.push(previous.output[0]);
  client.responses.stream({
    model: 'gpt-4.1-mini',
    input,
    instructions: 'Be brief.',
    tools: [
      { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: true },
      { type: 'web_search' },
      { type: 'file_search', vector_store_ids: ['vs_1'] },
      { type: 'mcp', server_label: 'docs', server_url: 'https://mcp.example.com', require_approval: 'never' },
    ],
    tool_choice: 'auto',
    text: { format: { type: 'json_schema', name: 'weather', schema: { type: 'object' }, strict: true }, verbosity: 'low' },
    reasoning: { effort: 'medium', summary: 'auto' },
    include: ['reasoning.encrypted_content'],
    max_output_tokens: 200,
    store: false,
  });

  // @ts-expect-error a misspelt field
  client.responses.stream({ model: 'm', inptu: 'hi' });
  // @ts-expect-error a misspelt role in an input message
  client.responses.stream({ model: 'm', input: [{ role: 'usr', content: 'hi' }] });
  // @ts-expect-error a function call output answers a call: `call_id` is required
  client.responses.stream({ model: 'm', input: [{ type: 'function_call_output', output: '42' }] });
  // @ts-expect-error a misspelt field of a function call output
  client.responses.stream({ model: 'm', input: [{ type: 'function_call_output', call_id: 'c', outptu: '42' }] });
  // @ts-expect-error an output that is neither text nor parts
  client.responses.stream({ model: 'm', input: [{ type: 'function_call_output', call_id: 'c', output: 42 }] });
  // @ts-expect-error chat's nested tool shape is not the Responses API's
  client.responses.stream({ model: 'm', tools: [{ type: 'function', function: { name: 'f' } }] });
  // @ts-expect-error an effort no model accepts
  client.responses.stream({ model: 'm', reasoning: { effort: 'extreme' } });
  // @ts-expect-error Responses' json_schema is flat: `json_schema` is chat's
  client.responses.stream({ model: 'm', text: { format: { type: 'json_schema', json_schema: { name: 'a' } } } });
}

/* Provider fields: named in the type argument, they are admitted while every known field is still checked. */

type VllmParams = ChatCompletionCreateParams & { guided_json?: object; guided_choice?: string[] };
type OpenRouterParams = ChatCompletionCreateParams & { provider?: { order?: string[]; allow_fallbacks?: boolean } };
type OllamaParams = ChatCompletionCreateParams & { options?: { num_ctx?: number } };

export function providerFields(client: OpenAIRxClient): void {
  client.chat.completions.stream<VllmParams>({ model: 'm', messages: [], guided_json: { type: 'object' } });
  client.chat.completions.events<OpenRouterParams>({ model: 'm', messages: [], provider: { order: ['Groq'], allow_fallbacks: false } });
  client.chat.completions.stream<OllamaParams>({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], options: { num_ctx: 8192 } });
  client.responses.stream<ResponseCreateParams & { provider?: { sort?: 'price' } }>({ model: 'm', input: 'hi', provider: { sort: 'price' } });
  client.completions.stream<CompletionCreateParams & { guided_regex?: string }>({ model: 'm', prompt: 'p', guided_regex: '\\d+' });

  // @ts-expect-error without the type argument, a provider's field is an unknown field
  client.chat.completions.stream({ model: 'm', messages: [], guided_json: {} });
  // @ts-expect-error with it, the known fields are still checked
  client.chat.completions.stream<VllmParams>({ model: 'm', messages: [], guided_json: {}, temprature: 1 });
  // @ts-expect-error and so are the provider's own, as declared
  client.chat.completions.stream<OllamaParams>({ model: 'm', messages: [], options: { num_ctxx: 1 } });
  // @ts-expect-error the type argument must still be a request of this endpoint
  client.chat.completions.stream<{ model: string; guided_json: object }>({ model: 'm', guided_json: {} });
}

/*
 * A provider's field nested in a part (OpenRouter's `cache_control`): excess-property checks apply to
 * object literals only, so a part built beforehand is accepted with its extra field, and the part's
 * own fields are still checked.
 */

export function nestedProviderFields(client: OpenAIRxClient, document: string): void {
  const cached = { type: 'text' as const, text: document, cache_control: { type: 'ephemeral' } };
  client.chat.completions.stream({ model: 'anthropic/claude-sonnet-4', messages: [{ role: 'user', content: [cached, { type: 'text', text: 'Summarize it.' }] }] });

  const misspelt = { type: 'text' as const, txt: document, cache_control: { type: 'ephemeral' } };
  // @ts-expect-error the part's own fields are still checked
  client.chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: [misspelt] }] });
}
