import type { OperatorFunction } from 'rxjs';
import { accumulateSnapshots, type SnapshotAccumulator } from './accumulateSnapshots.js';
import { GrowingArray, IndexedArray, indexedArrayOf, withArrays } from './growingArray.js';
import {
  isKnownResponseEvent,
  type Response,
  type ResponseContentPart,
  type ResponseOutputItem,
  type ResponseStreamEvent,
  type ResponseSummaryPart,
} from './responseTypes.js';

/**
 * Responses events → a snapshot of the `Response` after every event: output
 * items, text and refusal parts, function-call arguments and reasoning
 * summaries, built from the deltas. Items and parts are kept in the order of
 * their indexes, without gaps for indexes that never came. The last value is the `response` of
 * `response.completed` (or `response.incomplete`) as the server sent it, usage
 * included. Snapshots are new objects; unchanged items are shared between
 * them. Items and parts are kept in versioned arrays and a text part's logprobs
 * in a store its versions share, each snapshot's arrays copied out when first
 * read, so the cost per event is that of what it brought, however long the
 * answer and however many items or parts came before.
 *
 * If the stream is cut short, the `StreamTruncatedError` carries the last
 * snapshot as `partial`.
 *
 * @example
 * const response = await lastValueFrom(client.responses.stream({ model, input }).pipe(accumulateResponse()));
 */
export function accumulateResponse(): OperatorFunction<ResponseStreamEvent, Response> {
  return accumulateSnapshots(() => new ResponseAccumulator());
}

interface ItemPosition {
  output_index: number;
  item_id?: string;
}

/** The part arrays of one item that events changed part by part, by name. */
type Parts = Partial<Record<'content' | 'summary', IndexedArray<ResponseContentPart>>>;

class ResponseAccumulator implements SnapshotAccumulator<ResponseStreamEvent, Response> {
  /** The response's own fields, from the latest lifecycle event. */
  private base: Response = { id: '', object: 'response', created_at: 0, status: 'in_progress', model: '', output: [] };
  private output = new IndexedArray<ResponseOutputItem>();
  /**
   * By `output_index`; made from an item's own arrays when a part event first
   * comes, dropped when the item is replaced. An item's `content` or `summary`
   * shows a version of these when they exist, and is the server's array otherwise.
   */
  private readonly parts = new Map<number, Parts>();
  /** The logprobs of text parts built from deltas, by the part object that shows them. */
  private readonly partLogprobs = new WeakMap<ResponseContentPart, GrowingArray<unknown>>();
  private final: Response | undefined;

  snapshot(): Response {
    return this.final ?? withArrays(this.base, { output: this.output });
  }

  add(event: ResponseStreamEvent): void {
    if (!isKnownResponseEvent(event)) return;
    switch (event.type) {
      case 'response.created':
      case 'response.in_progress':
        this.base = event.response;
        if (this.output.length === 0) this.output = indexedArrayOf(event.response.output);
        break;
      case 'response.completed':
      case 'response.incomplete':
        this.final = event.response;
        break;
      case 'response.output_item.added':
      case 'response.output_item.done':
        this.parts.delete(event.output_index);
        this.output.update(event.output_index, () => event.item);
        break;
      case 'response.content_part.added':
      case 'response.content_part.done':
        this.updatePart(event, 'content', event.content_index, () => event.part, () => event.part);
        break;
      case 'response.output_text.delta':
        this.updatePart(event, 'content', event.content_index, emptyTextPart, (part) =>
          this.withTextDelta(part, event.delta, event.logprobs ?? []),
        );
        break;
      case 'response.output_text.done':
        this.updatePart(event, 'content', event.content_index, emptyTextPart, (part) => ({ ...part, text: event.text }));
        break;
      case 'response.refusal.delta':
        this.updatePart(event, 'content', event.content_index, emptyRefusalPart, (part) => ({
          ...part,
          refusal: (part.refusal ?? '') + event.delta,
        }));
        break;
      case 'response.refusal.done':
        this.updatePart(event, 'content', event.content_index, emptyRefusalPart, (part) => ({ ...part, refusal: event.refusal }));
        break;
      case 'response.function_call_arguments.delta':
        this.updateItem(event, 'function_call', (item) => ({ arguments: (item.arguments ?? '') + event.delta }));
        break;
      case 'response.function_call_arguments.done':
        this.updateItem(event, 'function_call', () => ({
          arguments: event.arguments,
          ...(event.name !== undefined && { name: event.name }),
        }));
        break;
      case 'response.reasoning_summary_part.added':
      case 'response.reasoning_summary_part.done':
        this.updatePart(event, 'summary', event.summary_index, () => event.part, () => event.part);
        break;
      case 'response.reasoning_summary_text.delta':
        this.updatePart(event, 'summary', event.summary_index, emptySummaryPart, (part) => ({ ...part, text: part.text + event.delta }));
        break;
      case 'response.reasoning_summary_text.done':
        this.updatePart(event, 'summary', event.summary_index, emptySummaryPart, (part) => ({ ...part, text: event.text }));
        break;
    }
  }

  private withTextDelta(part: ResponseContentPart, delta: string, logprobs: unknown[]): ResponseContentPart {
    const text = (part.text ?? '') + delta;
    const previous = this.partLogprobs.get(part);
    if (!previous && logprobs.length === 0) return { ...part, text };
    const grown = (previous ?? GrowingArray.from(part.logprobs)).concat(logprobs);
    const next = withArrays(part, { logprobs: grown });
    next.text = text;
    this.partLogprobs.set(next, grown);
    return next;
  }

  /**
   * Changes the fields `change` returns of the item at `position`, creating
   * one of `type` when its `output_item.added` never came; the item's part
   * arrays show the parts' latest version.
   */
  private updateItem(position: ItemPosition, type: string, change: (item: ResponseOutputItem) => Partial<ResponseOutputItem>): void {
    this.output.update(position.output_index, (item = { type, ...(position.item_id !== undefined && { id: position.item_id }) }) => {
      const fields = change(item);
      return Object.assign(withArrays(item, this.parts.get(position.output_index) ?? {}), fields);
    });
  }

  /** Changes the part at `index` of the item's `key` array, creating one when its `…part.added` never came. */
  private updatePart<Part extends ResponseContentPart>(
    position: ItemPosition,
    key: keyof Parts,
    index: number,
    create: () => Part,
    change: (part: Part) => Part,
  ): void {
    this.updateItem(position, key === 'content' ? 'message' : 'reasoning', (item) => {
      const parts = this.parts.get(position.output_index) ?? {};
      this.parts.set(position.output_index, parts);
      (parts[key] ??= indexedArrayOf(item[key])).update(index, (part) => change((part as Part | undefined) ?? create()));
      return {};
    });
  }
}

const emptyTextPart = (): ResponseContentPart => ({ type: 'output_text', text: '', annotations: [] });
const emptyRefusalPart = (): ResponseContentPart => ({ type: 'refusal', refusal: '' });
const emptySummaryPart = (): ResponseSummaryPart => ({ type: 'summary_text', text: '' });
