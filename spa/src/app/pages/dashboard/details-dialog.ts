import { Component, computed, inject, input, output, resource, signal } from '@angular/core';
import { DialogModule } from 'primeng/dialog';
import { Stats, metricAt } from '../../core/stats';
import { type DashState, type Filter, type MetricKind, buildQuery } from '../../core/dash-state';
import { formatMetric, formatRate } from '../../core/format';
import type { QueryRequest, QueryResponse } from '../../api/api';
import { type I18nKey, t } from '../../core/i18n';
import { DimLabel, dimText } from '../../shared/dim-label';

const PAGE = 20;

interface Column {
  id: string;
  kind: MetricKind | 'rate';
}

/** The metrics the Stats API allows per kind of dimension (rates only with goals, visit metrics not with events). */
export function detailMetrics(dim: string): Column[] {
  if (dim === 'event:goal') return [{ id: 'visitors', kind: 'count' }, { id: 'events', kind: 'count' }, { id: 'conversion_rate', kind: 'rate' }];
  if (dim === 'event:name' || dim.startsWith('event:props:')) return [{ id: 'visitors', kind: 'count' }, { id: 'events', kind: 'count' }];
  return [
    { id: 'visitors', kind: 'count' },
    { id: 'visits', kind: 'count' },
    { id: 'pageviews', kind: 'count' },
    { id: 'bounce_rate', kind: 'percent' },
    { id: 'visit_duration', kind: 'duration' },
  ];
}

/** Searching countries by name: the code dimension only matches `FR`, the name dimension `France`. */
const searchDim = (dim: string) => (dim === 'visit:country' ? 'visit:country_name' : dim);

/** RFC 4180 field. */
const csvField = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

/** Plausible-style details of one breakdown: search, sort by any column, every metric, pages over the API, CSV of the page shown. */
@Component({
  selector: 'hk-details-dialog',
  imports: [DialogModule, DimLabel],
  template: `
    <p-dialog [visible]="true" (visibleChange)="!$event && closed.emit()" [modal]="true" [header]="heading()" [style]="{ width: 'min(60rem, 96vw)' }" [dismissableMask]="true" [closeAriaLabel]="t('details.close')">
      <div class="details-bar">
        <input type="search" class="p-inputtext details-search" [attr.aria-label]="t('details.search')" [placeholder]="t('details.search')" [value]="search()" (input)="onSearch($any($event.target).value)" data-testid="details-search" />
        <span class="spacer"></span>
        <button type="button" class="p-button p-button-sm p-button-outlined" (click)="download()" [disabled]="!rows().length" data-testid="details-csv"><i class="pi pi-download" aria-hidden="true"></i> {{ t('details.csv') }}</button>
      </div>
      <div class="details-table-wrap" [class.stale]="data.isLoading()">
        <table class="details-table" data-testid="details-table">
          <thead>
            <tr>
              @for (c of headers(); track c.id) {
                <th scope="col" [attr.aria-sort]="sort()[0] === c.id ? (sort()[1] === 'asc' ? 'ascending' : 'descending') : 'none'" [class.num]="c.id !== 'dim'">
                  <button type="button" class="th-sort" (click)="sortBy(c.id)" [attr.data-sort]="c.id">
                    {{ c.label }}
                    <i class="pi" [class.pi-sort-amount-down]="sort()[0] === c.id && sort()[1] === 'desc'" [class.pi-sort-amount-up-alt]="sort()[0] === c.id && sort()[1] === 'asc'" [class.pi-sort-alt]="sort()[0] !== c.id" aria-hidden="true"></i>
                  </button>
                </th>
              }
            </tr>
          </thead>
          <tbody>
            @for (r of rows(); track $index) {
              <tr data-testid="details-row">
                <td>
                  @if (r.value !== null) {
                    <button type="button" class="link-button" (click)="filter.emit({ op: 'is', dim: dim(), values: [r.value] })"><hk-dim-label [dim]="dim()" [value]="r.value" /></button>
                  } @else {
                    <hk-dim-label [dim]="dim()" [value]="null" />
                  }
                </td>
                @for (v of r.cells; track $index) {
                  <td class="num" [attr.data-value]="r.raw[$index]">{{ v }}</td>
                }
              </tr>
            } @empty {
              <tr><td [attr.colspan]="headers().length" class="muted empty">{{ data.isLoading() ? t('card.loading') : t('card.noData') }}</td></tr>
            }
          </tbody>
        </table>
      </div>
      @if (data.error(); as e) {
        <p class="error-line" role="alert">{{ $any(e).message }}</p>
      }
      <div class="details-pager">
        <span class="muted" data-testid="details-range">{{ rangeText() }}</span>
        <span class="spacer"></span>
        <button type="button" class="p-button p-button-sm p-button-text" [disabled]="offset() === 0" (click)="offset.set(offset() - PAGE)">{{ t('details.previous') }}</button>
        <button type="button" class="p-button p-button-sm p-button-text" [disabled]="offset() + PAGE >= total()" (click)="offset.set(offset() + PAGE)" data-testid="details-next">{{ t('details.next') }}</button>
      </div>
    </p-dialog>
  `,
})
export class DetailsDialog {
  protected readonly t = t;
  protected readonly PAGE = PAGE;
  private readonly stats = inject(Stats);
  readonly heading = input.required<string>();
  readonly dim = input.required<string>();
  /** The name of the dimension column (the tab's label). */
  readonly column = input.required<string>();
  readonly site = input.required<string>();
  readonly state = input.required<DashState>();
  readonly closed = output<void>();
  readonly filter = output<Filter>();

  readonly search = signal('');
  readonly sort = signal<[string, 'asc' | 'desc']>(['visitors', 'desc']);
  readonly offset = signal(0);
  readonly columns = computed(() => detailMetrics(this.dim()));
  readonly headers = computed(() => [
    { id: 'dim', label: this.column() },
    ...this.columns().map((c) => ({ id: c.id, label: t(`metric.${c.id}` as I18nKey) })),
  ]);

  private searchTimer: ReturnType<typeof setTimeout> | undefined;

  readonly data = resource({
    params: () => {
      const [by, dir] = this.sort();
      const q = buildQuery(this.site(), this.state(), {
        metrics: this.columns().map((c) => c.id),
        dimensions: [this.dim()],
        filters: this.search() ? [{ op: 'contains', dim: searchDim(this.dim()), values: [this.search()] }] : [],
        orderBy: [[by === 'dim' ? this.dim() : by, dir]],
        totalRows: true,
        noCompare: true,
      });
      q.pagination = { limit: PAGE, offset: this.offset() };
      return q;
    },
    loader: ({ params, abortSignal }) => (this.search() && this.dim().startsWith('event:') ? this.searchEvents(params, abortSignal) : this.stats.query(params, abortSignal)),
  });

  /**
   * With visit metrics (visits, bounce rate, duration) the API applies an event:page filter to whole visits,
   * so a search would list every page of the matching visits. So: the matching rows come from a query with
   * event metrics only (filtered per page), and their visit metrics from a second query on exactly those values.
   */
  private async searchEvents(q: QueryRequest, signal: AbortSignal): Promise<QueryResponse> {
    const eventLevel = ['visitors', 'pageviews', 'events'];
    const [by, dir] = q.order_by?.[0] ?? ['visitors', 'desc'];
    const serverSort = by === this.dim() || eventLevel.includes(by);
    const first = await this.stats.query({ ...q, metrics: q.metrics.filter((m) => eventLevel.includes(m)), order_by: serverSort ? q.order_by : [['visitors', 'desc']] }, signal);
    const values = first.results.map((r) => r.dimensions[0]).filter((v) => v != null);
    if (!values.length) return first;
    const base = (q.filters ?? []).slice(0, -1); // the dashboard's filters without the search
    const second = await this.stats.query({ ...q, filters: [...base, ['is', this.dim(), values]], pagination: { limit: 1000 }, include: undefined }, signal);
    const byValue = new Map(second.results.map((r) => [String(r.dimensions[0]), r]));
    const results = first.results.map((r) => ({ dimensions: r.dimensions, metrics: byValue.get(String(r.dimensions[0]))?.metrics ?? q.metrics.map(() => null) }));
    if (!serverSort) {
      const i = q.metrics.indexOf(by);
      results.sort((a, b) => (Number(a.metrics[i] ?? 0) - Number(b.metrics[i] ?? 0)) * (dir === 'asc' ? 1 : -1));
    }
    return { ...first, results };
  }

  readonly total = computed(() => (this.data.hasValue() ? (this.data.value().meta.total_rows ?? 0) : 0));
  readonly rows = computed(() => {
    if (!this.data.hasValue()) return [];
    const cols = this.columns();
    return this.data.value().results.map((r) => {
      const d = r.dimensions[0];
      const value = d == null || d === '' ? null : String(d);
      const raw = cols.map((_c, i) => metricAt(r, i));
      return { value, raw, cells: cols.map((c, i) => (c.kind === 'rate' ? formatRate(raw[i]) : formatMetric(raw[i], c.kind))) };
    });
  });
  readonly rangeText = computed(() =>
    this.total() === 0 ? '' : t('details.range', { from: this.offset() + 1, to: this.offset() + this.rows().length, total: this.total() }),
  );

  onSearch(v: string): void {
    clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(() => {
      this.search.set(v.trim());
      this.offset.set(0);
    }, 250);
  }

  /** A click on the sorted column flips the direction; another column starts high to low (names A to Z). */
  sortBy(id: string): void {
    const [by, dir] = this.sort();
    this.sort.set(by === id ? [id, dir === 'desc' ? 'asc' : 'desc'] : [id, id === 'dim' ? 'asc' : 'desc']);
    this.offset.set(0);
  }

  /** The rows and columns on screen as CSV (values unformatted, so spreadsheets can compute with them). */
  download(): void {
    const head = this.headers().map((h) => csvField(h.label));
    const lines = this.rows().map((r) => [csvField(dimText(this.dim(), r.value)), ...r.raw.map((v) => (v == null ? '' : String(v)))].join(','));
    const blob = new Blob([[head.join(','), ...lines].join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${this.site()}-${this.dim().replaceAll(':', '-')}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }
}
