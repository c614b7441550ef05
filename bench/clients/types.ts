export interface StreamSink {
  next(value: unknown): void;
  /** Completion (no error) or failure. Not called after `cancel()` for clients that go silent when cancelled. */
  end(error?: unknown): void;
}

export interface RunningStream {
  cancel(): void;
}

/** Opens one streamed chat completion with `body` and hands every value the client yields to `sink`. */
export type OpenStream = (body: Record<string, unknown>, sink: StreamSink) => RunningStream;

export const API_KEY = 'sk-bench';
