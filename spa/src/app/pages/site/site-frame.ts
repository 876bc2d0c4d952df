import { Component, computed, effect, inject, input, resource, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { ActivatedRoute, Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { SelectModule } from 'primeng/select';
import { Message } from 'primeng/message';
import { Api, ApiError, ok } from '../../api/api';
import { Auth } from '../../core/auth';
import { SiteContext } from '../../core/site-context';
import { t } from '../../core/i18n';

/** `/sites/:site/...`: loads the site once and offers its sections. */
@Component({
  selector: 'hk-site-frame',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, Message, SelectModule, FormsModule],
  providers: [SiteContext],
  template: `
    <div class="page">
      <div class="site-head">
        @if (domains().length > 1) {
          <p-select class="site-switch" [options]="domains()" [ngModel]="site()" (ngModelChange)="switch($event)" [ariaLabel]="t('site.switch')" [filter]="domains().length > 8" />
        } @else {
          <h1 class="site-title">{{ site() }}</h1>
        }
        <nav class="tabs-nav">
          <a [routerLink]="['/sites', site()]" routerLinkActive="active" [routerLinkActiveOptions]="{ exact: true }" queryParamsHandling="preserve">{{ t('nav.dashboard') }}</a>
          <a [routerLink]="['/sites', site(), 'events']" routerLinkActive="active" queryParamsHandling="preserve">{{ t('nav.events') }}</a>
          <a [routerLink]="['/sites', site(), 'goals']" routerLinkActive="active" queryParamsHandling="preserve">{{ t('nav.goals') }}</a>
          <a [routerLink]="['/sites', site(), 'ai']" routerLinkActive="active" queryParamsHandling="preserve" data-testid="nav-ai">{{ t('nav.ai') }}</a>
          @if (auth.canManage(site())) {
            <a [routerLink]="['/sites', site(), 'settings']" routerLinkActive="active">{{ t('nav.settings') }}</a>
          }
        </nav>
      </div>
      @if (error()) {
        <p-message severity="error" data-testid="site-error">{{ error() }}</p-message>
      } @else if (ctx.site()) {
        <router-outlet />
      } @else {
        <p class="muted">{{ t('site.loading', { site: site() }) }}</p>
      }
    </div>
  `,
})
export class SiteFrame {
  protected readonly t = t;
  private readonly api = inject(Api);
  readonly auth = inject(Auth);
  readonly ctx = inject(SiteContext);
  readonly site = input.required<string>();
  readonly error = signal('');
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);
  private readonly sites = resource({ loader: () => ok(this.api.client.GET('/sites')) });
  readonly domains = computed(() => (this.sites.hasValue() ? this.sites.value().map((s) => s.domain) : []));

  /** Another site, same section and same dashboard state. */
  switch(domain: string): void {
    const section = this.route.firstChild?.snapshot.url.map((u) => u.path) ?? [];
    void this.router.navigate(['/sites', domain, ...section], { queryParamsHandling: 'preserve' });
  }

  constructor() {
    effect(() => {
      const domain = this.site();
      this.ctx.site.set(null);
      this.ctx.base.set(`/sites/${domain}`);
      this.error.set('');
      ok(this.api.client.GET('/sites/{site}', { params: { path: { site: domain } } })).then(
        (s) => this.ctx.site.set(s),
        (e: ApiError) => this.error.set(e.status === 404 ? t('site.noAccess', { site: domain }) : e.message),
      );
    });
  }
}
