import { Component, inject } from '@angular/core';
import { Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { ButtonModule } from 'primeng/button';
import { Auth } from '../../core/auth';
import { Theme } from '../../core/theme';
import { LANGS, type Lang, locale, t } from '../../core/i18n';

/** The signed-in frame: top bar with navigation, theme switch and sign-out. */
@Component({
  selector: 'hk-shell',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, ButtonModule],
  template: `
    <header class="topbar">
      <a routerLink="/" class="brand"><span class="logo">◆</span> HitKeep</a>
      <nav [attr.aria-label]="t('account.menu')">
        <a routerLink="/" routerLinkActive="active" [routerLinkActiveOptions]="{ exact: true }">{{ t('nav.sites') }}</a>
        @if (auth.isAdmin()) {
          <a routerLink="/admin" routerLinkActive="active">{{ t('nav.users') }}</a>
        }
        <a routerLink="/account" routerLinkActive="active">{{ t('nav.account') }}</a>
      </nav>
      <span class="spacer"></span>
      <p-button
        [icon]="theme.dark() ? 'pi pi-sun' : 'pi pi-moon'"
        [text]="true"
        [rounded]="true"
        severity="secondary"
        (onClick)="theme.toggle()"
        [ariaLabel]="theme.dark() ? t('theme.light') : t('theme.dark')"
        data-testid="theme"
      />
      <select class="lang-select" [attr.aria-label]="t('account.language')" [value]="locale()" (change)="pickLang($any($event.target).value)" data-testid="language">
        @for (l of langs; track l.id) {
          <option [value]="l.id" [selected]="l.id === locale()" [attr.lang]="l.id">{{ l.label }}</option>
        }
      </select>
      <span class="who muted">{{ auth.me()?.name || auth.me()?.email }}</span>
      <p-button [label]="t('nav.signOut')" [text]="true" severity="secondary" size="small" (onClick)="logout()" />
    </header>
    <router-outlet />
  `,
})
export class Shell {
  readonly auth = inject(Auth);
  readonly theme = inject(Theme);
  private readonly router = inject(Router);
  protected readonly t = t;
  protected readonly locale = locale;
  readonly langs = LANGS;

  pickLang(l: Lang): void {
    void this.auth.setLanguage(l);
  }

  async logout(): Promise<void> {
    await this.auth.logout().catch(() => undefined);
    await this.router.navigate(['/login']);
  }
}
