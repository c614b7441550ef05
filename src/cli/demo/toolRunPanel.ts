import type { ChatToolRunEvent, ToolCall } from '../../index.js';
import { followTail, type TailFollower } from './followTail.js';

/** Where a tool call is: running, finished, failed (its result is an error text), or cancelled (its signal aborted). */
export type ToolCardState = 'running' | 'done' | 'failed' | 'cancelled';

export interface ToolRunPanel {
  clear(): void;
  /** Shows one event of the loop: a step's text as it streams, a tool starting, its result. */
  show(event: ChatToolRunEvent): void;
  /** The tool answering `callId` saw its signal abort. */
  cancelled(callId: string): void;
  /** Tool calls and steps so far, for the status line. */
  counts(): { steps: number; calls: number; running: number };
}

/**
 * The tool loop, step by step: each step's streamed text, and a card per
 * tool call with its arguments, its state (`data-state`: running, done,
 * failed, cancelled) and its result.
 *
 * @example
 * runTools(client, params, { tools }).subscribe(panel.show);
 */
export function toolRunPanel(container: HTMLElement, scroller: HTMLElement): ToolRunPanel {
  const tail: TailFollower = followTail(scroller);
  const steps = new Map<number, { text: HTMLElement; calls: HTMLElement }>();
  const cards = new Map<string, HTMLElement>();
  const stepOf = (step: number) => steps.get(step) ?? newStep(container, step, steps);
  const setState = (card: HTMLElement, state: ToolCardState, note: string) => {
    card.dataset.state = state;
    card.querySelector('.tool-state')!.textContent = note;
  };
  return {
    clear() {
      container.replaceChildren();
      steps.clear();
      cards.clear();
      tail.reset();
    },
    show(event) {
      switch (event.type) {
        case 'chunk': {
          const text = event.snapshot.choices[0]?.message.content ?? '';
          const target = stepOf(event.step).text;
          if (target.textContent !== text) target.textContent = text;
          break;
        }
        case 'tool-call':
          cards.set(event.call.id, newCard(stepOf(event.step).calls, event.call));
          break;
        case 'tool-result': {
          const card = cards.get(event.call.id);
          if (!card) break;
          card.querySelector('.tool-result')!.textContent = event.content;
          setState(card, event.outcome.kind === 'result' ? 'done' : 'failed', event.outcome.kind === 'result' ? 'done' : event.outcome.kind);
          break;
        }
        default:
          break;
      }
      tail.appended();
    },
    cancelled(callId) {
      const card = cards.get(callId);
      if (card?.dataset.state === 'running') setState(card, 'cancelled', 'cancelled: its signal aborted');
    },
    counts: () => ({
      steps: steps.size,
      calls: cards.size,
      running: [...cards.values()].filter((card) => card.dataset.state === 'running').length,
    }),
  };
}

function newStep(container: HTMLElement, step: number, steps: Map<number, { text: HTMLElement; calls: HTMLElement }>) {
  const section = document.createElement('section');
  section.className = 'step';
  section.dataset.step = String(step);
  const title = document.createElement('h3');
  title.textContent = `Step ${step}`;
  const text = document.createElement('div');
  text.className = 'step-text';
  const calls = document.createElement('div');
  calls.className = 'step-calls';
  section.append(title, text, calls);
  container.append(section);
  const entry = { text, calls };
  steps.set(step, entry);
  return entry;
}

function newCard(container: HTMLElement, call: ToolCall): HTMLElement {
  const card = document.createElement('div');
  card.className = 'tool-run';
  card.dataset.tool = call.name;
  card.dataset.state = 'running';
  const header = document.createElement('header');
  const name = document.createElement('code');
  name.className = 'run-tool';
  name.textContent = call.name;
  const args = document.createElement('code');
  args.className = 'run-args';
  args.textContent = call.arguments;
  const state = document.createElement('span');
  state.className = 'tool-state';
  state.textContent = 'running…';
  header.append(name, args, state);
  const result = document.createElement('pre');
  result.className = 'tool-result';
  card.append(header, result);
  container.append(card);
  return card;
}
