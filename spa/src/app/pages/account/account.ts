import { Component, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { ButtonModule } from 'primeng/button';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { Api, ApiError, ok } from '../../api/api';
import { Auth } from '../../core/auth';
import { TokensPanel } from '../../shared/tokens-panel';
import { PasskeysPanel } from '../../shared/passkeys-panel';
import { TwoFactorPanel } from '../../shared/two-factor-panel';
import { LANGS, type Lang, locale, roleName, t } from '../../core/i18n';

@Component({
  selector: 'hk-account',
  imports: [FormsModule, ButtonModule, InputTextModule, Message, TokensPanel, TwoFactorPanel, PasskeysPanel],
  template: `
    <div class="page">
      <h1>{{ t('account.title') }}</h1>
      <section class="card">
        <h2>{{ auth.me()?.name || auth.me()?.email }}</h2>
        <p class="muted">{{ auth.me()?.email }}{{ auth.isAdmin() ? ' · ' + t('account.instanceAdmin') : '' }}</p>
        <ul class="plain">
          @for (s of auth.me()?.sites ?? []; track s.domain) {
            <li>{{ s.domain }} <span class="muted">({{ roleName(s.role) }})</span></li>
          }
        </ul>
      </section>
      <section class="card" id="language">
        <h2>{{ t('account.language') }}</h2>
        <form class="form narrow">
          <label for="account-language">{{ t('account.language') }}</label>
          <select id="account-language" name="language" class="lang-select" [value]="locale()" (change)="pickLang($any($event.target).value)" data-testid="account-language">
            @for (l of langs; track l.id) {
              <option [value]="l.id" [selected]="l.id === locale()" [attr.lang]="l.id">{{ l.label }}</option>
            }
          </select>
          <small class="muted">{{ t('account.languageHint', { email: auth.me()?.email ?? '' }) }}</small>
        </form>
      </section>
      <section class="card">
        <h2>{{ t('account.changePassword') }}</h2>
        <form class="form narrow" (ngSubmit)="change()" #f="ngForm">
          <label for="cur">{{ t('account.currentPassword') }}</label>
          <input pInputText id="cur" name="cur" type="password" required [(ngModel)]="current" autocomplete="current-password" />
          <label for="new">{{ t('account.newPassword') }} <span class="muted">{{ t('common.minPassword') }}</span></label>
          <input pInputText id="new" name="new" type="password" required minlength="8" [(ngModel)]="next" autocomplete="new-password" />
          @if (message(); as m) {
            <p-message [severity]="m.ok ? 'success' : 'error'">{{ m.text }}</p-message>
          }
          <p-button type="submit" [label]="t('account.changePassword')" [disabled]="!f.valid" [loading]="busy()" />
        </form>
      </section>
      <section class="card" id="two-factor">
        <h2>{{ t('twoFactor.title') }}</h2>
        <hk-two-factor-panel />
      </section>
      <section class="card" id="passkeys">
        <h2>{{ t('passkeys.title') }}</h2>
        <hk-passkeys-panel />
      </section>
      <section class="card">
        <h2>{{ t('account.tokens') }}</h2>
        <hk-tokens-panel />
      </section>
    </div>
  `,
})
export class AccountPage {
  protected readonly t = t;
  private readonly api = inject(Api);
  readonly auth = inject(Auth);
  protected readonly roleName = roleName;
  protected readonly locale = locale;
  readonly langs = LANGS;
  current = '';
  next = '';
  readonly busy = signal(false);
  readonly message = signal<{ ok: boolean; text: string } | null>(null);

  pickLang(l: Lang): void {
    void this.auth.setLanguage(l);
  }

  async change(): Promise<void> {
    this.busy.set(true);
    try {
      await ok(this.api.client.PUT('/me/password', { body: { current_password: this.current, new_password: this.next } }));
      this.message.set({ ok: true, text: t('account.passwordChanged') });
      this.current = this.next = '';
    } catch (e) {
      const err = e as ApiError;
      this.message.set({ ok: false, text: err.code === 'wrong_password' ? t('account.wrongPassword') : err.message });
    } finally {
      this.busy.set(false);
    }
  }
}
