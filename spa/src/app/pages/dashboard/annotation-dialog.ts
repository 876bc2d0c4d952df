import { Component, OnInit, inject, input, output, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { ButtonModule } from 'primeng/button';
import { DialogModule } from 'primeng/dialog';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { Api, ok } from '../../api/api';
import { t } from '../../core/i18n';

/** A note being written: a new one (no id) or an existing one to change. */
export interface AnnotationDraft {
  id?: number;
  date: string;
  note: string;
}

/** Adds or changes one annotation of the site (site admins and owners; the API checks). */
@Component({
  selector: 'hk-annotation-dialog',
  imports: [DialogModule, FormsModule, ButtonModule, InputTextModule, Message],
  template: `
    <p-dialog
      [header]="draft().id ? t('annotations.edit') : t('annotations.new')"
      [visible]="true"
      (visibleChange)="!$event && closed.emit(false)"
      [modal]="true"
      [dismissableMask]="true"
      [closeAriaLabel]="t('details.close')"
      [style]="{ width: 'min(26rem, 94vw)' }"
    >
      <form class="form" (ngSubmit)="save()" #f="ngForm" data-testid="annotation-form">
        <label for="annotation-date">{{ t('annotations.date') }}</label>
        <input pInputText type="date" id="annotation-date" name="date" required [(ngModel)]="date" data-testid="annotation-date" />
        <label for="annotation-note">{{ t('annotations.note') }}</label>
        <input pInputText id="annotation-note" name="note" required maxlength="200" [(ngModel)]="note" [placeholder]="t('annotations.placeholder')" data-testid="annotation-note" />
        @if (error()) {
          <p-message severity="error">{{ error() }}</p-message>
        }
        <p-button type="submit" [label]="t('annotations.save')" [disabled]="!f.valid" [loading]="busy()" data-testid="annotation-save" />
      </form>
    </p-dialog>
  `,
})
export class AnnotationDialog implements OnInit {
  private readonly api = inject(Api);
  protected readonly t = t;
  readonly site = input.required<string>();
  readonly draft = input.required<AnnotationDraft>();
  /** Emitted when the dialog closes: true when a note was saved. */
  readonly closed = output<boolean>();
  date = '';
  note = '';
  readonly busy = signal(false);
  readonly error = signal('');

  ngOnInit(): void {
    this.date = this.draft().date;
    this.note = this.draft().note;
  }

  async save(): Promise<void> {
    const id = this.draft().id;
    const body = { date: this.date, note: this.note.trim() };
    this.busy.set(true);
    this.error.set('');
    try {
      if (id) {
        await ok(this.api.client.PUT('/sites/{site}/annotations/{id}', { params: { path: { site: this.site(), id } }, body }));
      } else {
        await ok(this.api.client.POST('/sites/{site}/annotations', { params: { path: { site: this.site() } }, body }));
      }
      this.closed.emit(true);
    } catch (e) {
      this.error.set((e as Error).message);
    } finally {
      this.busy.set(false);
    }
  }
}
