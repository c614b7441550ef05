/** Where the current answer is. */
export type DemoState = 'idle' | 'waiting' | 'streaming' | 'stalled' | 'done' | 'stopped' | 'error';

export interface StatusBarElements {
  root: HTMLElement;
  text: HTMLElement;
  detail: HTMLElement;
  /** A bar whose first child fills up: how much of the silence limit has passed. */
  meter: HTMLElement;
}

export interface StatusBar {
  /** `detail` is the small print: figures, an error's class and code. */
  show(state: DemoState, text: string, detail?: string): void;
  /** Fills the meter to `fraction` (0…1); `undefined` hides it. */
  meter(fraction: number | undefined): void;
}

/**
 * The line between the prompt and the panels: a coloured state (its
 * `data-state` is what the e2e specs wait for), a sentence, small print, and
 * a meter while the model is silent.
 *
 * @example
 * const status = statusBar({ root, text, detail, meter });
 * status.show('done', 'Done', '88 tokens in 2.3 s');
 */
export function statusBar(elements: StatusBarElements): StatusBar {
  const fill = elements.meter.firstElementChild as HTMLElement;
  return {
    show(state, text, detail = '') {
      elements.root.dataset.state = state;
      elements.text.textContent = text;
      elements.detail.textContent = detail;
      elements.detail.title = detail;
    },
    meter(fraction) {
      elements.meter.hidden = fraction === undefined;
      fill.style.width = `${Math.round(Math.min(1, Math.max(0, fraction ?? 0)) * 100)}%`;
    },
  };
}
