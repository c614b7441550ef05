import { encodeSse, type SseFrame } from '../../index.js';
import { followTail } from './followTail.js';
import { summarizeFrame } from './frameSummary.js';

/** How a stream ended, as the raw panel's last line says it. */
export type RawEnding = 'done' | 'stopped' | 'error';

export interface RawPanel {
  clear(): void;
  append(frame: SseFrame): void;
  /** The marker after the last frame. */
  end(kind: RawEnding, text: string): void;
}

/**
 * The raw SSE frames, one per line: the event number (`id:`), what the frame
 * is in a few words, then its wire text (`encodeSse`) cut at the panel's
 * edge; a click shows the whole frame, hovering shows it as a tooltip.
 *
 * @example
 * const raw = rawPanel(document.getElementById('frames'), document.getElementById('frame-count'));
 * frames$.subscribe(raw.append);
 */
export function rawPanel(list: HTMLOListElement, counter: HTMLElement): RawPanel {
  const tail = followTail(list);
  let count = 0;
  list.addEventListener('click', (event) => {
    const row = event.target instanceof Element ? event.target.closest('.frame') : null;
    row?.classList.toggle('open');
  });
  return {
    clear() {
      list.replaceChildren();
      count = 0;
      counter.textContent = '';
      tail.reset();
    },
    append(frame) {
      const wire = encodeSse(frame);
      const { kind, label } = summarizeFrame(frame);
      const row = document.createElement('li');
      row.className = 'frame';
      row.dataset.kind = kind;
      row.title = wire;
      row.append(
        cell('frame-id', frame.type === 'event' ? (frame.id ?? '') : ''),
        cell('frame-label', label),
        // The `id:` line has its own column; the rest is the frame as sent, on one line.
        wireCell(wire.replace(/^id: .*\n/m, '').trimEnd().replace(/\n/g, ' ⏎ ')),
      );
      list.append(row);
      count++;
      counter.textContent = `${count} ${count === 1 ? 'frame' : 'frames'}`;
      tail.appended();
    },
    end(kind, text) {
      const marker = document.createElement('li');
      marker.className = 'end';
      marker.dataset.kind = kind;
      marker.textContent = text;
      list.append(marker);
      tail.appended();
    },
  };
}

function cell(className: string, text: string): HTMLSpanElement {
  const span = document.createElement('span');
  span.className = className;
  span.textContent = text;
  return span;
}

/** The wire text, with a `<wbr>` after each comma: an opened frame wraps between JSON fields, not inside one. */
function wireCell(text: string): HTMLSpanElement {
  const span = cell('frame-wire', '');
  text.split(/(?<=,)/).forEach((piece, index) => {
    if (index > 0) span.append(document.createElement('wbr'));
    span.append(piece);
  });
  return span;
}
