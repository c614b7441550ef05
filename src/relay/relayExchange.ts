import { BehaviorSubject } from 'rxjs';
import { APIError, OpenAIRxError } from '../errors.js';
import type { ResponseHead } from '../sse/types.js';
import { passThroughLog, type LogEntry, type LogReader } from './frameLog.js';
import { startGeneration } from './generation.js';
import { relayJson, type JsonAnswer } from './jsonAnswer.js';
import { writeLog, type WriteResult } from './logWriter.js';
import { createRecorder } from './recorder.js';
import { errorFrame, relayErrorResponse } from './relayErrors.js';
import { EVENT_STREAM_HEADERS, forwardedResponseHeaders, JSON_CONTENT_TYPE } from './relayHeaders.js';
import { planRequest, type RelayPlan } from './relayRequest.js';
import type { RelayRuntime } from './relayRuntime.js';
import type { RelayIncoming, RelaySink } from './relaySink.js';
import { cancelStream, resumeStream, startResumableStream, type ExchangeIO } from './resumeExchange.js';

/** Bytes a stream's log holds for a slow client before reading upstream pauses: the relay's one buffer. */
const STREAM_HIGH_WATER_MARK = 64 * 1024;

/** A JSON answer up to this size goes out in one write; a larger one piece by piece, as the client takes it. */
const SMALL_ANSWER = 64 * 1024;

const encoder = new TextEncoder();

/**
 * One relayed request from arrival to `onSettled`, independent of the HTTP
 * stack. Its steps: the request checks (`planRequest`), the client's turn on
 * its connection, then one upstream request: a stream, whose generation reads
 * upstream into a log that a writer reads into the client, or a bounded JSON
 * answer. The recorder settles it exactly once, however it ends.
 */
export function startExchange<Req>(relay: RelayRuntime<Req>, incoming: RelayIncoming<Req>, sink: RelaySink): void {
  const recorder = createRecorder(relay, incoming.request);
  const { context } = recorder;
  let stopUpstream: (() => void) | undefined;
  let stopWriting: (() => void) | undefined;
  let opened = false;
  // Set once the request passed the checks and hooks: a failure after it is the relay's own, not a refusal.
  let upstreamStarted = false;
  // Added to every answer once the origin is known to be allowed.
  let corsHeaders: Record<string, string> = {};

  // What the client leaving means; resume mode replaces it (the generation goes on without this client).
  let clientGone = () => {
    stopUpstream?.();
    stopWriting?.();
    recorder.settle('client-closed');
  };
  sink.onClose(() => {
    if (!recorder.settled) clientGone();
  });

  const forwarded = (headers: Record<string, string>) => redactValues(relay, forwardedResponseHeaders(headers));
  const open = (status: number, headers: Record<string, string>) => {
    opened = true;
    sink.open(status, { ...headers, ...corsHeaders });
  };

  /** A JSON answer: one write when small, else through a writer that drops a client that stops reading. */
  const answer = ({ status, headers, body: content, outcome, error }: Omit<JsonAnswer, 'kind'>) => {
    // 204, 205 and 304 carry no body, whatever upstream sent with them.
    const body = status === 204 || status === 205 || status === 304 ? new Uint8Array() : typeof content === 'string' ? encoder.encode(content) : content;
    recorder.status(status);
    const allHeaders = { 'content-type': JSON_CONTENT_TYPE, ...headers };
    if (body.byteLength <= SMALL_ANSWER) {
      recorder.written(body.byteLength);
      sink.send(status, { ...allHeaders, ...corsHeaders }, body);
      recorder.settle(outcome, error);
      return;
    }
    open(status, { ...allHeaders, 'content-length': String(body.byteLength) });
    const log = passThroughLog(Infinity, { onFull: () => undefined, onRoom: () => undefined });
    log.append([{ bytes: body, events: 0 } satisfies LogEntry]);
    log.finish({ outcome, error });
    write(log);
  };

  /** Writes a log into the client; `done` learns how it ended (the default settles the exchange with it). */
  const write = (log: LogReader, done: (result: WriteResult) => void = finishWriting) => {
    const writer = writeLog(log, sink, {
      heartbeatMs: relay.heartbeatMs,
      stalledClientMs: relay.stalledClientMs,
      scheduler: relay.scheduler,
      written: recorder.written,
    });
    stopWriting = writer.stop;
    void writer.done.then(done);
  };

  const finishWriting = (result: WriteResult) => {
    if (result.kind === 'ended') {
      recorder.settle(result.ending.outcome, result.ending.error);
      return;
    }
    stopUpstream?.();
    dropStalledClient();
  };
  const dropStalledClient = () => {
    sink.abort();
    recorder.settle('client-stalled', new OpenAIRxError({ message: `The client took none of the response for ${relay.stalledClientMs} ms` }));
  };

  /** Before the response started: the error's status, headers and JSON body. After: one error frame, then the end. */
  const fail = (error: unknown) => {
    const response = relayErrorResponse(error, { upstreamStarted, streamStarted: opened });
    if (response.unexpected) relay.report(error, context);
    if (recorder.settled) return;
    if (error instanceof APIError) context.requestId ??= error.requestId;
    const body = relay.redact(JSON.stringify(response.body));
    if (!opened) {
      answer({ status: response.status, headers: redactValues(relay, response.headers), body, outcome: response.outcome, error });
      return;
    }
    stopUpstream?.();
    stopWriting?.();
    const frame = errorFrame(body);
    recorder.written(frame.byteLength);
    sink.write(frame);
    sink.end();
    recorder.settle(response.outcome, error);
  };

  const openEventStream = (head: ResponseHead, extra: Record<string, string> = {}) => {
    recorder.status(head.status);
    context.requestId = relay.requestIdIn(head.headers);
    open(head.status, { ...forwarded(head.headers), ...EVENT_STREAM_HEADERS, ...extra });
  };

  const relayStream = (plan: Extract<RelayPlan, { kind: 'stream' }>) => {
    const pause$ = new BehaviorSubject(false);
    const log = passThroughLog(STREAM_HIGH_WATER_MARK, { onFull: () => pause$.next(true), onRoom: () => pause$.next(false) });
    const generation = startGeneration(relay, plan, log, pause$, {
      head(head) {
        openEventStream(head);
        write(log);
      },
      failedBeforeHead: fail,
      failedUnexpectedly: (error) => relay.report(error, context),
      frame: recorder.frame,
      counted: recorder.counted,
      inspectsEveryFrame: relay.options.onFrame !== undefined || relay.options.telemetry !== undefined,
      perBlock: false,
    });
    stopUpstream = generation.stop;
  };

  /** A CORS preflight answered here (`true`), or the headers every other answer gets. */
  const applyCors = async (): Promise<boolean> => {
    const { cors } = relay;
    if (!cors) return false;
    const origin = incoming.header('origin');
    const preflight = await cors.preflight({
      method: incoming.method,
      origin,
      requestMethod: incoming.header('access-control-request-method'),
      requestHeaders: incoming.header('access-control-request-headers'),
      request: incoming.request,
    });
    if (preflight) {
      recorder.status(preflight.status);
      sink.send(preflight.status, preflight.headers, new Uint8Array());
      recorder.settle('preflight');
      return true;
    }
    corsHeaders = await cors.responseHeaders(origin, incoming.request);
    return false;
  };

  const io: ExchangeIO<Req> = {
    relay,
    recorder,
    incoming,
    openEventStream,
    write,
    answer,
    fail,
    abortClient: () => sink.abort(),
    dropStalledClient,
    whenClientGone(handler) {
      clientGone = handler;
    },
    stopWriting: () => stopWriting?.(),
  };

  const run = async () => {
    if ((await applyCors()) || recorder.settled) return;
    const plan = await planRequest(relay, incoming, context);
    if (plan.kind === 'client-gone') {
      recorder.settle('client-closed');
      return;
    }
    await incoming.turn;
    if (recorder.settled) return;
    if (plan.kind === 'cancel') return cancelStream(io, plan.streamId);
    if (plan.kind === 'resume') return resumeStream(io, plan.streamId, plan.after);
    upstreamStarted = true;
    recorder.upstreamStarted(relay.baseURL);
    if (plan.kind === 'stream') {
      if (relay.resume) await startResumableStream(io, plan, relay.resume);
      else relayStream(plan);
      return;
    }
    const controller = new AbortController();
    stopUpstream = () => controller.abort();
    const result = await relayJson(relay, plan, controller, recorder);
    if (recorder.settled) return;
    if (result.kind === 'failed') fail(result.error);
    else answer(result);
  };

  run().catch(fail);
}

function redactValues<Req>(relay: RelayRuntime<Req>, headers: Record<string, string>): Record<string, string> {
  const redacted: Record<string, string> = {};
  for (const name in headers) redacted[name] = relay.redact(headers[name]);
  return redacted;
}
