import { computed, signal } from '@angular/core';
import EN from './i18n/en.json';

/** The dashboard's languages; English is built in, the others load on demand (one small chunk each). */
export const LANGS = [
  { id: 'en', label: 'English' },
  { id: 'de', label: 'Deutsch' },
  { id: 'fr', label: 'Français' },
  { id: 'es', label: 'Español' },
  { id: 'it', label: 'Italiano' },
  { id: 'nl', label: 'Nederlands' },
  { id: 'pt-BR', label: 'Português (Brasil)' },
] as const;
export type Lang = (typeof LANGS)[number]['id'];
export type I18nKey = keyof typeof EN;
type Dict = Record<I18nKey, string>;

const KEY = 'hk-lang';
const LOADERS: Record<Lang, () => Promise<Dict>> = {
  en: async () => EN,
  de: () => import('./i18n/de.json').then((m) => m.default),
  fr: () => import('./i18n/fr.json').then((m) => m.default),
  es: () => import('./i18n/es.json').then((m) => m.default),
  it: () => import('./i18n/it.json').then((m) => m.default),
  nl: () => import('./i18n/nl.json').then((m) => m.default),
  'pt-BR': () => import('./i18n/pt-BR.json').then((m) => m.default),
};

const dict = signal<Dict>(EN);
/** The BCP 47 locale used by Intl for numbers, dates and country names; read it inside computeds to follow a switch. */
export const locale = signal<Lang>('en');
export const lang = computed(() => locale());

export const isLang = (v: unknown): v is Lang => LANGS.some((l) => l.id === v);

/** Whether this browser remembers a language chosen in the account menu. */
export const hasStoredLang = (): boolean => isLang(localStorage.getItem(KEY));

/** The saved choice, else the first browser language we have (`pt-BR` for any `pt`, `de` for `de-AT`). */
export function detectLang(stored = localStorage.getItem(KEY), prefs: readonly string[] = navigator.languages ?? [navigator.language]): Lang {
  if (isLang(stored)) return stored;
  for (const p of prefs) {
    if (isLang(p)) return p;
    const base = p.split('-')[0].toLowerCase();
    if (base === 'pt') return 'pt-BR';
    if (isLang(base)) return base;
  }
  return 'en';
}

/** Loads a language and switches the whole dashboard to it; `remember` keeps it for the next visit. */
export async function setLang(l: Lang, remember = true): Promise<void> {
  const d = await LOADERS[l]();
  dict.set(d);
  locale.set(l);
  document.documentElement.lang = l;
  if (remember) localStorage.setItem(KEY, l);
}

/** The text of a key in the current language, `{name}` placeholders filled in. Reads a signal, so templates follow a switch. */
export function t(key: I18nKey, params?: Record<string, string | number>): string {
  let s = dict()[key] ?? EN[key] ?? key;
  if (params) for (const [k, v] of Object.entries(params)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

/** `3 minutes ago`, `in 2 days` in the current language. */
export function relativeTime(seconds: number): string {
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(Math.round(seconds), 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.round(seconds / 86400), 'day');
}

/** A site role (`viewer`, `admin`, `owner`) in the current language. */
export function roleName(role: string): string {
  return role === 'viewer' || role === 'admin' || role === 'owner' ? t(`role.${role}` as I18nKey) : role;
}

/** PrimeNG's own texts (empty lists, date picker) in the current language; day and month names from Intl. */
export function primeTranslation() {
  const l = locale();
  const days = [...Array(7).keys()].map((i) => new Date(Date.UTC(2026, 10, 1 + i, 12)));
  const months = [...Array(12).keys()].map((i) => new Date(Date.UTC(2026, i, 15, 12)));
  const fmt = (d: Date, o: Intl.DateTimeFormatOptions) => d.toLocaleDateString(l, { ...o, timeZone: 'UTC' });
  return {
    dayNames: days.map((d) => fmt(d, { weekday: 'long' })),
    dayNamesShort: days.map((d) => fmt(d, { weekday: 'short' })),
    dayNamesMin: days.map((d) => fmt(d, { weekday: 'narrow' })),
    monthNames: months.map((d) => fmt(d, { month: 'long' })),
    monthNamesShort: months.map((d) => fmt(d, { month: 'short' })),
    firstDayOfWeek: l === 'en' ? 0 : 1,
    today: t('primeng.today'),
    clear: t('primeng.clear'),
    weekHeader: t('primeng.weekHeader'),
    emptyMessage: t('primeng.emptyMessage'),
    emptyFilterMessage: t('primeng.emptyFilterMessage'),
    aria: { close: t('primeng.close') },
  };
}
