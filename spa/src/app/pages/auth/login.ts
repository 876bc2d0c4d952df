import { Component, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router } from '@angular/router';
import { ButtonModule } from 'primeng/button';
import { CheckboxModule } from 'primeng/checkbox';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { ApiError } from '../../api/api';
import { Auth } from '../../core/auth';
import { t } from '../../core/i18n';

@Component({
  selector: 'hk-login',
  imports: [FormsModule, ButtonModule, InputTextModule, CheckboxModule, Message],
  template: `
    <main class="auth-page">
      <form class="auth-card" (ngSubmit)="submit()" #f="ngForm">
        <h1><span class="logo">◆</span> {{ t('login.title') }}</h1>
        <label for="email">{{ t('login.email') }}</label>
        <input pInputText id="email" name="email" type="email" required [(ngModel)]="email" autocomplete="username" />
        <label for="password">{{ t('login.password') }}</label>
        <input pInputText id="password" name="password" type="password" required [(ngModel)]="password" autocomplete="current-password" />
        <label class="check"><p-checkbox name="remember" [(ngModel)]="remember" [binary]="true" inputId="remember" /> {{ t('login.remember') }}</label>
        @if (error()) {
          <p-message severity="error" data-testid="error">{{ error() }}</p-message>
        }
        <p-button type="submit" [label]="t('login.submit')" [loading]="busy()" [disabled]="!f.valid" styleClass="w-full" />
        <p class="muted small">{{ t('login.noAccount') }}</p>
      </form>
    </main>
  `,
})
export class LoginPage {
  protected readonly t = t;
  private readonly auth = inject(Auth);
  private readonly router = inject(Router);
  readonly next = input<string>();
  email = '';
  password = '';
  remember = true;
  readonly busy = signal(false);
  readonly error = signal('');

  async submit(): Promise<void> {
    this.busy.set(true);
    this.error.set('');
    try {
      await this.auth.login(this.email.trim(), this.password, this.remember);
      const next = this.next();
      await this.router.navigateByUrl(next && next.startsWith('/') && !next.startsWith('//') ? next : '/');
    } catch (e) {
      const err = e as ApiError;
      this.error.set(
        err.status === 401 ? t('login.wrong')
        : err.status === 429 ? t('login.tooMany')
        : err.message,
      );
    } finally {
      this.busy.set(false);
    }
  }
}
