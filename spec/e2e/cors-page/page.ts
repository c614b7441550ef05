import { contentDeltas, createClient } from '../../../src/index';

/*
 * A page whose relay lives on another origin, named by `?relay=` (e.g.
 * `?relay=http://127.0.0.1:8787/v1`): the browser sends a CORS preflight
 * before each stream. Every delta becomes its own <span class="delta">.
 */

const relay = new URLSearchParams(location.search).get('relay') ?? '/v1';
const client = createClient({ baseURL: relay });
const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const prompt = element<HTMLInputElement>('prompt');
const status = element<HTMLParagraphElement>('status');
const output = element<HTMLParagraphElement>('output');

element<HTMLFormElement>('chat').addEventListener('submit', (event) => {
  event.preventDefault();
  output.replaceChildren();
  status.textContent = 'streaming';
  client.chat.completions
    .stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt.value }] })
    .pipe(contentDeltas())
    .subscribe({
      next(delta) {
        const span = document.createElement('span');
        span.className = 'delta';
        span.textContent = delta;
        output.append(span);
      },
      error: (error: unknown) => (status.textContent = `error: ${error instanceof Error ? error.name : String(error)}`),
      complete: () => (status.textContent = 'done'),
    });
});
