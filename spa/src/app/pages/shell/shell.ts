import { Component, inject } from '@angular/core';
import { Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { ButtonModule } from 'primeng/button';
import { Auth } from '../../core/auth';
import { Theme } from '../../core/theme';

/** The signed-in frame: top bar with navigation, theme switch and sign-out. */
@Component({
  selector: 'hk-shell',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, ButtonModule],
  template: `
    <header class="topbar">
      <a routerLink="/" class="brand"><span class="logo">◆</span> HitKeep</a>
      <nav>
        <a routerLink="/" routerLinkActive="active" [routerLinkActiveOptions]="{ exact: true }">Sites</a>
        @if (auth.isAdmin()) {
          <a routerLink="/admin" routerLinkActive="active">Users</a>
        }
        <a routerLink="/account" routerLinkActive="active">Account</a>
      </nav>
      <span class="spacer"></span>
      <p-button
        [icon]="theme.dark() ? 'pi pi-sun' : 'pi pi-moon'"
        [text]="true"
        [rounded]="true"
        severity="secondary"
        (onClick)="theme.toggle()"
        [ariaLabel]="theme.dark() ? 'Light mode' : 'Dark mode'"
        data-testid="theme"
      />
      <span class="who muted">{{ auth.me()?.name || auth.me()?.email }}</span>
      <p-button label="Sign out" [text]="true" severity="secondary" size="small" (onClick)="logout()" />
    </header>
    <router-outlet />
  `,
})
export class Shell {
  readonly auth = inject(Auth);
  readonly theme = inject(Theme);
  private readonly router = inject(Router);

  async logout(): Promise<void> {
    await this.auth.logout().catch(() => undefined);
    await this.router.navigate(['/login']);
  }
}
