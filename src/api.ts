// The public surface shared by every entry point; each entry adds `createClient` with its own default transport.
export type {
  ClientOptions,
  OpenAIRxClient,
  RequestOptions,
  ResumeStreamOptions,
  StreamEndpoint,
} from './client.js';
export { DEFAULT_BASE_URL } from './client.js';
export {
  APIConnectionError,
  APIError,
  InvalidRequestError,
  OpenAIRxError,
  OutputValidationError,
  PartialJsonError,
  RefusalError,
  StrictSchemaError,
  StreamAbortError,
  StreamProtocolError,
  StreamTimeoutError,
  StreamTruncatedError,
  type APIErrorInit,
  type OutputIssue,
  type PartialJsonProblem,
  type ProtocolProblem,
  type TimeoutPhase,
} from './errors.js';
export { accumulateChatCompletion } from './openai/accumulateChatCompletion.js';
export { accumulateCompletion } from './openai/accumulateCompletion.js';
export { accumulateResponse } from './openai/accumulateResponse.js';
export { chatChunks } from './openai/chatChunks.js';
export type { ChoiceStreamProgress } from './openai/jsonEvents.js';
export type {
  ChatCompletionAssistantMessageParam,
  ChatCompletionAudioParam,
  ChatCompletionContentPart,
  ChatCompletionContentPartFile,
  ChatCompletionContentPartImage,
  ChatCompletionContentPartInputAudio,
  ChatCompletionContentPartRefusal,
  ChatCompletionContentPartText,
  ChatCompletionCustomTool,
  ChatCompletionDeveloperMessageParam,
  ChatCompletionFunctionMessageParam,
  ChatCompletionFunctionTool,
  ChatCompletionMessageParam,
  ChatCompletionPredictionContent,
  ChatCompletionStreamOptions,
  ChatCompletionSystemMessageParam,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
  ChatCompletionToolMessageParam,
  ChatCompletionUserMessageParam,
  ChatCompletionWebSearchOptions,
  FunctionDefinition,
  FunctionParameters,
  Metadata,
  ReasoningEffort,
  ResponseFormatJSONObject,
  ResponseFormatJSONSchema,
  ResponseFormatText,
} from './openai/chatParams.js';
export type {
  ChatCompletion,
  ChatCompletionChoice,
  ChatCompletionChunk,
  ChatCompletionChunkChoice,
  ChatCompletionChunkDelta,
  ChatCompletionChunkLogprobs,
  ChatCompletionCreateParams,
  ChatCompletionMessage,
  ChatCompletionMessageCustomToolCall,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageToolCall,
  ChatCompletionTokenLogprob,
  ChatCompletionToolCallDelta,
  CompletionUsage,
} from './openai/chatTypes.js';
export { completionChunks } from './openai/completionChunks.js';
export { completionTextDeltas } from './openai/completionTextDeltas.js';
export type {
  Completion,
  CompletionChoice,
  CompletionChunk,
  CompletionChunkChoice,
  CompletionChunkLogprobs,
  CompletionCreateParams,
  CompletionLogprobs,
} from './openai/completionTypes.js';
export { contentDeltas, type ChoiceConfig } from './openai/contentDeltas.js';
export { contentOrRefusal } from './openai/contentOrRefusal.js';
export { extras } from './openai/extras.js';
export { isTruncated, type TruncatedPartials } from './openai/isTruncated.js';
export { ofType } from './openai/ofType.js';
export { outputTextDeltas } from './openai/outputTextDeltas.js';
export { outputTextOrRefusal } from './openai/outputTextOrRefusal.js';
export { reasoningDeltas } from './openai/reasoningDeltas.js';
export type {
  ResponseCompletedEvent,
  ResponseContentPartAddedEvent,
  ResponseContentPartDoneEvent,
  ResponseCreatedEvent,
  ResponseFunctionCallArgumentsDeltaEvent,
  ResponseFunctionCallArgumentsDoneEvent,
  ResponseIncompleteEvent,
  ResponseInProgressEvent,
  ResponseOutputItemAddedEvent,
  ResponseOutputItemDoneEvent,
  ResponseReasoningSummaryPartAddedEvent,
  ResponseReasoningSummaryPartDoneEvent,
  ResponseReasoningSummaryTextDeltaEvent,
  ResponseReasoningSummaryTextDoneEvent,
  ResponseRefusalDeltaEvent,
  ResponseRefusalDoneEvent,
  ResponseTextDeltaEvent,
  ResponseTextDoneEvent,
} from './openai/responseEventTypes.js';
export { responseEvents, type ResponseStreamProgress } from './openai/responseEvents.js';
export type {
  ResponseCodeInterpreterTool,
  ResponseComputerCallOutputParam,
  ResponseComputerUseTool,
  ResponseCustomTool,
  ResponseCustomToolCallOutputParam,
  ResponseCustomToolCallParam,
  ResponseFileSearchTool,
  ResponseFormatTextJSONSchemaConfig,
  ResponseFunctionCallOutputParam,
  ResponseFunctionCallParam,
  ResponseFunctionTool,
  ResponseImageGenerationTool,
  ResponseIncludable,
  ResponseInputAudio,
  ResponseInputContent,
  ResponseInputFile,
  ResponseInputImage,
  ResponseInputItem,
  ResponseInputMessage,
  ResponseInputText,
  ResponseItemReference,
  ResponseLocalShellCallOutputParam,
  ResponseMcpApprovalResponseParam,
  ResponseMcpTool,
  ResponseOutputMessageParam,
  ResponsePromptParam,
  ResponseReasoningConfig,
  ResponseReasoningItemParam,
  ResponseTextConfig,
  ResponseTool,
  ResponseToolChoice,
  ResponseWebSearchTool,
} from './openai/responseParams.js';
export {
  isKnownResponseEvent,
  type KnownResponseStreamEvent,
  type Response,
  type ResponseContentPart,
  type ResponseCreateParams,
  type ResponseEventType,
  type ResponseOutputItem,
  type ResponseStreamEvent,
  type ResponseStreamEventMap,
  type ResponseStreamEventOf,
  type ResponseSummaryPart,
  type ResponseUsage,
  type UnknownResponseStreamEvent,
  type UnvalidatedResponseEventType,
  type UnvalidatedResponseStreamEvent,
} from './openai/responseTypes.js';
export { toolCallDeltas, type ToolCallDelta } from './openai/toolCallDeltas.js';
export {
  zodFunction,
  zodResponseFormat,
  zodTextFormat,
  type ToolContext,
  type ToolExecute,
  type ZodFormatOptions,
  type ZodFunctionOptions,
  type ZodFunctionTool,
} from './openai/zodFormats.js';
export { paceText, type PaceTextConfig } from './operators/paceText.js';
export { partialJson, type JsonValue, type PartialJsonConfig } from './operators/partialJson.js';
export { partialToolCalls, type PartialToolCall, type ToolCallFragment } from './operators/partialToolCalls.js';
export { parseToolArguments, type SchemaTool } from './operators/parseToolArguments.js';
export { isRetryableError, retryStream, type RetryInfo, type RetryStreamConfig } from './operators/retryStream.js';
export {
  structuredOutput,
  type DeepPartial,
  type RefusalDelta,
  type StructuredOutputConfig,
  type StructuredOutputEvent,
} from './operators/structuredOutput.js';
export type { OutputResult } from './operators/validateOutput.js';
export type { RunToolContext } from './tools/executeTool.js';
export { runResponseTools, type ResponseToolRunEvent, type RunResponseToolsParams } from './tools/runResponseTools.js';
export { runTools, type ChatToolRunEvent, type RunnableTool, type RunToolsOptions, type RunToolsParams } from './tools/runTools.js';
export type { ToolCall, ToolOutcome, ToolRunDone, ToolRunEndReason, ToolRunEvent } from './tools/toolRunEvents.js';
export type { CorsConfig, CorsOrigins, RelayCorsOption } from './relay/cors.js';
export { StreamNotFoundError } from './resume/clientErrors.js';
export type { ResumeConfig, ResumeOption } from './resume/clientResumable.js';
export type { FetchRelay, FetchRelayOptions } from './relay/fetchRelay.js';
export { RelayRejection, type OpenAIErrorBody, type RelayRejectionInit } from './relay/relayErrors.js';
export type {
  AllowModels,
  RelayContext,
  RelayOptions,
  RelayOutcome,
  RelayRequestBody,
  RelayResumeOptions,
  RelayRoute,
  RelayRoutesOption,
  RelaySummary,
} from './relay/types.js';
export { memoryResumeStore, type MemoryResumeStoreConfig } from './resume/memoryResumeStore.js';
export type {
  ResumeStore,
  StoredEnding,
  StoredEntry,
  StoreOpenFailure,
  StoreRead,
  StoreReader,
  StreamMeta,
  StreamRecording,
} from './resume/types.js';
export { encodeSse } from './sse/encodeSse.js';
export { sseFrames } from './sse/sseFrames.js';
export {
  DEFAULT_MAX_EVENT_SIZE,
  type ResponseHead,
  type SseCommentFrame,
  type SseEventFrame,
  type SseFrame,
  type SseRequest,
  type StreamTimeouts,
} from './sse/types.js';
export type {
  OperationOutcome,
  OperationStart,
  OperationTelemetry,
  ResponseInfo,
  Telemetry,
  TelemetryEndpoint,
  TokenUsage,
} from './telemetry/types.js';
export { fetchTransport, type FetchTransportConfig } from './transport/fetchTransport.js';
export type { ByteSink, ByteStream, PromiseTransport, Transport, TransportRequest, TransportResponse } from './transport/types.js';
