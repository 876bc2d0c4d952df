import { Component, computed, inject, resource, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { ButtonModule } from 'primeng/button';
import { SelectModule } from 'primeng/select';
import { FormsModule } from '@angular/forms';
import { Api, ok } from '../../api/api';
import { formatChange, formatCount } from '../../core/format';
import { Sparkline } from '../../shared/sparkline';

const PERIODS = [
  { id: '7d', label: 'Last 7 days' },
  { id: '30d', label: 'Last 30 days' },
  { id: '12mo', label: 'Last 12 months' },
];

/** All sites the user sees, with visitors, pageviews, a sparkline and the change against the previous period. */
@Component({
  selector: 'hk-sites',
  imports: [RouterLink, ButtonModule, SelectModule, FormsModule, Sparkline],
  template: `
    <div class="page">
      <div class="page-head">
        <h1>Sites</h1>
        <span class="spacer"></span>
        <p-select [options]="periods" optionLabel="label" optionValue="id" [ngModel]="period()" (ngModelChange)="period.set($event)" ariaLabel="Period" />
        <p-button label="Add a site" icon="pi pi-plus" routerLink="/sites/new" />
      </div>
      @if (data.error(); as e) {
        <p class="error-line" role="alert">The overview could not be loaded: {{ $any(e).message }}</p>
      } @else if (data.isLoading() && !data.hasValue()) {
        <p class="muted">Loading your sites…</p>
      } @else if (sites().length === 0) {
        <div class="empty-state">
          <h2>No sites yet</h2>
          <p class="muted">Add your first site to get its tracking snippet.</p>
          <p-button label="Add a site" routerLink="/sites/new" />
        </div>
      } @else {
        <div class="site-grid">
          @for (s of sites(); track s.domain) {
            <a class="card site-card" [routerLink]="['/sites', s.domain]" data-testid="site-card">
              <h2>{{ s.domain }}</h2>
              <hk-sparkline [values]="s.series" [label]="'Visitors per day on ' + s.domain" />
              <div class="site-stats">
                <div>
                  <span class="kpi-label">Visitors</span>
                  <span class="kpi-value">{{ s.visitors }}</span>
                  @if (s.visitorsChange; as c) {
                    <span class="kpi-change" [class]="'tone-' + c.tone">{{ c.arrow }} {{ c.text }}</span>
                  }
                </div>
                <div>
                  <span class="kpi-label">Pageviews</span>
                  <span class="kpi-value">{{ s.pageviews }}</span>
                  @if (s.pageviewsChange; as c) {
                    <span class="kpi-change" [class]="'tone-' + c.tone">{{ c.arrow }} {{ c.text }}</span>
                  }
                </div>
              </div>
            </a>
          }
        </div>
      }
    </div>
  `,
})
export class SitesPage {
  private readonly api = inject(Api);
  readonly periods = PERIODS;
  readonly period = signal('30d');
  readonly data = resource({
    params: () => this.period(),
    loader: ({ params, abortSignal }) => ok(this.api.client.GET('/overview', { params: { query: { period: params } }, signal: abortSignal })),
  });
  readonly sites = computed(() =>
    (this.data.hasValue() ? this.data.value().sites : []).map((s) => ({
      domain: s.domain,
      visitors: formatCount(s.visitors),
      pageviews: formatCount(s.pageviews),
      visitorsChange: formatChange(s.visitors_change),
      pageviewsChange: formatChange(s.pageviews_change),
      series: s.series.map((p) => p.visitors),
    })),
  );
}
