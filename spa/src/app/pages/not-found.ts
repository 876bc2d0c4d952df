import { Component } from '@angular/core';
import { RouterLink } from '@angular/router';
import { t } from '../core/i18n';

@Component({
  selector: 'hk-not-found',
  imports: [RouterLink],
  template: `<main class="auth-page"><div class="auth-card"><h1>{{ t('notFound.title') }}</h1><p class="muted">{{ t('notFound.text') }}</p><a routerLink="/">{{ t('notFound.back') }}</a></div></main>`,
})
export class NotFoundPage {
  protected readonly t = t;
}
