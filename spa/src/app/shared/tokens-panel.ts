import { Component, computed, inject, input, resource, signal } from '@angular/core';
import { DatePipe } from '@angular/common';
import { FormsModule, type NgForm } from '@angular/forms';
import { ButtonModule } from 'primeng/button';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { SelectModule } from 'primeng/select';
import { Api, ok, type Schemas } from '../api/api';
import { CopyField } from './copy-field';

/** API tokens of the signed-in user: list, create (the secret is shown once), revoke. With `site`, scoped to that site. */
@Component({
  selector: 'hk-tokens-panel',
  imports: [FormsModule, ButtonModule, InputTextModule, Message, SelectModule, DatePipe, CopyField],
  template: `
    <form class="form inline" (ngSubmit)="create(f)" #f="ngForm">
      <input pInputText name="name" required [(ngModel)]="name" placeholder="Token name, e.g. Grafana" aria-label="Token name" data-testid="token-name" />
      <p-select name="scope" [options]="scopes" optionLabel="label" optionValue="value" [(ngModel)]="scope" ariaLabel="Scope" />
      <p-select name="expires" [options]="expiries" optionLabel="label" optionValue="value" [(ngModel)]="expires" ariaLabel="Expires" />
      <p-button type="submit" label="Create token" [disabled]="!f.valid" [loading]="busy()" data-testid="create-token" />
    </form>
    @if (created(); as c) {
      <p-message severity="success">Copy this token now: it is not shown again.</p-message>
      <hk-copy-field [value]="c.token ?? ''" testId="new-token" />
    }
    @if (error()) {
      <p-message severity="error">{{ error() }}</p-message>
    }
    @if (tokens.error(); as e) {
      <p class="error-line" role="alert">Tokens could not be loaded: {{ $any(e).message }}</p>
    } @else if (rows().length === 0) {
      <p class="muted">No API tokens{{ site() ? ' for ' + site() : '' }} yet. A token lets scripts call the API (<code>Authorization: Bearer …</code>).</p>
    } @else {
      <table class="table">
        <thead><tr><th>Name</th><th>Scope</th><th>Sites</th><th>Last used</th><th>Expires</th><th></th></tr></thead>
        <tbody>
          @for (t of rows(); track t.id) {
            <tr data-testid="token-row">
              <td>{{ t.name }}</td>
              <td>{{ t.scope }}</td>
              <td>{{ t.sites.length ? t.sites.join(', ') : 'all my sites' }}</td>
              <td>{{ t.last_used_at ? (t.last_used_at | date: 'short') : 'never' }}</td>
              <td>{{ t.expires_at ? (t.expires_at | date: 'mediumDate') : 'never' }}</td>
              <td class="actions"><p-button label="Revoke" [text]="true" severity="danger" size="small" (onClick)="revoke(t)" /></td>
            </tr>
          }
        </tbody>
      </table>
    }
  `,
})
export class TokensPanel {
  private readonly api = inject(Api);
  readonly site = input<string>();
  readonly scopes = [
    { label: 'Read stats', value: 'read' },
    { label: 'Admin (manage)', value: 'admin' },
  ];
  readonly expiries = [
    { label: 'Never expires', value: 0 },
    { label: '30 days', value: 30 },
    { label: '90 days', value: 90 },
    { label: '1 year', value: 365 },
  ];
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
    return site ? all.filter((t) => t.sites.length === 0 || t.sites.includes(site)) : all;
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

  async revoke(t: Schemas['TokenView']): Promise<void> {
    if (!confirm(`Revoke the token "${t.name}"? Scripts using it stop working at once.`)) return;
    try {
      await ok(this.api.client.DELETE('/tokens/{id}', { params: { path: { id: t.id } } }));
      this.tokens.reload();
    } catch (e) {
      this.error.set((e as Error).message);
    }
  }
}
