import { Component, computed, inject, input, resource, signal } from '@angular/core';
import { FormsModule, type NgForm } from '@angular/forms';
import { ButtonModule } from 'primeng/button';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { SelectModule } from 'primeng/select';
import { Api, ok, type Schemas } from '../api/api';
import { CopyField } from './copy-field';
import { formatDate, formatDateTime } from '../core/format';
import { t } from '../core/i18n';

/** API tokens of the signed-in user: list, create (the secret is shown once), revoke. With `site`, scoped to that site. */
@Component({
  selector: 'hk-tokens-panel',
  imports: [FormsModule, ButtonModule, InputTextModule, Message, SelectModule, CopyField],
  template: `
    <form class="form inline" (ngSubmit)="create(f)" #f="ngForm">
      <input pInputText name="name" required [(ngModel)]="name" [placeholder]="t('tokens.name')" [attr.aria-label]="t('tokens.nameLabel')" data-testid="token-name" />
      <p-select name="scope" [options]="scopes()" optionLabel="label" optionValue="value" [(ngModel)]="scope" [ariaLabel]="t('tokens.scope')" />
      <p-select name="expires" [options]="expiries()" optionLabel="label" optionValue="value" [(ngModel)]="expires" [ariaLabel]="t('tokens.expires')" />
      <p-button type="submit" [label]="t('tokens.create')" [disabled]="!f.valid" [loading]="busy()" data-testid="create-token" />
    </form>
    @if (created(); as c) {
      <p-message severity="success">{{ t('tokens.copyNow') }}</p-message>
      <hk-copy-field [value]="c.token ?? ''" testId="new-token" />
    }
    @if (error()) {
      <p-message severity="error">{{ error() }}</p-message>
    }
    @if (tokens.error(); as e) {
      <p class="error-line" role="alert">{{ t('tokens.error', { error: $any(e).message }) }}</p>
    } @else if (rows().length === 0) {
      <p class="muted">{{ site() ? t('tokens.emptySite', { site: site() ?? '' }) : t('tokens.empty') }} (<code>Authorization: Bearer …</code>).</p>
    } @else {
      <table class="table">
        <thead><tr><th>{{ t('common.name') }}</th><th>{{ t('tokens.scope') }}</th><th>{{ t('tokens.sites') }}</th><th>{{ t('tokens.lastUsed') }}</th><th>{{ t('tokens.expires') }}</th><th></th></tr></thead>
        <tbody>
          @for (tok of rows(); track tok.id) {
            <tr data-testid="token-row">
              <td>{{ tok.name }}</td>
              <td>{{ tok.scope === 'admin' ? t('tokens.scope.admin') : t('tokens.scope.read') }}</td>
              <td>{{ tok.sites.length ? tok.sites.join(', ') : t('tokens.allSites') }}</td>
              <td>{{ tok.last_used_at ? formatDateTime(tok.last_used_at) : t('common.never') }}</td>
              <td>{{ tok.expires_at ? formatDate(tok.expires_at) : t('common.never') }}</td>
              <td class="actions"><p-button [label]="t('common.revoke')" [text]="true" severity="danger" size="small" (onClick)="revoke(tok)" /></td>
            </tr>
          }
        </tbody>
      </table>
    }
  `,
})
export class TokensPanel {
  protected readonly t = t;
  private readonly api = inject(Api);
  readonly site = input<string>();
  protected readonly formatDate = formatDate;
  protected readonly formatDateTime = formatDateTime;
  readonly scopes = computed(() => [
    { label: t('tokens.scopeRead'), value: 'read' },
    { label: t('tokens.scopeAdmin'), value: 'admin' },
  ]);
  readonly expiries = computed(() => [
    { label: t('tokens.never'), value: 0 },
    { label: t('tokens.days', { n: 30 }), value: 30 },
    { label: t('tokens.days', { n: 90 }), value: 90 },
    { label: t('tokens.year'), value: 365 },
  ]);
  name = '';
  scope: 'read' | 'admin' = 'read';
  expires = 0;
  readonly busy = signal(false);
  readonly error = signal('');
  readonly created = signal<Schemas['TokenView'] | null>(null);
  readonly tokens = resource({ loader: ({ abortSignal }) => ok(this.api.client.GET('/tokens', { signal: abortSignal })) });
  readonly rows = computed(() => {
    const all = this.tokens.hasValue() ? this.tokens.value() : [];
    const site = this.site();
    return site ? all.filter((tok) => tok.sites.length === 0 || tok.sites.includes(site)) : all;
  });

  async create(form: NgForm): Promise<void> {
    this.busy.set(true);
    this.error.set('');
    try {
      const site = this.site();
      this.created.set(
        await ok(
          this.api.client.POST('/tokens', {
            body: { name: (this.name ?? '').trim(), scope: this.scope, sites: site ? [site] : [], expires_in_days: this.expires || undefined },
          }),
        ),
      );
      // A clean form again (not marked invalid because the name is now empty).
      form.resetForm({ name: '', scope: this.scope, expires: this.expires });
      this.tokens.reload();
    } catch (e) {
      this.error.set((e as Error).message);
    } finally {
      this.busy.set(false);
    }
  }

  async revoke(tok: Schemas['TokenView']): Promise<void> {
    if (!confirm(t('tokens.revokeConfirm', { name: tok.name }))) return;
    try {
      await ok(this.api.client.DELETE('/tokens/{id}', { params: { path: { id: tok.id } } }));
      this.tokens.reload();
    } catch (e) {
      this.error.set((e as Error).message);
    }
  }
}
