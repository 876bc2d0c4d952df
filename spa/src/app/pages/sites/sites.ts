import { Component, computed, inject, resource, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { ButtonModule } from 'primeng/button';
import { SelectModule } from 'primeng/select';
import { FormsModule } from '@angular/forms';
import { Api, ok } from '../../api/api';
import { formatChange, formatCount } from '../../core/format';
import { Sparkline } from '../../shared/sparkline';
import { t } from '../../core/i18n';

const PERIODS = ['7d', '30d', '12mo'] as const;

/** All sites the user sees, with visitors, pageviews, a sparkline and the change against the previous period. */
@Component({
  selector: 'hk-sites',
  imports: [RouterLink, ButtonModule, SelectModule, FormsModule, Sparkline],
  template: `
    <div class="page">
      <div class="page-head">
        <h1>{{ t('sites.title') }}</h1>
        <span class="spacer"></span>
        <p-select [options]="periods()" optionLabel="label" optionValue="id" [ngModel]="period()" (ngModelChange)="period.set($event)" [ariaLabel]="t('sites.period')" />
        <p-button [label]="t('sites.add')" icon="pi pi-plus" routerLink="/sites/new" />
      </div>
      @if (data.error(); as e) {
        <p class="error-line" role="alert">{{ t('sites.error', { error: $any(e).message }) }}</p>
      } @else if (data.isLoading() && !data.hasValue()) {
        <p class="muted">{{ t('sites.loading') }}</p>
      } @else if (sites().length === 0) {
        <div class="empty-state">
          <h2>{{ t('sites.empty') }}</h2>
          <p class="muted">{{ t('sites.emptyHint') }}</p>
          <p-button [label]="t('sites.add')" routerLink="/sites/new" />
        </div>
      } @else {
        <div class="site-grid">
          @for (s of sites(); track s.domain) {
            <a class="card site-card" [routerLink]="['/sites', s.domain]" data-testid="site-card">
              <h2>{{ s.domain }}</h2>
              <hk-sparkline [values]="s.series" [label]="t('sites.sparkline', { site: s.domain })" />
              <div class="site-stats">
                <div>
                  <span class="kpi-label">{{ t('metric.visitors') }}</span>
                  <span class="kpi-value">{{ s.visitors }}</span>
                  @if (s.visitorsChange; as c) {
                    <span class="kpi-change" [class]="'tone-' + c.tone">{{ c.arrow }} {{ c.text }}</span>
                  }
                </div>
                <div>
                  <span class="kpi-label">{{ t('metric.pageviews') }}</span>
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
  protected readonly t = t;
  private readonly api = inject(Api);
  readonly periods = computed(() => PERIODS.map((id) => ({ id, label: t(`period.${id}`) })));
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
