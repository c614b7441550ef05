import { createClient, type OpenAIRxClient } from '../../src/index.node';
import { startMockUpstream, type MockUpstream, type MockUpstreamOptions } from '../../src/testing/index.node';

export interface MockSetup {
  readonly upstream: MockUpstream;
  /** A Node client (undici) pointed at the mock upstream. */
  readonly client: OpenAIRxClient;
}

/**
 * Starts a mock upstream and a client on it before each test (or once for the
 * file, with `scope: 'all'`) and closes it after; read both from the result.
 */
export function useMockUpstream(options: MockUpstreamOptions = {}, scope: 'each' | 'all' = 'each'): MockSetup {
  let upstream: MockUpstream | undefined;
  let client: OpenAIRxClient | undefined;
  const before = scope === 'each' ? beforeEach : beforeAll;
  const after = scope === 'each' ? afterEach : afterAll;
  before(async () => {
    upstream = await startMockUpstream(options);
    client = createClient({ baseURL: upstream.baseURL, apiKey: 'sk-mock-test' });
  });
  after(() => upstream?.close());
  return {
    get upstream() {
      if (!upstream) throw new Error('useMockUpstream: the upstream starts in a before hook');
      return upstream;
    },
    get client() {
      if (!client) throw new Error('useMockUpstream: the client is created in a before hook');
      return client;
    },
  };
}
