import type { OperatorFunction } from 'rxjs';
import { defineOperator } from '../defineOperator.js';
import { partialJsonParser, type JsonValue, type PartialJsonConfig, type PartialJsonParser } from './partialJsonParser.js';

/** A tool-call fragment as `toolCallDeltas()` emits it. */
export interface ToolCallFragment {
  index: number;
  id?: string;
  name?: string;
  arguments: string;
}

/** A tool call as it streams: its arguments parsed so far. */
export interface PartialToolCall {
  index: number;
  id?: string;
  name?: string;
  /** The arguments' JSON value so far (see `partialJson`); `undefined` until it begins. */
  arguments: JsonValue | undefined;
}

/**
 * Tool-call fragments (`toolCallDeltas()`) → each call with its arguments
 * parsed so far: emitted when a call first appears and after each fragment
 * that changed its arguments' value. One streaming parser per call, so each
 * call costs time linear in its arguments; arguments that are not JSON fail
 * the stream with a `PartialJsonError` (a custom tool's free-text input is not
 * JSON: filter its fragments out first). Arguments still unfinished when the
 * source completes fail it too; a call without any arguments does not.
 *
 * @example
 * stream$.pipe(toolCallDeltas(), partialToolCalls()).subscribe((call) => showCall(call.index, call.name, call.arguments));
 */
export function partialToolCalls(config: PartialJsonConfig = {}): OperatorFunction<ToolCallFragment, PartialToolCall> {
  return defineOperator((subscriber) => {
    const calls = new Map<number, { call: PartialToolCall; parser: PartialJsonParser }>();
    const emit = (call: PartialToolCall, parser: PartialJsonParser) => subscriber.next({ ...call, arguments: parser.value });
    return {
      next(fragment) {
        let entry = calls.get(fragment.index);
        const isNew = !entry;
        if (!entry) {
          entry = { call: { index: fragment.index, arguments: undefined }, parser: partialJsonParser(config) };
          calls.set(fragment.index, entry);
        }
        const { call, parser } = entry;
        if (fragment.id) call.id = fragment.id;
        if (fragment.name) call.name = fragment.name;
        const changed = fragment.arguments ? parser.push(fragment.arguments) : false;
        if (isNew || changed) emit(call, parser);
      },
      complete() {
        for (const { call, parser } of calls.values()) {
          // No arguments at all is how some servers call a tool without parameters.
          if (parser.length > 0 && parser.end()) emit(call, parser);
        }
        subscriber.complete();
      },
    };
  });
}
