import { InjectionToken } from '@angular/core';
import { createClient, type OpenAIRxClient } from 'openai-rx';

/**
 * The app's openai-rx client. It talks to the relay on the same origin (`/v1`), which holds the
 * API key; the browser never sees it.
 */
export const OPENAI_RX_CLIENT = new InjectionToken<OpenAIRxClient>('openai-rx client', {
  providedIn: 'root',
  factory: () => createClient({ baseURL: '/v1' }),
});

/** The model the relay forwards to; a relay may also override it. */
export const CHAT_MODEL = 'gpt-4o-mini';
