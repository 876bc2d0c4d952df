import { Component, inject, input, signal } from '@angular/core';
import { ButtonModule } from 'primeng/button';
import { MessageService } from 'primeng/api';
import { t } from '../core/i18n';

/** A read-only value (snippet, link, token) with a copy button. */
@Component({
  selector: 'hk-copy-field',
  imports: [ButtonModule],
  template: `
    <div class="copy-field">
      <code [attr.data-testid]="testId()">{{ value() }}</code>
      <p-button [label]="copied() ? t('common.copied') : t('common.copy')" [icon]="copied() ? 'pi pi-check' : 'pi pi-copy'" size="small" severity="secondary" (onClick)="copy()" />
    </div>
  `,
})
export class CopyField {
  protected readonly t = t;
  private readonly toast = inject(MessageService);
  readonly value = input.required<string>();
  readonly testId = input('copy-value');
  readonly copied = signal(false);

  async copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(this.value());
      this.copied.set(true);
      setTimeout(() => this.copied.set(false), 2000);
    } catch {
      this.toast.add({ severity: 'warn', summary: t('common.copyFailed'), detail: t('common.copyByHand') });
    }
  }
}
