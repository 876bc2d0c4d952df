import { Component, computed, inject, resource } from '@angular/core';
import { Api, ok, type Schemas } from '../../api/api';
import { SiteContext } from '../../core/site-context';
import { dateRangeParam, withoutFilter } from '../../core/dash-state';
import { formatCount } from '../../core/format';
import { Toolbar } from '../dashboard/toolbar';
import { injectDashUrl } from '../dashboard/dash-url';
import { Sparkline } from '../../shared/sparkline';
import { t } from '../../core/i18n';

type AiVisibility = Schemas['AiVisibilityView'];

/** How AI systems see the site: crawler fetches (never visitors) by day, crawler and page, beside AI assistant referrals. */
@Component({
  selector: 'hk-ai-visibility',
  imports: [Toolbar, Sparkline],
  template: `
    <hk-toolbar
      [state]="state()"
      (periodChange)="url.set({ ...state(), period: $event.period, from: $event.from, to: $event.to })"
      (compareChange)="url.set({ ...state(), compare: $event })"
      (removeFilter)="url.set(withoutFilter(state(), $event))"
      (clearFilters)="url.set({ ...state(), filters: [] })"
    />
    @if (data.error(); as e) {
      <p class="error-line" role="alert">{{ t('ai.error', { error: $any(e).message }) }}</p>
    }
    <section class="card">
      <header class="card-head">
        <h2>{{ t('ai.fetches') }}</h2>
        <strong data-testid="ai-total">{{ total() }}</strong>
      </header>
      <p class="muted">{{ t('ai.explain') }}</p>
      @if (days().length > 1) {
        <hk-sparkline [values]="days()" [label]="t('ai.overTime')" />
      }
    </section>
    <div class="cards two">
      <section class="card">
        <header class="card-head"><h2>{{ t('ai.byCrawler') }}</h2></header>
        @if (v()?.crawlers?.length) {
          <table class="table" data-testid="ai-crawlers">
            <thead><tr><th>{{ t('ai.crawler') }}</th><th>{{ t('ai.operator') }}</th><th class="num">{{ t('ai.fetchCount') }}</th></tr></thead>
            <tbody>
              @for (c of v()!.crawlers; track c.crawler) {
                <tr><td>{{ c.crawler }}</td><td class="muted">{{ c.operator }}</td><td class="num">{{ count(c.fetches) }}</td></tr>
              }
            </tbody>
          </table>
        } @else {
          <p class="muted empty">{{ t('ai.none') }}</p>
        }
      </section>
      <section class="card">
        <header class="card-head"><h2>{{ t('ai.byPage') }}</h2></header>
        @if (v()?.pages?.length) {
          <table class="table" data-testid="ai-pages">
            <thead><tr><th>{{ t('ai.page') }}</th><th class="num">{{ t('ai.fetchCount') }}</th></tr></thead>
            <tbody>
              @for (p of v()!.pages; track p.page) {
                <tr><td>{{ p.page }}</td><td class="num">{{ count(p.fetches) }}</td></tr>
              }
            </tbody>
          </table>
        } @else {
          <p class="muted empty">{{ t('ai.none') }}</p>
        }
      </section>
    </div>
    <section class="card">
      <header class="card-head"><h2>{{ t('ai.referrals') }}</h2></header>
      @if (v()?.assistant_referrals?.length) {
        <table class="table" data-testid="ai-referrals">
          <thead><tr><th>{{ t('ai.assistant') }}</th><th class="num">{{ t('metric.visitors') }}</th></tr></thead>
          <tbody>
            @for (r of v()!.assistant_referrals; track r.source) {
              <tr><td>{{ r.source }}</td><td class="num">{{ count(r.visitors) }}</td></tr>
            }
          </tbody>
        </table>
      } @else {
        <p class="muted empty">{{ t('ai.noReferrals') }}</p>
      }
    </section>
  `,
})
export class AiVisibilityPage {
  private readonly api = inject(Api);
  private readonly ctx = inject(SiteContext);
  readonly url = injectDashUrl();
  readonly state = this.url.state;
  protected readonly t = t;
  protected readonly withoutFilter = withoutFilter;
  private readonly site = computed(() => this.ctx.site()!.domain);

  readonly data = resource({
    params: () => ({ site: this.site(), date_range: dateRangeParam(this.state()) }),
    loader: ({ params, abortSignal }) =>
      ok(
        this.api.client.GET('/sites/{site}/ai-visibility', {
          params: { path: { site: params.site }, query: { date_range: params.date_range } },
          signal: abortSignal,
        }),
      ) as Promise<AiVisibility>,
  });
  readonly v = computed(() => (this.data.hasValue() ? this.data.value() : null));
  readonly total = computed(() => formatCount(this.v()?.total_fetches ?? 0));
  readonly days = computed(() => (this.v()?.fetches_over_time ?? []).map((d) => d.fetches));
  protected count(n: number): string {
    return formatCount(n);
  }
}
