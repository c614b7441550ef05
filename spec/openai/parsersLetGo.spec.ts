import { Observable, Subject, finalize, type OperatorFunction } from 'rxjs';
import type { SseFrame } from '../../src/index.node';
import { chatChunks } from '../../src/openai/chatChunks';
import { completionChunks } from '../../src/openai/completionChunks';
import { responseEvents } from '../../src/openai/responseEvents';
import { chunk } from '../helpers/chatFrames';
import { chunkFactory, messageEvents, responseStream } from '../providers/fixtures';

const event = (json: Record<string, unknown>): SseFrame => ({ type: 'event', data: JSON.stringify(json) });
const DONE: SseFrame = { type: 'event', data: '[DONE]' };
const legacyChunk = chunkFactory({ id: 'cmpl-1', object: 'text_completion', created: 1, model: 'gpt-3.5-turbo-instruct' });

/** Each parser, a stream of it whose last frame is the terminal one, and how many values that stream gives. */
const RESPONSE_FRAMES = responseStream([messageEvents(0, 'msg_1', ['a'])]).map(event);
const PARSERS: Array<[string, OperatorFunction<SseFrame, unknown>, SseFrame[], number]> = [
  [
    'chatChunks',
    chatChunks(),
    [{ type: 'comment', text: 'OPENROUTER PROCESSING' }, event(chunk({ choices: [{ index: 0, delta: { content: 'a' }, finish_reason: 'stop' }] })), DONE],
    1,
  ],
  ['completionChunks', completionChunks(), [event(legacyChunk([{ text: 'a', index: 0, logprobs: null, finish_reason: 'stop' }])), DONE], 1],
  ['responseEvents', responseEvents(), RESPONSE_FRAMES, RESPONSE_FRAMES.length],
];

describe.each(PARSERS)('%s', (_, parser, frames, values) => {
  test('skips comments, completes at its terminal frame and lets go of the source in the same tick: a finalize() above runs before the source hands on its next frame', () => {
    const events: string[] = [];
    const frames$ = new Subject<SseFrame>();
    const source = new Observable<SseFrame>((subscriber) => {
      const subscription = frames$.subscribe(subscriber);
      return () => {
        subscription.unsubscribe();
        events.push('source released');
      };
    });
    source.pipe(parser, finalize(() => events.push('finalize'))).subscribe({
      next: () => events.push('value'),
      error: (error: unknown) => events.push(`error ${String(error)}`),
      complete: () => events.push('complete'),
    });
    for (const frame of frames) frames$.next(frame);
    events.push('terminal frame handed on');
    frames$.next({ type: 'event', data: 'not json at all' });
    const completedAt = events.indexOf('complete');
    expect(events.slice(completedAt)).toEqual(['complete', 'source released', 'finalize', 'terminal frame handed on']);
    expect(events.slice(0, completedAt)).toEqual(Array.from({ length: values }, () => 'value'));
    expect(frames$.observed).toBe(false);
  });
});
