import type { OperatorFunction } from 'rxjs';
import { accumulateSnapshots, placeAt, type SnapshotAccumulator } from './accumulateSnapshots.js';
import { GrowingArray, withArray } from './growingArray.js';
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
 * them, and a text part's logprobs grow in a store its versions share (each
 * snapshot's array copied out when first read), so the cost per event does not
 * grow with the length of the answer.
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

/** The `content_index` and `summary_index` of each part of one item, in the order of its `content` and `summary`. */
interface PartIndexes {
  content: number[];
  summary: number[];
}

/** The indexes of entries that arrived whole, from the server's own array. */
const positions = (length = 0): number[] => Array.from({ length }, (_, position) => position);

class ResponseAccumulator implements SnapshotAccumulator<ResponseStreamEvent, Response> {
  /** The response's own fields, from the latest lifecycle event. */
  private base: Response = { id: '', object: 'response', created_at: 0, status: 'in_progress', model: '', output: [] };
  private output: ResponseOutputItem[] = [];
  /** The `output_index` of each item in `output`. */
  private outputIndexes: number[] = [];
  /** By `output_index`; made from an item's own arrays when first needed, dropped when the item is replaced. */
  private readonly partIndexes = new Map<number, PartIndexes>();
  /** The logprobs of text parts built from deltas, by the part object that shows them. */
  private readonly partLogprobs = new WeakMap<ResponseContentPart, GrowingArray<unknown>>();
  private final: Response | undefined;

  snapshot(): Response {
    return this.final ?? { ...this.base, output: this.output };
  }

  add(event: ResponseStreamEvent): void {
    if (!isKnownResponseEvent(event)) return;
    switch (event.type) {
      case 'response.created':
      case 'response.in_progress':
        this.base = event.response;
        if (this.output.length === 0) {
          this.output = event.response.output;
          this.outputIndexes = positions(this.output.length);
        }
        break;
      case 'response.completed':
      case 'response.incomplete':
        this.final = event.response;
        break;
      case 'response.output_item.added':
      case 'response.output_item.done':
        this.partIndexes.delete(event.output_index);
        this.replaceItem(event.output_index, () => event.item);
        break;
      case 'response.content_part.added':
      case 'response.content_part.done':
        this.updatePart(event, () => event.part, () => event.part);
        break;
      case 'response.output_text.delta':
        this.updatePart(event, emptyTextPart, (part) => this.withTextDelta(part, event.delta, event.logprobs ?? []));
        break;
      case 'response.output_text.done':
        this.updatePart(event, emptyTextPart, (part) => ({ ...part, text: event.text }));
        break;
      case 'response.refusal.delta':
        this.updatePart(event, emptyRefusalPart, (part) => ({ ...part, refusal: (part.refusal ?? '') + event.delta }));
        break;
      case 'response.refusal.done':
        this.updatePart(event, emptyRefusalPart, (part) => ({ ...part, refusal: event.refusal }));
        break;
      case 'response.function_call_arguments.delta':
        this.updateItem(event, 'function_call', (item) => ({ ...item, arguments: (item.arguments ?? '') + event.delta }));
        break;
      case 'response.function_call_arguments.done':
        this.updateItem(event, 'function_call', (item) => ({
          ...item,
          arguments: event.arguments,
          ...(event.name !== undefined && { name: event.name }),
        }));
        break;
      case 'response.reasoning_summary_part.added':
      case 'response.reasoning_summary_part.done':
        this.updateSummary(event, () => event.part, () => event.part);
        break;
      case 'response.reasoning_summary_text.delta':
        this.updateSummary(event, emptySummaryPart, (part) => ({ ...part, text: part.text + event.delta }));
        break;
      case 'response.reasoning_summary_text.done':
        this.updateSummary(event, emptySummaryPart, (part) => ({ ...part, text: event.text }));
        break;
    }
  }

  private withTextDelta(part: ResponseContentPart, delta: string, logprobs: unknown[]): ResponseContentPart {
    const text = (part.text ?? '') + delta;
    const previous = this.partLogprobs.get(part);
    if (!previous && logprobs.length === 0) return { ...part, text };
    const grown = (previous ?? GrowingArray.from(part.logprobs)).concat(logprobs);
    const next = withArray(part, 'logprobs', grown);
    next.text = text;
    this.partLogprobs.set(next, grown);
    return next;
  }

  private replaceItem(index: number, change: (item: ResponseOutputItem | undefined) => ResponseOutputItem): void {
    const output = this.output.slice();
    placeAt(output, this.outputIndexes, index, change);
    this.output = output;
  }

  private partIndexesOf(outputIndex: number, item: ResponseOutputItem): PartIndexes {
    let indexes = this.partIndexes.get(outputIndex);
    if (!indexes) {
      indexes = { content: positions(item.content?.length), summary: positions(item.summary?.length) };
      this.partIndexes.set(outputIndex, indexes);
    }
    return indexes;
  }

  /** Changes the item at `position`, creating one of `type` when its `output_item.added` never came. */
  private updateItem(
    position: ItemPosition,
    type: string,
    change: (item: ResponseOutputItem) => ResponseOutputItem,
  ): void {
    this.replaceItem(position.output_index, (item) =>
      change(item ?? { type, ...(position.item_id !== undefined && { id: position.item_id }) }),
    );
  }

  private updatePart(
    position: ItemPosition & { content_index: number },
    create: () => ResponseContentPart,
    change: (part: ResponseContentPart) => ResponseContentPart,
  ): void {
    this.updateItem(position, 'message', (item) => {
      const content = (item.content ?? []).slice();
      const indexes = this.partIndexesOf(position.output_index, item).content;
      placeAt(content, indexes, position.content_index, (part) => change(part ?? create()));
      return { ...item, content };
    });
  }

  private updateSummary(
    position: ItemPosition & { summary_index: number },
    create: () => ResponseSummaryPart,
    change: (part: ResponseSummaryPart) => ResponseSummaryPart,
  ): void {
    this.updateItem(position, 'reasoning', (item) => {
      const summary = (item.summary ?? []).slice();
      const indexes = this.partIndexesOf(position.output_index, item).summary;
      placeAt(summary, indexes, position.summary_index, (part) => change(part ?? create()));
      return { ...item, summary };
    });
  }
}

const emptyTextPart = (): ResponseContentPart => ({ type: 'output_text', text: '', annotations: [] });
const emptyRefusalPart = (): ResponseContentPart => ({ type: 'refusal', refusal: '' });
const emptySummaryPart = (): ResponseSummaryPart => ({ type: 'summary_text', text: '' });
