import { Component, input, model } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { SelectModule } from 'primeng/select';
import { t } from '../core/i18n';

/** Every IANA zone the browser knows, searchable. */
export const TIMEZONES: string[] = (() => {
  const zones = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  return zones.includes('UTC') ? zones : ['UTC', ...zones];
})();

@Component({
  selector: 'hk-timezone-select',
  imports: [FormsModule, SelectModule],
  template: `<p-select [options]="zones" [(ngModel)]="value" [filter]="true" [inputId]="inputId()" [virtualScroll]="true" [virtualScrollItemSize]="36" styleClass="w-full" [ariaLabel]="t('common.timezone')" />`,
})
export class TimezoneSelect {
  protected readonly t = t;
  readonly zones = TIMEZONES;
  readonly value = model.required<string>();
  readonly inputId = input('tz');
}
