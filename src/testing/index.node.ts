// `openai-rx/testing` on Node: everything the browser-safe entry has, plus the local mock upstream server.
export * from './index.js';
export {
  DEFAULT_TOKEN_DELAY_MS,
  startMockUpstream,
  type MockRequest,
  type MockRequestState,
  type MockUpstream,
  type MockUpstreamOptions,
} from './mockUpstream.js';
