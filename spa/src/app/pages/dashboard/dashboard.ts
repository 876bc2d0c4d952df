import { Component, computed, inject, resource } from '@angular/core';
import { RouterLink } from '@angular/router';
import { Stats, metricAt } from '../../core/stats';
import { SiteContext } from '../../core/site-context';
import { type Comparison, type Filter, type Interval, type Period, withFilter, withoutFilter } from '../../core/dash-state';
import { BreakdownCard, type BreakdownTab } from './breakdown-card';
import { KpiRow } from './kpi-row';
import { Realtime } from './realtime';
import { TimeChart } from './time-chart';
import { Toolbar } from './toolbar';
import { VitalsCard } from './vitals-card';
import { injectDashUrl } from './dash-url';

const UTM = ['source', 'medium', 'campaign', 'content', 'term'].map((p) => ({ label: `UTM ${p}`, dim: `visit:utm_${p}` }));

export const CARDS: { title: string; tabs: BreakdownTab[] }[] = [
  {
    title: 'Pages',
    tabs: [
      { label: 'Top pages', dim: 'event:page' },
      { label: 'Entry pages', dim: 'visit:entry_page' },
      { label: 'Exit pages', dim: 'visit:exit_page' },
    ],
  },
  {
    title: 'Sources',
    tabs: [
      { label: 'Sources', dim: 'visit:source' },
      { label: 'Referrers', dim: 'visit:referrer' },
      { label: 'Channels', dim: 'visit:channel' },
      { label: 'UTM', dim: 'visit:utm_source', choices: UTM },
    ],
  },
  {
    title: 'Locations',
    tabs: [
      { label: 'Countries', dim: 'visit:country_name' },
      { label: 'Regions', dim: 'visit:region_name' },
      { label: 'Cities', dim: 'visit:city_name' },
    ],
  },
  {
    title: 'Devices',
    tabs: [
      { label: 'Browsers', dim: 'visit:browser' },
      { label: 'OS', dim: 'visit:os' },
      { label: 'Devices', dim: 'visit:device' },
      { label: 'Screens', dim: 'visit:screen' },
      { label: 'Languages', dim: 'visit:language' },
    ],
  },
];

/** The site dashboard: everything is derived from the URL, so any view can be linked. */
@Component({
  selector: 'hk-dashboard',
  imports: [Toolbar, KpiRow, TimeChart, BreakdownCard, Realtime, VitalsCard, RouterLink],
  template: `
    @if (site(); as s) {
      <hk-toolbar
        [state]="state()"
        (periodChange)="setPeriod($event)"
        (compareChange)="setCompare($event)"
        (removeFilter)="removeFilter($event)"
        (clearFilters)="set({ filters: [] })"
      >
        <span class="spacer"></span>
        <hk-realtime [site]="s" />
      </hk-toolbar>
      @if (neverTracked()) {
        <p class="notice" data-testid="no-data">
          {{ s }} has not received any hit yet.
          @if (!ctx.readOnly()) {
            <a [routerLink]="[ctx.base(), 'settings']">Install the tracking snippet</a> to start counting.
          }
        </p>
      }
      <hk-kpi-row [site]="s" [state]="state()" [selected]="state().metric" (select)="set({ metric: $event })" />
      <hk-time-chart [site]="s" [state]="state()" (intervalChange)="setInterval($event)" />
      <div class="cards">
        @for (c of cards; track c.title) {
          <hk-breakdown-card [title]="c.title" [tabs]="c.tabs" [site]="s" [state]="state()" (filter)="addFilter($event)" />
        }
      </div>
      <hk-vitals-card [site]="s" [state]="state()" />
    }
  `,
})
export class Dashboard {
  readonly ctx = inject(SiteContext);
  private readonly stats = inject(Stats);
  private readonly url = injectDashUrl();
  readonly cards = CARDS;
  readonly site = computed(() => this.ctx.site()?.domain);
  readonly state = this.url.state;
  /** Whether the site has never received a hit (asked once per site, not per filter). */
  private readonly ever = resource({
    params: () => this.site(),
    loader: ({ params, abortSignal }) => this.stats.query({ site_id: params!, date_range: 'all', metrics: ['pageviews'] }, abortSignal),
  });
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

  removeFilter(dim: string): void {
    void this.url.set(withoutFilter(this.state(), dim));
  }
}
