import { concat, from, throwError, type Observable } from 'rxjs';
import {
  accumulateChatCompletion,
  accumulateCompletion,
  accumulateResponse,
  chatChunks,
  completionChunks,
  isTruncated,
  responseEvents,
  StreamProtocolError,
  StreamTruncatedError,
  type SseFrame,
  type TruncatedPartials,
} from '../../src/index.node';
import { dataFrames, deltaChunk } from '../helpers/chatFrames';
import { errorOf } from '../helpers/streams';
import { messageEvents, responseStream } from '../providers/fixtures';

const STAGES = [
  'sseFrames',
  'chatChunks',
  'completionChunks',
  'responseEvents',
  'accumulateChatCompletion',
  'accumulateCompletion',
  'accumulateResponse',
] as const satisfies ReadonlyArray<keyof TruncatedPartials>;

const chat = () => from(dataFrames(deltaChunk({ role: 'assistant', content: 'Half an ans' })));
const legacy = () => from(dataFrames({ id: 'cmpl-1', object: 'text_completion', choices: [{ index: 0, text: 'Half', finish_reason: null }] }));
const responses = () => {
  const events = responseStream([messageEvents(0, 'msg_1', ['Half'])]).slice(0, 5);
  return from(events.map((event): SseFrame => ({ type: 'event', data: JSON.stringify(event) })));
};
/** A body cut in the middle of an event, as `sseFrames` reports it, before the endpoint's operator. */
const cutMidEvent = (frames: Observable<SseFrame>) =>
  concat(frames, throwError(() => new StreamTruncatedError({ message: 'The stream ended in the middle of an event', partial: 'data: {"choi' })));

/** The stages whose name `isTruncated` accepts for this error. */
const matching = (error: unknown) => STAGES.filter((stage) => isTruncated(error, stage));

describe('isTruncated()', () => {
  test.each([
    ['chatChunks', () => chat().pipe(chatChunks()), ['chatChunks', 'completionChunks']],
    ['completionChunks', () => legacy().pipe(completionChunks()), ['chatChunks', 'completionChunks']],
    ['responseEvents', () => responses().pipe(responseEvents()), ['responseEvents']],
    ['accumulateChatCompletion', () => chat().pipe(chatChunks(), accumulateChatCompletion()), ['accumulateChatCompletion']],
    ['accumulateCompletion', () => legacy().pipe(completionChunks(), accumulateCompletion()), ['accumulateCompletion']],
    ['accumulateResponse', () => responses().pipe(responseEvents(), accumulateResponse()), ['accumulateResponse']],
    ['sseFrames, through chatChunks', () => cutMidEvent(chat()).pipe(chatChunks()), ['sseFrames']],
  ] as const)('the partial left by %s is recognized by its stage’s name only', async (_stage, pipeline, expected) => {
    const error = await errorOf(pipeline());
    expect(error).toBeInstanceOf(StreamTruncatedError);
    expect(matching(error)).toEqual(expected);
  });

  test('the partial is the one the stage left, typed as it', async () => {
    const error = await errorOf(chat().pipe(chatChunks(), accumulateChatCompletion()));
    if (!isTruncated(error, 'accumulateChatCompletion')) throw new Error('expected a truncated chat completion');
    expect(error.partial.choices[0].message.content).toBe('Half an ans');
  });

  test('other errors, and values that are not errors, are not truncations', () => {
    const protocol = new StreamProtocolError({ message: 'bad', problem: 'invalid-json', data: '{' });
    for (const value of [protocol, new Error('x'), undefined, { partial: { chunks: 1, unfinishedChoices: [] } }]) {
      expect(matching(value)).toEqual([]);
    }
  });
});
