import type { ToolCallDelta } from '../../index.js';
import { followTail } from './followTail.js';

export interface AnswerPanelElements {
  /** The scrolling body of the panel. */
  body: HTMLElement;
  text: HTMLElement;
  toolCalls: HTMLElement;
  ending: HTMLElement;
  resumed: HTMLElement;
}

export interface AnswerPanel {
  /** A new answer; `resumed` shows that it was picked up after a reload. */
  clear(resumed: boolean): void;
  appendText(text: string): void;
  appendToolCall(delta: ToolCallDelta): void;
  /** The caret at the end of the text while the answer streams. */
  live(on: boolean): void;
  /** The marker under the answer: where it was stopped, or why it failed. */
  end(kind: 'stopped' | 'error', text: string): void;
}

/**
 * The parsed answer: its text as it grows, one card per tool call with its
 * arguments as they stream, and a marker where the answer ended early.
 *
 * @example
 * const answer = answerPanel({ body, text, toolCalls, ending, resumed });
 * deltas$.subscribe(answer.appendText);
 */
export function answerPanel(elements: AnswerPanelElements): AnswerPanel {
  const tail = followTail(elements.body);
  const calls = new Map<number, HTMLElement>();
  const appended = () => tail.appended();
  return {
    clear(resumed) {
      elements.text.replaceChildren();
      elements.toolCalls.replaceChildren();
      elements.ending.hidden = true;
      elements.resumed.hidden = !resumed;
      calls.clear();
      tail.reset();
    },
    appendText(text) {
      elements.text.append(text);
      appended();
    },
    appendToolCall(delta) {
      const args = calls.get(delta.index) ?? newCall(elements.toolCalls, delta, calls);
      args.append(delta.arguments);
      appended();
    },
    live(on) {
      elements.text.toggleAttribute('data-live', on);
    },
    end(kind, text) {
      elements.ending.dataset.kind = kind;
      elements.ending.textContent = text;
      elements.ending.hidden = false;
      appended();
    },
  };
}

/** A tool call's card; returns the element its arguments go into. */
function newCall(container: HTMLElement, delta: ToolCallDelta, calls: Map<number, HTMLElement>): HTMLElement {
  const card = document.createElement('div');
  card.className = 'tool-call';
  const header = document.createElement('header');
  const name = document.createElement('code');
  name.className = 'tool-name';
  name.textContent = delta.name ?? 'tool';
  header.append('The model calls ', name);
  const args = document.createElement('pre');
  args.className = 'tool-args';
  card.append(header, args);
  container.append(card);
  calls.set(delta.index, args);
  return args;
}
