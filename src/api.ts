// The public surface shared by every entry point; each entry adds `createClient` with its own default transport.
export type {
  ClientOptions,
  OpenAIRxClient,
  RequestOptions,
  StreamEndpoint,
} from './client.js';
export { DEFAULT_BASE_URL } from './client.js';
export {
  APIConnectionError,
  APIError,
  OpenAIRxError,
  StreamAbortError,
  StreamProtocolError,
  StreamTimeoutError,
  StreamTruncatedError,
  redactSecret,
  type APIErrorInit,
  type ProtocolProblem,
  type TimeoutPhase,
} from './errors.js';
export { accumulateChatCompletion } from './openai/accumulateChatCompletion.js';
export { chatChunks, type ChatStreamProgress } from './openai/chatChunks.js';
export type {
  ChatCompletion,
  ChatCompletionChoice,
  ChatCompletionChunk,
  ChatCompletionChunkChoice,
  ChatCompletionChunkDelta,
  ChatCompletionCreateParams,
  ChatCompletionMessage,
  ChatCompletionMessageToolCall,
  ChatCompletionTokenLogprob,
  ChatCompletionToolCallDelta,
  CompletionUsage,
} from './openai/chatTypes.js';
export { contentDeltas, type ChoiceConfig } from './openai/contentDeltas.js';
export { reasoningDeltas } from './openai/reasoningDeltas.js';
export { toolCallDeltas, type ToolCallDelta } from './openai/toolCallDeltas.js';
export { encodeSse } from './sse/encodeSse.js';
export { retryAfterMs } from './sse/httpErrors.js';
export { sseFrames } from './sse/sseFrames.js';
export {
  DEFAULT_MAX_EVENT_SIZE,
  type ResponseInfo,
  type SseCommentFrame,
  type SseEventFrame,
  type SseFrame,
  type SseRequest,
  type StreamTimeouts,
} from './sse/types.js';
export { fetchTransport, type FetchTransportConfig } from './transport/fetchTransport.js';
export type { ByteSink, ByteStream, Transport, TransportRequest, TransportResponse } from './transport/types.js';
