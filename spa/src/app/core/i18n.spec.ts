import { afterEach, describe, expect, it } from 'vitest';
import { detectLang, hasStoredLang, locale, primeTranslation, relativeTime, roleName, setLang, t } from './i18n';
import { formatDate, formatRate } from './format';

describe('i18n', () => {
  afterEach(async () => {
    await setLang('en', false);
    localStorage.clear();
  });

  it('picks the remembered language, else the first browser language it has', () => {
    expect(detectLang('fr', ['de-DE'])).toBe('fr');
    expect(detectLang(null, ['de-AT', 'en'])).toBe('de');
    expect(detectLang(null, ['pt-PT'])).toBe('pt-BR');
    expect(detectLang(null, ['ja', 'nl-BE'])).toBe('nl');
    expect(detectLang(null, ['ja'])).toBe('en');
    expect(detectLang('xx', [])).toBe('en');
  });

  it('switches texts and the locale, fills placeholders and remembers the choice', async () => {
    expect(t('kpi.visitors')).toBe('Unique visitors');
    await setLang('de');
    expect(t('kpi.visitors')).toBe('Eindeutige Besucher');
    expect(t('toolbar.removeFilter', { name: 'Land' })).toBe('Filter Land entfernen');
    expect(locale()).toBe('de');
    expect(document.documentElement.lang).toBe('de');
    expect(localStorage.getItem('hk-lang')).toBe('de');
    expect(relativeTime(-180)).toBe('vor 3 Minuten');
  });

  it('settings, roles, dates and PrimeNG texts follow the language', async () => {
    expect(hasStoredLang()).toBe(false);
    await setLang('de');
    expect(hasStoredLang()).toBe(true);
    expect(t('settings.members')).toBe('Mitglieder');
    expect(t('members.removeConfirm', { email: 'a@b.test', site: 'x.test' })).toBe('a@b.test aus x.test entfernen?');
    expect(roleName('owner')).toBe('Eigentümer');
    expect(roleName('something')).toBe('something');
    expect(formatDate('2026-11-05T10:00:00Z')).toBe('05.11.2026');
    expect(formatRate(12.5)).toBe('12,5\u00a0%');
    const prime = primeTranslation();
    expect(prime.monthNames[0]).toBe('Januar');
    expect(prime.dayNames[0]).toBe('Sonntag');
    expect(prime.firstDayOfWeek).toBe(1);
    expect(prime.emptyFilterMessage).toBe('Keine Ergebnisse gefunden');
    await setLang('pt-BR', false);
    expect(t('account.changePassword')).toBe('Alterar senha');
  });
});
