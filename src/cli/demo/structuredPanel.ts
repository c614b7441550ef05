import type { DeepPartial, StructuredOutputEvent } from '../../index.js';
import type { TripPlan } from './tripPlan.js';

export interface StructuredPanel {
  clear(): void;
  /** Shows the plan so far; the last event (`done`) marks the form valid. */
  update(event: StructuredOutputEvent<TripPlan>): void;
  /** The answer did not end as a valid plan (not JSON, the schema failed, a refusal): says why. */
  failed(reason: string): void;
}

type Partial = DeepPartial<TripPlan>;

interface Field {
  key: keyof TripPlan;
  label: string;
  /** The value as the form shows it: a line, or the items of a list. */
  show(value: NonNullable<Partial[keyof TripPlan]>): string | string[];
}

const text = (value: unknown) => String(value);
const FIELDS: readonly Field[] = [
  { key: 'destination', label: 'Destination', show: text },
  { key: 'theme', label: 'Theme', show: text },
  { key: 'days', label: 'Days', show: text },
  { key: 'season', label: 'Season', show: text },
  { key: 'budget', label: 'Budget', show: (budget) => `${(budget as Partial['budget'])?.amount ?? '…'} ${(budget as Partial['budget'])?.currency ?? ''}`.trim() },
  { key: 'highlights', label: 'Highlights', show: (items) => (items as string[]).map(String) },
  {
    key: 'itinerary',
    label: 'Itinerary',
    show: (days) => (days as NonNullable<Partial['itinerary']>).map((day) => `Day ${day?.day ?? '…'}: ${day?.plan ?? ''}`),
  },
  { key: 'visaNeeded', label: 'Visa needed', show: (needed) => (needed ? 'yes' : 'no') },
  { key: 'notes', label: 'Notes', show: text },
];

/**
 * The structured answer as a form that fills in while the JSON streams: a
 * field shows its value as soon as the value begins (strings grow as they
 * arrive), the field being written is marked, and the form is marked valid
 * when `structuredOutput` validated the whole answer. Each field's element is
 * updated only when what it shows changed.
 *
 * @example
 * chunks$.pipe(contentOrRefusal(), structuredOutput(TripPlan)).subscribe(panel.update);
 */
export function structuredPanel(container: HTMLElement): StructuredPanel {
  let form: { root: HTMLElement; badge: HTMLElement; outputs: Map<keyof TripPlan, HTMLElement> } | undefined;
  const build = () => {
    const root = document.createElement('div');
    root.className = 'plan';
    root.dataset.valid = 'pending';
    const title = document.createElement('header');
    const badge = document.createElement('span');
    badge.className = 'plan-badge';
    badge.textContent = 'streaming…';
    title.append('Trip plan ', badge);
    root.append(title);
    const outputs = new Map<keyof TripPlan, HTMLElement>();
    for (const field of FIELDS) {
      const row = document.createElement('div');
      row.className = 'field';
      row.dataset.field = field.key;
      row.dataset.state = 'empty';
      const label = document.createElement('span');
      label.className = 'field-label';
      label.textContent = field.label;
      const output = document.createElement('output');
      row.append(label, output);
      root.append(row);
      outputs.set(field.key, output);
    }
    container.replaceChildren(root);
    return { root, badge, outputs };
  };
  return {
    clear() {
      container.replaceChildren();
      form = undefined;
    },
    update(event) {
      form ??= build();
      const partial = event.partial as Partial;
      const begun = Object.keys(partial);
      for (const field of FIELDS) {
        const value = partial[field.key];
        const output = form.outputs.get(field.key)!;
        const row = output.parentElement!;
        const state = value === undefined ? 'empty' : !event.done && begun.at(-1) === field.key ? 'filling' : 'filled';
        if (row.dataset.state !== state) row.dataset.state = state;
        if (value !== undefined) render(output, value === null ? '—' : field.show(value));
      }
      if (event.done) {
        form.root.dataset.valid = 'true';
        form.badge.textContent = '✓ valid TripPlan';
      }
    },
    failed(reason) {
      form ??= build();
      form.root.dataset.valid = 'false';
      form.badge.textContent = `✗ ${reason}`;
    },
  };
}

/** Puts a line or a list into `output`, touching the DOM only where it changed. */
function render(output: HTMLElement, shown: string | string[]): void {
  if (typeof shown === 'string') {
    if (output.textContent !== shown || output.firstElementChild) output.textContent = shown;
    return;
  }
  let list = output.firstElementChild as HTMLUListElement | null;
  if (!list) {
    list = document.createElement('ul');
    output.replaceChildren(list);
  }
  shown.forEach((item, index) => {
    const li = (list.children[index] as HTMLLIElement | undefined) ?? list.appendChild(document.createElement('li'));
    if (li.textContent !== item) li.textContent = item;
  });
}
