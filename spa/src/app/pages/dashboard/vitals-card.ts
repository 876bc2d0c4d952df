import { Component, computed, inject, input, resource } from '@angular/core';
import { Api, ok, type Schemas } from '../../api/api';
import { type DashState, dateRange } from '../../core/dash-state';
import { formatCount } from '../../core/format';

type Vital = Schemas['VitalView'];

/** Core Web Vitals (from hk-vitals.js): p75 per metric and the good / needs-improvement / poor split. */
@Component({
  selector: 'hk-vitals-card',
  template: `
    <section class="card vitals">
      <header class="card-head"><h2>Web Vitals</h2><span class="muted small">75th percentile</span></header>
      @if (data.error(); as e) {
        <p class="error-line" role="alert">Web Vitals could not be loaded: {{ $any(e).message }}</p>
      } @else if (data.hasValue() && rows().length === 0) {
        <p class="muted empty">No Web Vitals in this period. Add <code>hk-vitals.js</code> next to the tracking snippet to measure them.</p>
      } @else {
        <div class="vitals-grid">
          @for (v of rows(); track v.metric) {
            <div class="vital">
              <span class="kpi-label">{{ v.metric }}</span>
              <span class="kpi-value" [class]="'tone-' + v.tone">{{ v.p75 }}</span>
              <div class="vital-split" [title]="v.split">
                <span class="good" [style.width.%]="v.good"></span><span class="ni" [style.width.%]="v.ni"></span><span class="poor" [style.width.%]="v.poor"></span>
              </div>
              <span class="muted small">{{ v.samples }} samples</span>
            </div>
          }
        </div>
      }
    </section>
  `,
})
export class VitalsCard {
  private readonly api = inject(Api);
  readonly site = input.required<string>();
  readonly state = input.required<DashState>();
  readonly data = resource({
    params: () => {
      const r = dateRange(this.state());
      const page = this.state().filters.find((f) => f.dim === 'event:page' && f.op === 'is')?.values[0];
      return { site: this.site(), date_range: Array.isArray(r) ? r.join(',') : r, page };
    },
    loader: ({ params, abortSignal }) =>
      ok(
        this.api.client.GET('/sites/{site}/web-vitals', {
          params: { path: { site: params.site }, query: { date_range: params.date_range, page: params.page } },
          signal: abortSignal,
        }),
      ) as Promise<Vital[]>,
  });
  readonly rows = computed(() =>
    (this.data.hasValue() ? this.data.value() : [])
      .filter((v) => v.samples > 0)
      .map((v) => ({
        metric: v.metric,
        p75: v.metric === 'CLS' ? v.p75.toFixed(2) : v.p75 >= 1000 ? `${(v.p75 / 1000).toFixed(2)} s` : `${Math.round(v.p75)} ms`,
        tone: v.good >= 75 ? 'good' : v.poor > 25 ? 'bad' : 'flat',
        good: v.good,
        ni: v.needs_improvement,
        poor: v.poor,
        split: `good ${v.good.toFixed(0)}% · needs improvement ${v.needs_improvement.toFixed(0)}% · poor ${v.poor.toFixed(0)}%`,
        samples: formatCount(v.samples),
      })),
  );
}
