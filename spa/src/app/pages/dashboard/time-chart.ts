import { Component, ElementRef, OnDestroy, computed, effect, inject, input, output, resource, signal, viewChild } from '@angular/core';
import uPlot from 'uplot';
import { Stats } from '../../core/stats';
import { chartSeries } from './chart-data';
import { type DashState, type Interval, KPI_METRICS, allowedIntervals, buildQuery, dateRangeParam, interval } from '../../core/dash-state';
import { Api, ok, type Schemas } from '../../api/api';
import { formatBucket, formatMetric } from '../../core/format';
import { Theme } from '../../core/theme';
import { type I18nKey, locale, t } from '../../core/i18n';
import { ButtonModule } from 'primeng/button';
import { AnnotationDialog, type AnnotationDraft } from './annotation-dialog';

type Annotation = Schemas['AnnotationView'];

/** An annotation's place on the chart: its day's start (seconds, wall clock encoded as UTC). */
export function annotationTime(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / 1000;
}

/** A short axis label of a bucket start (seconds, wall clock encoded as UTC). */
function axisLabel(t: number, iv: Interval): string {
  const d = new Date(t * 1000);
  return iv === 'month'
    ? d.toLocaleDateString(locale(), { month: 'short', year: 'numeric', timeZone: 'UTC' })
    : d.toLocaleDateString(locale(), { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

@Component({
  selector: 'hk-time-chart',
  imports: [ButtonModule, AnnotationDialog],
  template: `
    <section class="card chart-card">
      <header class="card-head">
        <h2>{{ metricLabel() }}</h2>
        <div class="card-tabs" role="tablist" [attr.aria-label]="t('chart.interval')">
          @for (i of intervals(); track i) {
            <button type="button" role="tab" [class.active]="i === current()" [attr.aria-selected]="i === current()" (click)="intervalChange.emit(i)" [attr.data-interval]="i">{{ t($any('chart.' + i)) }}</button>
          }
        </div>
      </header>
      @if (legend(); as l) {
        <div class="chart-legend" data-testid="chart-legend" aria-live="polite">
          <span class="legend-item">
            <span class="swatch current" aria-hidden="true"></span>
            <span class="muted">{{ l.label }}</span>
            <strong data-testid="legend-current" [attr.data-value]="l.current">{{ l.currentText }}</strong>
          </span>
          @if (l.previousText !== null) {
            <span class="legend-item">
              <span class="swatch previous" aria-hidden="true"></span>
              <span class="muted">{{ t('chart.comparison') }}{{ l.previousLabel ? ' · ' + l.previousLabel : '' }}</span>
              <strong data-testid="legend-previous" [attr.data-value]="l.previous">{{ l.previousText }}</strong>
            </span>
          }
        </div>
      }
      @if (data.error(); as e) {
        <p class="error-line" role="alert">{{ t('chart.error', { error: $any(e).message }) }}</p>
      }
      <div class="chart-wrap">
        <div class="chart" #host [class.stale]="data.isLoading()" [class.can-annotate]="manage()" [attr.title]="manage() ? t('annotations.clickHint') : null" data-testid="time-chart"></div>
        @for (p of pins(); track p.id) {
          <span class="annotation-pin" data-testid="annotation-pin" [style.left.px]="p.left" [style.top.px]="p.top" [attr.title]="p.label" [attr.aria-label]="p.label" role="img"></span>
        }
      </div>
      @if (data.hasValue() && empty()) {
        <p class="muted empty chart-empty">{{ t('chart.empty') }}</p>
      }
      @if (noteError(); as e) {
        <p class="error-line" role="alert">{{ e }}</p>
      }
      @if (annotations().length || manage()) {
        <div class="chart-notes-row">
          @if (annotations().length) {
            <ul class="chart-notes" data-testid="chart-annotations" [attr.aria-label]="t('annotations.title')">
              @for (a of annotations(); track a.id) {
                <li data-testid="annotation" [attr.data-date]="a.date">
                  <span class="note-mark" aria-hidden="true"></span>
                  <time [attr.datetime]="a.date">{{ noteDate(a.date) }}</time>
                  <span>{{ a.note }}</span>
                  @if (manage()) {
                    <p-button icon="pi pi-pencil" [text]="true" size="small" (onClick)="editNote(a)" [ariaLabel]="t('annotations.editNamed', { note: a.note })" data-testid="annotation-edit" />
                    <p-button icon="pi pi-trash" [text]="true" severity="danger" size="small" (onClick)="deleteNote(a)" [ariaLabel]="t('annotations.deleteNamed', { note: a.note })" data-testid="annotation-delete" />
                  }
                </li>
              }
            </ul>
          }
          @if (manage()) {
            <p-button [label]="t('annotations.add')" icon="pi pi-plus" [text]="true" size="small" (onClick)="editNote(null)" data-testid="annotation-add" />
          }
        </div>
      }
      @if (draft(); as d) {
        <hk-annotation-dialog [site]="site()" [draft]="d" (closed)="noteClosed($event)" />
      }
    </section>
  `,
})
export class TimeChart implements OnDestroy {
  private readonly stats = inject(Stats);
  private readonly api = inject(Api);
  private readonly theme = inject(Theme);
  readonly site = input.required<string>();
  readonly state = input.required<DashState>();
  /** Whether the caller writes annotations (site admins and owners): add, edit, delete, click a day. */
  readonly manage = input(false);
  readonly intervalChange = output<Interval>();
  readonly host = viewChild.required<ElementRef<HTMLDivElement>>('host');

  readonly current = computed(() => interval(this.state()));
  readonly intervals = computed(() => allowedIntervals(this.state()));
  readonly metric = computed(() => KPI_METRICS.find((m) => m.id === this.state().metric) ?? KPI_METRICS[0]);
  readonly metricLabel = computed(() => t(`kpi.${this.metric().id}` as I18nKey));
  protected readonly t = t;
  /** The bucket under the cursor; null when the cursor is off the chart (then the current bucket is shown). */
  readonly hovered = signal<number | null>(null);
  readonly series = computed(() => {
    if (!this.data.hasValue()) return null;
    const res = this.data.value();
    return chartSeries(res.meta.time_labels ?? [], res.results);
  });
  /** The bucket that holds "now" (the last one that has started), shown when nothing is hovered. */
  readonly nowIndex = computed(() => {
    const s = this.series();
    if (!s || !s.x.length) return -1;
    const wallNow = Date.now() / 1000 - new Date().getTimezoneOffset() * 60;
    let i = s.x.length - 1;
    while (i > 0 && s.x[i] > wallNow) i--;
    return i;
  });
  readonly legend = computed(() => {
    const s = this.series();
    if (!s || !s.x.length || !this.data.hasValue()) return null;
    const i = this.hovered() ?? this.nowIndex();
    const labels = this.data.value().meta.time_labels ?? [];
    const kind = this.metric().kind;
    const prevRow = this.data.value().results.find((r) => String(r.dimensions[0]) === labels[i]);
    const prevLabel = prevRow?.comparison && (prevRow.comparison as { dimensions?: unknown[] }).dimensions?.[0];
    return {
      label: formatBucket(labels[i] ?? '', this.current()),
      current: s.current[i],
      currentText: formatMetric(s.current[i], kind),
      previous: s.previous ? s.previous[i] : null,
      previousText: s.previous ? formatMetric(s.previous[i], kind) : null,
      previousLabel: typeof prevLabel === 'string' ? formatBucket(prevLabel, this.current()) : '',
    };
  });

  readonly data = resource({
    params: () =>
      buildQuery(this.site(), this.state(), { metrics: [this.metric().id], dimensions: [`time:${this.current()}`], timeLabels: true }),
    loader: ({ params, abortSignal }) => this.stats.query(params, abortSignal),
  });
  readonly empty = computed(() => this.data.hasValue() && this.data.value().results.length === 0);

  /** Dated notes of the period (deploys, campaigns), drawn as markers on the chart. */
  readonly notes = resource({
    params: () => ({ site: this.site(), date_range: dateRangeParam(this.state()) }),
    loader: ({ params, abortSignal }) =>
      ok(
        this.api.client.GET('/sites/{site}/annotations', {
          params: { path: { site: params.site }, query: { date_range: params.date_range } },
          signal: abortSignal,
        }),
      ) as Promise<Annotation[]>,
  });
  readonly annotations = computed(() => (this.notes.hasValue() ? this.notes.value() : []));
  /** Marker positions over the plot, in CSS pixels from the chart's left edge. */
  readonly pins = signal<{ id: number; left: number; top: number; label: string }[]>([]);
  protected noteDate(date: string): string {
    return new Date(annotationTime(date) * 1000).toLocaleDateString(locale(), { month: 'short', day: 'numeric', timeZone: 'UTC' });
  }

  /** The annotation being written in the dialog, if any. */
  readonly draft = signal<AnnotationDraft | null>(null);
  readonly noteError = signal('');

  /** Opens the dialog for a new note (on `date`, default today) or to change `a`. */
  editNote(a: Annotation | null, date?: string): void {
    this.noteError.set('');
    const today = new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 10);
    this.draft.set(a ? { id: a.id, date: a.date, note: a.note } : { date: date ?? today, note: '' });
  }

  noteClosed(saved: boolean): void {
    this.draft.set(null);
    if (saved) this.notes.reload();
  }

  async deleteNote(a: Annotation): Promise<void> {
    if (!confirm(t('annotations.deleteConfirm', { note: a.note }))) return;
    this.noteError.set('');
    try {
      await ok(this.api.client.DELETE('/sites/{site}/annotations/{id}', { params: { path: { site: this.site(), id: a.id } } }));
      this.notes.reload();
    } catch (e) {
      this.noteError.set(t('annotations.deleteFailed', { error: (e as Error).message }));
    }
  }

  /** A click on the plot opens a new note on the clicked bucket's day. */
  private clickedDay(u: uPlot): void {
    const s = this.series();
    const i = u.cursor.idx;
    if (!this.manage() || !s || i == null || s.x[i] == null) return;
    this.editNote(null, new Date(s.x[i] * 1000).toISOString().slice(0, 10));
  }

  private plot: uPlot | null = null;
  private lastWidth = 0;
  // Only width changes redraw, on the next frame: resizing the plot changes the host's height,
  // which must not feed back into the observer (a "ResizeObserver loop" error).
  private readonly resize = new ResizeObserver(() => {
    const w = this.host().nativeElement.clientWidth;
    if (w === this.lastWidth) return;
    this.lastWidth = w;
    requestAnimationFrame(() => this.plot?.setSize(this.size()));
  });

  constructor() {
    effect(() => {
      const dark = this.theme.dark();
      locale(); // axis labels follow the language
      const s = this.series();
      if (!s) return;
      this.hovered.set(null);
      this.draw(s, dark);
    });
    effect(() => this.resize.observe(this.host().nativeElement));
    // New annotations: repaint the lines (the draw hook places the markers too).
    effect(() => {
      this.annotations();
      if (this.plot) this.plot.redraw(false, false);
      else this.pins.set([]);
    });
  }

  /** The x of an annotation within the plotted buckets, or null when it falls outside them. */
  private noteX(date: string): number | null {
    const s = this.series();
    if (!s || !s.x.length) return null;
    const at = annotationTime(date);
    const step = s.x.length > 1 ? s.x[1] - s.x[0] : 86400;
    if (at < s.x[0] - 86400 || at >= s.x[s.x.length - 1] + Math.max(step, 86400)) return null;
    return Math.min(Math.max(at, s.x[0]), s.x[s.x.length - 1]);
  }

  /** Places the HTML markers over the canvas lines the draw hook paints (after each draw: the
   * scales are set then). */
  private placePins(u: uPlot | null = this.plot): void {
    if (!u) return this.pins.set([]);
    const [over, host] = [u.over.getBoundingClientRect(), this.host().nativeElement.getBoundingClientRect()];
    const top = over.top - host.top - 12;
    const pins = [];
    for (const a of this.annotations()) {
      const x = this.noteX(a.date);
      if (x === null) continue;
      pins.push({ id: a.id, left: over.left - host.left + u.valToPos(x, 'x'), top, label: `${this.noteDate(a.date)} · ${a.note}` });
    }
    this.pins.set(pins);
  }

  /** A dashed vertical line per annotation (the draw hook). */
  private drawNotes(u: uPlot): void {
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = '#f59e0b';
    ctx.lineWidth = 1.5 * devicePixelRatio;
    ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
    for (const a of this.annotations()) {
      const x = this.noteX(a.date);
      if (x === null) continue;
      const px = Math.round(u.valToPos(x, 'x', true));
      ctx.beginPath();
      ctx.moveTo(px, u.bbox.top);
      ctx.lineTo(px, u.bbox.top + u.bbox.height);
      ctx.stroke();
    }
    ctx.restore();
    this.placePins(u);
  }

  private size() {
    const el = this.host().nativeElement;
    return { width: Math.max(200, el.clientWidth), height: el.clientWidth < 500 ? 180 : 240 };
  }

  private draw(s: ReturnType<typeof chartSeries>, dark: boolean): void {
    this.plot?.destroy();
    const kind = this.metric().kind;
    const iv = this.current();
    const fg = dark ? '#a1a1aa' : '#52525b';
    const grid = dark ? 'rgba(255,255,255,.07)' : 'rgba(0,0,0,.07)';
    const fmt = (v: number | null) => formatMetric(v, kind);
    const labels = this.data.hasValue() ? (this.data.value().meta.time_labels ?? []) : [];
    const series: uPlot.Series[] = [
      { value: (_u, _v, i) => (labels[i] ? formatBucket(labels[i], iv) : '') },
      { label: t('chart.current'), stroke: '#6366f1', width: 2, fill: dark ? 'rgba(99,102,241,.18)' : 'rgba(99,102,241,.12)', value: (_u, v) => fmt(v), points: { show: s.x.length < 40 } },
    ];
    const data: uPlot.AlignedData = [s.x, s.current];
    if (s.previous) {
      series.push({ label: t('chart.comparison'), stroke: fg, width: 1.5, dash: [5, 5], value: (_u, v) => fmt(v), points: { show: false } });
      data.push(s.previous);
    }
    this.plot = new uPlot(
      {
        ...this.size(),
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        cursor: { drag: { x: false, y: false } },
        // The legend is ours (above the chart): it shows the current bucket when nothing is hovered.
        legend: { show: false },
        hooks: { setCursor: [(u) => this.hovered.set(u.cursor.idx ?? null)], draw: [(u) => this.drawNotes(u)] },
        scales: { y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
        axes: [
          {
            stroke: fg,
            grid: { stroke: grid },
            ticks: { stroke: grid },
            // Days, weeks, months: ticks on bucket starts, labelled like the bucket, every k-th
            // bucket so that labels keep ~72 px apart at any width (phones included).
            ...(iv === 'week' || iv === 'month' || (iv === 'day' && s.x.length <= 14)
              ? {
                  splits: (u: uPlot) => {
                    const k = Math.max(1, Math.ceil((s.x.length * 72) / Math.max(1, u.width - 70)));
                    return s.x.filter((_t, i) => i % k === 0);
                  },
                  values: (_u: uPlot, splits: number[]) => splits.map((t) => axisLabel(t, iv)),
                }
              : {}),
          },
          { stroke: fg, grid: { stroke: grid }, ticks: { show: false }, values: (_u, vals) => vals.map((v) => fmt(v)), size: 56 },
        ],
        series,
      },
      data,
      this.host().nativeElement,
    );
    const plot = this.plot;
    plot.over.addEventListener('click', () => this.clickedDay(plot));
  }

  ngOnDestroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
  }
}
