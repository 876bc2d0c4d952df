import { Component, computed, inject, input, output, resource, signal } from '@angular/core';
import { Stats, changeAt, metricAt } from '../../core/stats';
import { type DashState, type Filter, buildQuery } from '../../core/dash-state';
import { formatChange, formatCount, formatDuration } from '../../core/format';
import { type I18nKey, t } from '../../core/i18n';
import { DimLabel, dimText } from '../../shared/dim-label';
import { DetailsDialog } from './details-dialog';
import { WorldMap } from './world-map';

export interface BreakdownTab {
  /** An i18n key (or plain text, shown as is). */
  label: string;
  dim: string;
  /** Alternatives offered in a small select (UTM parameters). */
  choices?: { label: string; dim: string }[];
  /** Draw a world map of this (country) dimension instead of a list. */
  map?: boolean;
}

const SHORT = 9;

/** A card of top values for one dimension at a time (tabs), each row a filter on click; Details opens the full list. */
@Component({
  selector: 'hk-breakdown-card',
  imports: [DimLabel, DetailsDialog, WorldMap],
  template: `
    <section class="card breakdown" [attr.data-card]="cardId()" [attr.aria-label]="t($any(title()))">
      <header class="card-head">
        <h2>{{ t($any(title())) }}</h2>
        <div class="card-tabs" role="tablist" [attr.aria-label]="t($any(title()))">
          @for (tb of tabs(); track tb.dim + tb.label; let i = $index) {
            <button
              type="button"
              role="tab"
              [attr.aria-selected]="i === tabIndex()"
              [attr.tabindex]="i === tabIndex() ? 0 : -1"
              [class.active]="i === tabIndex()"
              (click)="pick(i)"
              (keydown)="tabKey($event, i)"
            >
              {{ t($any(tb.label)) }}
            </button>
          }
        </div>
      </header>
      @if (tab().choices; as choices) {
        <select class="sub-select" [value]="dim()" (change)="choice.set($any($event.target).value)" [attr.aria-label]="t('card.parameter')">
          @for (c of choices; track c.dim) {
            <option [value]="c.dim">{{ c.label }}</option>
          }
        </select>
      }
      @if (tab().map) {
        <hk-world-map [site]="site()" [state]="state()" (filter)="filter.emit($event)" />
      } @else {
        <div class="rows-head muted">
          <span class="row-label">{{ tabLabel() }}</span>
          @if (engagement()) {
            <abbr class="row-extra" [title]="t('metric.scroll_depth')">{{ t('card.scrollShort') }}</abbr>
            <abbr class="row-extra" [title]="t('metric.time_on_page')">{{ t('card.timeShort') }}</abbr>
          }
          <span>{{ t('metric.visitors') }}</span>
        </div>
        @if (data.error(); as e) {
          <p class="error-line" role="alert">{{ t('card.error', { what: tabLabel(), error: $any(e).message }) }}</p>
        } @else if (data.isLoading() && !data.hasValue()) {
          <p class="muted empty">{{ t('card.loading') }}</p>
        } @else if (rows().length === 0) {
          <p class="muted empty">{{ state().filters.length ? t('card.noDataFiltered') : t('card.noData') }}</p>
        } @else {
          <ol class="rows" [class.stale]="data.isLoading()">
            @for (r of rows(); track r.key) {
              <li>
                <button
                  type="button"
                  class="row"
                  [disabled]="r.value === null"
                  (click)="clickRow(r.value)"
                  [title]="r.label"
                  data-testid="row"
                >
                  <span class="bar" [style.width.%]="r.share"></span>
                  <hk-dim-label class="row-label" [dim]="dim()" [value]="r.value" />
                  @if (engagement()) {
                    <span class="row-extra" data-metric="scroll_depth" [attr.data-value]="r.scroll">{{ r.scroll == null ? '—' : r.scroll + '%' }}</span>
                    <span class="row-extra" data-metric="time_on_page" [attr.data-value]="r.time">{{ r.time == null ? '—' : duration(r.time) }}</span>
                  }
                  <span class="row-value" [attr.data-value]="r.raw">{{ r.visitors }}</span>
                  @if (r.change; as c) {
                    <span class="row-change" [class]="'tone-' + c.tone">{{ c.arrow }}{{ c.text }}</span>
                  }
                </button>
              </li>
            }
          </ol>
        }
        @if (rows().length) {
          <button type="button" class="more" (click)="detailsOpen.set(true)" data-testid="details">{{ t('card.details') }}</button>
        }
      }
    </section>
    @if (detailsOpen()) {
      <hk-details-dialog
        [heading]="t('details.title', { card: t($any(title())), tab: tabLabel() })"
        [dim]="dim()"
        [column]="tabLabel()"
        [site]="site()"
        [state]="state()"
        (closed)="detailsOpen.set(false)"
        (filter)="detailsOpen.set(false); filter.emit($event)"
      />
    }
  `,
})
export class BreakdownCard {
  protected readonly t = t;
  protected readonly duration = formatDuration;
  private readonly stats = inject(Stats);
  readonly title = input.required<string>();
  readonly tabs = input.required<BreakdownTab[]>();
  readonly site = input.required<string>();
  readonly state = input.required<DashState>();
  readonly filter = output<Filter>();

  /** A stable name for tests and styles (`Pages`, `Sources`, ...), whatever the language. */
  readonly cardId = computed(() => this.title().replace(/^card\./, '').replace(/^./, (c) => c.toUpperCase()));
  readonly tabIndex = signal(0);
  readonly choice = signal<string | null>(null);
  readonly detailsOpen = signal(false);
  readonly tab = computed(() => this.tabs()[this.tabIndex()] ?? this.tabs()[0]);
  readonly dim = computed(() => {
    const tb = this.tab();
    const c = this.choice();
    return tb.choices?.some((x) => x.dim === c) ? c! : tb.dim;
  });
  readonly tabLabel = computed(() => this.tab().choices?.find((c) => c.dim === this.dim())?.label ?? t(this.tab().label as I18nKey));

  /** Top pages also show Plausible's scroll depth and time on page (from engaged time). */
  readonly engagement = computed(() => this.dim() === 'event:page');

  readonly data = resource({
    params: () =>
      this.tab().map
        ? undefined
        : buildQuery(this.site(), this.state(), { metrics: this.engagement() ? ['visitors', 'scroll_depth', 'time_on_page'] : ['visitors'], dimensions: [this.dim()], orderBy: [['visitors', 'desc']], limit: SHORT, totalRows: true }),
    loader: ({ params, abortSignal }) => this.stats.query(params, abortSignal),
  });

  readonly rows = computed(() => {
    if (!this.data.hasValue() || !this.data.value()) return [];
    const results = this.data.value().results;
    const max = Math.max(1, ...results.map((r) => metricAt(r, 0) ?? 0));
    return results.map((r, i) => {
      const raw = r.dimensions[0];
      const value = raw == null || raw === '' ? null : String(raw);
      const n = metricAt(r, 0) ?? 0;
      return {
        key: `${i}:${value}`,
        value,
        label: dimText(this.dim(), value),
        raw: n,
        visitors: formatCount(n),
        share: (n / max) * 100,
        change: r.comparison ? formatChange(changeAt(r, 0)) : null,
        scroll: this.engagement() ? metricAt(r, 1) : null,
        time: this.engagement() ? metricAt(r, 2) : null,
      };
    });
  });

  pick(i: number): void {
    this.tabIndex.set(i);
    this.choice.set(null);
  }

  /** Arrow keys move between tabs (WAI-ARIA tabs pattern); the tab row is one stop for Tab. */
  tabKey(e: KeyboardEvent, i: number): void {
    const n = this.tabs().length;
    const next = e.key === 'ArrowRight' ? (i + 1) % n : e.key === 'ArrowLeft' ? (i + n - 1) % n : e.key === 'Home' ? 0 : e.key === 'End' ? n - 1 : -1;
    if (next < 0) return;
    e.preventDefault();
    this.pick(next);
    const buttons = (e.target as HTMLElement).parentElement?.querySelectorAll<HTMLButtonElement>('[role=tab]');
    buttons?.[next]?.focus();
  }

  clickRow(value: string | null): void {
    if (value !== null) this.filter.emit({ op: 'is', dim: this.dim(), values: [value] });
  }
}
