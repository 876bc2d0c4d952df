import { Component, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router } from '@angular/router';
import { ButtonModule } from 'primeng/button';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { Api, ok } from '../../api/api';
import { Auth } from '../../core/auth';
import { TimezoneSelect } from '../../shared/timezone-select';
import { t } from '../../core/i18n';

@Component({
  selector: 'hk-new-site',
  imports: [FormsModule, ButtonModule, InputTextModule, Message, TimezoneSelect],
  template: `
    <div class="page narrow">
      <h1>{{ first() ? t('newSite.titleFirst') : t('sites.add') }}</h1>
      <form class="card form" (ngSubmit)="submit()" #f="ngForm">
        <label for="domain">{{ t('newSite.domain') }}</label>
        <input pInputText id="domain" name="domain" required placeholder="example.com" [(ngModel)]="domain" autocomplete="off" />
        <small class="muted">{{ t('newSite.domainHint') }}</small>
        <label for="tz">{{ t('common.reportTimezone') }}</label>
        <hk-timezone-select inputId="tz" [(value)]="timezone" />
        @if (error()) {
          <p-message severity="error" data-testid="error">{{ error() }}</p-message>
        }
        <p-button type="submit" [label]="t('newSite.submit')" [loading]="busy()" [disabled]="!f.valid" />
      </form>
    </div>
  `,
})
export class NewSitePage {
  protected readonly t = t;
  private readonly api = inject(Api);
  private readonly auth = inject(Auth);
  private readonly router = inject(Router);
  readonly first = input<string>();
  domain = '';
  timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  readonly busy = signal(false);
  readonly error = signal('');

  async submit(): Promise<void> {
    this.busy.set(true);
    this.error.set('');
    try {
      const site = await ok(this.api.client.POST('/sites', { body: { domain: this.domain.trim(), hostnames: [], timezone: this.timezone } }));
      await this.auth.load();
      await this.router.navigate(['/sites', site.domain, 'settings'], { queryParams: { new: 1 } });
    } catch (e) {
      this.error.set((e as Error).message);
    } finally {
      this.busy.set(false);
    }
  }
}
