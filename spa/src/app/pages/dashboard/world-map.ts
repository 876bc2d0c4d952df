import { Component, ElementRef, OnDestroy, computed, effect, inject, input, output, resource, signal, viewChild } from '@angular/core';
import type { JsVectorMapInstance } from 'jsvectormap';
import { Stats, metricAt } from '../../core/stats';
import { type DashState, type Filter, buildQuery } from '../../core/dash-state';
import { countryName, formatCount } from '../../core/format';
import { t } from '../../core/i18n';
import { Theme } from '../../core/theme';

/** jsvectormap and its world map (about 60 KB gzip together), loaded the first time a map is shown. */
let library: Promise<typeof import('jsvectormap').default> | null = null;
function loadMap() {
  library ??= import('jsvectormap').then(async (m) => {
    // The map file registers itself on the global the library sets (window.jsVectorMap).
    await import('jsvectormap/dist/maps/world.js');
    return m.default;
  });
  return library;
}

/** A choropleth of visitors per country; a click on a country filters the dashboard by it. */
@Component({
  selector: 'hk-world-map',
  template: `
    <figure class="world-map" [attr.aria-label]="t('map.label')" data-testid="world-map">
      <div #host class="world-map-host" [class.stale]="data.isLoading()"></div>
      @if (!ready()) {
        <p class="muted empty world-map-loading">{{ t('map.loading') }}</p>
      }
      @if (data.error(); as e) {
        <p class="error-line" role="alert">{{ $any(e).message }}</p>
      }
    </figure>
  `,
})
export class WorldMap implements OnDestroy {
  protected readonly t = t;
  private readonly stats = inject(Stats);
  private readonly theme = inject(Theme);
  readonly site = input.required<string>();
  readonly state = input.required<DashState>();
  readonly filter = output<Filter>();
  readonly host = viewChild.required<ElementRef<HTMLDivElement>>('host');
  readonly ready = signal(false);
  private map: JsVectorMapInstance | null = null;
  // The map keeps the size it was drawn at; follow the card's width (a phone turned, a window resized).
  private readonly resize = new ResizeObserver(() => requestAnimationFrame(() => this.map?.updateSize()));

  readonly data = resource({
    params: () => buildQuery(this.site(), this.state(), { metrics: ['visitors'], dimensions: ['visit:country'], limit: 300, noCompare: true }),
    loader: ({ params, abortSignal }) => this.stats.query(params, abortSignal),
  });
  readonly values = computed(() => {
    const v: Record<string, number> = {};
    if (this.data.hasValue()) for (const r of this.data.value().results) if (r.dimensions[0]) v[String(r.dimensions[0])] = metricAt(r, 0) ?? 0;
    return v;
  });

  constructor() {
    effect(() => {
      const values = this.values();
      const dark = this.theme.dark();
      this.t('map.label'); // redraw on a language switch (tooltips use country names)
      if (!this.data.hasValue()) return;
      void this.draw(values, dark);
    });
    effect(() => this.resize.observe(this.host().nativeElement));
  }

  private async draw(values: Record<string, number>, dark: boolean): Promise<void> {
    const JsVectorMap = await loadMap();
    this.map?.destroy();
    const el = this.host().nativeElement;
    el.replaceChildren();
    this.map = new JsVectorMap({
      selector: el,
      map: 'world',
      zoomButtons: false,
      zoomOnScroll: false,
      regionStyle: {
        initial: { fill: dark ? '#3f3f46' : '#e4e4e7', stroke: dark ? '#18181b' : '#ffffff', strokeWidth: 0.4 },
        hover: { fillOpacity: 0.8, cursor: 'pointer' },
      },
      visualizeData: Object.keys(values).length ? { scale: dark ? ['#312e81', '#a5b4fc'] : ['#c7d2fe', '#3730a3'], values } : undefined,
      onRegionTooltipShow: (_e: Event, tip: { text(s: string): void }, code: string) => tip.text(`${countryName(code)}: ${formatCount(values[code] ?? 0)}`),
      onRegionClick: (_e: Event, code: string) => {
        if (values[code]) this.filter.emit({ op: 'is', dim: 'visit:country', values: [code] });
      },
    });
    this.ready.set(true);
  }

  ngOnDestroy(): void {
    this.resize.disconnect();
    this.map?.destroy();
    document.querySelectorAll('.jvm-tooltip').forEach((n) => n.remove());
  }
}
