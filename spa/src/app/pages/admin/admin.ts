import { Component, inject, resource, signal } from '@angular/core';
import { FormsModule, type NgForm } from '@angular/forms';
import { ButtonModule } from 'primeng/button';
import { CheckboxModule } from 'primeng/checkbox';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { ToggleSwitchModule } from 'primeng/toggleswitch';
import { Api, ok, type Schemas } from '../../api/api';
import { Auth } from '../../core/auth';
import { CopyField } from '../../shared/copy-field';
import { formatDateTime } from '../../core/format';
import { t } from '../../core/i18n';

/** Instance administration: users, invitations, the audit log. */
@Component({
  selector: 'hk-admin',
  imports: [FormsModule, ButtonModule, CheckboxModule, InputTextModule, Message, ToggleSwitchModule, CopyField],
  template: `
    <div class="page">
      <h1>{{ t('admin.title') }}</h1>
      <section class="card">
        @if (users.error(); as e) {
          <p class="error-line" role="alert">{{ t('admin.error', { error: $any(e).message }) }}</p>
        } @else if (users.hasValue()) {
          <table class="table">
            <thead><tr><th>{{ t('admin.user') }}</th><th>{{ t('common.administrator') }}</th><th></th></tr></thead>
            <tbody>
              @for (u of users.value(); track u.id) {
                <tr data-testid="user-row">
                  <td>{{ u.name || u.email }}<br /><small class="muted">{{ u.email }}</small></td>
                  <td><p-toggleswitch [ngModel]="u.is_admin" (ngModelChange)="setAdmin(u, $event)" [disabled]="u.id === auth.me()?.id" [ariaLabel]="t('admin.adminOf', { email: u.email })" /></td>
                  <td class="actions">
                    @if (u.id !== auth.me()?.id) {
                      <p-button [label]="t('common.delete')" [text]="true" severity="danger" size="small" (onClick)="remove(u)" />
                    }
                  </td>
                </tr>
              }
            </tbody>
          </table>
        }
        @if (error()) {
          <p-message severity="error">{{ error() }}</p-message>
        }
      </section>
      <section class="card" id="security-policy">
        <h2>{{ t('twoFactor.policyTitle') }}</h2>
        <label class="check">
          <p-toggleswitch [ngModel]="policy.value()?.two_factor_required ?? false" (ngModelChange)="setPolicy($event)" [disabled]="!policy.hasValue()" inputId="require-2fa" data-testid="require-2fa" />
          {{ t('twoFactor.policyRequire') }}
        </label>
        <p class="muted small">{{ t('twoFactor.policyHint') }}</p>
      </section>
      <section class="card">
        <h2>{{ t('admin.invite') }}</h2>
        <p class="muted">{{ t('admin.inviteHint') }}</p>
        <form class="form inline" (ngSubmit)="invite(f)" #f="ngForm">
          <input pInputText name="email" type="email" required [(ngModel)]="email" placeholder="email@example.com" [attr.aria-label]="t('login.email')" />
          <label class="check"><p-checkbox name="admin" [(ngModel)]="asAdmin" [binary]="true" inputId="asadmin" /> {{ t('common.administrator') }}</label>
          <p-button type="submit" [label]="t('common.createInvite')" [disabled]="!f.valid" [loading]="busy()" />
        </form>
        @if (inviteUrl(); as u) {
          <hk-copy-field [value]="u" testId="invite-url" />
        }
      </section>
      <section class="card">
        <h2>{{ t('admin.audit') }}</h2>
        @if (audit.error(); as e) {
          <p class="error-line" role="alert">{{ t('admin.auditError', { error: $any(e).message }) }}</p>
        } @else if (audit.hasValue() && audit.value().length === 0) {
          <p class="muted">{{ t('admin.auditEmpty') }}</p>
        } @else if (audit.hasValue()) {
          <table class="table small">
            <thead><tr><th>{{ t('admin.when') }}</th><th>{{ t('admin.who') }}</th><th>{{ t('admin.what') }}</th><th>{{ t('admin.target') }}</th><th>{{ t('admin.ip') }}</th></tr></thead>
            <tbody>
              @for (a of audit.value(); track $index) {
                <tr>
                  <td>{{ formatDateTime(a.at) }}</td>
                  <td>{{ a.actor }}</td>
                  <td>{{ a.action }}</td>
                  <td>{{ a.target }}</td>
                  <td>{{ a.ip }}</td>
                </tr>
              }
            </tbody>
          </table>
        }
      </section>
    </div>
  `,
})
export class AdminPage {
  protected readonly t = t;
  private readonly api = inject(Api);
  readonly auth = inject(Auth);
  protected readonly formatDateTime = formatDateTime;
  email = '';
  asAdmin = false;
  readonly busy = signal(false);
  readonly error = signal('');
  readonly inviteUrl = signal<string | null>(null);
  readonly users = resource({ loader: ({ abortSignal }) => ok(this.api.client.GET('/users', { signal: abortSignal })) });
  readonly audit = resource({ loader: ({ abortSignal }) => ok(this.api.client.GET('/audit', { params: { query: { limit: 100 } }, signal: abortSignal })) });

  readonly policy = resource({ loader: ({ abortSignal }) => ok(this.api.client.GET('/security-policy', { signal: abortSignal })) });

  async setPolicy(required: boolean): Promise<void> {
    await this.act(() => ok(this.api.client.PUT('/security-policy', { body: { two_factor_required: required } })));
    this.policy.reload();
    this.auth.twoFactorChanged();
  }

  async setAdmin(u: Schemas['UserView'], isAdmin: boolean): Promise<void> {
    await this.act(() => ok(this.api.client.PATCH('/users/{id}', { params: { path: { id: u.id } }, body: { is_admin: isAdmin } })));
  }

  async remove(u: Schemas['UserView']): Promise<void> {
    if (!confirm(t('admin.deleteConfirm', { email: u.email }))) return;
    await this.act(() => ok(this.api.client.DELETE('/users/{id}', { params: { path: { id: u.id } } })));
  }

  async invite(form: NgForm): Promise<void> {
    this.busy.set(true);
    this.error.set('');
    try {
      const r = await ok(this.api.client.POST('/invites', { body: { email: (this.email ?? '').trim(), is_admin: this.asAdmin } }));
      this.inviteUrl.set(new URL(r.url ?? `/invite/${r.token}`, location.origin).href);
      form.resetForm({ email: '', admin: false });
      this.audit.reload();
    } catch (e) {
      this.error.set((e as Error).message);
    } finally {
      this.busy.set(false);
    }
  }

  private async act(fn: () => Promise<unknown>): Promise<void> {
    this.error.set('');
    try {
      await fn();
    } catch (e) {
      this.error.set((e as Error).message);
    }
    this.users.reload();
    this.audit.reload();
  }
}
