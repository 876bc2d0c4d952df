import { Component, computed, inject, resource, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { InputTextModule } from 'primeng/inputtext';
import { SiteContext } from '../../core/site-context';
import { Stats, changeAt, metricAt } from '../../core/stats';
import { type Comparison, buildQuery, withoutFilter } from '../../core/dash-state';
import { formatChange, formatCount } from '../../core/format';
import { Toolbar } from '../dashboard/toolbar';
import { injectDashUrl } from '../dashboard/dash-url';
import { t } from '../../core/i18n';

/** Custom events with visitors and counts; pick one to break it down by a property. */
@Component({
  selector: 'hk-events',
  imports: [Toolbar, FormsModule, InputTextModule],
  template: `
    <hk-toolbar
      [state]="state()"
      (periodChange)="url.set({ ...state(), period: $event.period, from: $event.from, to: $event.to })"
      (compareChange)="setCompare($event)"
      (removeFilter)="url.set(withoutFilter(state(), $event))"
      (clearFilters)="url.set({ ...state(), filters: [] })"
    />
    <div class="cards two">
      <section class="card">
        <header class="card-head"><h2>{{ t('nav.events') }}</h2></header>
        <div class="rows-head muted"><span>{{ t('events.name') }}</span><span>{{ t('events.visitorsEvents') }}</span></div>
        @if (events.error(); as e) {
          <p class="error-line" role="alert">{{ t('events.error', { error: $any(e).message }) }}</p>
        } @else if (events.isLoading() && !events.hasValue()) {
          <p class="muted empty">{{ t('common.loading') }}</p>
        } @else if (eventRows().length === 0) {
          <p class="muted empty">{{ t('events.empty') }} <code>window.hk.event('signup', {{ '{' }} plan: 'pro' {{ '}' }})</code>.</p>
        } @else {
          <ol class="rows">
            @for (r of eventRows(); track r.name) {
              <li>
                <button type="button" class="row" [class.selected]="r.name === selected()" (click)="selected.set(r.name)" data-testid="event-row">
                  <span class="bar" [style.width.%]="r.share"></span>
                  <span class="row-label">{{ r.name }}</span>
                  <span class="row-value">{{ r.visitors }} · {{ r.events }}</span>
                  @if (r.change; as c) {
                    <span class="row-change" [class]="'tone-' + c.tone">{{ c.arrow }}{{ c.text }}</span>
                  }
                </button>
              </li>
            }
          </ol>
        }
      </section>
      <section class="card">
        <header class="card-head">
          <h2>{{ selected() ? t('events.propertiesOf', { name: selected() ?? '' }) : t('events.properties') }}</h2>
        </header>
        @if (!selected()) {
          <p class="muted empty">{{ t('events.pick') }}</p>
        } @else {
          <label class="inline-field">
            {{ t('events.property') }}
            <input pInputText [ngModel]="propKey()" (ngModelChange)="propKey.set($event.trim())" [placeholder]="t('events.propertyPlaceholder')" [attr.aria-label]="t('events.propertyName')" data-testid="prop-key" />
          </label>
          @if (!propKey()) {
            <p class="muted empty">{{ t('events.typeProperty', { example: propExample }) }}</p>
          } @else if (props.error(); as e) {
            <p class="error-line" role="alert">{{ $any(e).message }}</p>
          } @else if (propRows().length === 0 && !props.isLoading()) {
            <p class="muted empty">{{ t('events.noProperty', { name: selected() ?? '', key: propKey() }) }}</p>
          } @else {
            <div class="rows-head muted"><span>{{ propKey() }}</span><span>{{ t('events.visitorsEvents') }}</span></div>
            <ol class="rows">
              @for (r of propRows(); track r.name) {
                <li>
                  <div class="row">
                    <span class="bar" [style.width.%]="r.share"></span>
                    <span class="row-label">{{ r.name }}</span>
                    <span class="row-value">{{ r.visitors }} · {{ r.events }}</span>
                  </div>
                </li>
              }
            </ol>
          }
        }
      </section>
    </div>
  `,
})
export class EventsPage {
  protected readonly t = t;
  protected readonly withoutFilter = withoutFilter;
  private readonly stats = inject(Stats);
  private readonly ctx = inject(SiteContext);
  readonly url = injectDashUrl();
  readonly state = this.url.state;
  readonly selected = signal<string | null>(null);
  readonly propExample = "{ plan: 'pro' }";
  readonly propKey = signal('');
  private readonly site = computed(() => this.ctx.site()!.domain);

  readonly events = resource({
    params: () =>
      buildQuery(this.site(), this.state(), {
        metrics: ['visitors', 'events'],
        dimensions: ['event:name'],
        filters: [{ op: 'is_not', dim: 'event:name', values: ['pageview'] }],
        orderBy: [['visitors', 'desc']],
        limit: 100,
      }),
    loader: ({ params, abortSignal }) => this.stats.query(params, abortSignal),
  });
  readonly eventRows = computed(() => rowsOf(this.events.hasValue() ? this.events.value().results : []));

  readonly props = resource({
    params: () => {
      const ev = this.selected();
      const key = this.propKey();
      if (!ev || !key) return undefined;
      return buildQuery(this.site(), this.state(), {
        metrics: ['visitors', 'events'],
        dimensions: [`event:props:${key}`],
        filters: [{ op: 'is', dim: 'event:name', values: [ev] }],
        orderBy: [['visitors', 'desc']],
        limit: 100,
        noCompare: true,
      });
    },
    loader: ({ params, abortSignal }) => this.stats.query(params, abortSignal),
  });
  readonly propRows = computed(() => rowsOf(this.props.hasValue() && this.props.value() ? this.props.value()!.results : []));

  setCompare(c: Comparison): void {
    void this.url.set({ ...this.state(), compare: c });
  }
}

function rowsOf(results: { dimensions: unknown[]; metrics: unknown[]; comparison?: { change: unknown[] } }[]) {
  const max = Math.max(1, ...results.map((r) => metricAt(r as never, 0) ?? 0));
  return results.map((r) => ({
    name: r.dimensions[0] == null ? '(not set)' : String(r.dimensions[0]),
    visitors: formatCount(metricAt(r as never, 0)),
    events: formatCount(metricAt(r as never, 1)),
    share: ((metricAt(r as never, 0) ?? 0) / max) * 100,
    change: r.comparison ? formatChange(changeAt(r as never, 0)) : null,
  }));
}
