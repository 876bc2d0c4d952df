import { Component, computed, inject, input, resource, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router } from '@angular/router';
import { ButtonModule } from 'primeng/button';
import { CheckboxModule } from 'primeng/checkbox';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { Api, ApiError, type SecondFactorChallenge, ok } from '../../api/api';
import { Auth } from '../../core/auth';
import { type I18nKey, t } from '../../core/i18n';
import { passkeysSupported } from '../../core/passkey';

@Component({
  selector: 'hk-login',
  imports: [FormsModule, ButtonModule, InputTextModule, CheckboxModule, Message],
  template: `
    <main class="auth-page">
      @if (pending(); as step) {
        <form class="auth-card" (ngSubmit)="sendCode()" #c="ngForm" data-testid="second-step">
          <h1><span class="logo">◆</span> {{ t('twoFactor.stepTitle') }}</h1>
          @if (step.methods.includes('totp')) {
            <p class="muted">{{ t('twoFactor.stepHint') }}</p>
            <label for="code">{{ t('twoFactor.code') }}</label>
            <input pInputText id="code" name="code" required [(ngModel)]="code" autocomplete="one-time-code" inputmode="text" autofocus />
          } @else {
            <p class="muted">{{ t('passkeys.stepHint') }}</p>
          }
          @if (error()) {
            <p-message severity="error" data-testid="error">{{ error() }}</p-message>
          }
          @if (step.methods.includes('totp')) {
            <p-button type="submit" [label]="t('twoFactor.verify')" [loading]="busy()" [disabled]="!c.valid" styleClass="w-full" />
          }
          @if (step.methods.includes('passkey')) {
            <p-button [label]="t('passkeys.useOne')" icon="pi pi-key" [severity]="step.methods.includes('totp') ? 'secondary' : 'primary'" [loading]="busy()" (onClick)="secondFactorPasskey()" styleClass="w-full" data-testid="second-step-passkey" />
          }
          <p-button [label]="t('twoFactor.back')" [text]="true" (onClick)="restart()" styleClass="w-full" />
        </form>
      } @else {
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
          @if (passkeys) {
            <p class="muted small sso-or">{{ t('sso.or') }}</p>
            <p-button [label]="t('passkeys.signIn')" icon="pi pi-key" severity="secondary" [loading]="busy()" (onClick)="signInWithPasskey()" styleClass="w-full" data-testid="passkey-sign-in" />
          }
          @if (sso.value()?.enabled) {
            <p class="muted small sso-or">{{ t('sso.or') }}</p>
            <a class="p-button p-button-secondary w-full sso-button" href="/api/auth/sso/start" data-testid="sso-button">
              <i class="pi pi-sign-in"></i>&nbsp;{{ t('sso.button', { label: sso.value()?.label ?? 'SSO' }) }}
            </a>
          }
          @if (ssoError(); as e) {
            <p-message severity="error" data-testid="sso-error">{{ e }}</p-message>
          }
          <p class="muted small">{{ t('login.noAccount') }}</p>
        </form>
      }
    </main>
  `,
})
export class LoginPage {
  protected readonly t = t;
  private readonly auth = inject(Auth);
  private readonly api = inject(Api);
  private readonly router = inject(Router);
  readonly next = input<string>();
  /** Why single sign-on sent the browser back here (`?sso_error=`). */
  readonly ssoErrorCode = input<string | undefined>(undefined, { alias: 'sso_error' });
  /** Whether single sign-on is offered, and its button's label. */
  readonly sso = resource({ loader: () => ok(this.api.client.GET('/auth/sso')) });
  readonly ssoError = computed(() => {
    const code = this.ssoErrorCode();
    if (!code) return '';
    const known = ['no_account', 'expired', 'cancelled'];
    return t((known.includes(code) ? `sso.error.${code}` : 'sso.error.failed') as I18nKey);
  });
  email = '';
  password = '';
  code = '';
  remember = true;
  readonly busy = signal(false);
  readonly error = signal('');
  /** A sign-in waiting for its second factor: its token and the factors the account has. */
  readonly pending = signal<SecondFactorChallenge | null>(null);
  /** Whether this browser can sign in with a passkey. */
  readonly passkeys = passkeysSupported();

  async submit(): Promise<void> {
    await this.attempt(async () => {
      const step = await this.auth.login(this.email.trim(), this.password, this.remember);
      if (step) {
        this.password = '';
        this.pending.set(step);
      } else {
        await this.land();
      }
    }, t('login.wrong'));
  }

  async sendCode(): Promise<void> {
    const token = this.pending()?.token;
    if (!token) return;
    await this.attempt(async () => {
      await this.auth.loginCode(token, this.code, this.remember);
      await this.land();
    }, t('twoFactor.wrongCode'));
  }

  /** Signs in with a passkey alone (no e-mail or password). */
  async signInWithPasskey(): Promise<void> {
    await this.attempt(async () => {
      await this.auth.loginPasskey(this.remember);
      await this.land();
    }, t('passkeys.refused'));
  }

  /** The second step with one of the account's passkeys. */
  async secondFactorPasskey(): Promise<void> {
    const token = this.pending()?.token;
    if (!token) return;
    await this.attempt(async () => {
      await this.auth.loginPasskeySecondFactor(token);
      await this.land();
    }, t('passkeys.refused'));
  }

  restart(): void {
    this.pending.set(null);
    this.code = '';
    this.error.set('');
  }

  private async land(): Promise<void> {
    const next = this.next();
    await this.router.navigateByUrl(next && next.startsWith('/') && !next.startsWith('//') ? next : '/');
  }

  private async attempt(run: () => Promise<void>, wrong: string): Promise<void> {
    this.busy.set(true);
    this.error.set('');
    try {
      await run();
    } catch (e) {
      const err = e as ApiError;
      if (err.code === 'sign_in_expired') {
        this.restart();
        this.error.set(t('twoFactor.expired'));
        return;
      }
      if (e instanceof DOMException) {
        // The person closed the browser's passkey prompt, or no passkey of this site was there.
        this.error.set(t('passkeys.cancelled'));
        return;
      }
      this.error.set(err.status === 401 ? wrong : err.status === 429 ? t('login.tooMany') : err.message);
    } finally {
      this.busy.set(false);
    }
  }
}
