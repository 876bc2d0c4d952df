import { Component, computed, inject, resource, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { Stats, metricAt } from '../../core/stats';
import { SiteContext } from '../../core/site-context';
import { type Comparison, type Filter, type Interval, type Period, SEGMENT, apiFilters, withFilter, withoutFilter } from '../../core/dash-state';
import { Api, ok, type Schemas } from '../../api/api';
import { Auth } from '../../core/auth';
import { BreakdownCard, type BreakdownTab } from './breakdown-card';
import { KpiRow } from './kpi-row';
import { Realtime } from './realtime';
import { TimeChart } from './time-chart';
import { GoalsCard } from './goals-card';
import { ShortcutsHelp } from './shortcuts-help';
import { t } from '../../core/i18n';
import { Toolbar } from './toolbar';
import { VitalsCard } from './vitals-card';
import { injectDashUrl } from './dash-url';

const UTM = ['source', 'medium', 'campaign', 'content', 'term'].map((p) => ({ label: `UTM ${p}`, dim: `visit:utm_${p}` }));

/** The breakdown cards; labels are i18n keys. */
export const CARDS: { title: string; tabs: BreakdownTab[] }[] = [
  {
    title: 'card.pages',
    tabs: [
      { label: 'card.topPages', dim: 'event:page' },
      { label: 'card.entryPages', dim: 'visit:entry_page' },
      { label: 'card.exitPages', dim: 'visit:exit_page' },
    ],
  },
  {
    title: 'card.sources',
    tabs: [
      { label: 'card.sources', dim: 'visit:source' },
      { label: 'card.referrers', dim: 'visit:referrer' },
      { label: 'card.channels', dim: 'visit:channel' },
      { label: 'card.utm', dim: 'visit:utm_source', choices: UTM },
    ],
  },
  {
    title: 'card.locations',
    tabs: [
      { label: 'card.map', dim: 'visit:country', map: true },
      { label: 'card.countries', dim: 'visit:country' },
      { label: 'card.regions', dim: 'visit:region_name' },
      { label: 'card.cities', dim: 'visit:city_name' },
    ],
  },
  {
    title: 'card.devices',
    tabs: [
      { label: 'card.browsers', dim: 'visit:browser' },
      { label: 'card.os', dim: 'visit:os' },
      { label: 'card.devices', dim: 'visit:device' },
      { label: 'card.screens', dim: 'visit:screen' },
      { label: 'card.languages', dim: 'visit:language' },
    ],
  },
];

/** Plausible's range shortcuts. */
const SHORTCUT_PERIODS: Record<string, Period> = { d: 'day', '7': '7d', '3': '30d', m: 'month', y: '12mo' };

/** The site dashboard: everything is derived from the URL, so any view can be linked. */
@Component({
  selector: 'hk-dashboard',
  imports: [Toolbar, KpiRow, TimeChart, BreakdownCard, GoalsCard, Realtime, VitalsCard, RouterLink, ShortcutsHelp],
  host: { '(document:keydown)': 'onKey($event)' },
  template: `
    @if (site(); as s) {
      <hk-toolbar
        [state]="state()"
        (periodChange)="setPeriod($event)"
        (compareChange)="setCompare($event)"
        (removeFilter)="removeFilter($event)"
        (clearFilters)="set({ filters: [] })"
        (help)="helpOpen.set(true)"
        [segments]="segments()"
        [canSave]="!ctx.readOnly()"
        (pickSegment)="pickSegment($event)"
        (saveSegment)="saveSegment(s)"
      >
        <span class="spacer"></span>
        <hk-realtime [site]="s" />
      </hk-toolbar>
      @if (neverTracked()) {
        <p class="notice" data-testid="no-data">
          {{ t('dash.noHits', { site: s }) }}
          @if (!ctx.readOnly()) {
            <a [routerLink]="[ctx.base(), 'settings']">{{ t('dash.install') }}</a>
          }
        </p>
      }
 <hk-kpi-row [site]="s" [state]="state()" [revenue]="revenue()" [selected]="state().metric" (select)="set({ metric: $event })" />
      <hk-time-chart [site]="s" [state]="state()" [manage]="canAnnotate()" (intervalChange)="setInterval($event)" />
      <div class="cards">
        @for (c of cards; track c.title) {
          <hk-breakdown-card [title]="c.title" [tabs]="c.tabs" [site]="s" [state]="state()" (filter)="addFilter($event)" />
        }
      </div>
      <hk-goals-card [site]="s" [base]="ctx.base()" [revenue]="revenue()" [manage]="!ctx.readOnly()" [state]="state()" (filter)="addFilter($event)" />
      <hk-vitals-card [site]="s" [state]="state()" />
      @if (helpOpen()) {
        <hk-shortcuts-help (closed)="helpOpen.set(false)" />
      }
    }
  `,
})
export class Dashboard {
  readonly ctx = inject(SiteContext);
  private readonly stats = inject(Stats);
  private readonly url = injectDashUrl();
  readonly cards = CARDS;
  readonly helpOpen = signal(false);
  protected readonly t = t;
  readonly site = computed(() => this.ctx.site()?.domain);
  readonly state = this.url.state;
  /** Whether the site has never received a hit (asked once per site, not per filter). */
  private readonly ever = resource({
    params: () => this.site(),
    loader: ({ params, abortSignal }) => this.stats.query({ site_id: params!, date_range: 'all', metrics: ['pageviews'] }, abortSignal),
  });
  private readonly api = inject(Api);
  private readonly auth = inject(Auth);
  /** Site admins and owners write annotations; viewers and share links only see them. */
  readonly canAnnotate = computed(() => !this.ctx.readOnly() && this.auth.canManage(this.site() ?? ''));
  /** The saved segments the caller sees (none in a share view: its link may be limited to one). */
  private readonly segmentList = resource({
    params: () => (this.ctx.readOnly() ? undefined : this.site()),
    // One operation path answers the list (200) and a created segment (201): the list is what GET gives.
    loader: ({ params, abortSignal }) =>
      ok(this.api.client.GET('/sites/{site}/segments', { params: { path: { site: params } }, signal: abortSignal })) as Promise<Schemas['SegmentView'][]>,
  });
  readonly segments = computed(() => (this.segmentList.hasValue() ? this.segmentList.value().map((s) => ({ id: s.id, name: s.name })) : []));
  /** Whether the site has a revenue goal: then revenue shows on the goals card and as a KPI. */
  private readonly goals = resource({
    params: () => this.site(),
    loader: ({ params, abortSignal }) =>
      ok(this.api.client.GET('/sites/{site}/goals', { params: { path: { site: params! } }, signal: abortSignal })) as Promise<Schemas['GoalView'][]>,
  });
  readonly revenue = computed(() => this.goals.hasValue() && this.goals.value().some((g) => !!g.currency));
  readonly neverTracked = computed(() => this.ever.hasValue() && (metricAt(this.ever.value().results[0], 0) ?? 0) === 0);

  set(patch: Partial<ReturnType<typeof this.state>>): void {
    void this.url.set({ ...this.state(), ...patch });
  }

  setPeriod(p: { period: Period; from?: string; to?: string }): void {
    this.set({ period: p.period, from: p.from, to: p.to, interval: undefined });
  }

  setCompare(c: Comparison): void {
    this.set({ compare: c });
  }

  setInterval(i: Interval): void {
    this.set({ interval: i });
  }

  addFilter(f: Filter): void {
    void this.url.set(withFilter(this.state(), f));
  }

  /** d, 7, 3/m, y pick a range, c toggles the comparison, ? shows the list; never while typing or with a modifier. */
  onKey(e: KeyboardEvent): void {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    const el = e.target as HTMLElement | null;
    if (el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) || el.closest('[role=dialog],[role=listbox],[role=combobox]'))) return;
    const key = e.key.toLowerCase();
    if (key === '?') {
      this.helpOpen.set(true);
    } else if (key === 'c') {
      this.setCompare(this.state().compare === 'off' ? 'previous_period' : 'off');
    } else if (SHORTCUT_PERIODS[key]) {
      this.setPeriod({ period: SHORTCUT_PERIODS[key] });
    } else {
      return;
    }
    e.preventDefault();
  }

  pickSegment(id: number | null): void {
    const rest = this.state().filters.filter((f) => f.dim !== SEGMENT);
    this.set({ filters: id === null ? rest : [...rest, { op: 'is', dim: SEGMENT, values: [String(id)] }] });
  }

  /** Saves the current filters as a segment (site-wide when a site manager says so) and applies it in their place. */
  async saveSegment(site: string): Promise<void> {
    const name = prompt(t('segment.namePrompt'))?.trim();
    if (!name) return;
    const manager = ['owner', 'admin'].includes(this.auth.role(site) ?? '');
    const type = manager && confirm(t('segment.siteWidePrompt')) ? 'site' : 'personal';
    const filters = this.state().filters.filter((f) => f.dim !== SEGMENT);
    try {
      const body = { name, type, segment_data: { filters: apiFilters(filters) } };
      const s = (await ok(this.api.client.POST('/sites/{site}/segments', { params: { path: { site } }, body }))) as Schemas['SegmentView'];
      this.segmentList.reload();
      this.set({ filters: [{ op: 'is', dim: SEGMENT, values: [String(s.id)] }] });
    } catch (e) {
      alert((e as Error).message);
    }
  }

  removeFilter(dim: string): void {
    void this.url.set(withoutFilter(this.state(), dim));
  }
}
