import { Component, computed, inject, input, resource, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { ButtonModule } from 'primeng/button';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { Api, ok, type Schemas } from '../../api/api';
import { CopyField } from '../../shared/copy-field';
import { formatDate } from '../../core/format';
import { t } from '../../core/i18n';

@Component({
  selector: 'hk-shares-panel',
  imports: [FormsModule, ButtonModule, InputTextModule, Message, CopyField],
  template: `
    <form class="form inline" (ngSubmit)="create()">
      <input pInputText name="name" [(ngModel)]="name" [placeholder]="t('shares.namePlaceholder')" [attr.aria-label]="t('shares.nameLabel')" data-testid="share-name" />
      <input pInputText name="password" type="password" [(ngModel)]="password" [placeholder]="t('shares.passwordPlaceholder')" [attr.aria-label]="t('shares.passwordLabel')" autocomplete="new-password" />
      @if (siteSegments().length) {
        <select name="segment" [(ngModel)]="segment" [attr.aria-label]="t('segment.shareLimit')" data-testid="share-segment">
          <option [ngValue]="null">{{ t('segment.shareAll') }}</option>
          @for (s of siteSegments(); track s.id) {
            <option [ngValue]="s.id">{{ s.name }}</option>
          }
        </select>
      }
      <p-button type="submit" [label]="t('shares.create')" [loading]="busy()" data-testid="create-share" />
    </form>
    @if (created(); as c) {
      <p-message severity="success">{{ t('shares.copyNow') }}</p-message>
      <hk-copy-field [value]="c" testId="share-url" />
    }
    @if (error()) {
      <p-message severity="error">{{ error() }}</p-message>
    }
    @if (shares.error(); as e) {
      <p class="error-line" role="alert">{{ t('shares.error', { error: $any(e).message }) }}</p>
    } @else if (shares.hasValue() && shares.value().length === 0) {
      <p class="muted">{{ t('shares.empty') }}</p>
    } @else if (shares.hasValue()) {
      <table class="table">
        <thead><tr><th>{{ t('common.name') }}</th><th>{{ t('common.password') }}</th><th>{{ t('common.created') }}</th><th></th></tr></thead>
        <tbody>
          @for (s of shares.value(); track s.id) {
            <tr data-testid="share-row">
              <td>{{ s.name || t('shares.untitled', { id: s.id }) }}</td>
              <td>{{ s.has_password ? t('common.yes') : t('common.no') }}</td>
              <td>{{ formatDate(s.created_at) }}</td>
              <td class="actions"><p-button [label]="t('common.revoke')" [text]="true" severity="danger" size="small" (onClick)="revoke(s)" /></td>
            </tr>
          }
        </tbody>
      </table>
    }
  `,
})
export class SharesPanel {
  protected readonly t = t;
  private readonly api = inject(Api);
  readonly site = input.required<string>();
  protected readonly formatDate = formatDate;
  name = '';
  password = '';
  segment: number | null = null;
  /** Site-wide segments a link may be limited to. */
  private readonly segments = resource({
    params: () => ({ site: this.site() }),
    loader: ({ params, abortSignal }) =>
      ok(this.api.client.GET('/sites/{site}/segments', { params: { path: params }, signal: abortSignal })) as Promise<Schemas['SegmentView'][]>,
  });
  readonly siteSegments = computed(() => (this.segments.hasValue() ? this.segments.value().filter((s) => s.type === 'site') : []));
  readonly busy = signal(false);
  readonly error = signal('');
  readonly created = signal<string | null>(null);
  readonly shares = resource({
    params: () => ({ site: this.site() }),
    loader: ({ params, abortSignal }) => ok(this.api.client.GET('/sites/{site}/shares', { params: { path: params }, signal: abortSignal })),
  });

  async create(): Promise<void> {
    this.busy.set(true);
    this.error.set('');
    try {
      const r = await ok(
        this.api.client.POST('/sites/{site}/shares', {
          params: { path: { site: this.site() } },
          body: { name: this.name.trim() || undefined, password: this.password || undefined, segment_id: this.segment ?? undefined },
        }),
      );
      this.created.set(new URL(r.url ?? `/share/${r.token}`, location.origin).href);
      this.name = '';
      this.password = '';
      this.shares.reload();
    } catch (e) {
      this.error.set((e as Error).message);
    } finally {
      this.busy.set(false);
    }
  }

  async revoke(s: Schemas['ShareView']): Promise<void> {
    if (!confirm(t('shares.revokeConfirm'))) return;
    try {
      await ok(this.api.client.DELETE('/sites/{site}/shares/{id}', { params: { path: { site: this.site(), id: s.id } } }));
      this.shares.reload();
    } catch (e) {
      this.error.set((e as Error).message);
    }
  }
}
