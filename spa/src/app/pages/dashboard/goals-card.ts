import { Component, computed, inject, input, output, resource, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { Stats, metricAt } from '../../core/stats';
import { type DashState, type Filter, buildQuery } from '../../core/dash-state';
import { formatCount, formatRate } from '../../core/format';
import { t } from '../../core/i18n';
import { DetailsDialog } from './details-dialog';

/** A revenue cell (`{value, currency, short, long}`), or null. */
export function money(v: unknown): { value: number; short: string; long: string } | null {
  return v && typeof v === 'object' && 'short' in v ? (v as { value: number; short: string; long: string }) : null;
}

/**
 * Goal conversions under the breakdowns (as Plausible shows them): unique converting visitors, events and
 * conversion rate per goal; a click filters the whole dashboard by the goal. The Properties tab breaks the
 * (filtered) conversions down by one custom property.
 */
@Component({
  selector: 'hk-goals-card',
  imports: [RouterLink, DetailsDialog],
  template: `
    <section class="card breakdown goals-card" data-card="Goals" [attr.aria-label]="t('goals.title')">
      <header class="card-head">
        <h2>{{ t('goals.title') }}</h2>
        <div class="card-tabs" role="tablist" [attr.aria-label]="t('goals.title')">
          <button type="button" role="tab" [attr.aria-selected]="!propsTab()" [class.active]="!propsTab()" (click)="propsTab.set(false)">{{ t('goals.tab') }}</button>
          <button type="button" role="tab" [attr.aria-selected]="propsTab()" [class.active]="propsTab()" (click)="propsTab.set(true)" data-testid="goal-props-tab">{{ t('goals.properties') }}</button>
        </div>
      </header>
      @if (propsTab()) {
        <label class="prop-key"><span class="muted">{{ t('goals.property') }}</span>
          <input class="p-inputtext p-inputtext-sm" [value]="propKey()" (change)="propKey.set($any($event.target).value.trim())" [placeholder]="t('goals.propertyHint')" data-testid="goal-prop-key" />
        </label>
      }
      <table class="goals-table" [class.stale]="data.isLoading()" data-testid="goals-table">
        <thead>
          <tr>
            <th scope="col">{{ propsTab() ? propKey() || t('goals.property') : t('goals.goal') }}</th>
            <th scope="col" class="num">{{ t('metric.visitors') }}</th>
            <th scope="col" class="num">{{ t('metric.events') }}</th>
            <th scope="col" class="num"><abbr [title]="t('metric.conversion_rate')">{{ t('goals.cr') }}</abbr></th>
            @if (withRevenue()) {
              <th scope="col" class="num">{{ t('goals.revenue') }}</th>
            }
          </tr>
        </thead>
        <tbody>
          @for (r of rows(); track r.name) {
            <tr data-testid="goal-conversion" [attr.data-goal]="r.name">
              <td>
                <button type="button" class="link-button" (click)="pick(r.name)" [attr.aria-label]="t('card.filterBy', { value: r.name })">{{ r.name }}</button>
              </td>
              <td class="num" data-metric="visitors" [attr.data-value]="r.visitors">{{ fmt(r.visitors) }}</td>
              <td class="num" data-metric="events" [attr.data-value]="r.events">{{ fmt(r.events) }}</td>
              <td class="num" data-metric="conversion_rate" [attr.data-value]="r.cr">{{ rate(r.cr) }}</td>
              @if (withRevenue()) {
                <td class="num" data-metric="total_revenue" [attr.data-value]="r.revenue?.value" [title]="r.revenue?.long ?? ''">{{ r.revenue?.short ?? '—' }}</td>
              }
            </tr>
          } @empty {
            <tr>
              <td [attr.colspan]="withRevenue() ? 5 : 4" class="muted empty">{{ data.isLoading() ? t('card.loading') : propsTab() ? t('card.noData') : t('goals.none') }}</td>
            </tr>
          }
        </tbody>
      </table>
      @if (data.error(); as e) {
        <p class="error-line" role="alert">{{ $any(e).message }}</p>
      }
      <div class="card-foot">
        @if (manage()) {
          <a [routerLink]="[base(), 'goals']" queryParamsHandling="preserve" data-testid="funnels-link">{{ t('goals.manage') }} →</a>
        } @else {
          <span></span>
        }
        @if (rows().length) {
          <button type="button" class="more" (click)="detailsOpen.set(true)">{{ t('card.details') }}</button>
        }
      </div>
    </section>
    @if (detailsOpen()) {
      <hk-details-dialog [heading]="t('goals.title')" [dim]="dim()" [column]="propsTab() ? propKey() : t('goals.goal')" [site]="site()" [state]="state()" (closed)="detailsOpen.set(false)" (filter)="detailsOpen.set(false); filter.emit($event)" />
    }
  `,
})
export class GoalsCard {
  protected readonly t = t;
  protected readonly fmt = formatCount;
  protected readonly rate = formatRate;
  private readonly stats = inject(Stats);
  readonly site = input.required<string>();
  /** The site's route (`/sites/example.com`), for the goals and funnels link. */
  readonly base = input.required<string>();
  readonly state = input.required<DashState>();
  /** Whether goals and funnels can be visited (not in a share view). */
  readonly manage = input(true);
  readonly filter = output<Filter>();
  /** The site has a revenue goal: show each goal's revenue. */
  readonly revenue = input(false);
  readonly withRevenue = computed(() => this.revenue() && !this.propsTab());
  readonly propsTab = signal(false);
  readonly propKey = signal('plan');
  readonly detailsOpen = signal(false);

  readonly dim = computed(() => (this.propsTab() ? `event:props:${this.propKey()}` : 'event:goal'));
  readonly data = resource({
    params: () => {
      if (this.propsTab() && !/^[\w.-]+$/.test(this.propKey())) return undefined;
      // Conversion rate needs event:goal; a properties breakdown counts the goals' events per value.
      const props = this.propsTab();
      const hasGoalFilter = this.state().filters.some((f) => f.dim === 'event:goal');
      return buildQuery(this.site(), this.state(), {
        metrics: props && !hasGoalFilter ? ['visitors', 'events'] : ['visitors', 'events', 'conversion_rate', ...(this.withRevenue() ? ['total_revenue'] : [])],
        dimensions: [this.dim()],
        orderBy: [['visitors', 'desc']],
        limit: 20,
        noCompare: true,
      });
    },
    loader: ({ params, abortSignal }) => this.stats.query(params, abortSignal),
  });

  readonly rows = computed(() => {
    const v = this.data.hasValue() ? this.data.value() : undefined;
    return (v?.results ?? []).map((r) => ({
      name: r.dimensions[0] == null || r.dimensions[0] === '' ? t('card.notSet') : String(r.dimensions[0]),
      visitors: metricAt(r, 0) ?? 0,
      events: metricAt(r, 1) ?? 0,
      cr: metricAt(r, 2),
      revenue: money(r.metrics[3]),
    }));
  });

  pick(name: string): void {
    this.filter.emit(this.propsTab() ? { op: 'is', dim: this.dim(), values: [name] } : { op: 'is', dim: 'event:goal', values: [name] });
  }
}
