// End-to-end tests of the dashboard's second pass (issue 20) against the real binary and its embedded SPA:
// goal conversions, the world map, details views, the chart legend, languages, shortcuts and axe.
// Numbers on screen are compared with direct calls of the Stats API, so the tests hold for any seed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { SHOTS, apiIn, eventually, launchBrowser, startServer } from './harness.mjs';

const SITE = 'example.com';
const EMAIL = 'admin@example.com';
const PASSWORD = 'correct horse battery';
const KPIS = ['visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration'];

let hk;
let browser;
let ctx;
let page;
const pageErrors = [];

async function newPage(context) {
  const p = await context.newPage();
  p.on('pageerror', (e) => pageErrors.push(`${p.url()}: ${e.message}`));
  return p;
}

const api = apiIn;
const apiQuery = (p, body) => api(p, 'POST', '/v2/query', { site_id: SITE, date_range: '30d', ...body });
const shownKpis = (p) =>
  p.$$eval('[data-testid=kpi-value]', (els) => els.map((e) => (e.getAttribute('data-value') === null ? null : Number(e.getAttribute('data-value')))));

/** The goals card as numbers: `{ goal: [visitors, events, conversion_rate] }`. */
const shownGoals = (p) =>
  p.$$eval('[data-testid=goal-conversion]', (rows) =>
    Object.fromEntries(rows.map((r) => [r.getAttribute('data-goal'), [...r.querySelectorAll('td[data-value]')].map((td) => Number(td.getAttribute('data-value')))])),
  );

async function axeCheck(p, name) {
  const r = await new AxeBuilder({ page: p }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const text = bad.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join('\n    ')}`).join('\n  ');
  assert.equal(bad.length, 0, `${name}: serious/critical axe violations:\n  ${text}`);
}

describe('dashboard second pass against the real binary', { concurrency: false }, () => {
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    hk = await startServer({ site: SITE, events: 40000, days: 45 });
    browser = await launchBrowser();
    ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: 'en-US', acceptDownloads: true });
    page = await newPage(ctx);
    await page.goto(`${hk.base}/setup`);
    await api(page, 'POST', '/setup', { name: 'Ada Admin', email: EMAIL, password: PASSWORD });
    await api(page, 'POST', `/sites/${SITE}/goals`, { event_name: 'Signup' });
    await api(page, 'POST', `/sites/${SITE}/goals`, { page_path: '/pricing', display_name: 'Saw pricing' });
  });

  after(async () => {
    await browser?.close();
    await hk?.stop();
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the SPA');
  });

  it('the goals card shows the API numbers, and a goal click filters every card', async () => {
    await page.goto(`${hk.base}/sites/${SITE}`);
    const want = await apiQuery(page, { metrics: ['visitors', 'events', 'conversion_rate'], dimensions: ['event:goal'] });
    assert.equal(want.results.length, 2, 'both goals converted in the seed');
    const expected = Object.fromEntries(want.results.map((r) => [r.dimensions[0], r.metrics]));
    await eventually(() => shownGoals(page), expected, 'goal conversions equal the API');
    await page.locator('[data-testid=goals-table]').screenshot({ path: join(SHOTS, 'goals-card.png') });
    await page.getByTestId('world-map').locator('path.jvm-region').first().waitFor();
    await page.locator('[data-card=Devices] [data-testid=row]').first().waitFor();
    await page.screenshot({ path: join(SHOTS, 'dashboard-full.png'), fullPage: true });

    const queries = [];
    const onRequest = (req) => {
      if (req.url().endsWith('/api/v2/query') && req.method() === 'POST') queries.push(req.postDataJSON());
    };
    page.on('request', onRequest);
    await page.locator('[data-goal=Signup] button').click();
    await page.waitForURL((u) => u.searchParams.getAll('f').includes('is|event:goal|Signup'));
    const filters = [['is', 'event:goal', ['Signup']]];
    const kpis = await apiQuery(page, { metrics: KPIS, filters });
    await eventually(() => shownKpis(page), kpis.results[0].metrics, 'KPIs filtered by the goal');
    const top = await apiQuery(page, { metrics: ['visitors'], dimensions: ['visit:source'], filters, order_by: [['visitors', 'desc']], pagination: { limit: 1 } });
    await eventually(
      () => page.locator('[data-card=Sources] [data-testid=row] .row-value').first().getAttribute('data-value').then(Number),
      top.results[0].metrics[0],
      'sources filtered by the goal',
    );
    await eventually(async () => Object.keys(await shownGoals(page)), ['Signup'], 'the goals card shows only the chosen goal');
    page.off('request', onRequest);
    assert.ok(queries.length >= 7, `KPIs, chart, map, 3 cards and goals query again, got ${queries.length}`);
    for (const q of queries) assert.deepEqual(q.filters, filters, `query ${JSON.stringify(q)} carries the goal filter`);

    // Properties of the goal's events, then the way to funnels.
    await page.getByTestId('goal-props-tab').click();
    const props = await apiQuery(page, { metrics: ['visitors', 'events', 'conversion_rate'], dimensions: ['event:props:plan'], filters, order_by: [['visitors', 'desc']] });
    await eventually(
      async () => Object.keys(await shownGoals(page)).sort(),
      props.results.map((r) => r.dimensions[0]).sort(),
      'plan values of the Signup events',
    );
    await page.screenshot({ path: join(SHOTS, 'dashboard-goal-filtered.png'), fullPage: true });
    await page.getByTestId('funnels-link').click();
    await page.waitForURL(new RegExp(`/sites/${SITE.replace('.', '\\.')}/goals`));
    await page.getByTestId('goal-row').first().waitFor();
  });

  it('the map renders visitors per country, a click filters by the country, and rows have flags and short names', async () => {
    await page.goto(`${hk.base}/sites/${SITE}`);
    const countries = await apiQuery(page, { metrics: ['visitors'], dimensions: ['visit:country'], order_by: [['visitors', 'desc']] });
    const [code, visitors] = [countries.results[0].dimensions[0], countries.results[0].metrics[0]];
    const map = page.getByTestId('world-map');
    const region = map.locator(`path.jvm-region[data-code=${code}]`);
    await region.waitFor();
    // The busiest country is painted with the scale's darkest colour, a country without visitors keeps the base colour.
    const fill = await region.evaluate((e) => getComputedStyle(e).fill || e.getAttribute('fill'));
    const seen = new Set(countries.results.map((r) => r.dimensions[0]));
    const codes = await map.locator('path.jvm-region').evaluateAll((els) => els.map((e) => e.getAttribute('data-code')));
    const without = codes.find((c) => !seen.has(c));
    const empty = await map.locator(`path.jvm-region[data-code=${without}]`).evaluate((e) => getComputedStyle(e).fill || e.getAttribute('fill'));
    assert.notEqual(fill, empty, 'the top country is coloured');
    await page.locator('[data-card=Locations]').screenshot({ path: join(SHOTS, 'locations-map.png') });

    // A country's box may be mostly sea (France with French Guiana), so the click goes to the shape itself.
    await region.dispatchEvent('click');
    await page.waitForURL((u) => u.searchParams.getAll('f').includes(`is|visit:country|${code}`));
    const kpis = await apiQuery(page, { metrics: KPIS, filters: [['is', 'visit:country', [code]]] });
    assert.equal(kpis.results[0].metrics[0], visitors);
    await eventually(() => shownKpis(page), kpis.results[0].metrics, 'KPIs for the clicked country');
    const name = new Intl.DisplayNames(['en'], { type: 'region', style: 'short' }).of(code);
    await page.getByTestId('filter-chip').filter({ hasText: name }).waitFor();
    await page.getByTestId('filter-chip').getByRole('button').click();
    await page.waitForURL((u) => u.searchParams.getAll('f').length === 0);

    const loc = page.locator('[data-card=Locations]');
    await loc.getByRole('tab', { name: 'Countries' }).click();
    const first = loc.locator('[data-testid=row]').first();
    await first.locator(`.fi-${code.toLowerCase()}`).waitFor();
    assert.equal((await first.locator('.dim-text').innerText()).trim(), name);
    const devices = page.locator('[data-card=Devices]');
    await devices.locator('[data-testid=row] svg.dim-icon, [data-testid=row] i.dim-icon').first().waitFor();
    assert.ok((await devices.locator('[data-testid=row] .dim-icon').count()) >= 2, 'browsers have icons');
  });

  it('the details view sorts by any column, searches, pages over the API and downloads what it shows', async () => {
    await page.goto(`${hk.base}/sites/${SITE}`);
    const pages = page.locator('[data-card=Pages]');
    await pages.getByTestId('details').click();
    const table = page.getByTestId('details-table');
    await table.locator('[data-testid=details-row]').first().waitFor();
    const columns = await table.locator('th').allTextContents();
    assert.deepEqual(columns.map((c) => c.trim()), ['Top pages', 'Visitors', 'Visits', 'Pageviews', 'Bounce rate', 'Visit duration']);
    const cells = (col) => table.locator(`[data-testid=details-row] td:nth-child(${col})`).evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-value'))));
    const labels = () => table.locator('[data-testid=details-row] td:first-child').allInnerTexts().then((l) => l.map((x) => x.trim()));

    const byPv = await apiQuery(page, { metrics: ['visitors', 'visits', 'pageviews', 'bounce_rate', 'visit_duration'], dimensions: ['event:page'], order_by: [['pageviews', 'asc']], pagination: { limit: 20 } });
    await table.locator('[data-sort=pageviews]').click(); // high to low
    await table.locator('[data-sort=pageviews]').click(); // low to high
    await eventually(labels, byPv.results.map((r) => r.dimensions[0]), 'sorted by pageviews, ascending, as the API sorts');
    const pv = await cells(4);
    assert.deepEqual(pv, [...pv].sort((a, b) => a - b));
    assert.equal(await table.locator('th[aria-sort=ascending]').textContent().then((s) => s.trim()), 'Pageviews');

    await page.getByTestId('details-search').fill('pric');
    const found = await apiQuery(page, { metrics: ['visitors'], dimensions: ['event:page'], filters: [['contains', 'event:page', ['pric']]] });
    await eventually(async () => (await labels()).sort(), found.results.map((r) => r.dimensions[0]).sort(), 'search asks the API');
    assert.ok((await labels()).every((l) => l.includes('pric')));
    // Visit metrics of a found page are that page's own (not of every page in the matching visits).
    const own = await apiQuery(page, { metrics: ['visitors', 'visits', 'pageviews', 'bounce_rate', 'visit_duration'], dimensions: ['event:page'], filters: [['is', 'event:page', ['/pricing']]] });
    const pricing = own.results.find((r) => r.dimensions[0] === '/pricing').metrics;
    const shown = await table.locator('[data-testid=details-row]', { hasText: /^\/pricing/ }).first().locator('td[data-value]').evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-value'))));
    assert.deepEqual(shown, pricing);
    await page.screenshot({ path: join(SHOTS, 'details.png') });

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('details-csv').click()]);
    const csv = readFileSync(await download.path(), 'utf8').trim().split(/\r?\n/);
    assert.equal(csv[0], 'Top pages,Visitors,Visits,Pageviews,Bounce rate,Visit duration');
    assert.deepEqual(csv.slice(1).map((l) => l.split(',')[0]), await labels());
    await page.keyboard.press('Escape');
    await table.waitFor({ state: 'detached' });
  });

  it('the chart legend shows this and the previous period for the current bucket, and the hovered one', async () => {
    await page.goto(`${hk.base}/sites/${SITE}?period=7d&compare=previous_period&interval=day`);
    const series = await apiQuery(page, { date_range: '7d', metrics: ['visitors'], dimensions: ['time:day'], include: { time_labels: true }, compare: 'previous_period' });
    const labels = series.meta.time_labels;
    const today = labels[labels.length - 1];
    const row = series.results.find((r) => r.dimensions[0] === today);
    const legend = page.getByTestId('chart-legend');
    await eventually(() => legend.getByTestId('legend-current').getAttribute('data-value').then(Number), row?.metrics[0] ?? 0, 'today when not hovering');
    await eventually(() => legend.getByTestId('legend-previous').getAttribute('data-value').then(Number), row?.comparison?.metrics[0] ?? 0, 'the comparison for today');
    assert.doesNotMatch(await legend.innerText(), /: -|^-$/m);

    const box = await page.locator('[data-testid=time-chart] .u-over').boundingBox();
    await page.mouse.move(box.x + 3, box.y + box.height / 2);
    const first = series.results.find((r) => r.dimensions[0] === labels[0]);
    await eventually(() => legend.getByTestId('legend-current').getAttribute('data-value').then(Number), first?.metrics[0] ?? 0, 'the hovered first day');
    await page.mouse.move(0, 0);

    for (const iv of ['hour', 'week']) {
      const tab = page.locator(`[data-interval=${iv}]`);
      if (await tab.count()) {
        await tab.click();
        await page.waitForURL(new RegExp(`interval=${iv}`));
      }
    }
  });

  it('keyboard shortcuts pick ranges and the comparison; ? lists them', async () => {
    await page.goto(`${hk.base}/sites/${SITE}`);
    await page.getByTestId('kpi-value').first().waitFor();
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press('7');
    await page.waitForURL(/period=7d/);
    await page.keyboard.press('c');
    await page.waitForURL(/compare=previous_period/);
    await page.keyboard.press('y');
    await page.waitForURL(/period=12mo/);
    await page.keyboard.press('d');
    await page.waitForURL(/period=day/);
    await page.keyboard.press('3');
    await page.waitForURL((u) => !u.searchParams.has('period'));
    await page.keyboard.press('c');
    await page.waitForURL((u) => !u.searchParams.has('compare'));
    await page.keyboard.press('?');
    await page.getByTestId('shortcuts').waitFor();
    assert.match(await page.getByTestId('shortcuts').innerText(), /Last 7 days/);
    await page.keyboard.press('Escape');
    await page.getByTestId('shortcuts').waitFor({ state: 'detached' });
  });

  it('tabs are reachable with the keyboard and arrow keys switch them', async () => {
    await page.goto(`${hk.base}/sites/${SITE}`);
    const devices = page.locator('[data-card=Devices]');
    await devices.getByRole('tab', { name: 'Browsers' }).focus();
    await page.keyboard.press('ArrowRight');
    // The tab list reacts on the next change detection: wait for it rather than read at once.
    await devices.getByRole('tab', { name: 'OS', selected: true }).waitFor();
    await page.waitForFunction(() => document.activeElement?.textContent?.trim() === 'OS');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, 'none', 'focus is visible');
  });

  it('top pages show scroll depth and time on page as the API answers them', async () => {
    await page.goto(`${hk.base}/sites/${SITE}`);
    const want = await apiQuery(page, { metrics: ['visitors', 'scroll_depth', 'time_on_page'], dimensions: ['event:page'], order_by: [['visitors', 'desc']], pagination: { limit: 9 } });
    const metric = (m) => (els) => els.map((e) => (e.getAttribute('data-value') === null ? null : Number(e.getAttribute('data-value'))));
    const shown = async () => [
      await page.$$eval('[data-card=Pages] [data-metric=scroll_depth]', metric()),
      await page.$$eval('[data-card=Pages] [data-metric=time_on_page]', metric()),
    ];
    await eventually(shown, [want.results.map((r) => r.metrics[1]), want.results.map((r) => r.metrics[2])], 'scroll depth and time on page per top page');
  });

  it('saved segments: the filters saved as one, applied from the toolbar, renamed and deleted in the settings', async () => {
    const top = await apiQuery(page, { metrics: ['visitors'], dimensions: ['visit:source'], order_by: [['visitors', 'desc']], pagination: { limit: 1 } });
    const source = top.results[0].dimensions[0];
    await page.goto(`${hk.base}/sites/${SITE}?f=${encodeURIComponent(`is|visit:source|${source}`)}`);
    // A name, then "site-wide?" (the administrator may): yes.
    const answers = ['Top source', true];
    const onDialog = (d) => (typeof answers[0] === 'string' ? d.accept(answers.shift()) : (answers.shift(), d.accept()));
    page.on('dialog', onDialog);
    await page.getByTestId('save-segment').click();
    await page.waitForURL((u) => u.searchParams.getAll('f').some((f) => /^is\|segment\|\d+$/.test(f)));
    page.off('dialog', onDialog);
    const [saved] = await api(page, 'GET', `/sites/${SITE}/segments`);
    assert.deepEqual([saved.name, saved.type, saved.segment_data.filters], ['Top source', 'site', [['is', 'visit:source', [source]]]]);
    const kpis = await apiQuery(page, { metrics: KPIS, filters: [['is', 'visit:source', [source]]] });
    await eventually(() => shownKpis(page), kpis.results[0].metrics, 'KPIs under the segment equal those under its filter');
    await page.locator('[data-testid=filter-chip]', { hasText: 'Top source' }).waitFor();

    await page.goto(`${hk.base}/sites/${SITE}/settings`);
    const row = page.getByTestId('segment-row');
    await row.filter({ hasText: 'Top source' }).filter({ hasText: 'Site-wide' }).waitFor();
    page.once('dialog', (d) => d.accept('Best source'));
    await row.getByRole('button', { name: 'Rename' }).click();
    await row.filter({ hasText: 'Best source' }).waitFor();
    page.once('dialog', (d) => d.accept());
    await row.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No segments yet').waitFor();
    assert.deepEqual(await api(page, 'GET', `/sites/${SITE}/segments`), []);
  });

  it('German: labels, 1.234-style numbers and dates; the choice is remembered', async () => {
    await page.goto(`${hk.base}/sites/${SITE}`);
    const want = await apiQuery(page, { metrics: KPIS });
    await eventually(() => shownKpis(page), want.results[0].metrics, 'KPIs in English first');
    await page.getByTestId('language').selectOption('de');
    await page.locator('[data-metric=visitors] .kpi-label', { hasText: 'Eindeutige Besucher' }).waitFor();
    const pageviews = want.results[0].metrics[2];
    assert.ok(pageviews >= 1000, 'the seed has more than 1,000 pageviews');
    const de = new Intl.NumberFormat('de').format(pageviews);
    assert.match(de, /^\d{1,3}(\.\d{3})+$/);
    assert.equal((await page.locator('[data-metric=pageviews] [data-testid=kpi-value]').innerText()).trim(), de);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
    await page.getByRole('tab', { name: 'Länder' }).waitFor();
    await page.getByRole('link', { name: 'Ziele & Trichter' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'dashboard-de.png'), fullPage: true });

    await page.reload();
    await page.locator('[data-metric=visitors] .kpi-label', { hasText: 'Eindeutige Besucher' }).waitFor();
    await page.getByTestId('language').selectOption('en');
    await page.locator('[data-metric=visitors] .kpi-label', { hasText: 'Unique visitors' }).waitFor();
  });

  it('German: the settings and account screens speak German; the choice is saved on the account', async () => {
    await page.goto(`${hk.base}/sites/${SITE}/settings`);
    await page.getByTestId('snippet').waitFor();
    await page.getByTestId('language').selectOption('de');
    for (const heading of ['Tracking-Snippet', 'Berichte und Datenschutz', 'Freigabelinks', 'API-Tokens', 'Mitglieder', 'Diese Website löschen']) {
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
    }
    await page.getByText('Zeitzone der Berichte', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Einstellungen speichern' }).waitFor();
    await page.getByRole('button', { name: 'Freigabelink erstellen' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Share links' }).count(), 0, 'no English heading left');
    await page.screenshot({ path: join(SHOTS, 'settings-de.png'), fullPage: true });

    await page.getByRole('link', { name: 'Konto', exact: true }).click();
    await page.getByRole('heading', { name: 'Konto', exact: true }).waitFor();
    await page.getByRole('heading', { name: 'Passwort ändern' }).waitFor();
    await page.getByText('Aktuelles Passwort', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Token erstellen' }).waitFor();
    assert.equal(await page.getByTestId('account-language').inputValue(), 'de');
    // The account remembers the language (e-mail reports to this user are written in it).
    await eventually(async () => (await api(page, 'GET', '/me')).language, 'de', 'the account keeps German');
    await page.screenshot({ path: join(SHOTS, 'account-de.png'), fullPage: true });

    await page.getByTestId('account-language').selectOption('en');
    await page.getByRole('heading', { name: 'Change password' }).waitFor();
    await eventually(async () => (await api(page, 'GET', '/me')).language, 'en', 'back to English on the account');
  });

  for (const theme of ['light', 'dark']) {
    it(`axe: no serious or critical violation on login, sites, dashboard and settings (${theme})`, async () => {
      const other = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: theme, locale: 'en-US' });
      const p = await newPage(other);
      await p.goto(`${hk.base}/login`);
      await p.locator('#email').waitFor();
      assert.equal(await p.evaluate(() => document.documentElement.classList.contains('app-dark')), theme === 'dark');
      await axeCheck(p, `login (${theme})`);
      await p.fill('#email', EMAIL);
      await p.fill('#password', PASSWORD);
      await p.getByRole('button', { name: 'Sign in', exact: true }).click();
      await p.waitForURL(`${hk.base}/`);
      await p.locator('[data-testid=site-card]').first().waitFor();
      await axeCheck(p, `sites (${theme})`);
      await p.goto(`${hk.base}/sites/${SITE}?compare=previous_period`);
      await p.getByTestId('goal-conversion').first().waitFor();
      await p.getByTestId('world-map').locator('path.jvm-region').first().waitFor();
      await p.locator('[data-card=Devices] [data-testid=row]').first().waitFor();
      await axeCheck(p, `dashboard (${theme})`);
      await p.goto(`${hk.base}/sites/${SITE}/settings`);
      await p.getByTestId('snippet').waitFor();
      await axeCheck(p, `settings (${theme})`);
      await other.close();
    });
  }
});
