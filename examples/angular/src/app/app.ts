import { Component } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';

@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink, RouterLinkActive],
  template: `
    <nav>
      <a id="nav-chat" routerLink="/chat" routerLinkActive="active">Chat</a>
      <a id="nav-typeahead" routerLink="/typeahead" routerLinkActive="active">Typeahead</a>
    </nav>
    <main><router-outlet /></main>
  `,
  styles: `
    nav { display: flex; gap: 1rem; margin-bottom: 1rem; }
    .active { font-weight: bold; }
  `,
})
export class App {}
