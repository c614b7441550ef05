import { NEVER } from 'rxjs';
import type { StoreOpenFailure, StoreReader } from '../resume/types.js';
import type { ResponseHead } from '../sse/types.js';
import type { LogEnding, LogReader } from './frameLog.js';
import { startGeneration } from './generation.js';
import type { JsonAnswer } from './jsonAnswer.js';
import type { WriteResult } from './logWriter.js';
import type { Recorder } from './recorder.js';
import { RelayRejection } from './relayErrors.js';
import { unknownStream, type RelayPlan } from './relayRequest.js';
import type { RelayRuntime } from './relayRuntime.js';
import type { RelayIncoming } from './relaySink.js';
import { endingFrame, newStreamId, recordingLog, storeLogReader, type ResumeRuntime } from './resumeMode.js';

/** What an exchange lends the resume steps: its client, recorder and answers. */
export interface ExchangeIO<Req> {
  relay: RelayRuntime<Req>;
  recorder: Recorder<Req>;
  incoming: RelayIncoming<Req>;
  /** Starts an event stream to the client with upstream's forwarded headers and `extra`. */
  openEventStream(head: ResponseHead, extra: Record<string, string>): void;
  write(log: LogReader, done: (result: WriteResult) => void): void;
  answer(answer: Omit<JsonAnswer, 'kind'>): void;
  fail(error: unknown): void;
  /** Drops the client's connection (it stopped reading). */
  abortClient(): void;
  /** Drops a client that stopped reading and settles the exchange as `client-stalled`. */
  dropStalledClient(): void;
  /** Replaces what the client leaving means for this exchange. */
  whenClientGone(handler: () => void): void;
  stopWriting(): void;
}

/**
 * A streamed generation in resume mode: its blocks go to the store under a
 * new stream id (sent as `x-stream-id`), and the client reads them back from
 * the store with `id:` lines. The generation no longer depends on the
 * connection: a client that leaves only detaches its reader; a cancel from
 * any instance, nobody reading for `abandonAfterMs`, or a store failure stop
 * it. The exchange settles when the generation has ended and its client is
 * done reading (or gone), with the generation's outcome.
 */
export async function startResumableStream<Req>(
  io: ExchangeIO<Req>,
  plan: Extract<RelayPlan, { kind: 'stream' }>,
  resume: ResumeRuntime<Req>,
): Promise<void> {
  const { relay, recorder } = io;
  const streamId = newStreamId();
  const recording = await resume.store.create(streamId, { user: await resume.userOf(io.incoming.request), createdAt: Date.now() });
  let ending: LogEnding | undefined;
  let reading = false;
  let clientLeft = false;
  const settleIfDone = () => {
    if (ending && !reading) recorder.settle(ending.outcome, ending.error);
  };
  const log = recordingLog(recording, (end) => {
    ending = end;
    recording.release();
    settleIfDone();
  });
  const stopWith = (outcome: 'cancelled' | 'abandoned') => () => {
    generation.stop();
    log.finish({ outcome, frame: endingFrame(outcome) });
  };

  const readBack = async (head: ResponseHead) => {
    if (clientLeft) return;
    io.openEventStream(head, { 'x-stream-id': streamId });
    const reader = await resume.store.read(streamId, 0);
    if (typeof reader === 'string') throw new Error(`The resume store cannot read back the stream it created (${reader})`);
    reading = true;
    recording.onAbandoned(resume.abandonAfterMs, stopWith('abandoned'));
    io.whenClientGone(() => detach(reader));
    io.write(storeLogReader(reader), (result) => {
      if (result.kind === 'stalled') io.abortClient();
      detach(reader);
    });
  };
  const detach = (reader: StoreReader) => {
    reader.close();
    io.stopWriting();
    reading = false;
    settleIfDone();
  };

  const generation = startGeneration(relay, plan, log, recording.backlog$ ?? NEVER, {
    head: (head) => void readBack(head).catch(io.fail),
    failedBeforeHead(error) {
      recording.release();
      void recording.finish({ outcome: 'upstream-error' });
      io.fail(error);
    },
    failedUnexpectedly: (error) => relay.report(error, recorder.context),
    frame: recorder.frame,
    counted: recorder.counted,
    inspectsEveryFrame: relay.options.onFrame !== undefined || relay.options.telemetry !== undefined,
    perBlock: true,
  });
  recording.onCancel(stopWith('cancelled'));
  recording.onFailure((error) => {
    generation.stop();
    relay.report(error, recorder.context);
    ending = { outcome: 'relay-error', error };
    settleIfDone();
  });
  // The client left before the head: nothing is read yet, so the generation goes on alone (abandon counts from now).
  io.whenClientGone(() => {
    clientLeft = true;
    recording.onAbandoned(resume.abandonAfterMs, stopWith('abandoned'));
  });
}

/** `GET {prefix}/streams/{id}`: the frames after `after`, then the live ones, then the stream's ending. */
export async function resumeStream<Req>(io: ExchangeIO<Req>, streamId: string, after: number): Promise<void> {
  const { recorder } = io;
  const resume = await authorized(io, streamId);
  const reader = await resume.store.read(streamId, after);
  if (typeof reader === 'string') throw readFailure(reader);
  if (recorder.settled) {
    reader.close();
    return;
  }
  io.openEventStream({ status: 200, headers: {}, requestId: undefined, streamId }, { 'x-stream-id': streamId });
  io.whenClientGone(() => {
    reader.close();
    io.stopWriting();
    recorder.settle('client-closed');
  });
  io.write(storeLogReader(reader), (result) => {
    reader.close();
    if (result.kind === 'ended') recorder.settle(result.ending.outcome, result.ending.error);
    else io.dropStalledClient();
  });
}

/** `POST {prefix}/streams/{id}/cancel`: asks whichever instance holds the generation to stop it. */
export async function cancelStream<Req>(io: ExchangeIO<Req>, streamId: string): Promise<void> {
  const resume = await authorized(io, streamId);
  const state = await resume.store.cancel(streamId);
  if (state === 'unknown') throw unknownStream();
  if (state === 'finished') {
    throw new RelayRejection({ status: 409, message: 'The stream has already finished.', code: 'stream_already_finished' });
  }
  io.answer({ status: 202, headers: {}, body: JSON.stringify({ id: streamId, object: 'stream', status: 'cancelling' }), outcome: 'completed' });
}

/** The resume runtime, once the stream is known and belongs to whoever asks (`resume.userOf`); else 404. */
async function authorized<Req>(io: ExchangeIO<Req>, streamId: string): Promise<ResumeRuntime<Req>> {
  const resume = io.relay.resume as ResumeRuntime<Req>;
  const [meta, user] = await Promise.all([resume.store.meta(streamId), resume.userOf(io.incoming.request)]);
  if (!meta || meta.user !== user) throw unknownStream();
  return resume;
}

function readFailure(failure: StoreOpenFailure): RelayRejection {
  if (failure === 'unknown') return unknownStream();
  if (failure === 'evicted') {
    return new RelayRejection({
      status: 410,
      message: 'The frames after this position are no longer kept; resume from a later event or start over.',
      code: 'stream_position_evicted',
    });
  }
  return new RelayRejection({
    status: 400,
    message: 'Last-Event-ID is past the last event of the stream.',
    code: 'invalid_last_event_id',
    param: 'Last-Event-ID',
  });
}
