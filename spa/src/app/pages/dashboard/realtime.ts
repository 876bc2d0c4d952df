import { t } from '../../core/i18n';
import { formatCount } from '../../core/format';
import { Component, OnDestroy, effect, inject, input, signal } from '@angular/core';
import { Api } from '../../api/api';

/**
 * Visitors in the last five minutes, pushed by the server's event stream
 * (`GET /api/sites/{site}/realtime` with `Accept: text/event-stream`), read with fetch streaming
 * through the generated client so the share view's bearer token goes along. Reconnects after a drop.
 */
/** Splits server-sent events off a buffer: the data of each complete event, and what is left over. */
export function parseSse(buf: string): { events: string[]; rest: string } {
  const events: string[] = [];
  const text = buf.replace(/\r\n?/g, '\n');
  let start = 0;
  let end: number;
  while ((end = text.indexOf('\n\n', start)) >= 0) {
    const data = text
      .slice(start, end)
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''))
      .join('\n');
    if (data) events.push(data);
    start = end + 2;
  }
  return { events, rest: text.slice(start) };
}

@Component({
  selector: 'hk-realtime',
  template: `
    <span class="realtime" [class.live]="connected()" [title]="connected() ? t('realtime.live') : t('realtime.reconnecting')" data-testid="realtime">
      <span class="dot"></span>
      @if (visitors() === null) {
        …
      } @else {
        {{ visitors() === 1 ? t('realtime.one') : t('realtime.current', { count: fmt(visitors()) }) }}
      }
    </span>
  `,
})
export class Realtime implements OnDestroy {
  protected readonly t = t;
  protected readonly fmt = formatCount;
  private readonly api = inject(Api);
  readonly site = input.required<string>();
  readonly visitors = signal<number | null>(null);
  readonly connected = signal(false);
  private abort: AbortController | null = null;

  constructor() {
    effect(() => this.connect(this.site()));
  }

  private async connect(site: string): Promise<void> {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    let delay = 1000;
    while (!abort.signal.aborted) {
      try {
        const { response } = await this.api.client.GET('/sites/{site}/realtime', {
          params: { path: { site } },
          headers: { Accept: 'text/event-stream' },
          parseAs: 'stream',
          signal: abort.signal,
        });
        if (!response.ok || !response.body) throw new Error(String(response.status));
        this.connected.set(true);
        delay = 1000;
        await this.read(response.body, abort.signal);
      } catch {
        // dropped or refused: try again below
      }
      this.connected.set(false);
      if (abort.signal.aborted) return;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 30_000);
    }
  }

  private async read(body: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<void> {
    const reader = body.pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>).getReader();
    signal.addEventListener('abort', () => reader.cancel().catch(() => undefined));
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      const { events, rest } = parseSse(buf + value);
      buf = rest;
      for (const data of events) {
        try {
          const u = JSON.parse(data) as { visitors?: number };
          if (typeof u.visitors === 'number') this.visitors.set(u.visitors);
        } catch {
          // a keep-alive or unknown event
        }
      }
    }
  }

  ngOnDestroy(): void {
    this.abort?.abort();
  }
}
