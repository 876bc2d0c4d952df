import { Component, computed, input } from '@angular/core';
import {
  siAndroid,
  siApple,
  siBrave,
  siDuckduckgo,
  siFirefoxbrowser,
  siGooglechrome,
  siIos,
  siLinux,
  siMacos,
  siOpera,
  siSafari,
  siSamsung,
  siUbuntu,
  siVivaldi,
} from 'simple-icons';
import { countryName } from '../core/format';
import { t } from '../core/i18n';

interface Brand {
  path: string;
  hex: string;
}

// Brand marks from simple-icons (one SVG path each; only these are bundled). Microsoft's marks are
// not in simple-icons, so Windows and Edge use PrimeIcons' Microsoft logo.
const BROWSERS: [RegExp, Brand][] = [
  [/^(chrome|chrome mobile|chrome webview|chromium)/i, siGooglechrome],
  [/firefox/i, siFirefoxbrowser],
  [/safari/i, siSafari],
  [/opera/i, siOpera],
  [/brave/i, siBrave],
  [/samsung/i, siSamsung],
  [/vivaldi/i, siVivaldi],
  [/duckduckgo/i, siDuckduckgo],
];
const SYSTEMS: [RegExp, Brand][] = [
  [/^ios|ipados/i, siIos],
  [/mac ?os|os x/i, siMacos],
  [/android/i, siAndroid],
  [/ubuntu/i, siUbuntu],
  [/linux|chrome ?os/i, siLinux],
];
const MICROSOFT = /windows|edge|internet explorer/i;
const DEVICES: Record<string, string> = { desktop: 'pi-desktop', mobile: 'pi-mobile', tablet: 'pi-tablet', laptop: 'pi-desktop' };

/** What to draw before a value: a flag, a brand mark, or a PrimeIcons glyph. */
export type DimIcon = { kind: 'flag'; code: string } | { kind: 'brand'; path: string } | { kind: 'pi'; cls: string } | null;

export function dimIcon(dim: string, value: string | null): DimIcon {
  if (value == null) return null;
  if (dim === 'visit:country' && /^[A-Za-z]{2}$/.test(value)) return { kind: 'flag', code: value.toLowerCase() };
  if (dim === 'visit:browser' || dim === 'visit:os') {
    if (MICROSOFT.test(value)) return { kind: 'pi', cls: 'pi-microsoft' };
    const hit = (dim === 'visit:browser' ? BROWSERS : SYSTEMS).find(([re]) => re.test(value));
    return hit ? { kind: 'brand', path: hit[1].path } : { kind: 'pi', cls: 'pi-globe' };
  }
  if (dim === 'visit:device') return { kind: 'pi', cls: DEVICES[value.toLowerCase()] ?? 'pi-desktop' };
  return null;
}

/** The text of a dimension value: short localised country names, `(not set)` for nothing. */
export function dimText(dim: string, value: string | null): string {
  if (value == null || value === '') return t('card.notSet');
  return dim === 'visit:country' ? countryName(value) : value;
}

/** A breakdown value with its icon (flag for countries, logo for browsers and systems, glyph for devices). */
@Component({
  selector: 'hk-dim-label',
  template: `
    @switch (icon()?.kind) {
      @case ('flag') {
        <span class="dim-icon fi" [class]="'dim-icon fi fi-' + $any(icon()).code" aria-hidden="true"></span>
      }
      @case ('brand') {
        <svg class="dim-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path [attr.d]="$any(icon()).path" /></svg>
      }
      @case ('pi') {
        <i class="dim-icon pi" [class]="'dim-icon pi ' + $any(icon()).cls" aria-hidden="true"></i>
      }
    }
    <span class="dim-text">{{ text() }}</span>
  `,
  host: { class: 'dim-label' },
})
export class DimLabel {
  readonly dim = input.required<string>();
  readonly value = input.required<string | null>();
  readonly icon = computed(() => dimIcon(this.dim(), this.value()));
  readonly text = computed(() => dimText(this.dim(), this.value()));
}
