import type { IncomingMessage, ServerResponse } from 'node:http';
import { memoryResumeStore } from '../../src/resume/memoryResumeStore';
import type { RelaySummary } from '../../src/relay/types';
import { encodeSse } from '../../src/sse/encodeSse';
import type { SseFrame } from '../../src/sse/types';
import { watchedList } from './changes';
import { sseHead, startServer, type RecordedRequest, type TestServer } from './server';

export interface FakeResumeRelayConfig {
  /** The stream's frames, without ids: events go out with `id: 1, 2, 3 …`, comments with none. */
  frames: SseFrame[];
  /**
   * For each connection in turn (the POST, then each GET): the stream position (a frame index) at which its
   * socket is destroyed, once the frames before it were written; `undefined` or past the end: not cut.
   */
  cuts?: (number | undefined)[];
  /** The frames from this index on are held back, the generation going on, until `release()` or a cancel. */
  held?: number;
  /** Default a fixed 22-character URL-safe id. */
  streamId?: string;
  /** Path prefix of every route; default `/v1`. */
  prefix?: string;
}

/**
 * A relay in resume mode reduced to the HTTP contract, over canned frames: the
 * POST answers with `x-stream-id` and numbered events; `GET {prefix}/streams/{id}`
 * answers the frames after `Last-Event-ID` (or `?after=`), 404 for another id;
 * `POST {prefix}/streams/{id}/cancel` ends every open reader with a
 * `stream_cancelled` error frame. Connections are cut where `cuts` says.
 */
export interface FakeResumeRelay {
  server: TestServer;
  /** `{server.url}{prefix}`, the client's `baseURL`. */
  baseURL: string;
  streamId: string;
  /** The requests of one kind, in order. */
  requestsOf(kind: 'start' | 'reattach' | 'cancel'): RecordedRequest[];
  /** What each cancel was answered: `cancelling`, or `finished` when the generation had ended. */
  cancelAnswers: string[];
  /** Resolves once `count` cancels arrived. */
  waitForCancels(count: number): Promise<void>;
  /** The held frames go out and the stream ends. */
  release(): void;
  close(): Promise<void>;
}

/**
 * The options of a real relay in resume mode under test, over `upstreamURL`: a memory store that keeps finished
 * streams a minute, and no heartbeats (they are no frames of the stream: with them, what a re-attach replays would
 * differ).
 */
export function resumeRelayOptions<Req>(upstreamURL: string, onSettled: (summary: RelaySummary<Req>) => void) {
  return {
    apiKey: 'sk-resume-0123456789',
    baseURL: upstreamURL,
    heartbeatMs: 0,
    resume: { store: memoryResumeStore({ retainMs: 60_000 }) },
    onSettled,
  };
}

export const CANCELLED_FRAME = `data: ${JSON.stringify({ error: { message: 'The stream was cancelled', type: 'invalid_request_error', code: 'stream_cancelled' } })}\n\n`;

export async function startFakeResumeRelay(config: FakeResumeRelayConfig): Promise<FakeResumeRelay> {
  const prefix = config.prefix ?? '/v1';
  const streamId = config.streamId ?? 'Zm9vYmFyYmF6cXV4cXV1eA';
  const streamPath = `${prefix}/streams/${streamId}`;
  const wire = numbered(config.frames);
  /** Open readers, and how far each was written. */
  const readers = new Map<ServerResponse, number>();
  const kinds = new Map<RecordedRequest, 'start' | 'reattach' | 'cancel'>();
  const cancelAnswers: string[] = [];
  const cancels = watchedList<RecordedRequest>();
  let connections = 0;
  let available = config.held ?? wire.length;
  let finished = config.held === undefined;

  const serve = (res: ServerResponse, from: number) => {
    const cut = config.cuts?.[connections++];
    sseHead(res, { 'x-stream-id': streamId });
    const until = Math.min(cut ?? available, available);
    const text = wire.slice(from, until).join('');
    if (until < available) {
      // Cut once the frames before the cut have left: the client reads them, then the connection breaks.
      res.write(text, () => res.socket?.destroy());
      return;
    }
    if (finished) {
      res.end(text);
      return;
    }
    if (text) res.write(text);
    readers.set(res, until);
    res.on('close', () => readers.delete(res));
  };

  const handler = (req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest) => {
    const url = new URL(req.url ?? '/', 'http://relay');
    if (req.method === 'POST' && url.pathname.startsWith(`${prefix}/streams/`) && url.pathname.endsWith('/cancel')) {
      kinds.set(recorded, 'cancel');
      cancels.push(recorded);
      if (url.pathname !== `${streamPath}/cancel`) return notFound(res);
      const status = finished ? 'finished' : 'cancelling';
      cancelAnswers.push(status);
      finished = true;
      for (const reader of readers.keys()) reader.end(CANCELLED_FRAME);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status }));
      return;
    }
    if (req.method === 'GET' && url.pathname.startsWith(`${prefix}/streams/`)) {
      kinds.set(recorded, 'reattach');
      if (url.pathname !== streamPath) return notFound(res);
      const after = Number(req.headers['last-event-id'] ?? url.searchParams.get('after') ?? 0);
      return serve(res, positionAfter(wire, after));
    }
    kinds.set(recorded, 'start');
    serve(res, 0);
  };

  const server = await startServer(handler);
  const requestsOf = (kind: 'start' | 'reattach' | 'cancel') => server.requests.filter((request) => kinds.get(request) === kind);
  return {
    server,
    baseURL: `${server.url}${prefix}`,
    streamId,
    requestsOf,
    cancelAnswers,
    waitForCancels: (count) => cancels.reaches(count, `${count} cancels`),
    release() {
      available = wire.length;
      finished = true;
      for (const [reader, written] of readers) reader.end(wire.slice(written).join(''));
    },
    close: () => server.close(),
  };
}

/** Wire text of each frame, events numbered from 1. */
function numbered(frames: SseFrame[]): string[] {
  let event = 0;
  return frames.map((frame) => encodeSse(frame.type === 'event' ? { ...frame, id: String(++event) } : frame));
}

/** The index of the first frame after event `after` (0: the start). */
function positionAfter(wire: string[], after: number): number {
  if (after === 0) return 0;
  let event = 0;
  const index = wire.findIndex((text) => !text.startsWith(':') && ++event === after);
  return index + 1;
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message: 'No such stream', type: 'invalid_request_error', param: null, code: 'stream_not_found' } }));
}
