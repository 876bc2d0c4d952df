import { Component, computed, inject, input, resource, signal } from '@angular/core';
import { DatePipe } from '@angular/common';
import { FormsModule } from '@angular/forms';
import { ButtonModule } from 'primeng/button';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { Api, ok, type Schemas } from '../../api/api';
import { CopyField } from '../../shared/copy-field';
import { t } from '../../core/i18n';

@Component({
  selector: 'hk-shares-panel',
  imports: [FormsModule, ButtonModule, InputTextModule, Message, DatePipe, CopyField],
  template: `
    <form class="form inline" (ngSubmit)="create()">
      <input pInputText name="name" [(ngModel)]="name" placeholder="Name, e.g. Public stats" aria-label="Share name" data-testid="share-name" />
      <input pInputText name="password" type="password" [(ngModel)]="password" placeholder="Password (optional)" aria-label="Share password" autocomplete="new-password" />
      @if (siteSegments().length) {
        <select name="segment" [(ngModel)]="segment" [attr.aria-label]="t('segment.shareLimit')" data-testid="share-segment">
          <option [ngValue]="null">{{ t('segment.shareAll') }}</option>
          @for (s of siteSegments(); track s.id) {
            <option [ngValue]="s.id">{{ s.name }}</option>
          }
        </select>
      }
      <p-button type="submit" label="Create share link" [loading]="busy()" data-testid="create-share" />
    </form>
    @if (created(); as c) {
      <p-message severity="success">Copy this link now: it is not shown again.</p-message>
      <hk-copy-field [value]="c" testId="share-url" />
    }
    @if (error()) {
      <p-message severity="error">{{ error() }}</p-message>
    }
    @if (shares.error(); as e) {
      <p class="error-line" role="alert">Share links could not be loaded: {{ $any(e).message }}</p>
    } @else if (shares.hasValue() && shares.value().length === 0) {
      <p class="muted">No share links.</p>
    } @else if (shares.hasValue()) {
      <table class="table">
        <thead><tr><th>Name</th><th>Password</th><th>Created</th><th></th></tr></thead>
        <tbody>
          @for (s of shares.value(); track s.id) {
            <tr data-testid="share-row">
              <td>{{ s.name || 'Share #' + s.id }}</td>
              <td>{{ s.has_password ? 'yes' : 'no' }}</td>
              <td>{{ s.created_at | date: 'mediumDate' }}</td>
              <td class="actions"><p-button label="Revoke" [text]="true" severity="danger" size="small" (onClick)="revoke(s)" /></td>
            </tr>
          }
        </tbody>
      </table>
    }
  `,
})
export class SharesPanel {
  private readonly api = inject(Api);
  readonly site = input.required<string>();
  name = '';
  password = '';
  segment: number | null = null;
  protected readonly t = t;
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
    if (!confirm('Revoke this share link? Anyone using it loses access at once.')) return;
    try {
      await ok(this.api.client.DELETE('/sites/{site}/shares/{id}', { params: { path: { site: this.site(), id: s.id } } }));
      this.shares.reload();
    } catch (e) {
      this.error.set((e as Error).message);
    }
  }
}
