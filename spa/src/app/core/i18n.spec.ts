import { afterEach, describe, expect, it } from 'vitest';
import { detectLang, locale, relativeTime, setLang, t } from './i18n';

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
});
