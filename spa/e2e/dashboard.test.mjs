// End-to-end tests of the dashboard SPA: Debian's Chromium (playwright-core) against the real
// hitkeep binary with a seeded data directory. Numbers on screen are compared with direct calls
// of the same API, so the tests hold for any seed.
//
//   npm run build                       # spa/dist/browser
//   HITKEEP_BIN=/path/to/hitkeep npm run e2e
//
// Screenshots of the main screens land in e2e/screenshots/.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SHOTS, eventually, launchBrowser, sleep, startServer } from './harness.mjs';

const SITE = 'example.com';
const EMAIL = 'admin@example.com';
const PASSWORD = 'correct horse battery';
const KPIS = ['visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration'];
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

let hk;
let browser;
let ctx; // the signed-in browser
let page;
const pageErrors = [];

async function newPage(context) {
  const p = await context.newPage();
  p.on('pageerror', (e) => pageErrors.push(`${p.url()}: ${e.message}`));
  return p;
}

async function shot(p, name, opts = {}) {
  await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true, ...opts });
}

/** POST /api/v2/query from inside the page: same origin, the session cookie goes along. */
const apiQuery = (p, body) =>
  p.evaluate(async (b) => {
    const r = await fetch('/api/v2/query', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
    if (!r.ok) throw new Error(`query ${r.status}: ${await r.text()}`);
    return r.json();
  }, body);

async function expectedKpis(p, dateRange, extra = {}) {
  const r = await apiQuery(p, { site_id: SITE, date_range: dateRange, metrics: KPIS, ...extra });
  return r.results[0];
}

/** The raw KPI values on screen (null while loading). */
const shownKpis = (p) =>
  p.$$eval('[data-testid=kpi-value]', (els) => els.map((e) => (e.getAttribute('data-value') === null ? null : Number(e.getAttribute('data-value')))));
const shownChanges = (p) =>
  p.$$eval('[data-testid=kpi-change]', (els) => els.map((e) => Number(e.getAttribute('data-value'))));

async function pickOption(p, testId, label) {
  await p.locator(`[data-testid=${testId}]`).click();
  await p.getByRole('option', { name: label, exact: true }).click();
}

describe('dashboard SPA against the real binary', { concurrency: false }, () => {
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    hk = await startServer({ site: SITE, events: 60000, days: 60 });
    browser = await launchBrowser();
    ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await newPage(ctx);
  });

  after(async () => {
    await browser?.close();
    await hk?.stop();
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the SPA');
  });

  it('first run: setup creates the admin, who can sign out and sign in again', async () => {
    await page.goto(`${hk.base}/`);
    await page.waitForURL(/\/setup$/);
    await shot(page, 'setup');
    await page.fill('#name', 'Ada Admin');
    await page.fill('#email', EMAIL);
    await page.fill('#password', PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(/\/sites\/new\?first=1/);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await page.fill('#email', EMAIL);
    await page.fill('#password', 'wrong password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByTestId('error').waitFor();
    assert.match(await page.getByTestId('error').innerText(), /Wrong email or password/);
    await page.fill('#password', PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${hk.base}/`);
    await page.locator('[data-testid=site-card]', { hasText: SITE }).waitFor();
    await shot(page, 'login-done-overview');
  });

  it('adding a site shows the snippet, and the live check turns green with the first hit', async () => {
    await page.goto(`${hk.base}/sites/new`);
    await page.fill('#domain', 'shop.test');
    await page.getByRole('button', { name: 'Add site' }).click();
    await page.waitForURL(/\/sites\/shop\.test\/settings/);
    assert.equal(await page.getByTestId('snippet').innerText(), `<script defer src="${hk.base}/hk.js"></script>`);
    await page.getByTestId('live-check').filter({ hasText: 'Waiting for the first hit' }).waitFor();
    await shot(page, 'settings-new-site');

    // A pageview as hk.js sends it, from the site's origin.
    const r = await fetch(`${hk.api}/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://shop.test', 'user-agent': USER_AGENT },
      body: JSON.stringify({ path: '/', referrer: null, ua: USER_AGENT, vp_w: 1280, vp_h: 720, sc_w: 1920, sc_h: 1080, lang: 'en-US', unique: true, session_id: crypto.randomUUID(), page_id: crypto.randomUUID(), tsrc: 'hk.js', tv: '' }),
    });
    assert.ok(r.status >= 200 && r.status < 300, `ingest answered ${r.status}`);
    await page.getByTestId('live-check').filter({ hasText: 'Receiving data' }).waitFor({ timeout: 20000 });
  });

  it('the KPI row shows what the API answers for the same range', async () => {
    await page.goto(`${hk.base}/sites/${SITE}`);
    const want = await expectedKpis(page, '30d');
    assert.ok(want.metrics[0] > 0, 'the seed produced visitors in the last 30 days');
    await eventually(() => shownKpis(page), want.metrics, 'KPIs for 30d');
    await page.locator('[data-testid=time-chart] canvas').waitFor();
    await shot(page, 'dashboard');
  });

  it('clicking a row filters every card, and the filter lives in the URL', async () => {
    const sources = page.locator('[data-card=Sources]');
    await sources.locator('[data-testid=row]').first().waitFor();
    const label = (await sources.locator('[data-testid=row] .row-label').first().innerText()).trim();
    const queries = [];
    const onRequest = (req) => {
      if (req.url().endsWith('/api/v2/query') && req.method() === 'POST') queries.push(req.postDataJSON());
    };
    page.on('request', onRequest);
    await sources.locator('[data-testid=row]').first().click();
    await page.waitForURL((u) => u.searchParams.getAll('f').includes(`is|visit:source|${label}`));
    await page.getByTestId('filter-chip').filter({ hasText: label }).waitFor();

    const filters = [['is', 'visit:source', [label]]];
    const want = await expectedKpis(page, '30d', { filters });
    await eventually(() => shownKpis(page), want.metrics, 'KPIs with the filter');
    const topPages = await apiQuery(page, { site_id: SITE, date_range: '30d', metrics: ['visitors'], dimensions: ['event:page'], filters, order_by: [['visitors', 'desc']], pagination: { limit: 1 } });
    await eventually(
      () => page.locator('[data-card=Pages] [data-testid=row] .row-value').first().getAttribute('data-value').then(Number),
      topPages.results[0].metrics[0],
      'top page visitors with the filter',
    );
    page.off('request', onRequest);
    // KPI row, chart, four cards, Web Vitals (not a Stats query): every Stats query carries the filter.
    assert.ok(queries.length >= 6, `six or more queries after the click, got ${queries.length}`);
    for (const q of queries) assert.deepEqual(q.filters, filters, `query ${JSON.stringify(q)} has the filter`);
    await shot(page, 'dashboard-filtered');

    // A reload keeps the state (it is all in the URL), and the chip removes the filter.
    await page.reload();
    await eventually(() => shownKpis(page), want.metrics, 'same KPIs after reload');
    await page.getByTestId('filter-chip').getByRole('button').click();
    await page.waitForURL((u) => u.searchParams.getAll('f').length === 0);
  });

  it('changing the range and the comparison changes the numbers to the API answers', async () => {
    const d30 = await expectedKpis(page, '30d');
    await eventually(() => shownKpis(page), d30.metrics, 'back to 30d unfiltered');

    await pickOption(page, 'period', 'Last 7 days');
    await page.waitForURL(/period=7d/);
    const d7 = await expectedKpis(page, '7d');
    assert.notDeepEqual(d7.metrics, d30.metrics);
    await eventually(() => shownKpis(page), d7.metrics, 'KPIs for 7d');

    await pickOption(page, 'compare', 'Previous period');
    await page.waitForURL(/compare=previous_period/);
    const cmp = await expectedKpis(page, '7d', { compare: 'previous_period' });
    await eventually(() => shownChanges(page), cmp.comparison.change.map(Number), 'changes against the previous period');
    await shot(page, 'dashboard-7d-compare');

    await pickOption(page, 'period', 'Custom range');
    const day = (n) => new Date(Date.now() - n * 86400000).toISOString().slice(0, 10);
    await page.fill('[data-testid=from]', day(20));
    await page.fill('[data-testid=to]', day(10));
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/period=custom/);
    const custom = await expectedKpis(page, [day(20), day(10)]);
    await eventually(() => shownKpis(page), custom.metrics, 'KPIs for the custom range');
  });

  it('events and their properties', async () => {
    await page.goto(`${hk.base}/sites/${SITE}/events?period=30d`);
    const r = await apiQuery(page, { site_id: SITE, date_range: '30d', metrics: ['visitors', 'events'], dimensions: ['event:name'], filters: [['is_not', 'event:name', ['pageview']]], order_by: [['visitors', 'desc']] });
    assert.ok(r.results.length > 0, 'the seed has custom events');
    const first = String(r.results[0].dimensions[0]);
    await page.getByTestId('event-row').filter({ hasText: first }).click();
    await page.getByTestId('prop-key').fill('plan');
    await page.locator('.row-label', { hasText: /free|pro|team/ }).first().waitFor();
    await shot(page, 'events');
  });

  it('goals and funnels can be created, and the funnel is charted', async () => {
    await page.goto(`${hk.base}/sites/${SITE}/goals`);
    await page.getByTestId('new-goal').click();
    await page.fill('#goal-value', '/pricing');
    await page.fill('#goal-name', 'Saw pricing');
    await page.getByRole('button', { name: 'Save goal' }).click();
    const row = page.getByTestId('goal-row').filter({ hasText: 'Saw pricing' });
    await row.waitFor();
    const conv = await apiQuery(page, { site_id: SITE, date_range: '30d', metrics: ['visitors'], dimensions: ['event:goal'] });
    const want = conv.results.find((x) => x.dimensions[0] === 'Saw pricing')?.metrics[0] ?? 0;
    assert.ok(want > 0);
    await eventually(async () => (await row.locator('td.num').first().innerText()).trim() !== '…', true, 'goal numbers load');

    await page.getByTestId('new-funnel').click();
    await page.fill('#funnel-name', 'Pricing to signup');
    await page.getByRole('textbox', { name: 'Step 1' }).fill('/');
    await page.getByRole('textbox', { name: 'Step 2' }).fill('/pricing');
    await page.getByRole('button', { name: 'Save funnel' }).click();
    await page.getByTestId('funnel').waitFor();
    assert.equal(await page.locator('[data-testid=funnel] > li').count(), 2);
    await shot(page, 'goals-funnels');
  });

  let shareUrl;
  let token;

  it('settings save the time zone, hostnames and exclusions', async () => {
    await page.goto(`${hk.base}/sites/shop.test/settings`);
    await page.locator('#hostnames').fill('shop.example\nshop-cdn.test');
    await page.locator('#ips').fill('203.0.113.0/24');
    await page.locator('#retention').fill('400');
    await page.getByTestId('save-settings').click();
    await page.getByText('The settings apply to new hits').waitFor();
    const site = await page.evaluate(async () => (await fetch('/api/sites/shop.test')).json());
    assert.deepEqual(site.hostnames, ['shop.example', 'shop-cdn.test']);
    assert.deepEqual(site.excluded_ips, ['203.0.113.0/24']);
    assert.equal(site.retention_days, 400);
    await page.reload();
    assert.equal(await page.locator('#ips').inputValue(), '203.0.113.0/24');
  });

  it('settings create a share link and an API token', async () => {
    await page.goto(`${hk.base}/sites/${SITE}/settings`);
    await page.getByTestId('share-name').fill('Public');
    await page.getByTestId('create-share').click();
    shareUrl = (await page.getByTestId('share-url').innerText()).trim();
    assert.match(shareUrl, /\/share\/[^/]+$/);
    await page.getByTestId('share-row').filter({ hasText: 'Public' }).waitFor();

    await page.getByTestId('token-name').fill('curl');
    await page.getByTestId('create-token').click();
    token = (await page.getByTestId('new-token').innerText()).trim();
    assert.ok(token.length >= 16, 'a token was shown');
    await page.getByTestId('token-row').filter({ hasText: 'curl' }).waitFor();
    await shot(page, 'settings');
  });

  it('a token created in the settings works with a plain HTTP call', async () => {
    const body = JSON.stringify({ site_id: SITE, date_range: '30d', metrics: ['visitors'] });
    const headers = { 'content-type': 'application/json' };
    const without = await fetch(`${hk.api}/api/v2/query`, { method: 'POST', headers, body });
    assert.equal(without.status, 401);
    const r = await fetch(`${hk.api}/api/v2/query`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${token}` }, body });
    assert.equal(r.status, 200);
    const want = await expectedKpis(page, '30d');
    assert.equal((await r.json()).results[0].metrics[0], want.metrics[0]);
  });

  it('a share link opens the dashboard read-only, without signing in', async () => {
    const anon = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await newPage(anon);
    await p.goto(shareUrl.replace(/^https?:\/\/[^/]+/, hk.base));
    await p.getByTestId('share-title').filter({ hasText: SITE }).waitFor();
    assert.match(p.url(), /\/share\//, 'no redirect to the login page');
    const want = await expectedKpis(page, '30d');
    await eventually(() => shownKpis(p), want.metrics, 'shared KPIs equal the API');
    assert.equal(await p.getByRole('link', { name: 'Settings' }).count(), 0, 'no settings in a share view');
    assert.equal(await p.getByRole('button', { name: 'Sign out' }).count(), 0);
    // Filters work in the share view too.
    await p.locator('[data-card=Pages] [data-testid=row]').first().click();
    await p.getByTestId('filter-chip').waitFor();
    await shot(p, 'share');
    // The access token only reads this site's stats: other endpoints refuse it.
    const settingsCall = await p.evaluate(async () => (await fetch('/api/tokens')).status);
    assert.equal(settingsCall, 401, 'no session in the share view');
    await anon.close();
  });

  it('a password-protected share link asks for the password first', async () => {
    await page.goto(`${hk.base}/sites/${SITE}/settings`);
    await page.getByTestId('share-name').fill('Board');
    await page.getByRole('textbox', { name: 'Share password' }).fill('s3cret-board');
    await page.getByTestId('create-share').click();
    await page.getByTestId('share-row').filter({ hasText: 'Board' }).waitFor();
    const url = (await page.getByTestId('share-url').innerText()).trim();
    const anon = await browser.newContext();
    const p = await newPage(anon);
    await p.goto(url.replace(/^https?:\/\/[^/]+/, hk.base));
    await p.getByText('This dashboard is protected').waitFor();
    await p.fill('#pw', 'guess');
    await p.getByRole('button', { name: 'Open dashboard' }).click();
    await p.getByText('Wrong password.').waitFor();
    await p.fill('#pw', 's3cret-board');
    await p.getByRole('button', { name: 'Open dashboard' }).click();
    await p.getByTestId('share-title').filter({ hasText: SITE }).waitFor();
    await anon.close();
  });

  it('an admin invites a user who accepts and lands signed in', async () => {
    await page.goto(`${hk.base}/admin`);
    await page.getByTestId('user-row').filter({ hasText: EMAIL }).waitFor();
    await page.getByRole('textbox', { name: 'Email' }).fill('viewer@example.com');
    await page.getByRole('button', { name: 'Create invitation' }).click();
    const url = (await page.getByTestId('invite-url').innerText()).trim();
    await shot(page, 'admin');
    const other = await browser.newContext();
    const p = await newPage(other);
    await p.goto(url.replace(/^https?:\/\/[^/]+/, hk.base));
    await p.fill('#password', 'another long password');
    await p.getByRole('button', { name: 'Accept and sign in' }).click();
    await p.waitForURL(`${hk.base}/`);
    await p.getByText('Sign out').waitFor();
    await other.close();
  });

  it('a viewer invited to a site sees its stats but no settings or goal editing', async () => {
    await page.goto(`${hk.base}/sites/${SITE}/settings`);
    const members = page.locator('#members');
    await members.getByRole('textbox', { name: 'Email' }).fill('reader@example.com');
    await members.getByRole('button', { name: 'Create invitation' }).click();
    const url = (await members.getByTestId('invite-url').innerText()).trim();
    const other = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await newPage(other);
    await p.goto(url.replace(/^https?:\/\/[^/]+/, hk.base));
    await p.getByText(`to ${SITE} as viewer`).waitFor();
    await p.fill('#password', 'a viewer password');
    await p.getByRole('button', { name: 'Accept and sign in' }).click();
    await p.waitForURL(`${hk.base}/sites/${SITE}`);
    const want = await expectedKpis(page, '30d');
    await eventually(() => shownKpis(p), want.metrics, 'the viewer sees the same numbers');
    assert.equal(await p.getByRole('link', { name: 'Settings' }).count(), 0, 'no settings tab for a viewer');
    await p.getByRole('link', { name: 'Goals & funnels' }).click();
    await p.getByTestId('goal-row').first().waitFor();
    assert.equal(await p.getByTestId('new-goal').count(), 0, 'no goal editing for a viewer');
    // The server agrees: the viewer's settings call is refused.
    const status = await p.evaluate(async (site) => (await fetch(`/api/sites/${site}/shares`)).status, SITE);
    assert.equal(status, 403);
    await page.reload();
    await page.getByTestId('member-row').filter({ hasText: 'reader@example.com' }).waitFor();
    await other.close();
  });

  it('dark mode and phone width', async () => {
    await page.goto(`${hk.base}/sites/${SITE}?period=7d&compare=previous_period`);
    await page.getByTestId('theme').click();
    assert.equal(await page.evaluate(() => document.documentElement.classList.contains('app-dark')), true);
    await eventually(async () => (await shownKpis(page)).every((v) => v !== null), true, 'loaded');
    await shot(page, 'dashboard-dark');
    await page.setViewportSize({ width: 390, height: 844 });
    await sleep(300);
    await shot(page, 'dashboard-phone-dark');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no horizontal scrolling at phone width (overflow ${overflow}px)`);
    await page.getByTestId('theme').click();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${hk.base}/`);
    await page.locator('[data-testid=site-card]').first().waitFor();
    await shot(page, 'overview');
  });

  it('the account page changes the password; the new one signs in', async () => {
    await page.goto(`${hk.base}/account`);
    await page.fill('#cur', 'not my password');
    await page.fill('#new', 'a brand new password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('The current password is wrong.').waitFor();
    await page.fill('#cur', PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed.').waitFor();
    await shot(page, 'account');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await page.fill('#email', EMAIL);
    await page.fill('#password', 'a brand new password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${hk.base}/`);
  });
});
