import { Component, effect, inject, input, signal } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { Message } from 'primeng/message';
import { Api, ApiError, ok } from '../../api/api';
import { Auth } from '../../core/auth';
import { SiteContext } from '../../core/site-context';

/** `/sites/:site/...`: loads the site once and offers its sections. */
@Component({
  selector: 'hk-site-frame',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, Message],
  providers: [SiteContext],
  template: `
    <div class="page">
      <div class="site-head">
        <h1 class="site-title">{{ site() }}</h1>
        <nav class="tabs-nav">
          <a [routerLink]="['/sites', site()]" routerLinkActive="active" [routerLinkActiveOptions]="{ exact: true }" queryParamsHandling="preserve">Dashboard</a>
          <a [routerLink]="['/sites', site(), 'events']" routerLinkActive="active" queryParamsHandling="preserve">Events</a>
          <a [routerLink]="['/sites', site(), 'goals']" routerLinkActive="active" queryParamsHandling="preserve">Goals &amp; funnels</a>
          @if (auth.canManage(site())) {
            <a [routerLink]="['/sites', site(), 'settings']" routerLinkActive="active">Settings</a>
          }
        </nav>
      </div>
      @if (error()) {
        <p-message severity="error" data-testid="site-error">{{ error() }}</p-message>
      } @else if (ctx.site()) {
        <router-outlet />
      } @else {
        <p class="muted">Loading {{ site() }}…</p>
      }
    </div>
  `,
})
export class SiteFrame {
  private readonly api = inject(Api);
  readonly auth = inject(Auth);
  readonly ctx = inject(SiteContext);
  readonly site = input.required<string>();
  readonly error = signal('');

  constructor() {
    effect(() => {
      const domain = this.site();
      this.ctx.site.set(null);
      this.ctx.base.set(`/sites/${domain}`);
      this.error.set('');
      ok(this.api.client.GET('/sites/{site}', { params: { path: { site: domain } } })).then(
        (s) => this.ctx.site.set(s),
        (e: ApiError) => this.error.set(e.status === 404 ? `There is no site ${domain}, or you have no access to it.` : e.message),
      );
    });
  }
}
