import type { Subscription } from 'rxjs';
import { contentDeltas, createClient } from '../../../src/index';

/*
 * A page without a framework: the browser entry of openai-rx, bundled by
 * esbuild, streaming through the relay on the same origin. Every delta becomes
 * its own <span class="delta"> so the spec can check their order.
 */

const client = createClient({ baseURL: '/v1' });
const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const prompt = element<HTMLInputElement>('prompt');
const stop = element<HTMLButtonElement>('stop');
const status = element<HTMLParagraphElement>('status');
const output = element<HTMLParagraphElement>('output');
let subscription: Subscription | undefined;

const setStatus = (text: string) => {
  status.textContent = text;
  stop.disabled = text !== 'streaming';
};

element<HTMLFormElement>('chat').addEventListener('submit', (event) => {
  event.preventDefault();
  subscription?.unsubscribe();
  output.replaceChildren();
  setStatus('streaming');
  subscription = client.chat.completions
    .stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt.value }] })
    .pipe(contentDeltas())
    .subscribe({
      next(delta) {
        const span = document.createElement('span');
        span.className = 'delta';
        span.textContent = delta;
        output.append(span);
      },
      error: (error: unknown) => setStatus(`error: ${error instanceof Error ? error.message : String(error)}`),
      complete: () => setStatus('done'),
    });
});

stop.addEventListener('click', () => {
  subscription?.unsubscribe();
  setStatus('stopped');
});
