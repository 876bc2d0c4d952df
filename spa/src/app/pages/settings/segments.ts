import { Component, inject, input, resource, signal } from '@angular/core';
import { ButtonModule } from 'primeng/button';
import { Message } from 'primeng/message';
import { Api, ok, type Schemas } from '../../api/api';
import { t } from '../../core/i18n';

/** The site's saved segments the caller sees: rename and delete (saving happens on the dashboard). */
@Component({
  selector: 'hk-segments-panel',
  imports: [ButtonModule, Message],
  template: `
    <p class="muted">{{ t('segment.hint') }}</p>
    @if (error()) {
      <p-message severity="error">{{ error() }}</p-message>
    }
    @if (segments.error(); as e) {
      <p class="error-line" role="alert">{{ t('segment.loadError', { error: $any(e).message }) }}</p>
    } @else if (segments.hasValue() && segments.value().length === 0) {
      <p class="muted">{{ t('segment.empty') }}</p>
    } @else if (segments.hasValue()) {
      <table class="table">
        <thead>
          <tr><th>{{ t('segment.name') }}</th><th>{{ t('segment.visibility') }}</th><th>{{ t('segment.filters') }}</th><th></th></tr>
        </thead>
        <tbody>
          @for (s of segments.value(); track s.id) {
            <tr data-testid="segment-row">
              <td>{{ s.name }}</td>
              <td>{{ s.type === 'site' ? t('segment.site') : t('segment.personal') }}</td>
              <td class="muted">{{ describe(s) }}</td>
              <td class="actions">
                <p-button [label]="t('segment.rename')" [text]="true" size="small" (onClick)="rename(s)" />
                <p-button [label]="t('segment.delete')" [text]="true" severity="danger" size="small" (onClick)="remove(s)" />
              </td>
            </tr>
          }
        </tbody>
      </table>
    }
  `,
})
export class SegmentsPanel {
  protected readonly t = t;
  private readonly api = inject(Api);
  readonly site = input.required<string>();
  readonly error = signal('');
  readonly segments = resource({
    params: () => ({ site: this.site() }),
    loader: ({ params, abortSignal }) =>
      ok(this.api.client.GET('/sites/{site}/segments', { params: { path: params }, signal: abortSignal })) as Promise<Schemas['SegmentView'][]>,
  });

  /** The filters in the Stats API's words, e.g. `is visit:source Google`. */
  describe(s: Schemas['SegmentView']): string {
    const one = (f: unknown): string => (Array.isArray(f) ? f.map((p) => (Array.isArray(p) ? p.map(one).join(', ') : String(p))).join(' ') : String(f));
    return s.segment_data.filters.map(one).join('; ');
  }

  async rename(s: Schemas['SegmentView']): Promise<void> {
    const name = prompt(t('segment.renamePrompt'), s.name)?.trim();
    if (!name || name === s.name) return;
    await this.run(this.api.client.PATCH('/sites/{site}/segments/{id}', { params: { path: { site: this.site(), id: s.id } }, body: { name } }));
  }

  async remove(s: Schemas['SegmentView']): Promise<void> {
    if (!confirm(t('segment.deleteConfirm', { name: s.name }))) return;
    await this.run(this.api.client.DELETE('/sites/{site}/segments/{id}', { params: { path: { site: this.site(), id: s.id } } }));
  }

  private async run<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<void> {
    this.error.set('');
    try {
      await ok(call);
      this.segments.reload();
    } catch (e) {
      this.error.set((e as Error).message);
    }
  }
}
