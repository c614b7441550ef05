import { Component, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { contentDeltas, paceText } from 'openai-rx';
import {
  animationFrameScheduler,
  catchError,
  endWith,
  map,
  merge,
  of,
  scan,
  startWith,
  Subject,
  switchMap,
  takeWhile,
  type Observable,
} from 'rxjs';
import { CHAT_MODEL, OPENAI_RX_CLIENT } from './openai-rx';

type ReplyStatus = 'idle' | 'streaming' | 'done' | 'stopped' | 'error';

interface Reply {
  text: string;
  status: ReplyStatus;
  error?: string;
}

/** One thing that happens to a reply: a text delta, or the end of the stream and why. */
type Step = { delta: string } | { end: Exclude<ReplyStatus, 'idle' | 'streaming'>; error?: string };

const streaming: Reply = { text: '', status: 'streaming' };

/**
 * Streams a chat completion into the template. Each Send starts a new request (switchMap drops the
 * previous one); Stop ends the request; leaving the page (takeUntilDestroyed) ends it too. Ending
 * the subscription aborts the browser's fetch, the relay sees its client go away and closes the
 * upstream connection.
 */
@Component({
  selector: 'app-chat-page',
  template: `
    <form (submit)="$event.preventDefault(); send(prompt.value)">
      <input #prompt id="prompt" aria-label="Prompt" value="Tell me about cold observables" />
      <button id="send" type="submit">Send</button>
      <button id="stop" type="button" (click)="stop()" [disabled]="reply().status !== 'streaming'">Stop</button>
    </form>
    <p id="status">{{ reply().status }}@if (reply().error; as error) {: {{ error }}}</p>
    <pre id="output">{{ reply().text }}</pre>
  `,
})
export class ChatPage {
  private readonly client = inject(OPENAI_RX_CLIENT);
  private readonly prompts = new Subject<string>();
  private readonly stops = new Subject<void>();
  protected readonly reply = signal<Reply>({ text: '', status: 'idle' });

  constructor() {
    this.prompts
      .pipe(
        switchMap((prompt) => this.replyTo(prompt)),
        takeUntilDestroyed(),
      )
      .subscribe((reply) => this.reply.set(reply));
  }

  protected send(prompt: string): void {
    this.prompts.next(prompt);
  }

  protected stop(): void {
    this.stops.next();
  }

  private replyTo(prompt: string): Observable<Reply> {
    const steps: Observable<Step> = this.client.chat.completions
      .stream({ model: CHAT_MODEL, messages: [{ role: 'user', content: prompt }] })
      .pipe(
        contentDeltas(),
        // Tokens can arrive faster than the screen refreshes: join them and update the view at
        // most once per animation frame, whatever the token rate.
        paceText({ scheduler: animationFrameScheduler, intervalMs: 0 }),
        map((delta): Step => ({ delta })),
        endWith<Step>({ end: 'done' }),
        catchError((error: unknown) => of<Step>({ end: 'error', error: describe(error) })),
      );
    const stopped = this.stops.pipe(map((): Step => ({ end: 'stopped' })));
    return merge(steps, stopped).pipe(
      // The first end (done, error or Stop) completes the reply and unsubscribes the request.
      takeWhile((step) => 'delta' in step, true),
      scan(
        (reply: Reply, step: Step): Reply =>
          'delta' in step ? { ...reply, text: reply.text + step.delta } : { ...reply, status: step.end, error: step.error },
        streaming,
      ),
      startWith(streaming),
    );
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
