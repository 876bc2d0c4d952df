import { Component, inject, resource, signal } from '@angular/core';
import { FormsModule, type NgForm } from '@angular/forms';
import { ButtonModule } from 'primeng/button';
import { DialogModule } from 'primeng/dialog';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { Api, ApiError, ok, type Schemas } from '../api/api';
import { Auth } from '../core/auth';
import { formatDateTime } from '../core/format';
import { t } from '../core/i18n';
import { type PasskeyOptions, createPasskey, passkeysSupported } from '../core/passkey';

type Passkey = Schemas['PasskeyView'];

/**
 * Passkeys of the signed-in user: add one with a name (the browser creates it), rename, delete.
 * Each one signs in alone, or as the second step after the password.
 */
@Component({
  selector: 'hk-passkeys-panel',
  imports: [FormsModule, ButtonModule, DialogModule, InputTextModule, Message],
  template: `
    <p class="muted">{{ t('passkeys.hint') }}</p>
    @if (supported) {
      <form class="form inline" (ngSubmit)="add(f)" #f="ngForm">
        <input pInputText name="name" required maxlength="64" [(ngModel)]="name" [placeholder]="t('passkeys.namePlaceholder')" [attr.aria-label]="t('passkeys.nameLabel')" data-testid="passkey-name" />
        <p-button type="submit" icon="pi pi-key" [label]="t('passkeys.add')" [disabled]="!f.valid" [loading]="busy()" data-testid="add-passkey" />
      </form>
    } @else {
      <p-message severity="warn">{{ t('passkeys.unsupported') }}</p-message>
    }
    @if (error()) {
      <p-message severity="error" data-testid="passkey-error">{{ error() }}</p-message>
    }
    @if (keys.error()) {
      <p class="error-line" role="alert">{{ t('passkeys.loadFailed') }}</p>
    } @else if (keys.hasValue() && keys.value().length === 0) {
      <p class="muted" data-testid="passkeys-empty">{{ t('passkeys.empty') }}</p>
    } @else if (keys.hasValue()) {
      <table class="table">
        <thead><tr><th>{{ t('common.name') }}</th><th>{{ t('common.created') }}</th><th>{{ t('tokens.lastUsed') }}</th><th></th></tr></thead>
        <tbody>
          @for (k of keys.value(); track k.id) {
            <tr data-testid="passkey-row">
              <td>{{ k.name }}</td>
              <td>{{ formatDateTime(k.created_at) }}</td>
              <td>{{ k.last_used_at ? formatDateTime(k.last_used_at) : t('common.never') }}</td>
              <td class="actions">
                <p-button [label]="t('passkeys.rename')" [text]="true" size="small" (onClick)="startRename(k)" data-testid="rename-passkey" />
                <p-button [label]="t('common.delete')" [text]="true" severity="danger" size="small" (onClick)="remove(k)" data-testid="delete-passkey" />
              </td>
            </tr>
          }
        </tbody>
      </table>
    }

    <p-dialog [header]="t('passkeys.rename')" [visible]="renaming() !== null" (visibleChange)="$event || renaming.set(null)" [modal]="true" [style]="{ width: 'min(26rem, 95vw)' }">
      <form class="form" (ngSubmit)="rename()" #r="ngForm">
        <label for="passkey-new-name">{{ t('passkeys.nameLabel') }}</label>
        <input pInputText id="passkey-new-name" name="newName" required maxlength="64" [(ngModel)]="newName" data-testid="passkey-new-name" />
        <p-button type="submit" [label]="t('passkeys.save')" [disabled]="!r.valid" [loading]="busy()" data-testid="save-passkey-name" />
      </form>
    </p-dialog>
  `,
})
export class PasskeysPanel {
  protected readonly t = t;
  protected readonly formatDateTime = formatDateTime;
  private readonly api = inject(Api);
  private readonly auth = inject(Auth);
  readonly supported = passkeysSupported();
  readonly keys = resource({ loader: ({ abortSignal }) => ok(this.api.client.GET('/me/passkeys', { signal: abortSignal })) });
  readonly busy = signal(false);
  readonly error = signal('');
  readonly renaming = signal<Passkey | null>(null);
  name = '';
  newName = '';

  async add(form: NgForm): Promise<void> {
    await this.run(async () => {
      const started = await ok(this.api.client.POST('/me/passkeys/options', { body: { name: this.name.trim() } }));
      const credential = await createPasskey(started.options as PasskeyOptions);
      await ok(this.api.client.POST('/me/passkeys', { body: { ceremony: started.ceremony, credential } }));
      form.resetForm({ name: '' });
    });
  }

  startRename(k: Passkey): void {
    this.newName = k.name;
    this.renaming.set(k);
  }

  async rename(): Promise<void> {
    const k = this.renaming();
    if (!k) return;
    await this.run(async () => {
      await ok(this.api.client.PATCH('/me/passkeys/{id}', { params: { path: { id: k.id } }, body: { name: this.newName.trim() } }));
      this.renaming.set(null);
    });
  }

  async remove(k: Passkey): Promise<void> {
    if (!confirm(t('passkeys.deleteConfirm', { name: k.name }))) return;
    await this.run(() => ok(this.api.client.DELETE('/me/passkeys/{id}', { params: { path: { id: k.id } } })).then(() => undefined));
  }

  private async run(work: () => Promise<void>): Promise<void> {
    this.busy.set(true);
    this.error.set('');
    try {
      await work();
      this.auth.twoFactorChanged();
    } catch (e) {
      this.error.set(e instanceof DOMException ? t('passkeys.cancelled') : e instanceof ApiError && e.status === 409 ? e.message : (e as Error).message);
    } finally {
      this.busy.set(false);
      this.keys.reload();
    }
  }
}
