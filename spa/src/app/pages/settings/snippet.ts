import { Component, OnDestroy, OnInit, computed, inject, input, signal } from '@angular/core';
import { Stats, metricAt } from '../../core/stats';
import { CopyField } from '../../shared/copy-field';
import { formatCount } from '../../core/format';
import { t } from '../../core/i18n';

/** The tag to paste into the site's <head>, and a live check that polls for the first hit. */
@Component({
  selector: 'hk-snippet',
  imports: [CopyField],
  template: `
    <p>
      @if (fresh()) {
        <strong>{{ t('snippet.added', { site: site() }) }}</strong>
      }
      {{ t('snippet.paste', { head: headTag, site: site() }) }}
    </p>
    <hk-copy-field [value]="snippet()" testId="snippet" />
    <p class="live-check" [class.ok]="pageviews() > 0" data-testid="live-check" aria-live="polite">
      <span class="dot"></span>
      @if (error()) {
        {{ t('snippet.checkError', { error: error() }) }}
      } @else if (pageviews() === -1) {
        {{ t('snippet.checking') }}
      } @else if (pageviews() === 0) {
        {{ t('snippet.waiting') }}
      } @else {
        {{ t('snippet.receiving', { count: count() }) }}
      }
    </p>
    <details class="muted small">
      <summary>{{ t('snippet.options') }}</summary>
      <ul>
        <li><code>data-collect-dnt</code>: {{ t('snippet.optDnt') }}</li>
        <li><code>data-disable-spa-tracking</code>, <code>data-disable-outbound-tracking</code>, <code>data-disable-download-tracking</code>, <code>data-disable-form-tracking</code>.</li>
        <li>{{ t('snippet.optEvents') }} <code>window.hk.event('signup', {{ '{' }} plan: 'pro' {{ '}' }})</code>. {{ t('snippet.optVitals') }} <code>&lt;script defer src="{{ origin }}/hk-vitals.js"&gt;&lt;/script&gt;</code>.</li>
      </ul>
    </details>
  `,
})
export class Snippet implements OnInit, OnDestroy {
  protected readonly t = t;
  private readonly stats = inject(Stats);
  readonly site = input.required<string>();
  readonly fresh = input(false);
  readonly origin = location.origin;
  readonly headTag = '<head>';
  readonly snippet = computed(() => `<script defer src="${this.origin}/hk.js"></script>`);
  /** -1 until the first answer. */
  readonly pageviews = signal(-1);
  readonly count = computed(() => formatCount(this.pageviews()));
  readonly error = signal('');
  private timer: ReturnType<typeof setInterval> | undefined;

  ngOnInit(): void {
    void this.check();
    this.timer = setInterval(() => {
      if (this.pageviews() <= 0 && document.visibilityState === 'visible') void this.check();
    }, 5000);
  }

  private async check(): Promise<void> {
    try {
      const r = await this.stats.query({ site_id: this.site(), date_range: 'all', metrics: ['pageviews'] });
      this.pageviews.set(metricAt(r.results[0], 0) ?? 0);
      this.error.set('');
    } catch (e) {
      this.error.set((e as Error).message);
    }
  }

  ngOnDestroy(): void {
    clearInterval(this.timer);
  }
}
