import { Component, inject, input, OnDestroy, OnInit, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { ButtonModule } from 'primeng/button';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { Api, ApiError, ok } from '../../api/api';
import { SiteContext } from '../../core/site-context';
import { Theme } from '../../core/theme';
import { Dashboard } from '../dashboard/dashboard';
import { t } from '../../core/i18n';

/**
 * `/share/:token`: a public, read-only dashboard. The share token is exchanged for a short-lived
 * access token that every API call then carries as a bearer token; no settings, no editing.
 */
@Component({
  selector: 'hk-share',
  imports: [FormsModule, ButtonModule, InputTextModule, Message, Dashboard],
  providers: [SiteContext],
  template: `
    <header class="topbar">
      <span class="brand"><span class="logo">◆</span> HitKeep</span>
      <span class="muted">{{ t('share.readOnly') }}</span>
      <span class="spacer"></span>
      <p-button [icon]="theme.dark() ? 'pi pi-sun' : 'pi pi-moon'" [text]="true" [rounded]="true" severity="secondary" (onClick)="theme.toggle()" [ariaLabel]="theme.dark() ? t('theme.light') : t('theme.dark')" />
    </header>
    @if (ctx.site(); as site) {
      <div class="page">
        <div class="site-head"><h1 class="site-title" data-testid="share-title">{{ site.domain }}</h1></div>
        <hk-dashboard />
      </div>
    } @else if (needPassword()) {
      <main class="auth-page">
        <form class="auth-card" (ngSubmit)="open()">
          <h1>{{ t('share.protected') }}</h1>
          <label for="pw">{{ t('login.password') }}</label>
          <input pInputText id="pw" name="pw" type="password" required [(ngModel)]="password" autocomplete="current-password" />
          @if (error()) {
            <p-message severity="error">{{ error() }}</p-message>
          }
          <p-button type="submit" [label]="t('share.open')" [loading]="busy()" />
        </form>
      </main>
    } @else if (error()) {
      <main class="auth-page"><div class="auth-card"><p-message severity="warn" data-testid="share-error">{{ error() }}</p-message></div></main>
    } @else {
      <p class="muted page">{{ t('share.opening') }}</p>
    }
  `,
})
export class SharePage implements OnInit, OnDestroy {
  protected readonly t = t;
  private readonly api = inject(Api);
  readonly ctx = inject(SiteContext);
  readonly theme = inject(Theme);
  readonly token = input.required<string>();
  readonly needPassword = signal(false);
  readonly busy = signal(false);
  readonly error = signal('');
  password = '';

  ngOnInit(): void {
    this.ctx.readOnly.set(true);
    this.ctx.base.set(`/share/${this.token()}`);
    void this.open();
  }

  async open(): Promise<void> {
    this.busy.set(true);
    this.error.set('');
    try {
      const access = await ok(
        this.api.client.POST('/share/{token}', { params: { path: { token: this.token() } }, body: this.password ? { password: this.password } : {} }),
      );
      this.api.bearer = access.access_token;
      this.needPassword.set(false);
      this.ctx.site.set(access.site);
    } catch (e) {
      const err = e as ApiError;
      if (err.code === 'password_required') this.needPassword.set(true);
      else if (err.code === 'wrong_password') {
        this.needPassword.set(true);
        this.error.set(t('share.wrongPassword'));
      } else this.error.set(err.status === 404 ? t('share.gone') : err.message);
    } finally {
      this.busy.set(false);
    }
  }

  ngOnDestroy(): void {
    this.api.bearer = null;
  }
}
