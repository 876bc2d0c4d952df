import { Component, computed, inject, input, resource, signal } from '@angular/core';
import { FormsModule, type NgForm } from '@angular/forms';
import { ButtonModule } from 'primeng/button';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { SelectModule } from 'primeng/select';
import { Api, ok, type Schemas } from '../../api/api';
import { Auth } from '../../core/auth';
import { CopyField } from '../../shared/copy-field';
import { t } from '../../core/i18n';

/** The roles to pick from, labelled in the current language. */
export const roles = () => [
  { label: t('role.viewerLong'), value: 'viewer' },
  { label: t('role.adminLong'), value: 'admin' },
  { label: t('role.ownerLong'), value: 'owner' },
];

@Component({
  selector: 'hk-members-panel',
  imports: [FormsModule, ButtonModule, InputTextModule, Message, SelectModule, CopyField],
  template: `
    @if (members.error(); as e) {
      <p class="error-line" role="alert">{{ t('members.error', { error: $any(e).message }) }}</p>
    } @else if (members.hasValue() && members.value().length === 0) {
      <p class="muted">{{ t('members.empty') }}</p>
    } @else if (members.hasValue()) {
      <table class="table">
        <thead><tr><th>{{ t('members.person') }}</th><th>{{ t('common.role') }}</th><th></th></tr></thead>
        <tbody>
          @for (m of members.value(); track m.user_id) {
            <tr data-testid="member-row">
              <td>{{ m.name || m.email }}<br /><small class="muted">{{ m.email }}</small></td>
              <td>
                <p-select [options]="roles()" optionLabel="label" optionValue="value" [ngModel]="m.role" (ngModelChange)="setRole(m, $event)" [disabled]="m.user_id === auth.me()?.id" [ariaLabel]="t('common.role')" />
              </td>
              <td class="actions">
                @if (m.user_id !== auth.me()?.id) {
                  <p-button [label]="t('common.remove')" [text]="true" severity="danger" size="small" (onClick)="remove(m)" />
                }
              </td>
            </tr>
          }
        </tbody>
      </table>
    }
    <h3>{{ t('members.invite') }}</h3>
    <form class="form inline" (ngSubmit)="invite(f)" #f="ngForm">
      <input pInputText name="email" type="email" required [(ngModel)]="email" placeholder="email@example.com" [attr.aria-label]="t('login.email')" />
      <p-select name="role" [options]="roles()" optionLabel="label" optionValue="value" [(ngModel)]="role" [ariaLabel]="t('common.role')" />
      <p-button type="submit" [label]="t('common.createInvite')" [disabled]="!f.valid" [loading]="busy()" />
    </form>
    @if (inviteUrl(); as u) {
      <p-message severity="success">{{ t('members.sendLink', { email: invitedEmail() }) }}</p-message>
      <hk-copy-field [value]="u" testId="invite-url" />
    }
    @if (error()) {
      <p-message severity="error">{{ error() }}</p-message>
    }
  `,
})
export class MembersPanel {
  protected readonly t = t;
  private readonly api = inject(Api);
  readonly auth = inject(Auth);
  readonly site = input.required<string>();
  readonly roles = computed(roles);
  email = '';
  role = 'viewer';
  readonly busy = signal(false);
  readonly error = signal('');
  readonly inviteUrl = signal<string | null>(null);
  readonly invitedEmail = signal('');
  readonly members = resource({
    params: () => ({ site: this.site() }),
    loader: ({ params, abortSignal }) => ok(this.api.client.GET('/sites/{site}/members', { params: { path: params }, signal: abortSignal })),
  });

  async setRole(m: Schemas['MemberView'], role: string): Promise<void> {
    await this.act(() => ok(this.api.client.PUT('/sites/{site}/members/{user_id}', { params: { path: { site: this.site(), user_id: m.user_id } }, body: { role } })));
  }

  async remove(m: Schemas['MemberView']): Promise<void> {
    if (!confirm(t('members.removeConfirm', { email: m.email, site: this.site() }))) return;
    await this.act(() => ok(this.api.client.DELETE('/sites/{site}/members/{user_id}', { params: { path: { site: this.site(), user_id: m.user_id } } })));
  }

  async invite(form: NgForm): Promise<void> {
    this.busy.set(true);
    this.error.set('');
    try {
      const r = await ok(this.api.client.POST('/invites', { body: { email: (this.email ?? '').trim(), site: this.site(), role: this.role } }));
      this.inviteUrl.set(new URL(r.url ?? `/invite/${r.token}`, location.origin).href);
      this.invitedEmail.set(r.email);
      form.resetForm({ email: '', role: this.role });
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
    this.members.reload();
  }
}
