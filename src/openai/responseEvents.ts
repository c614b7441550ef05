import type { OperatorFunction } from 'rxjs';
import { StreamProtocolError, StreamTruncatedError } from '../errors.js';
import { isRecord } from '../sse/httpErrors.js';
import type { SseFrame } from '../sse/types.js';
import { jsonEvents, validate, type StageOutput } from './jsonEvents.js';
import { responseFailedError } from './streamErrors.js';
import {
  responseEventSchemaOf,
  type Response,
  type ResponseStreamEvent,
  type UnknownResponseStreamEvent,
} from './responseTypes.js';

/** What a Responses stream cut short had delivered: `StreamTruncatedError#partial` from {@link responseEvents}. */
export interface ResponseStreamProgress {
  events: number;
  /** The response as the last `response.created` / `response.in_progress` event described it. */
  response: Response | undefined;
}

/**
 * Raw frames → Responses API events, each validated by its `type`; events of
 * types it does not know are passed on as sent. The stream completes right
 * after `response.completed` or `response.incomplete` (emitted first; an
 * incomplete response is a finished one whose `incomplete_details` says why).
 * `response.failed` and `error` events (nested `{"error":{…}}` or flat
 * `{"type":"error","code","message"}`) end it with `APIError`. A stream that
 * ends, or sends `[DONE]`, before any terminal event fails with
 * `StreamTruncatedError`.
 *
 * @example
 * client.responses.events({ model, input }).pipe(responseEvents(), outputTextDeltas()).subscribe(write);
 */
export function responseEvents(): OperatorFunction<SseFrame, ResponseStreamEvent> {
  return jsonEvents<ResponseStreamEvent>(() => {
    let events = 0;
    let response: Response | undefined;
    const truncated = (out: StageOutput<ResponseStreamEvent>) =>
      out.error(
        new StreamTruncatedError<ResponseStreamProgress>({
          message: `The Responses stream ended without response.completed, response.incomplete or response.failed after ${events} events`,
          partial: { events, response },
        }),
      );
    return {
      accept(json, frame, out) {
        const type = isRecord(json) ? json.type : undefined;
        if (typeof type !== 'string') {
          out.error(new StreamProtocolError({ message: 'A Responses event has no string `type`', problem: 'invalid-chunk', data: frame.data }));
          return;
        }
        events++;
        const schema = responseEventSchemaOf(type);
        if (!schema) {
          out.next(json as UnknownResponseStreamEvent);
          return;
        }
        const event = validate(schema, json, frame, out);
        if (event === undefined) return;
        switch (event.type) {
          case 'response.failed':
            out.error(responseFailedError(json, frame.data));
            return;
          case 'response.completed':
          case 'response.incomplete':
            out.next(event);
            out.complete();
            return;
          case 'response.created':
          case 'response.in_progress':
            response = event.response;
            break;
        }
        out.next(event);
      },
      end: truncated,
      done: truncated,
    };
  });
}
