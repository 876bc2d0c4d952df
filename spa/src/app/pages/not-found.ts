import { Component } from '@angular/core';
import { RouterLink } from '@angular/router';

@Component({
  selector: 'hk-not-found',
  imports: [RouterLink],
  template: `<main class="auth-page"><div class="auth-card"><h1>Page not found</h1><p class="muted">There is nothing at this address.</p><a routerLink="/">Back to your sites</a></div></main>`,
})
export class NotFoundPage {}
