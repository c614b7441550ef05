import { Routes } from '@angular/router';
import { ChatPage } from './chat-page';
import { TypeaheadPage } from './typeahead-page';

export const routes: Routes = [
  { path: '', pathMatch: 'full', redirectTo: 'chat' },
  { path: 'chat', component: ChatPage, title: 'Chat · openai-rx' },
  { path: 'typeahead', component: TypeaheadPage, title: 'Typeahead · openai-rx' },
];
