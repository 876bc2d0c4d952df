import { Component, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router } from '@angular/router';
import { ButtonModule } from 'primeng/button';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { Auth } from '../../core/auth';
import { t } from '../../core/i18n';

/** First run: create the first user, who becomes the instance admin. */
@Component({
  selector: 'hk-setup',
  imports: [FormsModule, ButtonModule, InputTextModule, Message],
  template: `
    <main class="auth-page">
      <form class="auth-card" (ngSubmit)="submit()" #f="ngForm">
        <h1><span class="logo">◆</span> {{ t('setup.title') }}</h1>
        @if (done()) {
          <p-message severity="info">{{ t('setup.done') }} <a href="/login">{{ t('setup.signIn') }}</a>.</p-message>
        } @else {
          <p class="muted">{{ t('setup.intro') }}</p>
          <label for="name">{{ t('common.name') }} <span class="muted">{{ t('common.optional') }}</span></label>
          <input pInputText id="name" name="name" [(ngModel)]="name" autocomplete="name" />
          <label for="email">{{ t('login.email') }}</label>
          <input pInputText id="email" name="email" type="email" required [(ngModel)]="email" autocomplete="email" />
          <label for="password">{{ t('login.password') }} <span class="muted">{{ t('common.minPassword') }}</span></label>
          <input pInputText id="password" name="password" type="password" required minlength="8" [(ngModel)]="password" autocomplete="new-password" />
          @if (error()) {
            <p-message severity="error" data-testid="error">{{ error() }}</p-message>
          }
          <p-button type="submit" [label]="t('setup.submit')" [loading]="busy()" [disabled]="!f.valid" styleClass="w-full" />
        }
      </form>
    </main>
  `,
})
export class SetupPage {
  protected readonly t = t;
  private readonly auth = inject(Auth);
  private readonly router = inject(Router);
  name = '';
  email = '';
  password = '';
  readonly busy = signal(false);
  readonly error = signal('');
  readonly done = signal(false);

  constructor() {
    this.auth.needsSetup().then(
      (needed) => this.done.set(!needed),
      () => this.error.set(t('common.unreachable')),
    );
  }

  async submit(): Promise<void> {
    this.busy.set(true);
    this.error.set('');
    try {
      await this.auth.setup(this.email.trim(), this.password, this.name.trim() || undefined);
      await this.router.navigate(['/sites/new'], { queryParams: { first: 1 } });
    } catch (e) {
      this.error.set((e as Error).message);
    } finally {
      this.busy.set(false);
    }
  }
}
