// `openai-rx/testing`: helpers for testing code built on openai-rx, such as writing the SSE wire text
// a scripted server or transport sends.
export { encodeSse } from '../sse/encodeSse.js';
export type { SseFrame } from '../sse/types.js';
