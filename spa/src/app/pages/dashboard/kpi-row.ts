import { Component, computed, inject, input, output, resource } from '@angular/core';
import { Stats, changeAt, comparisonAt, metricAt } from '../../core/stats';
import { type DashState, KPI_METRICS, buildQuery } from '../../core/dash-state';
import { formatChange, formatMetric } from '../../core/format';
import { type I18nKey, t } from '../../core/i18n';
import { money } from './goals-card';

/** The six headline numbers with their change against the comparison period; a click picks the chart metric. */
@Component({
  selector: 'hk-kpi-row',
  template: `
    <section class="kpis" [attr.aria-label]="t('kpi.label')">
      @for (k of kpis(); track k.id) {
        <button type="button" class="kpi" [class.selected]="k.id === selected()" (click)="select.emit(k.id)" [attr.data-metric]="k.id" [attr.aria-pressed]="k.id === selected()">
          <span class="kpi-label">{{ k.label }}</span>
          <span class="kpi-value" data-testid="kpi-value" [attr.data-value]="k.raw">{{ k.value }}</span>
          @if (k.change; as c) {
            <span class="kpi-change" [class]="'tone-' + c.tone" data-testid="kpi-change" [attr.data-value]="k.rawChange" [title]="t('kpi.before', { value: k.before })">{{ c.arrow }} {{ c.text }}</span>
          }
        </button>
      }
      @if (revenue()) {
        <div class="kpi" data-metric="total_revenue">
          <span class="kpi-label">{{ t('kpi.total_revenue') }}</span>
          <span class="kpi-value" data-testid="kpi-value" [attr.data-value]="revenueCell()?.value ?? null" [title]="revenueCell()?.long ?? ''">{{ revenueCell()?.short ?? '—' }}</span>
        </div>
      }
    </section>
    @if (data.error(); as e) {
      <p class="error-line" role="alert">{{ t('kpi.error', { error: $any(e).message }) }}</p>
    }
  `,
})
export class KpiRow {
  protected readonly t = t;
  private readonly stats = inject(Stats);
  readonly site = input.required<string>();
  readonly state = input.required<DashState>();
  readonly selected = input<string>('visitors');
  readonly select = output<string>();
  /** The site has a revenue goal: total revenue is a KPI too (after the six). */
  readonly revenue = input(false);

  readonly data = resource({
    params: () => buildQuery(this.site(), this.state(), { metrics: [...KPI_METRICS.map((m) => m.id), ...(this.revenue() ? ['total_revenue'] : [])] }),
    loader: ({ params, abortSignal }) => this.stats.query(params, abortSignal),
  });

  readonly revenueCell = computed(() => money(this.data.hasValue() ? this.data.value().results[0]?.metrics[KPI_METRICS.length] : null));

  readonly kpis = computed(() => {
    const row = this.data.hasValue() ? this.data.value().results[0] : undefined;
    const loading = this.data.isLoading() && !row;
    return KPI_METRICS.map((m, i) => ({
      id: m.id,
      label: t(`kpi.${m.id}` as I18nKey),
      raw: loading ? null : metricAt(row, i),
      rawChange: changeAt(row, i),
      value: loading ? '…' : formatMetric(metricAt(row, i) ?? 0, m.kind),
      before: formatMetric(comparisonAt(row, i), m.kind),
      change: row?.comparison ? formatChange(changeAt(row, i), { points: m.id === 'bounce_rate', lowerIsBetter: 'lowerIsBetter' in m }) : null,
    }));
  });
}
