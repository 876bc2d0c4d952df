import { Component, output } from '@angular/core';
import { DialogModule } from 'primeng/dialog';
import { type I18nKey, t } from '../../core/i18n';

/** The `?` overlay: which keys do what on the dashboard. */
@Component({
  selector: 'hk-shortcuts-help',
  imports: [DialogModule],
  template: `
    <p-dialog [visible]="true" (visibleChange)="!$event && closed.emit()" [modal]="true" [header]="t('shortcuts.title')" [dismissableMask]="true" [closeAriaLabel]="t('details.close')" [style]="{ width: 'min(28rem, 94vw)' }">
      <dl class="shortcuts" data-testid="shortcuts">
        @for (k of keys; track k[0]) {
          <div>
            <dt><kbd>{{ k[0] }}</kbd></dt>
            <dd>{{ t(k[1]) }}</dd>
          </div>
        }
      </dl>
    </p-dialog>
  `,
})
export class ShortcutsHelp {
  protected readonly t = t;
  readonly closed = output<void>();
  readonly keys: [string, I18nKey][] = [
    ['d', 'period.day'],
    ['7', 'period.7d'],
    ['3', 'period.30d'],
    ['m', 'period.month'],
    ['y', 'period.12mo'],
    ['c', 'shortcuts.compare'],
    ['?', 'shortcuts.help'],
    ['Esc', 'shortcuts.escape'],
  ];
}
