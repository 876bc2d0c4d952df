import { Component, OnDestroy, OnInit, computed, inject, input, signal } from '@angular/core';
import { Stats, metricAt } from '../../core/stats';
import { CopyField } from '../../shared/copy-field';
import { formatCount } from '../../core/format';

/** The tag to paste into the site's <head>, and a live check that polls for the first hit. */
@Component({
  selector: 'hk-snippet',
  imports: [CopyField],
  template: `
    <p>
      @if (fresh()) {
        <strong>{{ site() }} is added.</strong>
      }
      Paste this into the <code>&lt;head&gt;</code> of every page of {{ site() }}:
    </p>
    <hk-copy-field [value]="snippet()" testId="snippet" />
    <p class="live-check" [class.ok]="pageviews() > 0" data-testid="live-check" aria-live="polite">
      <span class="dot"></span>
      @if (error()) {
        Could not check for data: {{ error() }}
      } @else if (pageviews() === -1) {
        Checking for data…
      } @else if (pageviews() === 0) {
        Waiting for the first hit… (checked every 5 seconds)
      } @else {
        Receiving data: {{ count() }} pageviews so far.
      }
    </p>
    <details class="muted small">
      <summary>Options</summary>
      <ul>
        <li><code>data-collect-dnt</code>: count visitors who send Do Not Track (if the site does not honour it).</li>
        <li><code>data-disable-spa-tracking</code>, <code>data-disable-outbound-tracking</code>, <code>data-disable-download-tracking</code>, <code>data-disable-form-tracking</code>.</li>
        <li>Custom events: <code>window.hk.event('signup', {{ '{' }} plan: 'pro' {{ '}' }})</code>. Web Vitals: add <code>&lt;script defer src="{{ origin }}/hk-vitals.js"&gt;&lt;/script&gt;</code>.</li>
      </ul>
    </details>
  `,
})
export class Snippet implements OnInit, OnDestroy {
  private readonly stats = inject(Stats);
  readonly site = input.required<string>();
  readonly fresh = input(false);
  readonly origin = location.origin;
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
