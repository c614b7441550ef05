import { AsyncPipe } from '@angular/common';
import { Component, inject } from '@angular/core';
import { contentDeltas } from 'openai-rx';
import { catchError, debounceTime, distinctUntilChanged, map, of, scan, startWith, Subject, switchMap } from 'rxjs';
import { CHAT_MODEL, OPENAI_RX_CLIENT } from './openai-rx';

/**
 * Suggests a completion of what the user types. Keystrokes are debounced, repeated queries are
 * dropped, and switchMap unsubscribes the previous query's stream when a new one starts, which
 * aborts its request: only the last query's request runs to completion.
 */
@Component({
  selector: 'app-typeahead-page',
  imports: [AsyncPipe],
  template: `
    <label>Search <input #query id="query" autocomplete="off" (input)="queries.next(query.value)" /></label>
    <p id="suggestion">{{ suggestion$ | async }}</p>
  `,
})
export class TypeaheadPage {
  private readonly client = inject(OPENAI_RX_CLIENT);
  protected readonly queries = new Subject<string>();

  protected readonly suggestion$ = this.queries.pipe(
    debounceTime(300),
    map((query) => query.trim()),
    distinctUntilChanged(),
    switchMap((query) => (query === '' ? of('') : this.suggest(query))),
  );

  private suggest(query: string) {
    return this.client.chat.completions
      .stream({
        model: CHAT_MODEL,
        max_tokens: 32,
        messages: [
          { role: 'system', content: 'Complete the search query. Reply with the completion only.' },
          { role: 'user', content: query },
        ],
      })
      .pipe(
        contentDeltas(),
        scan((text, delta) => text + delta, ''),
        startWith(''),
        catchError((error: unknown) => of(`error: ${error instanceof Error ? error.message : String(error)}`)),
      );
  }
}
