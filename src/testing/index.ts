// `openai-rx/testing`: helpers for testing code built on openai-rx: a scripted transport, builders of
// chunks, events and the SSE wire text a scripted server or transport sends. This build runs in browsers
// (Karma, Vitest browser mode); under the `node` condition `index.node.ts` adds the local mock upstream.
export { encodeSse } from '../sse/encodeSse.js';
export type { SseFrame } from '../sse/types.js';
export {
  chatChunk,
  chatCompletion,
  chatFrames,
  chatStreamChunks,
  chatUsageChunk,
  type ChatChunkChoiceJson,
  type ChatChunkInit,
  type ChatChunkJson,
  type ChatCompletionJson,
  type ChatDeltaJson,
  type ChatStreamInit,
  type ChatToolCallDeltaJson,
  type ChatToolCallFragment,
  type ChatToolCallJson,
  type ChunkIdentity,
  type ObjectHeadJson,
  type UsageJson,
} from './chatBuilders.js';
export {
  completion,
  completionChunk,
  completionFrames,
  completionStreamChunks,
  type CompletionChoiceJson,
  type CompletionJson,
  type CompletionStreamInit,
} from './completionBuilders.js';
export type { MockBehavior } from './mockModel.js';
export {
  responseFrames,
  responseObject,
  responseStreamEvents,
  responseUsage,
  type ResponseEventJson,
  type ResponseFunctionCallItemJson,
  type ResponseIdentity,
  type ResponseInit,
  type ResponseItemJson,
  type ResponseJson,
  type ResponseMessageItemJson,
  type ResponseOutputTextJson,
  type ResponseStreamInit,
  type ResponseUsageJson,
} from './responseBuilders.js';
export {
  scriptedTransport,
  wait,
  type Script,
  type ScriptedChunk,
  type ScriptedRequest,
  type ScriptedRequestState,
  type ScriptedResponse,
  type ScriptedStep,
  type ScriptedTransport,
  type ScriptedTransportConfig,
  type ScriptedWait,
} from './scriptedTransport.js';
export { byteChunks, doneFrame, sseComment, sseEvent, sseText, type SseEventFields } from './sseBuilders.js';
export { splitTokens } from './tokens.js';
