import { Component, inject, resource, signal } from '@angular/core';
import { DatePipe } from '@angular/common';
import { FormsModule, type NgForm } from '@angular/forms';
import { ButtonModule } from 'primeng/button';
import { CheckboxModule } from 'primeng/checkbox';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { ToggleSwitchModule } from 'primeng/toggleswitch';
import { Api, ok, type Schemas } from '../../api/api';
import { Auth } from '../../core/auth';
import { CopyField } from '../../shared/copy-field';

/** Instance administration: users, invitations, the audit log. */
@Component({
  selector: 'hk-admin',
  imports: [FormsModule, ButtonModule, CheckboxModule, InputTextModule, Message, ToggleSwitchModule, DatePipe, CopyField],
  template: `
    <div class="page">
      <h1>Users</h1>
      <section class="card">
        @if (users.error(); as e) {
          <p class="error-line" role="alert">Users could not be loaded: {{ $any(e).message }}</p>
        } @else if (users.hasValue()) {
          <table class="table">
            <thead><tr><th>User</th><th>Administrator</th><th></th></tr></thead>
            <tbody>
              @for (u of users.value(); track u.id) {
                <tr data-testid="user-row">
                  <td>{{ u.name || u.email }}<br /><small class="muted">{{ u.email }}</small></td>
                  <td><p-toggleswitch [ngModel]="u.is_admin" (ngModelChange)="setAdmin(u, $event)" [disabled]="u.id === auth.me()?.id" [ariaLabel]="'Administrator: ' + u.email" /></td>
                  <td class="actions">
                    @if (u.id !== auth.me()?.id) {
                      <p-button label="Delete" [text]="true" severity="danger" size="small" (onClick)="remove(u)" />
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
      <section class="card">
        <h2>Invite a user</h2>
        <p class="muted">Creates a one-time link; HitKeep sends no mail. Site access is granted in each site's settings (or invite from there).</p>
        <form class="form inline" (ngSubmit)="invite(f)" #f="ngForm">
          <input pInputText name="email" type="email" required [(ngModel)]="email" placeholder="email@example.com" aria-label="Email" />
          <label class="check"><p-checkbox name="admin" [(ngModel)]="asAdmin" [binary]="true" inputId="asadmin" /> Administrator</label>
          <p-button type="submit" label="Create invitation" [disabled]="!f.valid" [loading]="busy()" />
        </form>
        @if (inviteUrl(); as u) {
          <hk-copy-field [value]="u" testId="invite-url" />
        }
      </section>
      <section class="card">
        <h2>Audit log</h2>
        @if (audit.error(); as e) {
          <p class="error-line" role="alert">The audit log could not be loaded: {{ $any(e).message }}</p>
        } @else if (audit.hasValue() && audit.value().length === 0) {
          <p class="muted">Nothing recorded yet.</p>
        } @else if (audit.hasValue()) {
          <table class="table small">
            <thead><tr><th>When</th><th>Who</th><th>What</th><th>Target</th><th>IP</th></tr></thead>
            <tbody>
              @for (a of audit.value(); track $index) {
                <tr>
                  <td>{{ a.at | date: 'short' }}</td>
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
  private readonly api = inject(Api);
  readonly auth = inject(Auth);
  email = '';
  asAdmin = false;
  readonly busy = signal(false);
  readonly error = signal('');
  readonly inviteUrl = signal<string | null>(null);
  readonly users = resource({ loader: ({ abortSignal }) => ok(this.api.client.GET('/users', { signal: abortSignal })) });
  readonly audit = resource({ loader: ({ abortSignal }) => ok(this.api.client.GET('/audit', { params: { query: { limit: 100 } }, signal: abortSignal })) });

  async setAdmin(u: Schemas['UserView'], isAdmin: boolean): Promise<void> {
    await this.act(() => ok(this.api.client.PATCH('/users/{id}', { params: { path: { id: u.id } }, body: { is_admin: isAdmin } })));
  }

  async remove(u: Schemas['UserView']): Promise<void> {
    if (!confirm(`Delete the user ${u.email}? They lose access to every site.`)) return;
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
