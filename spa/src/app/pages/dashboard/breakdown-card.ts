import { Component, computed, inject, input, output, resource, signal } from '@angular/core';
import { Stats, changeAt, metricAt } from '../../core/stats';
import { type DashState, type Filter, buildQuery } from '../../core/dash-state';
import { formatChange, formatCount } from '../../core/format';

export interface BreakdownTab {
  label: string;
  dim: string;
  /** Alternatives offered in a small select (UTM parameters). */
  choices?: { label: string; dim: string }[];
}

const SHORT = 9;
const LONG = 100;

/** A card of top values for one dimension at a time (tabs), each row a filter on click. */
@Component({
  selector: 'hk-breakdown-card',
  template: `
    <section class="card breakdown" [attr.data-card]="title()">
      <header class="card-head">
        <h2>{{ title() }}</h2>
        <div class="card-tabs" role="tablist">
          @for (t of tabs(); track t.dim; let i = $index) {
            <button type="button" role="tab" [attr.aria-selected]="i === tabIndex()" [class.active]="i === tabIndex()" (click)="pick(i)">{{ t.label }}</button>
          }
        </div>
      </header>
      @if (tab().choices; as choices) {
        <select class="sub-select" [value]="dim()" (change)="choice.set($any($event.target).value)" aria-label="Parameter">
          @for (c of choices; track c.dim) {
            <option [value]="c.dim">{{ c.label }}</option>
          }
        </select>
      }
      <div class="rows-head muted"><span>{{ tabLabel() }}</span><span>Visitors</span></div>
      @if (data.error(); as e) {
        <p class="error-line" role="alert">Could not load {{ tabLabel().toLowerCase() }}: {{ $any(e).message }}</p>
      } @else if (data.isLoading() && !data.hasValue()) {
        <p class="muted empty">Loading…</p>
      } @else if (rows().length === 0) {
        <p class="muted empty">No data for this period{{ state().filters.length ? ' and these filters' : '' }}.</p>
      } @else {
        <ol class="rows" [class.stale]="data.isLoading()">
          @for (r of rows(); track r.key) {
            <li>
              <button type="button" class="row" [disabled]="r.value === null" (click)="clickRow(r.value)" [title]="r.label" data-testid="row">
                <span class="bar" [style.width.%]="r.share"></span>
                <span class="row-label">{{ r.label }}</span>
                <span class="row-value" [attr.data-value]="r.raw">{{ r.visitors }}</span>
                @if (r.change; as c) {
                  <span class="row-change" [class]="'tone-' + c.tone">{{ c.arrow }}{{ c.text }}</span>
                }
              </button>
            </li>
          }
        </ol>
        @if (total() > rows().length || expanded()) {
          <button type="button" class="more" (click)="expanded.set(!expanded())">{{ expanded() ? 'Show fewer' : total() <= LONG ? 'Show all ' + total() : 'Show top ' + LONG + ' of ' + total() }}</button>
        }
      }
    </section>
  `,
})
export class BreakdownCard {
  protected readonly Math = Math;
  protected readonly LONG = LONG;
  private readonly stats = inject(Stats);
  readonly title = input.required<string>();
  readonly tabs = input.required<BreakdownTab[]>();
  readonly site = input.required<string>();
  readonly state = input.required<DashState>();
  readonly filter = output<Filter>();

  readonly tabIndex = signal(0);
  readonly choice = signal<string | null>(null);
  readonly expanded = signal(false);
  readonly tab = computed(() => this.tabs()[this.tabIndex()] ?? this.tabs()[0]);
  readonly dim = computed(() => {
    const t = this.tab();
    const c = this.choice();
    return t.choices?.some((x) => x.dim === c) ? c! : t.dim;
  });
  readonly tabLabel = computed(() => this.tab().choices?.find((c) => c.dim === this.dim())?.label ?? this.tab().label);

  readonly data = resource({
    params: () =>
      buildQuery(this.site(), this.state(), {
        metrics: ['visitors'],
        dimensions: [this.dim()],
        orderBy: [['visitors', 'desc']],
        limit: this.expanded() ? LONG : SHORT,
        totalRows: true,
      }),
    loader: ({ params, abortSignal }) => this.stats.query(params, abortSignal),
  });

  readonly total = computed(() => (this.data.hasValue() ? (this.data.value().meta.total_rows ?? 0) : 0));

  readonly rows = computed(() => {
    if (!this.data.hasValue()) return [];
    const results = this.data.value().results;
    const max = Math.max(1, ...results.map((r) => metricAt(r, 0) ?? 0));
    return results.map((r, i) => {
      const raw = r.dimensions[0];
      const value = raw == null || raw === '' ? null : String(raw);
      const n = metricAt(r, 0) ?? 0;
      return {
        key: `${i}:${value}`,
        value,
        label: value ?? '(not set)',
        raw: n,
        visitors: formatCount(n),
        share: (n / max) * 100,
        change: r.comparison ? formatChange(changeAt(r, 0)) : null,
      };
    });
  });

  pick(i: number): void {
    this.tabIndex.set(i);
    this.choice.set(null);
    this.expanded.set(false);
  }

  clickRow(value: string | null): void {
    if (value !== null) this.filter.emit({ op: 'is', dim: this.dim(), values: [value] });
  }
}
